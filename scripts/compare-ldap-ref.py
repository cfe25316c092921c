#!/usr/bin/env python3
"""Send the same LDAP-resolver requests to the reference privacyIDEA 3.14 and
to our server and print where the answers differ.

Usage: scripts/compare-ldap-ref.py REF_URL OUR_URL LDAP_URI
  e.g. scripts/compare-ldap-ref.py http://127.0.0.1:5102 http://127.0.0.1:5202 ldap://127.0.0.1:3891

Both servers need an admin "admin"/"test" and SUPERUSER_REALM = ['superuser'];
LDAP_URI is a slapd started by scripts/ldap-test-server.sh (its fixture).
The requests create resolvers ldap1/ldap2 and realms superuser/ldapusers on
both servers. Volatile parts (time, signature, id, threadid, token, timing
in test messages) are normalised. Standard library only.
"""
import json
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from http_json import request_json  # noqa: E402

REF, OURS, LDAP = sys.argv[1], sys.argv[2], sys.argv[3]
USERINFO = '{"username":"uid","givenname":"givenName","surname":"sn","email":"mail","phone":"telephoneNumber","mobile":"mobile"}'
L1 = {"type": "ldapresolver", "LDAPURI": LDAP, "LDAPBASE": "dc=example,dc=org",
      "BINDDN": "cn=admin,dc=example,dc=org", "BINDPW": "adminpw", "LOGINNAMEATTRIBUTE": "uid",
      "LDAPSEARCHFILTER": "(objectClass=inetOrgPerson)", "USERINFO": USERINFO, "UIDTYPE": "DN",
      "TIMEOUT": 5, "SIZELIMIT": 500, "CACHE_TIMEOUT": 120, "NOREFERRALS": True, "EDITABLE": False,
      "AUTHTYPE": "Simple"}
L2 = dict(L1, BINDDN="cn=reader,ou=services,dc=example,dc=org", BINDPW="readerpw",
          LOGINNAMEATTRIBUTE="uid, mail", UIDTYPE="entryUUID", CACHE_TIMEOUT="0")


def without(d, *keys):
    return {k: v for k, v in d.items() if k not in keys}


def call(base, method, path, body=None, form=None, token=None, headers=None):
    data, hdrs = None, dict(headers or {})
    if body is not None:
        data, hdrs["Content-Type"] = json.dumps(body).encode(), "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        hdrs["Authorization"] = token
    return request_json(base + path, method, data, hdrs, timeout=60,
                        unparsed=lambda raw: raw.decode(errors="replace")[:200])


def norm(v):
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k in ("time", "signature", "id", "threadid", "version", "versionnumber", "token"):
                continue
            if k == "description" and isinstance(x, str):
                x = re.sub(r"\d+\.\d+s", "<t>s", x)
            out[k] = norm(x)
        return out
    if isinstance(v, (list, tuple)):
        return [norm(x) for x in v]
    return v


def token(base):
    _, a = call(base, "POST", "/auth", form={"username": "admin", "password": "test"})
    return a["result"]["value"]["token"]


