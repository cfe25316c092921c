//! The privacyIDEA 3.14 administration API as an OpenAPI 3.1 document:
//! [`ApiDoc`] (served by `bin/pi-server` at `GET /openapi.json`, printed by
//! `pi-server --openapi`) and its parts, for anyone describing a client.
//!
//! [`paths`] holds one documentation-only function per operation (path,
//! method, parameters, success body); the rest of this crate is what the
//! operations share: privacyIDEA's envelope, the error answers every
//! operation can give (added by [`StandardErrors`]), the request bodies,
//! the query-parameter sets and the security schemes. The server's test
//! probes its actix app and fails when a registered path/method is not in
//! the document or a documented one is not served.
//!
//! Parameters are read the privacyIDEA way (query, form and JSON merged):
//! a body documented as JSON may also be sent as a form.

// The schema types describe the wire format only; nothing constructs them.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Required, Response, ResponseBuilder};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

pub mod paths;

/// The document: the operations of [`paths`], the schemas of this crate
/// and the shared error answers ([`StandardErrors`]).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "pi-server",
        description = "privacyIDEA 3.14-compatible administration API: policies, realms, resolvers, remote privacyIDEA servers, admin login. Every answer is privacyIDEA's JSON envelope (`Envelope`, `ErrorEnvelope`). Parameters may be sent as query string, form or JSON body (merged as privacyIDEA does). The optional WebUI static files (`/`, `/app/v2/…`, `/static/…`) are not part of the API and not listed.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    paths(
paths::health::livez,
        paths::health::startupz,
        paths::health::readyz,
        paths::health::healthz,
        paths::auth::login,
        paths::auth::enroll_rights,
        paths::system::nodes,
        paths::realm::list,
        paths::realm::superuser,
        paths::realm::set_realm,
        paths::realm::set_realm_node,
        paths::realm::delete_realm,
        paths::realm::get_default,
        paths::realm::set_default,
        paths::realm::clear_default,
        paths::resolver::list,
        paths::resolver::get_one,
        paths::resolver::save,
        paths::resolver::delete,
        paths::resolver::test,
        paths::resolver::defaults,
        paths::remote::list,
        paths::remote::save,
        paths::remote::delete,
        paths::remote::test_request,
        paths::audit::search,
        paths::audit::download,
        paths::policy::list,
        paths::policy::get_named,
        paths::policy::set,
        paths::policy::rename,
        paths::policy::enable,
        paths::policy::disable,
        paths::policy::delete,
        paths::policy::export,
        paths::policy::import,
        paths::policy::check,
        paths::policy::policy_defs,
        paths::policy::defs_scope,
        paths::policy_lint::get,
        paths::user::list,
        paths::user::count,
        paths::user::settings,
        paths::client::list,
        paths::config::config,
        paths::operations::openapi_json,
        paths::operations::metrics,
    ),
    components(schemas(
        Envelope, SuccessResult, ErrorEnvelope, ErrorResult, ErrorDetail, HealthEnvelope,
        AuthRequest, PolicyRequest, PolicyRename, RealmRequest, RealmNodeRequest,
        RealmNodeResolver, ResolverRequest, RemoteServerRequest, TestRequestRequest,
        ImportUpload,
    )),
    modifiers(&StandardErrors),
    security(("PI-Authorization" = []), ("Authorization" = [])),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "auth", description = "Admin and user login (JWT)"),
        (name = "system", description = "Cluster nodes"),
        (name = "realm", description = "Realms, their resolvers and node priorities"),
        (name = "resolver", description = "User resolvers (passwd file, SQL, LDAP)"),
        (name = "privacyideaserver", description = "Remote privacyIDEA servers"),
        (name = "policy", description = "Policies and the policy engine"),
        (name = "audit", description = "The signed audit log"),
        (name = "user", description = "Users from the realms' resolvers"),
        (name = "client", description = "Clients seen by the server"),
        (name = "webui", description = "Settings the privacyIDEA WebUI reads"),
        (name = "operations", description = "API description and metrics"),
    ),
)]
pub struct ApiDoc;

/// The serialised document, built once.
pub fn document() -> &'static [u8] {
    static DOC: OnceLock<Vec<u8>> = OnceLock::new();
    DOC.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_default().into_bytes())
}

/// The paths of the document with their methods, in lower case.
pub fn operations() -> BTreeMap<String, Vec<String>> {
    let doc = ApiDoc::openapi();
    let mut out = BTreeMap::new();
    for (path, item) in doc.paths.paths {
        let methods = [
            ("get", item.get.is_some()),
            ("post", item.post.is_some()),
            ("patch", item.patch.is_some()),
            ("delete", item.delete.is_some()),
            ("put", item.put.is_some()),
        ];
        let methods = methods.iter().filter(|(_, on)| *on);
        out.insert(path, methods.map(|(m, _)| (*m).to_owned()).collect());
    }
    out
}

