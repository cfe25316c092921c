//! The operations of the API: one documentation-only function per
//! path and method, each named after the handler that serves it in
//! `bin/pi-server` (`routes/<module>.rs`). The functions are never
//! called; [`crate::ApiDoc`] collects their `#[utoipa::path]` attributes.
//! The server's test probes its actix app and fails when a registered
//! path/method is not here or one here is not served.

#![allow(missing_docs)]

/// `health` operations.
pub mod health {
    #[utoipa::path(
        get, path = "/healthz/livez", tag = "health", security(()),
        responses((status = 200, description = "The process answers", body = crate::HealthEnvelope)),
    )]
    pub fn livez() {}

    #[utoipa::path(
        get, path = "/healthz/startupz", tag = "health", security(()),
        responses((status = 200, description = "Started", body = crate::HealthEnvelope)),
    )]
    pub fn startupz() {}

    #[utoipa::path(
        get, path = "/healthz/readyz", tag = "health", security(()),
        responses((status = 200, description = "The database answers", body = crate::HealthEnvelope)),
    )]
    pub fn readyz() {}

    /// `GET /healthz/` answers as `GET /healthz/readyz` (same handler).
    #[utoipa::path(
        get, path = "/healthz/", tag = "health", security(()),
        responses((status = 200, description = "The database answers", body = crate::HealthEnvelope)),
    )]
    pub fn healthz() {}
}

/// `auth` operations.
pub mod auth {
    /// `POST /auth`. With a matching `hide_specific_error_message` policy
    /// (scope authentication, `Match.user` with the user the request names),
    /// every error becomes `Authentication failed.` with code 403; the HTTP
    /// status stays.
    #[utoipa::path(
        post, path = "/auth", tag = "auth", security(()), request_body(content((crate::AuthRequest = "application/json"), (crate::AuthRequest = "application/x-www-form-urlencoded"))),
        responses((status = 200, description = "The JWT in `value.token`, role, rights, WebUI settings", body = crate::Envelope)),
    )]
    pub fn login() {}

    /// `GET /auth/rights`: the token types the caller (admin or user) may
    /// enroll in the web UI, type → description (`ui_get_enroll_tokentypes`).
    #[utoipa::path(
        get, path = "/auth/rights", tag = "auth",
        responses((status = 200, description = "Token types the caller may enroll, type → description", body = crate::Envelope)),
    )]
    pub fn enroll_rights() {}
}

/// `system` operations.
pub mod system {
    #[utoipa::path(
        get, path = "/system/nodes", tag = "system",
        responses((status = 200, description = "The nodes: `[{name, uuid}]`", body = crate::Envelope)),
    )]
    pub fn nodes() {}
}

/// `realm` operations.
pub mod realm {
    /// `GET /realm/`; with `?realm=<name>` the answer (still the whole list, as
    /// privacyIDEA's) also carries that realm's `ETag` for `If-Match`.
    #[utoipa::path(
        get, path = "/realm/", tag = "realm", params(("realm" = Option<String>, Query, description = "Also answer this realm's `ETag`")),
        responses((status = 200, description = "Every realm with its resolvers (`ETag` of `realm` when given)", body = crate::Envelope)),
    )]
    pub fn list() {}

    /// `GET /realm/superuser`; any other `GET /realm/<x>` is not a route (405, as in privacyIDEA).
    #[utoipa::path(
        get, path = "/realm/{realm}", tag = "realm", params(("realm" = String, Path, description = "Only `superuser`", example = "superuser")),
        responses((status = 200, description = "The superuser realms (only `GET /realm/superuser`; any other name is 405)", body = crate::Envelope)),
    )]
    pub fn superuser() {}

    #[utoipa::path(
        post, path = "/realm/{realm}", tag = "realm", params(("realm" = String, Path, description = "Realm name")), request_body(content((crate::RealmRequest = "application/json"), (crate::RealmRequest = "application/x-www-form-urlencoded"))),
        responses((status = 200, description = "`{added: […], failed: […]}`", body = crate::Envelope)),
    )]
    pub fn set_realm() {}

    #[utoipa::path(
        post, path = "/realm/{realm}/node/{nodeid}", tag = "realm", params(("realm" = String, Path, description = "Realm name"), ("nodeid" = String, Path, description = "Node UUID")), request_body(content = crate::RealmNodeRequest, content_type = "application/json"),
        responses((status = 200, description = "`{added: […], failed: […]}`", body = crate::Envelope)),
    )]
    pub fn set_realm_node() {}

    #[utoipa::path(
        delete, path = "/realm/{realm}", tag = "realm", params(("realm" = String, Path, description = "Realm name"), ("delete_custom_attributes" = Option<String>, Query, description = "Also delete the realm's custom user attributes")),
        responses((status = 200, description = "The id of the deleted realm", body = crate::Envelope)),
    )]
    pub fn delete_realm() {}

    #[utoipa::path(
        get, path = "/defaultrealm", tag = "realm",
        responses((status = 200, description = "`{<name>: realm}` of the default realm, or `{}`", body = crate::Envelope)),
    )]
    pub fn get_default() {}

    #[utoipa::path(
        post, path = "/defaultrealm/{realm}", tag = "realm", params(("realm" = String, Path, description = "Realm name")),
        responses((status = 200, description = "The id of the new default realm", body = crate::Envelope)),
    )]
    pub fn set_default() {}

    #[utoipa::path(
        delete, path = "/defaultrealm", tag = "realm",
        responses((status = 200, description = "The id of the realm that was the default (`0` if none was)", body = crate::Envelope)),
    )]
    pub fn clear_default() {}
}

