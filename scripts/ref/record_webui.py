#!/usr/bin/env python3
"""Record the released privacyIDEA 3.14's answers for the WebUI routes
(`GET /user/`, `/user/count`, `/user/settings`, `/client/`, `/config`) into
tests/integration/data/webui_release.json; tests/integration/webui.rs replays
the same cases against pi-server and compares status, result and detail.

Usage (a fresh reference instance, its own data dir and port):

    export PI_REF_DIR=$HOME/.cache/pi-ref-webui REF_PORT=5104
    scripts/ref/ref-server.sh reset && scripts/ref/ref-server.sh start
    python3 scripts/ref/record_webui.py http://127.0.0.1:5104 $PI_REF_DIR/data

The passwd files are the reference's own `users.passwd`/`users2.passwd`
(copied into the JSON, so the test writes the same files); the token,
custom-attribute, client-application and user-setting rows are inserted
straight into the reference's SQLite database (`DATA_SQL` below, also
copied into the JSON).
"""
import json
import os
import sqlite3
import sys
import urllib.error
import urllib.request

BASE = sys.argv[1]
DATA = sys.argv[2]
OUT = os.path.join(os.path.dirname(__file__), "../../tests/integration/data/webui_release.json")

DATA_SQL = """
INSERT INTO token (id, serial, tokentype, active, revoked) VALUES (1,'T1','hotp',1,0),(2,'T2','hotp',1,1),(3,'T3','hotp',0,NULL),(4,'T4','hotp',1,0);
INSERT INTO tokenowner (id, token_id, resolver, user_id, realm_id) VALUES (1,1,'reso1','1000',1),(2,2,'reso1','1001',1),(3,3,'reso2','2000',1),(4,4,'reso2','2001',2);
INSERT INTO customuserattribute (id, user_id, resolver, realm_id, "Key", "Value", "Type") VALUES (1,'1000','reso1',1,'department','sales',NULL),(2,'2001','reso2',2,'building','B7',NULL);
INSERT INTO clientapplication (id, ip, hostname, clienttype, lastseen, node) VALUES (1,'10.0.0.5','host1.example.com','PAM','2026-05-01 12:34:56.123456','refnode'),(2,'10.0.0.5','host1.example.com','PAM','2026-05-02 08:00:00','other'),(3,'10.0.0.9',NULL,'SAML','2026-04-01 10:00:00','refnode');
INSERT INTO usersetting (id, subject_type, username, user_id, resolver, realm_id, subject_hash, settings, last_modified, node) VALUES (1,'local_admin','admin',NULL,NULL,NULL,'h1','{"theme": "dark", "depth": 3}',NULL,'refnode'),(2,'user',NULL,'1000','reso1',1,'h2','{"locale": "de"}',NULL,'refnode');
"""

SUPER = {"name": "super", "scope": "admin", "adminuser": "admin",
         "action": "policywrite,policyread,policydelete,resolverread"}

ADMIN_QUERIES = [
    "/user/", "/user/?realm=realm1", "/user/?realm=realm2", "/user/?resolver=reso2",
    "/user/?realm=realm1,realm2", "/user/count", "/user/count?realm=realm1",
    "/user/count?realm=realm2", "/user/?realm=realm2&has_tokens=1",
]

CASES = [
    {"name": "no policies", "policies": [], "login": None, "queries": [
        "/user/?realm=realm1", "/user/?realm=realm2", "/user/", "/user/?resolver=reso2",
        "/user/?realm=realm1&resolver=reso2", "/user/?realm=realm1,realm2", "/user/?realm=nope",
        "/user/?realm=,", "/user/?realm=realm1&username=a*", "/user/?realm=realm1&user=bob",
        "/user/?realm=realm1&email=*example.com", "/user/?realm=realm1&foo=bar",
        "/user/?realm=realm1&attributes=username,realm", "/user/?realm=realm1&attributes=email",
        "/user/?realm=realm1&has_tokens=true", "/user/?realm=realm1&has_tokens=0",
        "/user/?realm=realm1&has_tokens=maybe", "/user/?realm=realm1,realm2&has_tokens=1",
        "/user/?realm=REALM1", "/user/?realm=realm1&givenname=Alice",
        "/user/?realm=realm1&include_custom_attributes=0",
        "/user/?realm=realm1&attributes=username,department", "/user/?realm=realm1&department=sales",
        "/user/count?realm=realm1", "/user/count", "/user/count?realm=nope",
        "/user/count?realm=realm1,realm2", "/user/settings", "/client/", "/config",
        # what the WebUI's Users page asks (seen in headless Chromium)
        "/user/?realm=realm1&attributes=username,userid,givenname,surname,email,phone,mobile,"
        "description,resolver,editable&include_custom_attributes=false"]},
]
for i, pol in enumerate([
        {"action": "userlist", "realm": "realm2"},
        {"action": "userlist", "realm": "realm1", "resolver": "reso2"},
        {"action": "userlist", "realm": "realm1", "user": "alice,bob"},
        {"action": "userlist", "realm": "realm1,realm2", "user": "alice"},
        {"action": "userlist,tokenlist", "realm": "realm1"},
        {"action": "userlist", "resolver": "reso1"},
        {"action": "userlist", "realm": "!realm1"},
        {"action": "userlist,tokenlist", "realm": "realm1,realm2"},
        {"action": "clienttype"},
        {"action": "resolverread"}]):
    p = dict(pol, name="ul", scope="admin", adminuser="admin")
    CASES.append({"name": f"admin policy {i}", "policies": [SUPER, p], "login": None,
                  "queries": ADMIN_QUERIES + ["/client/"]})
