//! Test support: `spawn_app()` starts the real `pi-server` binary on
//! `127.0.0.1:0` with a fresh database and a fresh pi.cfg, and talks HTTP to it.

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The admin every app starts with.
pub const ADMIN: &str = "admin";
/// Its password.
pub const ADMIN_PW: &str = "Test123!admin";
/// The pepper of every test config.
pub const PEPPER: &str = "zzsWra6vnoYFrlVXJM3DlgPO";
/// The JWT key of every test config.
pub const SECRET: &str = "test-secret-key-0123456789abcdef";

fn target_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
}

/// Path of a workspace binary built by `make test` (`cargo build -p pi-server -p pi-manage`).
/// Runs `pi-manage --config CFG ARGS…` with `stdin` (then end of input):
/// whether it succeeded, its stdout and its stderr.
pub fn manage(cfg: &Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut cmd = Command::new(bin("pi-manage"));
    cmd.arg("--config").arg(cfg).args(args);
    let out = run_with_stdin(cmd, stdin.unwrap_or_default());
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `cmd` with `input` as its stdin (then end of input), capturing
/// stdout and stderr.
pub fn run_with_stdin(mut cmd: Command, input: &str) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).expect("write stdin");
    drop(stdin);
    child.wait_with_output().expect("wait")
}

/// Runs `pi-server --config CFG ARGS…` to its end (stdin closed): its output.
pub fn run_server(cfg: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(bin("pi-server"));
    cmd.arg("--config").arg(cfg).args(args);
    run_with_stdin(cmd, "")
}

pub fn bin(name: &str) -> PathBuf {
    if let Ok(p) = std::env::var(format!(
        "PI_TEST_{}_BIN",
        name.to_uppercase().replace('-', "_")
    )) {
        return PathBuf::from(p);
    }
    let p = target_dir().join("debug").join(name);
    assert!(
        p.exists(),
        "{} not built: run `cargo build -p pi-server -p pi-manage` (make test does)",
        p.display()
    );
    p
}

/// Which database a test app runs on.
#[derive(Debug, Clone)]
pub enum Db {
    /// A fresh SQLite file in the app's temp dir.
    Sqlite,
    /// A given SQLAlchemy URI (the caller owns it).
    Uri(String),
}

/// Options of [`spawn_app_with`].
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// The database.
    pub db: Db,
    /// Extra pi.cfg lines.
    pub extra_cfg: Vec<String>,
    /// Create the standard admin first (needs a reachable database).
    pub create_admin: bool,
    /// SQL run on the fresh SQLite database before the server starts.
    pub sqlite_preload: Option<String>,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            db: Db::Sqlite,
            extra_cfg: Vec::new(),
            create_admin: true,
            sqlite_preload: None,
        }
    }
}

/// A running server.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The temp dir holding pi.cfg, the database, key and uuid files.
    pub dir: tempfile::TempDir,
    /// The pi.cfg path.
    pub cfg: PathBuf,
    /// The SQLAlchemy URI of the app's database.
    pub db_uri: String,
    child: Child,
    client: reqwest::blocking::Client,
    token: Option<String>,
    /// A server database created for this app (dropped with it).
    _db: Option<std::sync::Arc<pi_store::testing::TestDb>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Headers (lower-case names).
    pub headers: reqwest::header::HeaderMap,
    /// Raw body.
    pub text: String,
}