// ----- the envelope -----

/// privacyIDEA's success envelope; the endpoint's answer is `result.value`.
/// With audit keys configured, `signature` signs the body.
#[derive(ToSchema)]
pub struct Envelope {
    /// Always 1.
    id: i64,
    /// Always `2.0`.
    jsonrpc: String,
    result: SuccessResult,
    /// Seconds since the epoch.
    time: f64,
    /// `privacyIDEA 3.14` (absent when `hide_version` applies).
    version: Option<String>,
    /// `3.14` (absent when `hide_version` applies).
    versionnumber: Option<String>,
    /// Present on endpoints that report details.
    detail: Option<Value>,
    /// RSA-PSS signature over the sorted body (with `PI_AUDIT_KEY_PRIVATE`).
    signature: Option<String>,
}

/// `result` of a success.
#[derive(ToSchema)]
pub struct SuccessResult {
    /// Always true.
    status: bool,
    /// The answer of the endpoint.
    value: Value,
}

/// The health probes' envelope (no version fields).
#[derive(ToSchema)]
pub struct HealthEnvelope {
    id: i64,
    jsonrpc: String,
    result: SuccessResult,
    time: f64,
}

/// privacyIDEA's error envelope.
#[derive(ToSchema)]
pub struct ErrorEnvelope {
    /// `null` unless the error carries details (e.g. `etag` on 412).
    detail: Option<Value>,
    id: i64,
    jsonrpc: String,
    result: ErrorResult,
    time: f64,
    version: Option<String>,
    signature: Option<String>,
}

/// `result` of an error.
#[derive(ToSchema)]
pub struct ErrorResult {
    /// Always false.
    status: bool,
    error: ErrorDetail,
}

/// The error itself.
#[derive(ToSchema)]
pub struct ErrorDetail {
    /// privacyIDEA's error code: 905 parameter error, 303 policy error, 601
    /// resource not found, 4031 authentication failed, 4033 missing
    /// authorization header, 902 database unavailable, -500 internal error;
    /// HTTP-layer refusals carry the negative HTTP status (-405, -412, -413).
    code: i64,
    /// The message; `ERR<code>: ` prefixed for parameter and configuration errors.
    message: String,
}

/// The error answers, by HTTP status.
const ERRORS: [(&str, &str); 8] = [
    ("400", "Bad parameters (ParameterError 905 and other privacyIDEA errors, `ERR<code>: …`), bad JSON or form data"),
    ("401", "Missing, invalid or expired JWT (AuthError 4033/4031…)"),
    ("403", "An admin or user policy forbids the action (PolicyError 303)"),
    ("404", "The object does not exist (ResourceNotFoundError 601) or the URL is no route (`{\"error\": \"Not found\"}`, as the release answers)"),
    ("405", "The path exists with another method (-405)"),
    ("412", "`If-Match` does not match the object's current version (-412; `detail.etag` is the current one)"),
    ("500", "A bug on the server (-500)"),
    ("503", "The database is not available (902)"),
];

/// The writes that honour `If-Match` (decisions/0008).
pub const IF_MATCH: [(&str, &str); 12] = [
    ("post", "/policy/{name}"),
    ("patch", "/policy/{name}"),
    ("delete", "/policy/{name}"),
    ("post", "/policy/enable/{name}"),
    ("post", "/policy/disable/{name}"),
    ("post", "/realm/{realm}"),
    ("delete", "/realm/{realm}"),
    ("post", "/realm/{realm}/node/{nodeid}"),
    ("post", "/resolver/{name}"),
    ("delete", "/resolver/{name}"),
    ("post", "/privacyideaserver/{identifier}"),
    ("delete", "/privacyideaserver/{identifier}"),
];

/// Adds the shared error answers to every operation and the two ways of
/// sending the JWT to the components.
pub struct StandardErrors;

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            Content::new(Some(RefOr::Ref(Ref::from_schema_name("ErrorEnvelope")))),
        )
        .build()
}

