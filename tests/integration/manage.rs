//! `pi-manage`: setup on a fresh machine, admin add/list/change/delete, create_tables,
//! create_enckey, and the `config policy|realm|resolver` commands.

use crate::support::*;
use serde_json::json;
use std::process::{Command, Stdio};

#[test]
fn admin_add_list_change_delete() {
    let app = spawn_app();
    let cfg = app.cfg.clone();
    let (ok, _, err) = manage(
        &cfg,
        &[
            "admin",
            "add",
            "second",
            "--email",
            "s@example.com",
            "--password-stdin",
        ],
        Some("pw-one\n"),
    );
    assert!(ok, "{err}");
    let (ok, out, _) = manage(&cfg, &["admin", "list"], None);
    assert!(ok);
    assert!(out.lines().any(|l| l == "second\ts@example.com"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("admin\t")), "{out}");
    app.login("second", "pw-one");
    // change the password: the old one stops working
    let (ok, _, err) = manage(
        &cfg,
        &["admin", "change", "second", "--password-stdin"],
        Some("pw-two\n"),
    );
    assert!(ok, "{err}");
    let a = app.post_auth(&[("username", "second"), ("password", "pw-one")]);
    assert_eq!(a.expect(401).code(), 4031);
    app.login("second", "pw-two");
    // the hash is argon2id of PI_PEPPER + password, as privacyIDEA writes it
    let stored = app
        .store()
        .get_admin("second")
        .expect("store")
        .expect("admin");
    assert!(stored
        .password
        .as_deref()
        .unwrap_or_default()
        .starts_with("$argon2id$v=19$m=65536,t=9,p=4$"));
    let (ok, _, _) = manage(&cfg, &["admin", "delete", "second"], None);
    assert!(ok);
    let a = app.post_auth(&[("username", "second"), ("password", "pw-two")]);
    assert_eq!(a.expect(401).code(), 4031);
    let (ok, _, err) = manage(&cfg, &["admin", "delete", "second"], None);
    assert!(!ok, "deleting a missing admin fails");
    assert!(err.contains("second"), "{err}");
}

#[test]
fn privacyidea_hashes_log_in() {
    // An admin row written by privacyIDEA (passlib pbkdf2_sha512 of pepper + password).
    let app = spawn_app();
    app.store()
        .save_admin(&pi_model::record::AdminRecord {
            username: "legacy".into(),
            password: Some("$pbkdf2-sha512$25000$hnCOMWas1dobAyAk5Pz/fw$JmXXgMVksOP3nqvyBh7In2KRo.SbTpsnZPNizDDS/gCHx8KnSdR.zYNOJbBH2GCSetg1UBjQKSaj53SC4b2ANQ".into()),
            email: None,
        })
        .expect("save admin");
    app.login("legacy", "Test123!");
    let a = app.post_auth(&[("username", "legacy"), ("password", "Test123?")]);
    assert_eq!(a.expect(401).code(), 4031);
}

#[test]
fn setup_on_a_fresh_machine_then_login() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("pi.cfg");
    let (ok, out, err) = manage(&cfg, &["setup"], None);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&cfg).expect("config written");
    assert!(text.contains("SECRET_KEY = '"));
    assert!(text.contains("PI_PEPPER = '"));
    assert!(dir.path().join("enckey").exists());
    let pw = out
        .lines()
        .find_map(|l| l.strip_prefix("admin `admin` created with password: "))
        .expect("password printed")
        .to_string();
    // a second setup keeps everything and prints no new password
    let (ok, out2, _) = manage(&cfg, &["setup"], None);
    assert!(ok);
    assert!(!out2.contains("created with password"), "{out2}");
    assert_eq!(std::fs::read_to_string(&cfg).expect("cfg"), text);
    // start the server on this config and log in
    let mut child = Command::new(bin("pi-server"))
        .arg("--config")
        .arg(&cfg)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("read");
    let base = line
        .trim()
        .strip_prefix("pi-server listening on ")
        .expect("address")
        .to_string();
    let resp = reqwest::blocking::Client::new()
        .post(format!("{base}/auth"))
        .form(&[("username", "admin"), ("password", pw.as_str())])
        .send()
        .expect("auth");
    let status = resp.status().as_u16();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200);
}

