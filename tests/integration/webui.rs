//! The routes around privacyIDEA's own WebUI (issue 17): `GET /user/`,
//! `/user/count`, `/user/settings`, `/client/` and `/config`.
//!
//! `data/webui_release.json` holds the released 3.14's answers, recorded
//! with `scripts/ref/record_webui.py` against `scripts/ref/ref-server.sh`
//! (fresh SQLite database, its own `users.passwd`/`users2.passwd`, token,
//! custom-attribute, client-application and user-setting rows written
//! straight into its database — the file carries the passwd files, the SQL,
//! the setup requests and every case). `release_answers` replays each case
//! here against a fresh pi-server on privacyIDEA's schema and compares
//! status, `result` and `detail` (time, signature and version aside).
//! The other tests pin where this server deliberately differs
//! (docs/compatibility.md).

use crate::realm::{form_realm, passwd_resolver, write_file};
use crate::support::*;
use serde_json::{json, Value};

const RECORDED: &str = include_str!("data/webui_release.json");

/// A fresh app on privacyIDEA's schema set up as the recording was.
fn recorded_app(rec: &Value) -> TestApp {
    let app = spawn_app_with(AppOptions {
        sqlite_preload: Some(fixture("privacyidea-3.14-sqlite-schema.sql")),
        ..Default::default()
    });
    for (name, content) in rec["passwd"].as_object().unwrap() {
        write_file(&app, name, content.as_str().unwrap());
    }
    for step in rec["setup"].as_array().unwrap() {
        let path = step[0].as_str().unwrap();
        let mut body = step[1].clone();
        for v in body.as_object_mut().unwrap().values_mut() {
            if let Some(file) = v.as_str().and_then(|s| s.strip_prefix('@')) {
                *v = json!(app.dir.path().join(file).display().to_string());
            }
        }
        app.post_json(path, &body).expect(200);
    }
    sqlite_script(
        &app.dir.path().join("pi.sqlite"),
        rec["data_sql"].as_str().unwrap(),
    );
    app
}

/// `detail` without the volatile `threadid` (asserted to be there when the
/// other side has it).
fn without_threadid(mut detail: Value) -> Value {
    if let Some(obj) = detail.as_object_mut() {
        if obj.remove("threadid").is_some() {
            obj.insert("threadid".into(), json!("<present>"));
        }
    }
    detail
}

#[test]
fn release_answers() {
    let rec: Value = serde_json::from_str(RECORDED).unwrap();
    let app = recorded_app(&rec);
    let admin = app.token();
    let mut compared = 0;
    for case in rec["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        for p in case["policies"].as_array().unwrap() {
            let mut body = p.clone();
            let pname = body["name"].as_str().unwrap().to_owned();
            body.as_object_mut().unwrap().remove("name");
            app.post_json(&format!("/policy/{pname}"), &body)
                .expect(200);
        }
        let token = match &case["login"] {
            Value::Null => admin.clone(),
            Value::String(s) if s == "anonymous" => String::new(),
            Value::Array(l) => app.login(l[0].as_str().unwrap(), l[1].as_str().unwrap()),
            other => panic!("login {other}"),
        };
        for want in case["answers"].as_array().unwrap() {
            let path = want["path"].as_str().unwrap();
            let got = app.send(
                app.client()
                    .get(app.url(path))
                    .header("Accept-Language", "en"),
                Some(&token),
            );
            let body = got.json();
            assert_eq!(
                got.status,
                want["status"].as_u64().unwrap() as u16,
                "{name}: GET {path}: {}",
                got.text
            );
            assert_eq!(body["result"], want["result"], "{name}: GET {path}");
            assert_eq!(
                without_threadid(body.get("detail").cloned().unwrap_or(Value::Null)),
                without_threadid(want["detail"].clone()),
                "{name}: GET {path}"
            );
            assert_eq!(
                body.get("version").is_some(),
                want["has_version"].as_bool().unwrap(),
                "{name}: GET {path}: version shown"
            );
            compared += 1;
        }
        for p in case["policies"].as_array().unwrap().iter().rev() {
            let pname = p["name"].as_str().unwrap();
            app.send(
                app.client().delete(app.url(&format!("/policy/{pname}"))),
                Some(&admin),
            )
            .expect(200);
        }
    }
    assert_eq!(compared, 162);
}