/// `resolver` operations.
pub mod resolver {
    #[utoipa::path(
        get, path = "/resolver/", tag = "resolver", params(crate::ResolverQuery),
        responses((status = 200, description = "Every resolver (secrets censored)", body = crate::Envelope)),
    )]
    pub fn list() {}

    /// `GET /resolver/<name>`, with the resolver's `ETag` (for `If-Match`).
    #[utoipa::path(
        get, path = "/resolver/{name}", tag = "resolver", params(("name" = String, Path, description = "Resolver name")),
        responses((status = 200, description = "The resolver (secrets censored), with its `ETag`", body = crate::Envelope)),
    )]
    pub fn get_one() {}

    #[utoipa::path(
        post, path = "/resolver/{name}", tag = "resolver", params(("name" = String, Path, description = "Resolver name")), request_body(content((crate::ResolverRequest = "application/json"), (crate::ResolverRequest = "application/x-www-form-urlencoded"))),
        responses((status = 200, description = "The resolver id", body = crate::Envelope)),
    )]
    pub fn save() {}

    #[utoipa::path(
        delete, path = "/resolver/{name}", tag = "resolver", params(("name" = String, Path, description = "Resolver name")),
        responses((status = 200, description = "The id of the deleted resolver (`-1` when there was none)", body = crate::Envelope)),
    )]
    pub fn delete() {}

    #[utoipa::path(
        post, path = "/resolver/test", tag = "resolver", request_body(content((crate::ResolverRequest = "application/json"), (crate::ResolverRequest = "application/x-www-form-urlencoded"))),
        responses((status = 200, description = "`{result, description}` of the connection test", body = crate::Envelope)),
    )]
    pub fn test() {}

    #[utoipa::path(
        get, path = "/resolver/{rtype}/default", tag = "resolver", params(("rtype" = String, Path, description = "`passwdresolver`, `sqlresolver` or `ldapresolver`")),
        responses((status = 200, description = "The default configuration of a resolver type", body = crate::Envelope)),
    )]
    pub fn defaults() {}
}

/// `remote` operations.
pub mod remote {
    /// `GET /privacyideaserver/`; with `?identifier=<id>` the answer (still the
    /// whole list) also carries that definition's `ETag` for `If-Match`.
    #[utoipa::path(
        get, path = "/privacyideaserver/", tag = "privacyideaserver", params(("identifier" = Option<String>, Query, description = "Also answer this definition's `ETag`")),
        responses((status = 200, description = "`{identifier: {id, url, tls, description}}`", body = crate::Envelope)),
    )]
    pub fn list() {}

    #[utoipa::path(
        post, path = "/privacyideaserver/{identifier}", tag = "privacyideaserver", params(("identifier" = String, Path, description = "Name of the definition")), request_body(content((crate::RemoteServerRequest = "application/json"), (crate::RemoteServerRequest = "application/x-www-form-urlencoded"))),
        responses((status = 200, description = "`true`", body = crate::Envelope)),
    )]
    pub fn save() {}

    #[utoipa::path(
        delete, path = "/privacyideaserver/{identifier}", tag = "privacyideaserver", params(("identifier" = String, Path, description = "Name of the definition")),
        responses((status = 200, description = "`true`", body = crate::Envelope)),
    )]
    pub fn delete() {}

    #[utoipa::path(
        post, path = "/privacyideaserver/test_request", tag = "privacyideaserver", request_body(content((crate::TestRequestRequest = "application/json"), (crate::TestRequestRequest = "application/x-www-form-urlencoded"))),
        responses((status = 200, description = "Whether the remote server accepted the user", body = crate::Envelope)),
    )]
    pub fn test_request() {}
}