/// A fresh directory holding a `pi.cfg` written by `text` (given the directory).
fn temp_cfg(
    text: impl FnOnce(&std::path::Path) -> String,
) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("pi.cfg");
    std::fs::write(&cfg, text(dir.path())).expect("cfg");
    (dir, cfg)
}

#[test]
fn create_tables_and_enckey() {
    let (dir, cfg) = temp_cfg(|d| {
        format!(
            "SQLALCHEMY_DATABASE_URI = 'sqlite:///{d}/db.sqlite'\nSECRET_KEY = 'x'\nPI_PEPPER = 'y'\nPI_ENCFILE = '{d}/enckey'\n",
            d = d.display()
        )
    });
    let (ok, _, err) = manage(&cfg, &["create_tables"], None);
    assert!(ok, "{err}");
    assert!(dir.path().join("db.sqlite").exists());
    let (ok, _, err) = manage(&cfg, &["create_enckey"], None);
    assert!(ok, "{err}");
    let key = std::fs::read(dir.path().join("enckey")).expect("key");
    assert_eq!(key.len(), 96, "privacyIDEA's key file: three 32-byte keys");
    let (ok, _, err) = manage(&cfg, &["create_enckey"], None);
    assert!(!ok, "an existing key file is never overwritten");
    assert!(err.to_lowercase().contains("exist"), "{err}");
    assert_eq!(std::fs::read(dir.path().join("enckey")).expect("key"), key);
}