impl Answer {
    /// Body as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    /// `result.value`.
    pub fn value(&self) -> Value {
        self.json()["result"]["value"].clone()
    }
    /// `result.error.code`.
    pub fn code(&self) -> i64 {
        self.json()["result"]["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("no error code: {}", self.text))
    }
    /// `result.error.message`.
    pub fn message(&self) -> String {
        self.json()["result"]["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
    /// Assert the status, showing the body otherwise.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }
    /// Assert the status and `result.error.code` of an error answer.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: i64) -> Self {
        let a = self.expect(status);
        assert_eq!(a.code(), code, "error code; body: {}", a.text);
        a
    }
    /// Assert the status, `result.error.code` and `result.error.message` of
    /// an error answer.
    #[track_caller]
    pub fn expect_error_message(self, status: u16, code: i64, message: &str) -> Self {
        let a = self.expect_error(status, code);
        assert_eq!(a.message(), message, "error message; body: {}", a.text);
        a
    }
    /// Assert that `result.error.message` starts with `prefix`.
    #[track_caller]
    pub fn assert_message_starts_with(&self, prefix: &str) {
        let message = self.message();
        assert!(message.starts_with(prefix), "{message}");
    }
}

/// The keys of a JSON object (panics when `v` is none).
pub fn keys(v: &Value) -> Vec<String> {
    v.as_object().expect("an object").keys().cloned().collect()
}

/// The claims of an HS256 JWT signed with the test key (no claim required).
pub fn decode_claims(token: &str) -> Value {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
        &validation,
    )
    .expect("valid HS256 token")
    .claims
}

/// Runs `pi-manage` as [`manage`] does, asserting that it fails; its stderr.
#[track_caller]
pub fn manage_err(cfg: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let (ok, _, err) = manage(cfg, args, stdin);
    assert!(!ok, "pi-manage {args:?} should fail");
    err
}

/// Runs an SQL script on the SQLite file `path` (created when missing).
pub fn sqlite_script(path: &Path, sql: &str) {
    let mut cmd = Command::new("python3");
    cmd.arg("-c")
        .arg("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.stdin.read()); c.commit()")
        .arg(path);
    let out = run_with_stdin(cmd, sql);
    assert!(
        out.status.success(),
        "the SQLite script on {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh SQLite app with the standard admin.
/// The node UUID of an app started without `PI_NODE_UUID` (and with a
/// fresh `PI_UUID_FILE`), found as the release finds it: the machine's
/// `/etc/machine-id` (then the file stays unwritten), else the new UUID the
/// server wrote to the file.
pub fn default_node_uuid(app: &TestApp) -> String {
    let uuid_file = app.dir.path().join("uuid.txt");
    let machine = std::fs::read_to_string("/etc/machine-id").ok();
    match machine.and_then(|m| uuid::Uuid::parse_str(m.trim()).ok()) {
        Some(id) => {
            assert!(!uuid_file.exists(), "the machine id is not written");
            id.hyphenated().to_string()
        }
        None => {
            let written = std::fs::read_to_string(&uuid_file).expect("uuid file written");
            written.trim().to_owned()
        }
    }
}

pub fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default())
}

/// A fresh SQLite app with the standard admin and `SUPERUSER_REALM = <realms>`
/// (a Python list, e.g. `['superuser']`).
pub fn spawn_app_with_superuser_realms(realms: &str) -> TestApp {
    spawn_app_with(AppOptions {
        extra_cfg: vec![format!("SUPERUSER_REALM = {realms}")],
        ..AppOptions::default()
    })
}

fn py_str(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Environment variable that moves the end-to-end suite off SQLite: `mysql`
/// (a fresh database on `PI_TEST_MYSQL_URL` per app) or `postgresql` (on
/// `PI_TEST_POSTGRES_URL`). Apps that preload a SQLite file stay on SQLite.
pub const E2E_DB_ENV: &str = "PI_TEST_E2E_DB";

/// A fresh server database for an app, when [`E2E_DB_ENV`] asks for one.
pub fn e2e_server_db() -> Option<pi_store::testing::TestDb> {
    let which = std::env::var(E2E_DB_ENV).ok()?;
    let db = match which.trim() {
        "mysql" | "mariadb" => pi_store::testing::TestDb::mysql(),
        "postgresql" | "postgres" => pi_store::testing::TestDb::postgres(),
        "" | "sqlite" => return None,
        other => panic!("{E2E_DB_ENV}={other}: expected mysql, postgresql or sqlite"),
    };
    Some(
        db.unwrap_or_else(|| panic!("{E2E_DB_ENV}={which} but its server URL is not set"))
            .expect("create the e2e database"),
    )
}

/// Start an app with options.
pub fn spawn_app_with(opts: AppOptions) -> TestApp {
    spawn_app_on(opts, None)
}

/// Start an app with options on a shared server database (several nodes on
/// one database: pass the same `TestDb` to each).
pub fn spawn_app_on(
    mut opts: AppOptions,
    shared: Option<std::sync::Arc<pi_store::testing::TestDb>>,
) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut keep_db = shared;
    if keep_db.is_none() && matches!(opts.db, Db::Sqlite) && opts.sqlite_preload.is_none() {
        keep_db = e2e_server_db().map(std::sync::Arc::new);
    }
    if let Some(db) = &keep_db {
        opts.db = Db::Uri(db.uri().to_owned());
    }
    let uri = match &opts.db {
        Db::Sqlite => format!("sqlite:///{}", dir.path().join("pi.sqlite").display()),
        Db::Uri(u) => u.clone(),
    };
    if let (Db::Sqlite, Some(sql)) = (&opts.db, &opts.sqlite_preload) {
        sqlite_script(&dir.path().join("pi.sqlite"), sql);
    }
    let cfg = dir.path().join("pi.cfg");
    let mut text = format!(
        "import logging\nSQLALCHEMY_DATABASE_URI = {}\nSECRET_KEY = {}\nPI_PEPPER = {}\nPI_ENCFILE = {}\nPI_UUID_FILE = {}\nPI_NODE = 'testnode'\nPI_LOGLEVEL = logging.WARNING\n",
        py_str(&uri),
        py_str(SECRET),
        py_str(PEPPER),
        py_str(&dir.path().join("enckey").display().to_string()),
        py_str(&dir.path().join("uuid.txt").display().to_string()),
    );
    for line in &opts.extra_cfg {
        text.push_str(line);
        text.push('\n');
    }
    std::fs::write(&cfg, text).expect("write pi.cfg");
    let manage = |args: &[&str], stdin: Option<&str>| {
        let (ok, _, err) = manage(&cfg, args, stdin);
        assert!(ok, "pi-manage {args:?} failed: {err}");
    };
    if opts.create_admin {
        manage(&["create_enckey"], None);
        manage(
            &["admin", "add", ADMIN, "--password-stdin"],
            Some(&format!("{ADMIN_PW}\n")),
        );
    }
    let mut child = Command::new(bin("pi-server"))
        .arg("--config")
        .arg(&cfg)
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--workers")
        .arg("2")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn pi-server");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let base = loop {
        line.clear();
        let n = reader.read_line(&mut line).expect("read pi-server stdout");
        assert!(n > 0, "pi-server exited before listening");
        if let Some(rest) = line.trim().strip_prefix("pi-server listening on ") {
            break rest.to_string();
        }
        assert!(Instant::now() < deadline, "pi-server did not start");
    };
    // keep draining stdout so the server never blocks on a full pipe
    std::thread::spawn(move || for _ in reader.lines() {});
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut app = TestApp {
        base,
        dir,
        cfg,
        db_uri: uri,
        child,
        client,
        token: None,
        _db: keep_db,
    };
    if opts.create_admin {
        app.token = Some(app.login(ADMIN, ADMIN_PW));
    }
    app
}