/// `audit` operations.
pub mod audit {
    /// `GET /audit/`: the audit log, filtered and paged as privacyIDEA does.
    #[utoipa::path(
        get, path = "/audit/", tag = "audit", params(crate::AuditFilter),
        responses((status = 200, description = "`{auditcolumns, auditdata, count, current, prev, next}`; `sig_check` per row", body = crate::Envelope)),
    )]
    pub fn search() {}

    /// `GET /audit/<file>.csv`: the filtered audit log as CSV (`auditlog_download`).
    #[utoipa::path(
        get, path = "/audit/{csvfile}", tag = "audit", params(("csvfile" = String, Path, description = "File name of the download"), crate::AuditFilter),
        responses((status = 200, description = "The audit rows as CSV", content_type = "text/csv", body = String)),
    )]
    pub fn download() {}
}

/// `policy` operations.
pub mod policy {
    #[utoipa::path(
        get, path = "/policy/", tag = "policy", params(crate::PolicyFilter),
        responses((status = 200, description = "The policies matching the filters", body = crate::Envelope)),
    )]
    pub fn list() {}

    /// `GET /policy/<name>`; `defs` and `check` are the static routes.
    ///
    /// A name without `*` also gets the policy's `ETag` (its version, for
    /// `If-Match` on the writes); it is read before the answer is built.
    #[utoipa::path(
        get, path = "/policy/{name}", tag = "policy", params(("name" = String, Path, description = "Policy name or glob"), crate::PolicyFilter),
        responses((status = 200, description = "The policy (a list; `*` in the name is a glob), with its `ETag`", body = crate::Envelope)),
    )]
    pub fn get_named() {}

    #[utoipa::path(
        post, path = "/policy/{name}", tag = "policy", params(("name" = String, Path, description = "Policy name")), request_body(content((crate::PolicyRequest = "application/json"), (crate::PolicyRequest = "application/x-www-form-urlencoded"))),
        responses((status = 200, description = "`{\"setPolicy <name>\": id}`", body = crate::Envelope)),
    )]
    pub fn set() {}

    #[utoipa::path(
        patch, path = "/policy/{name}", tag = "policy", params(("name" = String, Path, description = "Current policy name")), request_body(content((crate::PolicyRename = "application/json"), (crate::PolicyRename = "application/x-www-form-urlencoded"))),
        responses((status = 200, description = "The policy id", body = crate::Envelope)),
    )]
    pub fn rename() {}

    #[utoipa::path(
        post, path = "/policy/enable/{name}", tag = "policy", params(("name" = String, Path, description = "Policy name")),
        responses((status = 200, description = "The policy id", body = crate::Envelope)),
    )]
    pub fn enable() {}

    #[utoipa::path(
        post, path = "/policy/disable/{name}", tag = "policy", params(("name" = String, Path, description = "Policy name")),
        responses((status = 200, description = "The policy id", body = crate::Envelope)),
    )]
    pub fn disable() {}

    #[utoipa::path(
        delete, path = "/policy/{name}", tag = "policy", params(("name" = String, Path, description = "Policy name")),
        responses((status = 200, description = "The id of the deleted policy", body = crate::Envelope)),
    )]
    pub fn delete() {}

    #[utoipa::path(
        get, path = "/policy/export/{filename}", tag = "policy", params(("filename" = String, Path, description = "File name for Content-Disposition")),
        responses((status = 200, description = "The policies as a file in privacyIDEA's export format", body = String)),
    )]
    pub fn export() {}

    #[utoipa::path(
        post, path = "/policy/import/{filename}", tag = "policy", params(("filename" = String, Path, description = "File name")), request_body(content = crate::ImportUpload, content_type = "multipart/form-data"),
        responses((status = 200, description = "The number of imported policies", body = crate::Envelope)),
    )]
    pub fn import() {}

    #[utoipa::path(
        get, path = "/policy/check", tag = "policy", params(crate::PolicyCheckQuery),
        responses((status = 200, description = "`{allowed, policy: […]}` or `{allowed: false, info}`; `explain` with `explain=1` (served by `GET /policy/{name}`)", body = crate::Envelope)),
    )]
    pub fn check() {}

    #[utoipa::path(
        get, path = "/policy/defs", tag = "policy",
        responses((status = 200, description = "Every scope's action definitions (served by `GET /policy/{name}`)", body = crate::Envelope)),
    )]
    pub fn policy_defs() {}

    #[utoipa::path(
        get, path = "/policy/defs/{scope}", tag = "policy", params(("scope" = String, Path, description = "Scope, `conditions`, `pinodes` or `edumfanodes`")),
        responses((status = 200, description = "The action definitions of a scope; `conditions`, `pinodes`/`edumfanodes` are special", body = crate::Envelope)),
    )]
    pub fn defs_scope() {}
}