impl Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            for (status, description) in ERRORS {
                components.responses.insert(
                    format!("Error{status}"),
                    RefOr::T(error_response(description)),
                );
            }
            components.add_security_scheme(
                "PI-Authorization",
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                    "PI-Authorization",
                    "The JWT from `POST /auth` (privacyIDEA's header; checked first)",
                ))),
            );
            components.add_security_scheme(
                "Authorization",
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                    "Authorization",
                    "The JWT from `POST /auth`, bare or as `Bearer <jwt>`",
                ))),
            );
            components.add_security_scheme(
                "metrics_token",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some(
                            "`PI_METRICS_TOKEN` from pi.cfg (without it: loopback clients only)",
                        ))
                        .build(),
                ),
            );
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, op) in [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("patch", item.patch.as_mut()),
                ("delete", item.delete.as_mut()),
                ("put", item.put.as_mut()),
            ] {
                let Some(op) = op else { continue };
                // unique across the document (handler names repeat per module)
                op.operation_id = Some(operation_id(method, path));
                // `/openapi.json` and `/metrics` describe their own answers
                if op
                    .tags
                    .as_ref()
                    .is_some_and(|t| t.iter().any(|t| t == "operations"))
                {
                    continue;
                }
                // `security(())` marks a route that needs no JWT.
                let public = op
                    .security
                    .as_ref()
                    .is_some_and(|s| s.iter().all(|r| r == &Default::default()));
                let versioned = IF_MATCH.contains(&(method, path.as_str()));
                if versioned {
                    op.parameters.get_or_insert_with(Vec::new).push(
                        ParameterBuilder::new()
                            .name("If-Match")
                            .parameter_in(ParameterIn::Header)
                            .required(Required::False)
                            .description(Some("The object's `ETag` (from its GET): the write happens only if the object is unchanged, else 412. Without it the write behaves as privacyIDEA's."))
                            .schema(Some(Object::with_type(Type::String)))
                            .build(),
                    );
                }
                for (status, _) in ERRORS {
                    if (public && matches!(status, "401" | "403"))
                        || (status == "412" && !versioned)
                    {
                        continue;
                    }
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| {
                            RefOr::Ref(Ref::new(format!("#/components/responses/Error{status}")))
                        });
                }
            }
        }
    }
}

/// `get_policy_name` for `GET /policy/{name}`, `post_auth_` for `POST /auth/`.
fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_owned();
    for part in path.split('/').skip(1) {
        id.push('_');
        id.extend(part.chars().filter(|c| !matches!(c, '{' | '}')).map(|c| {
            if c.is_ascii_alphanumeric() {
                c
            } else {
                '_'
            }
        }));
    }
    id
}

// ----- request bodies -----

/// `POST /auth`.
#[derive(ToSchema)]
pub struct AuthRequest {
    /// `admin`, or `user@realm` for a user.
    username: String,
    password: String,
    /// The realm of a user (else split from `username` or the default realm).
    realm: Option<String>,
}

/// `POST /policy/{name}`: every field of a privacyIDEA policy. Lists may be
/// given as a JSON list or a comma-separated string.
#[derive(ToSchema)]
pub struct PolicyRequest {
    /// `admin`, `user`, `authentication`, `authorization`, `enrollment`, `webui`, `register`, `container`, `token`.
    scope: String,
    /// Actions: a comma-separated string (`a, b=3, !c`) or an object `{action: value}`.
    action: Option<Value>,
    /// Realms the policy applies to (regular expressions, `!` excludes).
    realm: Option<Value>,
    resolver: Option<Value>,
    user: Option<Value>,
    /// Client networks (`10.0.0.0/8, !10.0.0.1`).
    client: Option<String>,
    /// Time ranges (`Mon-Fri: 08:00-18:00`).
    time: Option<String>,
    /// Lower is more important; default 1.
    priority: Option<i64>,
    active: Option<bool>,
    check_all_resolvers: Option<bool>,
    adminrealm: Option<Value>,
    adminuser: Option<Value>,
    /// Nodes (alias `edumfanode`).
    pinode: Option<Value>,
    user_agents: Option<Value>,
    user_case_insensitive: Option<bool>,
    description: Option<String>,
    /// Extended conditions: `[[section, key, comparator, value, active, handle_missing_data], …]`.
    conditions: Option<Vec<Value>>,
}

/// `PATCH /policy/{name}` (rename).
#[derive(ToSchema)]
pub struct PolicyRename {
    /// The new name.
    name: String,
}

/// `POST /realm/{realm}`.
#[derive(ToSchema)]
pub struct RealmRequest {
    /// Resolver names: comma-separated string or JSON list.
    resolvers: Value,
    /// `priority.<resolver>`: the resolver's priority in this realm.
    #[schema(rename = "priority.<resolver>")]
    priority: Option<i64>,
}

/// `POST /realm/{realm}/node/{nodeid}`.
#[derive(ToSchema)]
pub struct RealmNodeRequest {
    /// The realm's resolvers on this node.
    resolver: Vec<RealmNodeResolver>,
}

/// One resolver of a realm on one node.
#[derive(ToSchema)]
pub struct RealmNodeResolver {
    name: String,
    priority: Option<i64>,
}

/// `POST /resolver/{name}` and `POST /resolver/test`: the type and its
/// type-specific keys (`fileName` for passwdresolver; `Server`, `BINDDN`, …
/// for ldapresolver; `Driver`, `Server`, `Table`, `Map`, … for sqlresolver).
#[derive(ToSchema)]