impl TestApp {
    /// Log in and return the JWT.
    pub fn login(&self, user: &str, pw: &str) -> String {
        let a = self.send(
            self.client
                .post(self.url("/auth"))
                .form(&[("username", user), ("password", pw)]),
            None,
        );
        assert_eq!(a.status, 200, "login of {user} failed: {}", a.text);
        a.value()["token"].as_str().expect("token").to_string()
    }

    /// POST /auth with `form`, without a token.
    pub fn post_auth(&self, form: &[(&str, &str)]) -> Answer {
        self.send(self.client.post(self.url("/auth")).form(form), Some(""))
    }

    /// POST /auth with a JSON body, without a token.
    pub fn post_auth_json(&self, body: &Value) -> Answer {
        self.send(self.client.post(self.url("/auth")).json(body), Some(""))
    }

    /// The admin's JWT.
    pub fn token(&self) -> String {
        self.token.clone().expect("app without admin token")
    }

    /// Use another token for the following requests.
    pub fn set_token(&mut self, token: Option<String>) {
        self.token = token;
    }

    /// Absolute URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The raw client (no auth header).
    pub fn client(&self) -> &reqwest::blocking::Client {
        &self.client
    }

    /// Send a request builder, adding `Authorization` unless `auth` is Some("") .
    pub fn send(&self, rb: reqwest::blocking::RequestBuilder, auth: Option<&str>) -> Answer {
        let rb = match auth {
            Some("") => rb,
            Some(t) => rb.header("Authorization", t),
            None => match &self.token {
                Some(t) => rb.header("Authorization", t),
                None => rb,
            },
        };
        let resp = rb.send().expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().expect("body");
        Answer {
            status,
            headers,
            text,
        }
    }