/// A resolver whose passwd file is missing: the release answers 500 for
/// the whole list; here the resolver is skipped and named in
/// `detail.skipped_resolvers`, as the release reports a resolver that
/// raises a ResolverError (an unreachable LDAP server).
#[test]
fn broken_resolver_is_skipped_not_a_500() {
    let app = spawn_app();
    passwd_resolver(&app, "good", "ann:x:1:1:Ann:/home/ann:/bin/sh\n");
    app.post_form(
        "/resolver/broken",
        &[
            ("type", "passwdresolver"),
            ("fileName", "/nonexistent/users.passwd"),
        ],
    )
    .expect(200);
    form_realm(&app, "r", "broken,good");
    let a = app.get("/user/?realm=r").expect(200);
    assert_eq!(a.json()["detail"]["skipped_resolvers"], json!(["broken"]));
    let users = a.value();
    assert_eq!(users.as_array().unwrap().len(), 1);
    assert_eq!(users[0]["username"], "ann");
    let c = app.get("/user/count?realm=r").expect(200);
    assert_eq!(c.value(), json!({"count": 1, "with_tokens": 0}));
    assert_eq!(c.json()["detail"]["skipped_resolvers"], json!(["broken"]));
}

/// Without privacyIDEA's token, client and setting tables (a database this
/// server created) the routes answer as on an empty privacyIDEA database.
#[test]
fn own_database_without_privacyidea_tables() {
    let app = spawn_app();
    passwd_resolver(&app, "res", "ann:x:1:1:Ann:/home/ann:/bin/sh\n");
    form_realm(&app, "r", "res");
    assert_eq!(app.get("/client/").expect(200).value(), json!({}));
    assert_eq!(app.get("/user/settings").expect(200).value(), json!({}));
    assert_eq!(
        app.get("/user/count?realm=r").expect(200).value(),
        json!({"count": 1, "with_tokens": 0})
    );
    assert_eq!(
        app.get("/user/?realm=r&has_tokens=1").expect(200).value(),
        json!([])
    );
    let cfg = app.get("/config").expect(200).value();
    assert_eq!(cfg["privacyideaVersionNumber"], "3.14");
    assert_eq!(cfg["realms"], "");
}

/// `PI_USERLIST_MAX` cuts the list (and the count) and says so in
/// `detail`; the release has no limit.
#[test]
fn userlist_max_cuts_the_list() {
    let app = spawn_app_with(AppOptions {
        extra_cfg: vec!["PI_USERLIST_MAX = 3".into()],
        ..AppOptions::default()
    });
    let mut passwd = String::new();
    for i in 0..10 {
        passwd.push_str(&format!("u{i}:x:{i}:{i}:User {i}:/home/u{i}:/bin/sh\n"));
    }
    passwd_resolver(&app, "many", &passwd);
    form_realm(&app, "r", "many");
    let a = app.get("/user/?realm=r").expect(200);
    let names: Vec<&str> = a.value_ref_names();
    assert_eq!(names, ["u0", "u1", "u2"]);
    assert_eq!(
        without_threadid(a.json()["detail"].clone()),
        json!({"truncated": true, "userlist_max": 3, "threadid": "<present>"})
    );
    let c = app.get("/user/count?realm=r").expect(200);
    assert_eq!(c.value()["count"], 3);
    assert_eq!(c.json()["detail"]["truncated"], true);
    // a search that stays below the limit is complete
    let a = app.get("/user/?realm=r&username=u1").expect(200);
    assert_eq!(a.value().as_array().unwrap().len(), 1);
    assert!(a.json().get("detail").is_none());
}

/// Bad input is a clean 4xx in the envelope.
#[test]
fn bad_input_is_a_clean_4xx() {
    let app = spawn_app();
    passwd_resolver(&app, "res", "ann:x:1:1:Ann:/home/ann:/bin/sh\n");
    form_realm(&app, "r", "res");
    app.get("/user/?realm=r&has_tokens=perhaps")
        .expect_error_message(400, 905, "ERR905: Invalid value for has_tokens: 'perhaps'");
    app.post_json("/user/", &json!({})).expect(405);
    app.get_as("/user/", "").expect(401);
    app.get_as("/client/", "").expect(401);
    // the user role may not read the client list
    let user = user_token("ann", "r");
    app.get_as("/client/", &user).expect(401);
    // a user sees only itself, whatever it asks for
    let a = app.get_as("/user/?realm=other&user=*", &user).expect(200);
    assert_eq!(a.value_ref_names(), ["ann"]);
}