#[test]
fn config_errors_stop_startup_with_file_and_line() {
    let (_dir, cfg) =
        temp_cfg(|_| "# comment\nSECRET_KEY = 'x'\nPI_PEPPER = 'unterminated\n".into());
    let out = run_server(&cfg, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pi.cfg"), "{err}");
    assert!(err.contains('3'), "line number expected: {err}");
}

// ----- pi-manage config policy|realm|resolver (spec/realm-auth-server.md §7.6) -----

#[track_caller]
fn ok_out(cfg: &std::path::Path, args: &[&str]) -> String {
    let (ok, out, err) = manage(cfg, args, None);
    assert!(ok, "pi-manage {args:?}: {err}");
    out
}

#[test]
fn config_commands_change_what_the_running_server_serves() {
    let app = spawn_app();
    let cfg = app.cfg.clone();
    crate::realm::passwd_resolver(&app, "files", "alice:x:1000:1000:Alice::\n");
    let passwd = app.dir.path().join("files.passwd").display().to_string();

    // Resolvers (privacyIDEA's format: name padded to 16, then the type).
    assert_eq!(
        ok_out(&cfg, &["config", "resolver", "list"]),
        "files            - (passwdresolver)\n"
    );
    let verbose = ok_out(&cfg, &["config", "resolver", "list", "-v"]);
    assert!(
        verbose.contains(&format!("                fileName: '{passwd}'")),
        "{verbose}"
    );

    // A resolver from a Python dict file, as privacyIDEA's `resolver create` reads it.
    let conf = crate::realm::write_file(&app, "res.py", &format!("{{'fileName': '{passwd}'}}\n"));
    assert_eq!(
        ok_out(
            &cfg,
            &[
                "config",
                "resolver",
                "create",
                "fromcli",
                "passwdresolver",
                &conf
            ]
        ),
        ""
    );
    let served = app.get("/resolver/fromcli").expect(200).value();
    assert_eq!(served["fromcli"]["type"], "passwdresolver");
    assert_eq!(served["fromcli"]["data"]["fileName"], json!(passwd));
    assert!(manage_err(
        &cfg,
        &["config", "resolver", "create", "x", "nosuchtype", &conf],
        None,
    )
    .contains("resolver type : nosuchtype not in"));
    assert!(manage_err(
        &cfg,
        &[
            "config",
            "resolver",
            "create",
            "bad name",
            "passwdresolver",
            &conf
        ],
        None,
    )
    .contains("Invalid resolver name"));
    assert!(manage_err(
        &cfg,
        &[
            "config",
            "resolver",
            "create",
            "fromcli",
            "ldapresolver",
            &conf
        ],
        None,
    )
    .contains("other type"));
    assert_eq!(
        ok_out(&cfg, &["config", "resolver", "list"]),
        "files            - (passwdresolver)\nfromcli          - (passwdresolver)\n"
    );

    // Realms: create (replace semantics, unknown resolvers reported), default, list.
    assert_eq!(
        ok_out(
            &cfg,
            &["config", "realm", "create", "Realm A", "files", "nosuch"]
        ),
        "Realm 'realm-a' created. Following resolvers could not be assigned: ['nosuch']\n"
    );
    assert_eq!(
        ok_out(&cfg, &["config", "realm", "create", "second", "files"]),
        "Successfully created realm 'second' with resolver: ['files'].\n"
    );
    ok_out(&cfg, &["config", "realm", "set_default", "second"]);
    assert_eq!(
        ok_out(&cfg, &["config", "realm", "list"]),
        "realm-a         : ['files']\n* second        : ['files']\n"
    );
    let served = app.get("/realm/").expect(200).value();
    assert_eq!(served["second"]["default"], true);
    assert!(
        manage_err(&cfg, &["config", "realm", "set_default", "nosuch"], None)
            .contains("does not exist")
    );
    assert!(manage_err(
        &cfg,
        &["config", "realm", "create", "bad#name", "files"],
        None
    )
    .contains("Invalid realm name"));

    // Policies: create from arguments and from a Python dict file, list, switch, delete.
    ok_out(
        &cfg,
        &[
            "config",
            "policy",
            "create",
            "webpol",
            "webui",
            "login_mode=userstore",
        ],
    );
    let file = crate::realm::write_file(
        &app,
        "pol.py",
        "{'name': 'fromfile', 'action': 'login_mode=privacyIDEA',\n 'realm': 'second', 'priority': 3}\n",
    );
    let out = ok_out(
        &cfg,
        &[
            "config",
            "policy",
            "create",
            "cli",
            "webui",
            "login_mode=userstore",
            "-f",
            &file,
        ],
    );
    assert_eq!(
        out,
        "Found name 'fromfile' in file, will use that instead of 'cli'.\n\
         scope not defined in file, will use the cli value webui.\n\
         Found action in file: 'login_mode=privacyIDEA', will use that instead of: 'login_mode=userstore'.\n"
    );
    ok_out(&cfg, &["config", "policy", "disable", "webpol"]);
    assert_eq!(
        ok_out(&cfg, &["config", "policy", "list"]),
        "Active   Name                 Scope\n\
         ========================================\n\
         False    webpol               webui\n\
         True     fromfile             webui\n"
    );
    // The server serves what pi-manage wrote.
    let p = app.get("/policy/fromfile").expect(200).value();
    assert_eq!(p[0]["realm"], json!(["second"]));
    assert_eq!(p[0]["priority"], 3);
    assert_eq!(p[0]["action"], json!({"login_mode": "privacyIDEA"}));
    assert_eq!(
        app.get("/policy/webpol").expect(200).value()[0]["active"],
        false
    );

    // Invalid input changes nothing.
    assert!(manage_err(
        &cfg,
        &["config", "policy", "create", "x", "webui", "nosuchaction"],
        None,
    )
    .contains("Invalid actions"));
    assert!(manage_err(
        &cfg,
        &[
            "config",
            "policy",
            "create",
            "bad name",
            "webui",
            "login_mode=userstore"
        ],
        None,
    )
    .contains("bad name"));
    let not_a_dict = crate::realm::write_file(&app, "list.py", "['a']\n");
    assert!(manage_err(
        &cfg,
        &[
            "config",
            "policy",
            "create",
            "x",
            "webui",
            "a",
            "-f",
            &not_a_dict
        ],
        None,
    )
    .contains("dict"));
    assert!(
        manage_err(&cfg, &["config", "policy", "enable", "nosuch"], None)
            .contains("does not exist")
    );
    assert_eq!(
        app.get("/policy/")
            .expect(200)
            .value()
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    assert_eq!(
        ok_out(&cfg, &["config", "policy", "delete", "webpol"]),
        "Successfully deleted policy 'webpol'\n"
    );
    assert!(
        manage_err(&cfg, &["config", "policy", "delete", "webpol"], None)
            .contains("does not exist")
    );
    ok_out(&cfg, &["config", "realm", "clear_default"]);
    assert_eq!(
        ok_out(&cfg, &["config", "realm", "delete", "realm-a"]),
        "Realm 'realm-a' successfully deleted.\n"
    );
    assert!(app
        .get("/realm/")
        .expect(200)
        .value()
        .get("realm-a")
        .is_none());
}
