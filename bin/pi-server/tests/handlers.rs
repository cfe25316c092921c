//! Handlers in-process (`actix_web::test`): the real application with its
//! middleware over a fresh SQLite database, without a listening socket. The
//! end-to-end suite (`tests/integration`) runs the binary itself.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{test, web};
use serde_json::{json, Value};

const ADMIN: &str = "admin";
const PASSWORD: &str = "test";

/// A started application and the directory holding its database.
struct Fixture<S> {
    service: S,
    _dir: tempfile::TempDir,
}

async fn start() -> Fixture<
    impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
    >,
> {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let text = format!(
        "SQLALCHEMY_DATABASE_URI = 'sqlite:///{}'\nSECRET_KEY = 'in-process'\nPI_PEPPER = 'pepper'\nPI_ENCFILE = '{}'\nPI_UUID_FILE = '{}'\nPI_NODE = 'testnode'\n",
        path("pi.sqlite"),
        path("enckey"),
        path("uuid.txt"),
    );
    let cfg = pi_config::load_str(&text, "pi.cfg", pi_config::EnvOverrides::none()).unwrap();
    pi_realm::EncKey::generate_file(cfg.pi_encfile.as_deref().unwrap()).unwrap();
    let store = pi_store::Store::open(&cfg.sqlalchemy_database_uri, Default::default()).unwrap();
    let hash = pi_auth::hash_password("pepper", PASSWORD, &cfg.pi_hash_algo_list).unwrap();
    store
        .save_admin(&pi_model::record::AdminRecord {
            username: ADMIN.into(),
            password: Some(hash),
            email: None,
        })
        .unwrap();
    let state = pi_server::AppState::start(cfg).await.unwrap();
    let service = test::init_service(pi_server::app(web::Data::new(state), false)).await;
    Fixture { service, _dir: dir }
}

async fn call<S, B>(service: &S, req: test::TestRequest) -> (StatusCode, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(service, req.to_request()).await;
    let status = res.status();
    let body: Value = test::read_body_json(res).await;
    (status, body)
}

async fn token<S, B>(service: &S) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (status, body) = call(
        service,
        post_json("/auth", json!({"username": ADMIN, "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["result"]["value"]["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `POST <uri>` with a JSON body.
fn post_json(uri: &str, body: Value) -> test::TestRequest {
    test::TestRequest::post().uri(uri).set_json(body)
}

/// `GET <uri>`.
fn get(uri: &str) -> test::TestRequest {
    test::TestRequest::get().uri(uri)
}

/// A logged-in admin: requests sent with its token.
struct AdminSession<'a, S> {
    service: &'a S,
    token: String,
}

impl<S, B> AdminSession<'_, S>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    /// `req` with the admin's token.
    async fn send(&self, req: test::TestRequest) -> (StatusCode, Value) {
        call(
            self.service,
            req.insert_header(("Authorization", self.token.clone())),
        )
        .await
    }

    /// `req` with the admin's token, answered `200 OK`: the body.
    async fn ok(&self, req: test::TestRequest) -> Value {
        let (status, body) = self.send(req).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

/// Log the admin in.
async fn login<S, B>(service: &S) -> AdminSession<'_, S>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    AdminSession {
        service,
        token: token(service).await,
    }
}

/// An error envelope: the status, privacyIDEA's error code and message.
fn assert_error(answer: (StatusCode, Value), status: StatusCode, code: i64, message: &str) {
    let (got, body) = answer;
    assert_eq!(got, status, "{body}");
    assert_eq!(body["result"]["status"], json!(false));
    assert_eq!(body["result"]["error"]["code"], json!(code));
    assert_eq!(body["result"]["error"]["message"], json!(message));
}

#[actix_web::test]
async fn missing_token_is_the_error_envelope() {
    let app = start().await;
    let answer = call(&app.service, get("/policy/")).await;
    let body = answer.1.clone();
    assert_error(
        answer,
        StatusCode::UNAUTHORIZED,
        4033,
        "Authentication failure. Missing Authorization header.",
    );
    assert!(
        body["id"].is_number() && body["version"].is_string(),
        "{body}"
    );
}

#[actix_web::test]
async fn bad_parameter_is_an_envelope_and_an_unknown_route_the_release_404() {
    let app = start().await;
    let admin = login(&app.service).await;
    let answer = admin
        .send(post_json("/policy/p1", json!({"action": "x"})))
        .await;
    assert_error(
        answer,
        StatusCode::BAD_REQUEST,
        905,
        "ERR905: Missing parameter: scope",
    );
    let (status, body) = call(&app.service, get("/no/such/route")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"error": "Not found"}));
}

#[actix_web::test]
async fn policy_write_then_read() {
    let app = start().await;
    let admin = login(&app.service).await;
    let body = admin
        .ok(post_json(
            "/policy/pol1",
            json!({
                "scope": "enrollment",
                "action": "tokenlabel=<u>@<r>",
                "client": "10.0.0.0/8",
                "priority": 3,
            }),
        ))
        .await;
    assert!(
        body["result"]["value"]["setPolicy pol1"].is_number(),
        "{body}"
    );
    let body = admin.ok(get("/policy/pol1")).await;
    let pol = &body["result"]["value"][0];
    assert_eq!(pol["name"], json!("pol1"));
    assert_eq!(pol["scope"], json!("enrollment"));
    assert_eq!(pol["client"], json!(["10.0.0.0/8"]));
    assert_eq!(pol["priority"], json!(3));
    assert_eq!(pol["action"], json!({"tokenlabel": "<u>@<r>"}));
}

#[actix_web::test]
async fn admin_policy_gate_allows_and_denies() {
    let app = start().await;
    let admin = login(&app.service).await;
    // no admin policy yet: every action is allowed, so this one may be written
    admin
        .ok(post_json(
            "/policy/readonly",
            json!({"scope": "admin", "action": "policyread"}),
        ))
        .await;
    // now an admin policy exists and grants policyread only
    let body = admin.ok(get("/policy/")).await;
    assert_eq!(body["result"]["value"][0]["name"], json!("readonly"));
    let answer = admin
        .send(post_json(
            "/policy/other",
            json!({"scope": "admin", "action": "policywrite"}),
        ))
        .await;
    assert_error(
        answer,
        StatusCode::FORBIDDEN,
        303,
        "Admin actions are defined, but the action policywrite is not allowed!",
    );
}