    /// GET with the current token.
    pub fn get(&self, path: &str) -> Answer {
        self.send(self.client.get(self.url(path)), None)
    }
    /// GET with `auth` as the `Authorization` header (`""`: none).
    pub fn get_as(&self, path: &str, auth: &str) -> Answer {
        self.send(self.client.get(self.url(path)), Some(auth))
    }
    /// DELETE with the current token.
    pub fn delete(&self, path: &str) -> Answer {
        self.send(self.client.delete(self.url(path)), None)
    }
    /// POST a JSON body with the current token.
    pub fn post_json(&self, path: &str, body: &Value) -> Answer {
        self.send(self.client.post(self.url(path)).json(body), None)
    }
    /// PATCH a JSON body with the current token.
    pub fn patch_json(&self, path: &str, body: &Value) -> Answer {
        self.send(self.client.patch(self.url(path)).json(body), None)
    }
    /// POST a form with the current token.
    /// The keys of the object `GET path` answers with (status 200).
    pub fn value_keys(&self, path: &str) -> Vec<String> {
        keys(&self.get(path).expect(200).value())
    }

    pub fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.send(self.client.post(self.url(path)).form(form), None)
    }
}

/// A fresh PostgreSQL database on the server named by `PI_TEST_POSTGRES_URL`
/// (dropped with the guard), or `None` when the variable is unset.
pub struct PgDb {
    /// SQLAlchemy URI of the fresh database.
    pub uri: String,
    admin_url: String,
    name: String,
}

impl PgDb {
    /// Create one.
    pub fn create() -> Option<PgDb> {
        let base = std::env::var("PI_TEST_POSTGRES_URL").ok()?;
        let name = format!("pi_e2e_{}", uuid_like());
        psql(&base, &format!("CREATE DATABASE {name}"));
        let (prefix, _) = base.rsplit_once('/').expect("url with database");
        Some(PgDb {
            uri: format!("{prefix}/{name}"),
            admin_url: base,
            name,
        })
    }
    /// Run SQL in the fresh database.
    pub fn exec(&self, sql: &str) {
        psql(&self.uri, sql);
    }
}

impl PgDb {
    /// A fresh database holding privacyIDEA 3.14's PostgreSQL schema, or
    /// `None` (with a note that `what` is skipped) without `PI_TEST_POSTGRES_URL`.
    pub fn with_privacyidea_schema(what: &str) -> Option<PgDb> {
        let Some(pg) = PgDb::create() else {
            eprintln!("PI_TEST_POSTGRES_URL not set; {what} skipped");
            return None;
        };
        pg.exec(&fixture("privacyidea-3.14-postgresql-schema.sql"));
        Some(pg)
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .arg(&self.admin_url)
            .arg("-q")
            .arg("-c")
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .output();
    }
}

fn psql(url: &str, sql: &str) {
    let mut cmd = Command::new("psql");
    cmd.arg(url).arg("-q").arg("-v").arg("ON_ERROR_STOP=1");
    let out = run_with_stdin(cmd, sql);
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}{:x}", nanos, std::process::id())
}

/// The fixture schema privacyIDEA 3.14 creates (kept once, with pi-store's tests).
pub fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/pi-store/tests/fixtures")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

impl TestApp {
    /// Stops the server with SIGTERM (a graceful shutdown) and waits for it.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("wait for the server")
    }

    /// The app's database through pi-store: for setting up state the way
    /// another node (or privacyIDEA itself) would write it.
    pub fn store(&self) -> pi_store::Store {
        pi_store::Store::open(&self.db_uri, pi_store::StoreOptions::default()).expect("open store")
    }

    /// Add a local admin with `pi-manage admin add` and return its JWT.
    pub fn add_admin(&self, name: &str, pw: &str) -> String {
        let (ok, _, err) = manage(
            &self.cfg,
            &["admin", "add", name, "--password-stdin"],
            Some(&format!("{pw}\n")),
        );
        assert!(ok, "pi-manage admin add {name}: {err}");
        self.login(name, pw)
    }

    /// Store an admin-scope policy directly in the database.
    pub fn put_admin_policy(&self, name: &str, action: &str, adminuser: &str) {
        let rec = pi_model::record::PolicyRecord {
            name: name.into(),
            scope: "admin".into(),
            active: true,
            action: action.into(),
            adminuser: adminuser.into(),
            priority: 1,
            ..Default::default()
        };
        self.store()
            .save_policy(&rec, Some(&[]))
            .expect("save policy");
    }
}

/// A user-role JWT signed with the test key.
pub fn user_token(username: &str, realm: &str) -> String {
    let claims = serde_json::json!({
        "username": username, "realm": realm, "role": "user", "authtype": "password",
        "nonce": "0".repeat(40), "rights": [],
        "exp": chrono::Utc::now().timestamp() + 600,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("encode")
}