TOK = {REF: token(REF), OURS: token(OURS)}
CASES = [
    ("test L1", "POST", "/resolver/test", L1, None, True),
    ("test wrong pw", "POST", "/resolver/test", dict(L1, BINDPW="wrong"), None, True),
    ("test nobody", "POST", "/resolver/test", dict(L1, BINDDN="cn=nobody,dc=example,dc=org"), None, True),
    ("test DN without password", "POST", "/resolver/test", without(L1, "BINDPW"), None, True),
    ("test anonymous", "POST", "/resolver/test", dict(L1, BINDDN="", BINDPW=""), None, True),
    ("test authtype", "POST", "/resolver/test", dict(L1, AUTHTYPE="unknown"), None, True),
    ("test entryUUID", "POST", "/resolver/test", dict(L1, UIDTYPE="entryUUID"), None, True),
    ("test employeeType", "POST", "/resolver/test", dict(L1, UIDTYPE="employeeType"), None, True),
    ("test no USERINFO", "POST", "/resolver/test", without(L1, "USERINFO"), None, True),
    ("test no filter", "POST", "/resolver/test", without(L1, "LDAPSEARCHFILTER"), None, True),
    ("test no UIDTYPE", "POST", "/resolver/test", without(L1, "UIDTYPE"), None, True),
    ("test invalid filter", "POST", "/resolver/test", dict(L1, LDAPSEARCHFILTER="(objectClass=inetOrgPerson"), None, True),
    ("test malformed filter", "POST", "/resolver/test", dict(L1, LDAPSEARCHFILTER="objectClass=inetOrgPerson"), None, True),
    ("test sizelimit 2", "POST", "/resolver/test", dict(L1, SIZELIMIT=2), None, True),
    ("test base nothere", "POST", "/resolver/test", dict(L1, LDAPBASE="dc=nothere,dc=org"), None, True),
    ("test failover", "POST", "/resolver/test", dict(L1, LDAPURI="ldap://127.0.0.1:3899, " + LDAP), None, True),
    ("test yaml userinfo", "POST", "/resolver/test", dict(L1, USERINFO="{username: uid, email: mail}"), None, True),
    ("test StartTLS on a plain slapd", "POST", "/resolver/test", dict(L1, START_TLS="1"), None, True),
    ("test no type", "POST", "/resolver/test", without(L1, "type"), None, True),
    ("save ldap1", "POST", "/resolver/ldap1", L1, None, True),
    ("save ldap2", "POST", "/resolver/ldap2", L2, None, True),
    ("get ldap1", "GET", "/resolver/ldap1", None, None, True),
    ("test censored ldap1", "POST", "/resolver/test", dict(L1, BINDPW="__CENSORED__", resolver="ldap1"), None, True),
    ("test censored LDAP1", "POST", "/resolver/test", dict(L1, BINDPW="__CENSORED__", resolver="LDAP1"), None, True),
    ("realm superuser", "POST", "/realm/superuser", None, {"resolvers": "ldap1"}, True),
    ("realm ldapusers", "POST", "/realm/ldapusers", None, {"resolvers": "ldap2"}, True),
    ("realm ldaprealm", "POST", "/realm/ldaprealm", None, {"resolvers": "ldap1"}, True),
    ("policy userinfo condition", "POST", "/policy/mailpol",
     {"scope": "user", "action": "disable", "realm": "ldaprealm",
      "conditions": [["userinfo", "email", "equals", "alice@example.org", True]]}, None, True),
    ("policy for all", "POST", "/policy/allpol", {"scope": "user", "action": "enable", "realm": "ldaprealm"}, None, True),
]
AUTHS = [
    ("alice@superuser", "alicepw"), ("carol@superuser", "cärolpw"), ("ALICE@superuser", "alicepw"),
    ("alice@superuser", "wrong"), ("alice@superuser", ""), ("dave@superuser", "anything"),
    ("*@superuser", "alicepw"), ("al*@superuser", "alicepw"), ("alice)(uid=*@superuser", "alicepw"),
    ("nobody@superuser", "x"), ("alice@example.org@ldapusers", "alicepw"), ("bob@ldapusers", "bobpw"),
    ("bob@example.org@ldapusers", "x"), ("alice@ldaprealm", "alicepw"), ("bob@ldaprealm", "bobpw"),
]

diffs = 0
for name, method, path, body, form, auth in CASES:
    res = {}
    for base in (REF, OURS):
        res[base] = call(base, method, path, body=body, form=form, token=TOK[base] if auth else None)
    r, o = norm(res[REF]), norm(res[OURS])
    same = r == o
    diffs += not same
    print(("SAME " if same else "DIFF ") + name)
    if not same:
        print("   ref :", json.dumps(r, sort_keys=True, ensure_ascii=False)[:600])
        print("   ours:", json.dumps(o, sort_keys=True, ensure_ascii=False)[:600])
for user, pw in AUTHS:
    out = {}
    for base in (REF, OURS):
        status, a = call(base, "POST", "/auth", form={"username": user, "password": pw})
        if status == 200:
            v = a["result"]["value"]
            out[base] = (status, v.get("username"), v.get("realm"), v.get("role"),
                         sorted(v.get("rights") or []) if v.get("role") == "user" else None)
        else:
            out[base] = (status, a["result"].get("error") if isinstance(a, dict) else a)
    same = out[REF] == out[OURS]
    diffs += not same
    print(("SAME " if same else "DIFF ") + f"auth {user!r}/{pw!r}: ref {out[REF]}" + ("" if same else f" ours {out[OURS]}"))
print(f"{diffs} difference(s)")