/// `GET /policy/lint/`.
pub mod policy_lint {
    /// `GET /policy/lint/`: always the linter.
    #[utoipa::path(
        get, path = "/policy/lint/", tag = "policy",
        responses((status = 200, description = "The linter's report over the current policies: `{\"findings\": [{code, severity, policy, message, …}], \"summary\": {…}}` (not in privacyIDEA; `GET /policy/lint` answers the same while no policy is named `lint`)", body = crate::Envelope)),
    )]
    pub fn get() {}
}

/// `user` operations.
pub mod user {
    /// `GET /user/`.
    #[utoipa::path(
        get, path = "/user/", tag = "user", params(crate::UserQuery),
        responses((status = 200, description = "The users of the realm(s), with the attributes asked for", body = crate::Envelope)),
    )]
    pub fn list() {}

    /// `GET /user/count`.
    #[utoipa::path(
        get, path = "/user/count", tag = "user", params(crate::UserQuery),
        responses((status = 200, description = "The number of users the same query would list", body = crate::Envelope)),
    )]
    pub fn count() {}

    /// `GET /user/settings`: the caller's stored WebUI settings document (an
    /// empty object when none is stored). A local admin is keyed by name; any
    /// caller with a realm by the resolver identity of its login.
    #[utoipa::path(
        get, path = "/user/settings", tag = "user",
        responses((status = 200, description = "The calling user's WebUI settings", body = crate::Envelope)),
    )]
    pub fn settings() {}
}

/// `client` operations.
pub mod client {
    #[utoipa::path(
        get, path = "/client/", tag = "client",
        responses((status = 200, description = "Clients by type: `{clienttype: [{hostname, ip, lastseen}]}`", body = crate::Envelope)),
    )]
    pub fn list() {}
}

/// `config` operations.
pub mod config {
    #[utoipa::path(
        get, path = "/config", tag = "webui", security(()),
        responses((status = 200, description = "The WebUI's configuration (logo, languages, login mode …)", body = crate::Envelope)),
    )]
    pub fn config() {}
}

/// `operations` operations.
pub mod operations {
    /// `GET /openapi.json`.
    #[utoipa::path(
        get, path = "/openapi.json", tag = "operations", security(()),
        responses((status = 200, description = "This OpenAPI 3.1 document", content_type = "application/json", body = Object)),
    )]
    pub fn openapi_json() {}

    /// `GET /metrics`.
    #[utoipa::path(
        get, path = "/metrics", tag = "operations",
        security(("metrics_token" = [])),
        responses(
            (status = 200, description = "Prometheus text exposition format 0.0.4", content_type = "text/plain", body = String),
            (status = 401, description = "`PI_METRICS_TOKEN` is set and the bearer token is missing or wrong", body = crate::ErrorEnvelope),
            (status = 403, description = "No `PI_METRICS_TOKEN`, and the client is not on loopback", body = crate::ErrorEnvelope),
            (status = 404, description = "`PI_METRICS = False`", body = crate::ErrorEnvelope),
        ),
    )]
    pub fn metrics() {}
}