USER_QUERIES = ["/user/", "/user/?realm=realm2", "/user/?user=bob", "/user/count",
                "/user/settings", "/user/?resolver=reso2", "/client/"]
CASES.append({"name": "user alice", "policies": [], "login": ["alice@realm1", "alicepw"],
              "queries": USER_QUERIES})
CASES.append({"name": "user bob", "policies": [], "login": ["bob@realm1", "bobpw"],
              "queries": USER_QUERIES})
CASES.append({"name": "user frank in realm2, user policy", "login": ["frank@realm2", "frankpw"],
              "policies": [{"name": "up", "scope": "user", "action": "userlist", "realm": "realm1"}],
              "queries": USER_QUERIES})
CASES.append({"name": "user alice, user policy", "login": ["alice@realm1", "alicepw"],
              "policies": [{"name": "up", "scope": "user", "action": "userlist", "realm": "realm1"}],
              "queries": USER_QUERIES})
CASES.append({"name": "webui policies", "login": "anonymous", "policies": [
    {"name": "dd", "scope": "webui", "action": "realm_dropdown=realm1 realm2"},
    {"name": "lt", "scope": "webui", "action": "login_text=Hello operators"},
    {"name": "gd", "scope": "webui", "action": "privacy_statement_link=https://example.com/gdpr"},
    {"name": "pk", "scope": "webui", "action": "passkey_login=hide"},
    {"name": "cm", "scope": "webui", "action": "custom_menu=my/menu.html,custom_baseline=my/base.html"},
    {"name": "rp", "scope": "user", "action": "otp_pin_set_random=8", "realm": "realm1"}],
    "queries": ["/config"]})
CASES.append({"name": "hide_version", "login": "anonymous", "policies": [
    {"name": "hv", "scope": "hardening", "action": "hide_version"}], "queries": ["/config"]})
CASES.append({"name": "hide_version, logged in", "login": None, "policies": [
    {"name": "hv", "scope": "hardening", "action": "hide_version"}], "queries": ["/config"]})

SETUP = [
    ("/resolver/reso1", {"type": "passwdresolver", "fileName": "@users.passwd"}),
    ("/resolver/reso2", {"type": "passwdresolver", "fileName": "@users2.passwd"}),
    ("/realm/realm1", {"resolvers": "reso1,reso2", "priority.reso1": 1, "priority.reso2": 2}),
    ("/realm/realm2", {"resolvers": "reso2"}),
]


def call(method, path, token=None, data=None):
    headers = {"Accept-Language": "en"}
    body = None
    if data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = token
    r = urllib.request.Request(BASE + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(r) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def login(user, pw):
    status, body = call("POST", "/auth", data={"username": user, "password": pw})
    assert status == 200, body
    return body["result"]["value"]["token"]


def main():
    admin = login("admin", "test")
    for path, data in SETUP:
        data = {k: (os.path.join(DATA, v[1:]) if isinstance(v, str) and v.startswith("@") else v)
                for k, v in data.items()}
        status, body = call("POST", path, admin, data)
        assert status == 200, (path, body)
    db = sqlite3.connect(os.path.join(DATA, "privacyidea.sqlite"))
    db.executescript(DATA_SQL)
    db.commit()
    out = {"passwd": {name: open(os.path.join(DATA, name)).read()
                      for name in ("users.passwd", "users2.passwd")},
           "data_sql": DATA_SQL, "setup": SETUP, "cases": []}
    for case in CASES:
        for p in case["policies"]:
            status, body = call("POST", "/policy/" + p["name"], admin,
                                {k: v for k, v in p.items() if k != "name"})
            assert status == 200, body
        if case["login"] == "anonymous":
            token = None
        elif case["login"]:
            token = login(*case["login"])
        else:
            token = admin
        answers = []
        for q in case["queries"]:
            status, body = call("GET", q, token)
            answers.append({"path": q, "status": status, "result": body.get("result"),
                            "detail": body.get("detail"),
                            "has_version": "version" in body})
        out["cases"].append(dict(case, answers=answers))
        for p in reversed(case["policies"]):
            status, body = call("DELETE", "/policy/" + p["name"], admin)
            assert status == 200, body
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print("recorded", sum(len(c["answers"]) for c in out["cases"]), "answers to", OUT)


main()