pub struct ResolverRequest {
    /// `passwdresolver`, `sqlresolver` or `ldapresolver`.
    #[schema(rename = "type")]
    rtype: String,
    /// For `test`: an existing resolver whose stored secrets replace `__CENSORED__` values.
    resolver: Option<String>,
}

/// `POST /privacyideaserver/{identifier}`.
#[derive(ToSchema)]
pub struct RemoteServerRequest {
    /// Base URL of the remote privacyIDEA.
    url: String,
    /// Verify its TLS certificate (default true).
    tls: Option<bool>,
    description: Option<String>,
}

/// `POST /privacyideaserver/test_request`.
#[derive(ToSchema)]
pub struct TestRequestRequest {
    identifier: String,
    url: String,
    tls: Option<bool>,
    /// A user to send to the remote `/validate/check`.
    username: String,
    password: String,
}

/// `POST /policy/import/{filename}`.
#[derive(ToSchema)]
pub struct ImportUpload {
    /// The file written by `GET /policy/export/{filename}` (privacyIDEA's format).
    #[schema(format = Binary, value_type = String)]
    file: Vec<u8>,
}

// ----- query parameters -----

/// Filters of `GET /policy/` and `GET /policy/{name}`: each compares the
/// stored column case-insensitively, `*` as a wildcard.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PolicyFilter {
    /// Policy scope.
    scope: Option<String>,
    /// The policy's realm column (`realm1`; `*` wildcards).
    realm: Option<String>,
    /// `true`/`false`: only active / inactive policies.
    active: Option<String>,
}

/// Filters of `GET /audit/` (any audit column: `*` wildcards, `!` negates).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Page number (from 1).
    page: Option<u32>,
    /// Entries per page (default 15).
    page_size: Option<u32>,
    /// `asc` or `desc` (default).
    sortorder: Option<String>,
    /// Only entries newer than this (`1d`, `2h`, `30m`).
    timelimit: Option<String>,
    /// The URL rule, e.g. `POST /policy/<name>`.
    action: Option<String>,
    /// `1`/`0`.
    success: Option<String>,
    administrator: Option<String>,
    user: Option<String>,
    realm: Option<String>,
    resolver: Option<String>,
    policies: Option<String>,
    info: Option<String>,
    client: Option<String>,
    privacyidea_server: Option<String>,
}

/// `GET /policy/check`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PolicyCheckQuery {
    user: String,
    realm: String,
    scope: String,
    action: String,
    /// Client IP.
    client: Option<String>,
    resolver: Option<String>,
    /// `1` adds the engine's reasons (`explain`).
    explain: Option<String>,
}

/// `GET /user/` and `GET /user/count`; any other key is a search field
/// (`username=a*`, `email=…`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    realm: Option<String>,
    resolver: Option<String>,
    username: Option<String>,
    user: Option<String>,
    /// `true` / `false`: only users with / without tokens.
    has_tokens: Option<String>,
    /// Comma-separated attribute names to return.
    attributes: Option<String>,
    /// Default `true`.
    include_custom_attributes: Option<String>,
}

/// `GET /resolver/`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResolverQuery {
    /// Exact resolver type.
    #[param(rename = "type")]
    rtype: Option<String>,
    /// Only editable (`1`) or non-editable (`0`) resolvers.
    editable: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_is_openapi_3_1_with_the_envelope() {
        let v: Value = serde_json::from_slice(document()).unwrap();
        assert_eq!(v["openapi"], "3.1.0");
        assert!(v["components"]["schemas"]["Envelope"].is_object());
        let op = &v["paths"]["/policy/{name}"]["post"];
        assert_eq!(
            op["responses"]["403"]["$ref"],
            "#/components/responses/Error403"
        );
        assert!(op["requestBody"]["content"]["application/json"].is_object());
        // public routes do not list 401; only versioned writes list 412 and If-Match
        assert!(v["paths"]["/healthz/livez"]["get"]["responses"]["401"].is_null());
        assert!(v["paths"]["/policy/{name}"]["get"]["responses"]["412"].is_null());
        let params = op["parameters"].as_array().unwrap();
        assert!(params
            .iter()
            .any(|p| p["name"] == "If-Match" && p["in"] == "header"));
        for (m, path) in IF_MATCH {
            assert!(v["paths"][path][m].is_object(), "{m} {path}");
        }
        for (path, item) in v["paths"].as_object().unwrap() {
            for (m, op) in item.as_object().unwrap() {
                let has = !op["responses"]["412"].is_null();
                assert_eq!(
                    has,
                    IF_MATCH.contains(&(m.as_str(), path.as_str())),
                    "{m} {path}"
                );
            }
        }
    }
}