trait Names {
    fn value_ref_names(&self) -> Vec<&str>;
}

impl Names for Answer {
    fn value_ref_names(&self) -> Vec<&str> {
        // Parse once more into a leaked value: test code, small bodies.
        let v: &'static Value = Box::leak(Box::new(self.value()));
        v.as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap())
            .collect()
    }
}

/// `PI_WEBUI_STATIC_DIR`: the start page and `/app/v2/…` as the release
/// serves them (redirects and the `pi-script-root` meta tag checked against
/// the release on its own package: `/` → 302 `/app/v2/`,
/// `/app/v2/EN` → 302 `/app/v2/en/`, `/app/v2/en/login` → the shell,
/// `Accept-Language: de` → 302 `/app/v2/de/`), and the files below
/// `/static/`.
#[test]
fn serves_the_webui_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist/privacyidea-webui/browser");
    for locale in ["en", "de"] {
        std::fs::create_dir_all(dist.join(locale).join("assets")).unwrap();
        std::fs::write(
            dist.join(locale).join("index.html"),
            format!("<html><head><base href=\"/static/dist/privacyidea-webui/browser/{locale}/\"></head><body>{locale}</body></html>"),
        )
        .unwrap();
    }
    std::fs::write(dist.join("en/main-X.js"), "console.log(1)").unwrap();
    let app = spawn_app_with(AppOptions {
        extra_cfg: vec![format!("PI_WEBUI_STATIC_DIR = '{}'", dir.path().display())],
        ..AppOptions::default()
    });
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut rb = app.client().get(app.url(path));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        app.send(rb, Some(""))
    };
    let location = |a: &Answer| {
        a.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let a = get("/", &[("Accept-Language", "en")]).expect(302);
    assert_eq!(location(&a), "/app/v2/");
    let a = get("/", &[("Accept-Language", "de-DE,de;q=0.9")]).expect(302);
    assert_eq!(location(&a), "/app/v2/de/");
    let a = get("/", &[("Cookie", "pi_ui_locale=de")]).expect(302);
    assert_eq!(location(&a), "/app/v2/de/");
    let a = get("/app/v2/EN", &[]).expect(302);
    assert_eq!(location(&a), "/app/v2/en/");
    let a = get("/app/v2/en?x=1", &[]).expect(302);
    assert_eq!(location(&a), "/app/v2/en/?x=1");
    for path in [
        "/app/v2/en/",
        "/app/v2/en/users",
        "/app/v2/en/policies/details/p1",
    ] {
        let a = get(path, &[("Accept", "text/html")]).expect(200);
        assert!(a
            .text
            .contains("<meta name=\"pi-script-root\" content=\"\"></head><body>en</body>"));
        assert!(a.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
    }
    // an unknown first segment: the shell for browsers, 404 for others
    get("/app/v2/login", &[("Accept", "text/html")]).expect(200);
    get("/app/v2/login", &[("Accept", "application/json")]).expect(404);
    get("/app/v2/", &[("Accept", "text/html")]).expect(200);
    let a = get("/static/dist/privacyidea-webui/browser/en/main-X.js", &[]).expect(200);
    assert_eq!(a.text, "console.log(1)");
    assert!(a.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let json = [("Accept", "application/json")];
    get("/static/dist/../../etc/passwd", &json).expect(404);
    get("/static/dist/privacyidea-webui/browser/en/nope.js", &json).expect(404);
    let a = get("/static/dist", &[("Accept", "text/html")]).expect(404);
    assert_eq!(a.text, "{\"error\":\"Not found\"}\n");
    // unknown paths as the release's not-found handler answers them: the
    // shell to a browser, an empty customization file, 404 to the others
    let a = get("/pi.cfg", &[("Accept", "text/html")]).expect(200);
    assert!(a.text.contains("<body>en</body>"), "{}", a.text);
    get("/pi.cfg", &json).expect(404);
    let a = get("/static/public/customize/custom.css", &[]).expect(200);
    assert_eq!(a.text, "");
    let a = app.send(app.client().post(app.url("/app/v2/en/")), Some(""));
    assert_eq!(a.expect(405).code(), -405);
    // the API is unchanged
    assert_eq!(
        app.get("/config").expect(200).value()["theme"],
        "static/contrib/css/bootstrap-theme.css"
    );
}

/// Without `PI_WEBUI_STATIC_DIR` nothing of the WebUI is served.
#[test]
fn no_webui_by_default() {
    let app = spawn_app();
    app.get_as("/", "").expect(404);
    app.get_as("/app/v2/en/", "").expect(404);
    app.get_as("/static/x.js", "").expect(404);
}

/// `PI_UI_DEACTIVATED`: the release renders no settings but still adds the
/// logo (`get_ui_config`); checked against the release with
/// `PI_UI_DEACTIVATED = True` and `PI_LOGO = 'mylogo.png'` in its pi.cfg.
#[test]
fn config_with_the_ui_deactivated() {
    let app = spawn_app_with(AppOptions {
        extra_cfg: vec![
            "PI_UI_DEACTIVATED = True".into(),
            "PI_LOGO = 'mylogo.png'".into(),
        ],
        ..AppOptions::default()
    });
    let a = app.get_as("/config", "").expect(200);
    assert_eq!(a.value(), json!({"logo": "mylogo.png"}));
}

/// The same reads on privacyIDEA's PostgreSQL schema (token owners, custom
/// attributes, client applications, settings): the answers the release gave
/// on SQLite for the recorded data. Skipped without `PI_TEST_POSTGRES_URL`.
#[test]
fn privacyidea_tables_on_postgresql() {
    let Some(pg) = PgDb::with_privacyidea_schema("PostgreSQL part") else {
        return;
    };
    // PostgreSQL booleans and JSON columns
    privacyidea_tables_on(&pg.uri, |sql| {
        pg.exec(
            &sql.replace("'hotp',1,0)", "'hotp',true,false)")
                .replace("'hotp',1,1)", "'hotp',true,true)")
                .replace("'hotp',0,NULL)", "'hotp',false,NULL)"),
        )
    });
}

#[test]
fn privacyidea_tables_on_mariadb() {
    let Some(db) = pi_store::testing::TestDb::mysql() else {
        eprintln!("PI_TEST_MYSQL_URL not set; MariaDB part skipped");
        return;
    };
    let db = db.unwrap();
    db.execute_script(&fixture("privacyidea-3.14-mariadb-schema.sql"))
        .unwrap();
    privacyidea_tables_on(db.uri(), |sql| db.execute_script(sql).unwrap());
}

/// The recorded WebUI answers that read privacyIDEA's own tables, on a
/// server database loaded with privacyIDEA's schema; `exec` loads the
/// recorded rows.
fn privacyidea_tables_on(uri: &str, exec: impl Fn(&str)) {
    let rec: Value = serde_json::from_str(RECORDED).unwrap();
    let app = spawn_app_with(AppOptions {
        db: Db::Uri(uri.to_owned()),
        ..Default::default()
    });
    for (name, content) in rec["passwd"].as_object().unwrap() {
        write_file(&app, name, content.as_str().unwrap());
    }
    for step in rec["setup"].as_array().unwrap() {
        let mut body = step[1].clone();
        for v in body.as_object_mut().unwrap().values_mut() {
            if let Some(file) = v.as_str().and_then(|s| s.strip_prefix('@')) {
                *v = json!(app.dir.path().join(file).display().to_string());
            }
        }
        app.post_json(step[0].as_str().unwrap(), &body).expect(200);
    }
    exec(rec["data_sql"].as_str().unwrap());
    let no_policies = &rec["cases"][0]["answers"];
    let mut compared = 0;
    for want in no_policies.as_array().unwrap() {
        let path = want["path"].as_str().unwrap();
        if ![
            "/user/count?realm=realm1,realm2",
            "/client/",
            "/user/settings",
        ]
        .contains(&path)
            && !path.contains("has_tokens=true")
            && !path.contains("department")
        {
            continue;
        }
        let got = app.get(path);
        assert_eq!(
            got.status,
            want["status"].as_u64().unwrap() as u16,
            "{path}"
        );
        assert_eq!(got.json()["result"], want["result"], "{path}");
        compared += 1;
    }
    assert_eq!(compared, 6);
}
