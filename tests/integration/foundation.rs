//! Foundation: envelope, /auth, JWT checks, HTTP-layer errors, health, database outages.

use crate::support::*;
use serde_json::json;

fn jwt(claims: serde_json::Value, alg: jsonwebtoken::Algorithm, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(key),
    )
    .expect("encode")
}

/// `claims` signed with HS256 and the test key, as the server signs.
fn hs256(claims: serde_json::Value) -> String {
    jwt(claims, jsonwebtoken::Algorithm::HS256, SECRET.as_bytes())
}

fn exp_in(secs: i64) -> i64 {
    chrono::Utc::now().timestamp() + secs
}

#[test]
fn auth_success_shape_and_claims() {
    let app = spawn_app();
    let a = app.post_auth_json(&json!({"username": ADMIN, "password": ADMIN_PW}));
    let a = a.expect(200);
    let body = a.json();
    assert_eq!(body["id"], 2);
    assert_eq!(body["jsonrpc"], "2.0");
    assert_eq!(body["result"]["status"], true);
    assert_eq!(body["result"]["authentication"], "ACCEPT");
    assert_eq!(body["versionnumber"], "3.14");
    assert_eq!(body["version"], "privacyIDEA 3.14");
    assert!(body["time"].is_f64());
    let v = &body["result"]["value"];
    assert_eq!(v["role"], "admin");
    assert_eq!(v["username"], ADMIN);
    assert_eq!(v["realm"], "");
    assert_eq!(v["logout_time"], 120);
    assert_eq!(v["log_level"], 30);
    assert!(
        v["rights"].as_array().expect("rights").len() > 60,
        "no admin policies ⇒ every admin right"
    );
    assert!(v["rights"]
        .as_array()
        .expect("rights")
        .contains(&json!("policywrite")));
    assert!(!v["menus"].as_array().expect("menus").is_empty());
    assert_eq!(a.headers["content-type"], "application/json");
    // the token: HS256 with SECRET_KEY and privacyIDEA's claims, no iat
    let token = v["token"].as_str().expect("token");
    let c = decode_claims(token);
    assert_eq!(c["username"], ADMIN);
    assert_eq!(c["realm"], "");
    assert_eq!(c["role"], "admin");
    assert_eq!(c["authtype"], "password");
    assert_eq!(c["nonce"].as_str().expect("nonce").len(), 40);
    assert!(c.get("iat").is_none());
    let exp = c["exp"].as_i64().expect("exp");
    assert!((exp - exp_in(3600)).abs() < 60, "default validity 3600 s");
}

#[test]
fn auth_errors() {
    let app = spawn_app();
    let post = |form: &[(&str, &str)]| app.post_auth(form);
    let a = post(&[("username", ADMIN), ("password", "wrong")]).expect_error_message(
        401,
        4031,
        "Authentication failed.",
    );
    assert_eq!(a.json()["result"]["status"], false);
    post(&[("username", "nobody"), ("password", "x")]).expect_error(401, 4031);
    let a = post(&[("username", ADMIN)]).expect(401);
    assert_eq!(a.code(), 4031, "missing password is wrong credentials");
    post(&[("password", "x")]).expect_error_message(
        401,
        4032,
        "Authentication failure. Missing Username",
    );
    post(&[
        ("username", ADMIN),
        ("password", ADMIN_PW),
        ("realm", "nosuchrealm"),
    ])
    .expect_error_message(
        401,
        4031,
        "Authentication failure. Unknown realm: nosuchrealm.",
    );
    // GET is not a login
    let a = app.get_as("/auth", "").expect(405);
    assert_eq!(a.json()["result"]["status"], false);
}

#[test]
fn jwt_checks_on_admin_endpoints() {
    let app = spawn_app();
    let get = |auth: Option<&str>| app.get_as("/system/nodes", auth.unwrap_or(""));
    // missing header
    let a = get(None).expect_error_message(
        401,
        4033,
        "Authentication failure. Missing Authorization header.",
    );
    assert_eq!(a.json()["detail"], serde_json::Value::Null);
    assert!(
        a.json().get("versionnumber").is_none(),
        "error envelopes carry no versionnumber"
    );
    // garbage
    let a = get(Some("garbage")).expect_error(401, 4304);
    a.assert_message_starts_with(
        "Authentication failure. Error decoding the Authorization token: ",
    );
    // bad signature
    let forged = jwt(
        json!({"username": "admin", "realm": "", "role": "admin", "exp": exp_in(600)}),
        jsonwebtoken::Algorithm::HS256,
        b"other key",
    );
    assert_eq!(get(Some(&forged)).expect(401).code(), 4304);
    // alg none
    let header = base64url(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = base64url(
        json!({"username": "admin", "realm": "", "role": "admin", "exp": exp_in(600)})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(
        get(Some(&format!("{header}.{payload}.")))
            .expect(401)
            .code(),
        4304
    );
    // algorithm confusion: HS512 with the right key is still refused
    let hs512 = jwt(
        json!({"username": "admin", "realm": "", "role": "admin", "exp": exp_in(600)}),
        jsonwebtoken::Algorithm::HS512,
        SECRET.as_bytes(),
    );
    assert_eq!(get(Some(&hs512)).expect(401).code(), 4304);
    // expired
    let expired =
        hs256(json!({"username": "admin", "realm": "", "role": "admin", "exp": exp_in(-600)}));
    get(Some(&expired)).expect_error_message(
        401,
        4305,
        "Authentication failure. Your token has expired: Signature has expired",
    );
    // wrong role
    let user = hs256(json!({"username": "u", "realm": "r", "role": "user", "exp": exp_in(600)}));
    get(Some(&user)).expect_error_message(
        401,
        4306,
        "Authentication failure. You do not have the necessary role (['admin']) to access this resource!",
    );
    // a valid admin token in PI-Authorization, then Authorization, then with Bearer
    let good = app.token();
    app.send(
        app.client()
            .get(app.url("/system/nodes"))
            .header("PI-Authorization", &good),
        Some(""),
    )
    .expect(200);
    get(Some(&good)).expect(200);
    get(Some(&format!("Bearer {good}"))).expect(200);
    // no exp: accepted (privacyIDEA does not require exp)
    let no_exp = hs256(json!({"username": "admin", "realm": "", "role": "admin"}));
    get(Some(&no_exp)).expect(200);
}

fn base64url(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn success_envelope_and_nodes() {
    let app = spawn_app();
    let a = app.get("/system/nodes").expect(200);
    let body = a.json();
    assert_eq!(body["id"], 1);
    assert_eq!(body["jsonrpc"], "2.0");
    assert_eq!(body["result"]["status"], true);
    assert_eq!(body["versionnumber"], "3.14");
    let nodes = body["result"]["value"].as_array().expect("list").clone();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["name"], "testnode");
    assert_eq!(nodes[0]["uuid"], default_node_uuid(&app));
}

/// What the release's router (werkzeug) answers around the routes: 308 to
/// the route's trailing slash or to merged slashes (query kept), `HEAD` as
/// `GET` without a body, `OPTIONS` and 405 with `Allow`.
#[test]
fn router_redirects_head_and_options_as_the_release() {
    let app = spawn_app();
    let host = app.base.trim_start_matches("http://").to_owned();
    for (path, to) in [
        ("/policy?scope=admin", "/policy/?scope=admin"),
        ("/realm", "/realm/"),
        ("/realm//", "/realm/"),
        ("/policy//defs", "/policy/defs"),
    ] {
        let a = app.get(path).expect(308);
        assert_eq!(
            a.headers["location"],
            format!("http://{host}{to}"),
            "{path}"
        );
        assert!(a.text.contains("Redirecting..."), "{}", a.text);
    }
    // the slashed route does not take POST: no redirect
    let a = app.send(app.client().post(app.url("/policy")), None);
    assert_eq!(a.expect(404).text, "{\"error\":\"Not found\"}\n");
    // paths as the WSGI server hands them over: `%2F` is a `/`, leading
    // slashes are dropped
    let a = app.get("/policy/%2F").expect(308);
    assert_eq!(a.headers["location"], format!("http://{host}/policy/"));
    assert_eq!(app.get("//policy/").expect(200).value(), json!([]));
    let a = app.send(app.client().post(app.url("/policy/a%2Fb")), None);
    assert_eq!(a.expect(404).text, "{\"error\":\"Not found\"}\n");
    // HEAD: GET's status and headers, no body
    let a = app
        .send(app.client().head(app.url("/realm/")), None)
        .expect(200);
    assert_eq!(a.text, "");
    assert_eq!(a.headers["content-type"], "application/json");
    // OPTIONS and 405 name the route's methods
    let allow = |a: &Answer| a.headers["allow"].to_str().unwrap().to_owned();
    let options = reqwest::Method::OPTIONS;
    let a = app.send(
        app.client().request(options.clone(), app.url("/auth")),
        Some(""),
    );
    assert_eq!(allow(&a.expect(200)), "OPTIONS, POST");
    let a = app.send(
        app.client().request(options.clone(), app.url("/nope")),
        Some(""),
    );
    a.expect(404);
    // the blueprints that authenticate first do it for OPTIONS too
    let policies = || app.client().request(options.clone(), app.url("/policy/"));
    assert_eq!(app.send(policies(), Some("")).expect(401).code(), 4033);
    let a = app.send(policies(), None).expect(200);
    assert_eq!(allow(&a), "GET, HEAD, OPTIONS");
    let a = app
        .send(app.client().delete(app.url("/auth")), Some(""))
        .expect(405);
    assert_eq!(allow(&a), "OPTIONS, POST");
    // merged slashes whose route does not take the method: 405
    let a = app
        .send(app.client().delete(app.url("/policy//")), None)
        .expect(405);
    assert_eq!(allow(&a), "GET, HEAD, OPTIONS");
}

#[test]
fn http_layer_errors_are_enveloped() {
    let app = spawn_app();
    // an unknown route: the release's own 404, whatever the Accept (no WebUI)
    for accept in ["application/json", "text/html", "*/*"] {
        let req = app.client().get(app.url("/no/such/route"));
        let a = app.send(req.header("Accept", accept), None).expect(404);
        assert_eq!(a.text, "{\"error\":\"Not found\"}\n", "{accept}");
        assert_eq!(a.headers["content-type"], "application/json");
    }
    let a = app
        .send(app.client().put(app.url("/system/nodes")), None)
        .expect(405);
    assert_eq!(a.json()["result"]["status"], false);
    let a = app.send(
        app.client()
            .post(app.url("/auth"))
            .header("Content-Type", "application/json")
            .body("{not json"),
        Some(""),
    );
    let a = a.expect(400);
    assert_eq!(a.json()["result"]["status"], false);
    let big = "x".repeat(2 * 1024 * 1024);
    let a = app.send(
        app.client()
            .post(app.url("/auth"))
            .header("Content-Type", "application/json")
            .body(big),
        Some(""),
    );
    let a = a.expect(413);
    assert_eq!(a.json()["result"]["status"], false);
}

#[test]
fn health_probes() {
    let app = spawn_app();
    let a = app.get_as("/healthz/livez", "").expect(200);
    assert_eq!(a.value()["status"], "OK");
    let a = app.get_as("/healthz/readyz", "").expect(200);
    assert_eq!(a.value()["status"], "ready");
}

#[test]
fn database_down_then_up_without_restart() {
    // A SQLite file in a directory that does not exist yet cannot be opened:
    // the database is "down". Creating the directory brings it "up".
    let dir = tempfile::tempdir().expect("tempdir");
    let db_dir = dir.path().join("later");
    let uri = format!("sqlite:///{}/pi.sqlite", db_dir.display());
    let mut app = spawn_app_with(AppOptions {
        db: Db::Uri(uri),
        create_admin: false,
        ..Default::default()
    });
    let a = app.get_as("/healthz/readyz", "").expect(503);
    assert_eq!(a.json()["result"]["status"], false);
    let a = app
        .send(
            app.client()
                .post(app.url("/auth"))
                .form(&[("username", "admin"), ("password", "x")]),
            Some(""),
        )
        .expect(503);
    assert_eq!(a.json()["result"]["status"], false);
    std::fs::create_dir_all(&db_dir).expect("mkdir");
    app.get_as("/healthz/readyz", "").expect(200);
    // now an admin can be created and can log in, with no restart
    let out = std::process::Command::new(bin("pi-manage"))
        .arg("--config")
        .arg(&app.cfg)
        .args(["admin", "add", "late", "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().expect("stdin").write_all(b"pw-late-1\n")?;
            c.wait()
        })
        .expect("pi-manage");
    assert!(out.success());
    let token = app.login("late", "pw-late-1");
    app.set_token(Some(token));
    app.get("/system/nodes").expect(200);
}

#[test]
fn opens_a_privacyidea_sqlite_database_as_is() {
    let schema = fixture("privacyidea-3.14-sqlite-schema.sql");
    let app = spawn_app_with(AppOptions {
        sqlite_preload: Some(schema),
        ..Default::default()
    });
    app.get("/system/nodes").expect(200);
}

#[test]
fn opens_a_privacyidea_postgresql_database_as_is() {
    let Some(pg) = PgDb::with_privacyidea_schema("PostgreSQL part") else {
        return;
    };
    let app = spawn_app_with(AppOptions {
        db: Db::Uri(pg.uri.clone()),
        ..Default::default()
    });
    app.get("/system/nodes").expect(200);
    drop(app);
}

// ----- response signing (spec/realm-auth-server.md §7.3) -----

fn key_fixture(name: &str) -> String {
    format!(
        "{}/../crates/pi-auth/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// pi.cfg lines configuring the audit (signing) keys.
fn signing_keys() -> Vec<String> {
    vec![
        format!(
            "PI_AUDIT_KEY_PRIVATE = '{}'",
            key_fixture("trusted-rsa.key")
        ),
        format!("PI_AUDIT_KEY_PUBLIC = '{}'", key_fixture("trusted-rsa.pub")),
    ]
}

/// Verify a signed answer the way a privacyIDEA client does: the body
/// without `signature`, as Python's `json.dumps(…, sort_keys=True)`.
fn verify_signed(a: &Answer) -> serde_json::Value {
    let verifier = pi_auth::SignatureVerifier::from_pem(
        &std::fs::read_to_string(key_fixture("trusted-rsa.pub")).expect("pub"),
    )
    .expect("key");
    let mut body = a.json();
    // The body is written in json.dumps form, byte for byte.
    assert_eq!(pi_model::pyrepr::py_json_dumps(&body), a.text);
    let sig = body
        .as_object_mut()
        .and_then(|o| o.remove("signature"))
        .expect("signature");
    let sig = sig.as_str().expect("str");
    assert!(
        verifier.verify(&pi_model::pyrepr::py_json_dumps(&body), sig),
        "{}",
        a.text
    );
    body
}

#[test]
fn responses_are_signed_with_the_audit_key() {
    let app = spawn_app_with(AppOptions {
        extra_cfg: signing_keys(),
        ..AppOptions::default()
    });
    // Success, with the nonce of the query string echoed.
    let body = verify_signed(&app.get("/policy/?nonce=n-123").expect(200));
    assert_eq!(body["nonce"], "n-123");
    // A nonce in a JSON body, and non-ASCII text.
    let a = app.send(
        app.client()
            .post(app.url("/policy/signed"))
            .json(&json!({"scope": "webui", "action": "login_mode=userstore",
                          "description": "Grüße 😀", "nonce": "body-nonce"})),
        None,
    );
    let body = verify_signed(&a.expect(200));
    assert_eq!(body["nonce"], "body-nonce");
    assert!(a_contains_escaped_unicode(&app));
    // Errors are signed too; an empty nonce is not echoed.
    let body = verify_signed(&app.delete("/policy/nosuch?nonce=").expect(404));
    assert!(body.get("nonce").is_none());
    assert_eq!(body["result"]["status"], false);
    verify_signed(&app.get("/no/such/route").expect(404));
    verify_signed(&app.get_as("/policy/", "").expect(401));
    // A policy export is a file, not JSON: not signed.
    let export = app.get("/policy/export/all.cfg").expect(200);
    assert!(export.text.starts_with("[signed]"), "{}", export.text);
    assert!(!export.text.contains("rsa_sha256_pss"));
}

fn a_contains_escaped_unicode(app: &TestApp) -> bool {
    let a = app.get("/policy/signed").expect(200);
    verify_signed(&a);
    a.text.contains(r"Gr\u00fc\u00dfe \ud83d\ude00")
}

#[test]
fn no_signature_without_keys_or_when_switched_off() {
    for (what, extra_cfg) in [
        ("no keys", vec![]),
        (
            "switched off",
            [signing_keys(), vec!["PI_NO_RESPONSE_SIGN = True".into()]].concat(),
        ),
        // Only the private key: privacyIDEA signs nothing.
        (
            "only the private key",
            vec![format!(
                "PI_AUDIT_KEY_PRIVATE = '{}'",
                key_fixture("trusted-rsa.key")
            )],
        ),
    ] {
        let app = spawn_app_with(AppOptions {
            extra_cfg,
            ..AppOptions::default()
        });
        let body = app.get("/policy/").expect(200).json();
        assert!(body.get("signature").is_none(), "{what}");
    }
}
