#!/usr/bin/env python3
"""Admin policies with HTTP header / environment conditions: our server vs the release.

Usage: scripts/compare-admin-conditions.py OURS_URL REF_URL
Both servers: fresh database, admin "admin"/"test" (see scripts/differential-ci.sh
for how to start them). Runs the same writes and gated reads on both and prints
SAME/DIFF per step (status, listed names, error code); exits 1 on a difference.
Mirrors the e2e test `admin_gate_reads_headers_and_environment_only_when_policies_do`.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from http_json import request_json  # noqa: E402


def call(base, method, path, tok=None, body=None, hdrs=None):
    h = {"Content-Type": "application/json"} if body is not None else {}
    if tok:
        h["Authorization"] = tok
    h.update(hdrs or {})
    data = json.dumps(body).encode() if body is not None else None
    status, answer = request_json(base + path, method, data, h)
    if not isinstance(answer, dict):
        answer = {"result": {"error": {"code": answer}}}
    return status, answer


def run(base):
    out = []
    _, r = call(base, "POST", "/auth", body={"username": "admin", "password": "test"})
    tok = r["result"]["value"]["token"]
    def put(name, body):
        s, r = call(base, "POST", "/policy/" + name, tok, body); out.append(("POST "+name, s, r["result"].get("status")))
    def get(path, hdrs=None):
        s, r = call(base, "GET", path, tok, hdrs=hdrs)
        v = r["result"].get("value")
        names = [p["name"] for p in v] if isinstance(v, list) else None
        err = r["result"].get("error", {}).get("code") if s != 200 else None
        out.append(("GET "+path+" "+json.dumps(hdrs or {}), s, names, err))
    put("writer", {"scope": "admin", "action": "policywrite, policydelete"})
    get("/policy/")
    put("reader", {"scope": "admin", "action": "policyread"})
    get("/policy/")
    cond = lambda sec, key, val, act=True: {"scope": "admin", "action": "policyread", "conditions": [[sec, key, "equals", val, act, "condition_is_false"]]}
    put("reader", cond("HTTP Request header", "X-Client", "trusted"))
    get("/policy/"); get("/policy/", {"X-Client": "other"}); get("/policy/", {"X-Client": "trusted"})
    put("reader", cond("HTTP Environment", "PATH_INFO", "/policy/reader"))
    get("/policy/"); get("/policy/reader")
    put("reader", cond("HTTP Environment", "PATH_INFO", "/policy/reader", False))
    get("/policy/"); get("/policy/writer", {"X-Client": "x"})
    # condition_is_false vs raise_error on a missing header
    put("reader", {"scope": "admin", "action": "policyread", "conditions": [["HTTP Request header", "X-Missing", "equals", "a", True, "raise_error"]]})
    get("/policy/")
    put("reader", {"scope": "admin", "action": "policyread", "conditions": [["HTTP Environment", "REQUEST_METHOD", "equals", "GET", True, "raise_error"]]})
    get("/policy/")
    put("reader", {"scope": "admin", "action": "policyread", "conditions": [["HTTP Environment", "QUERY_STRING", "contains", "scope=admin", True, "condition_is_false"]]})
    get("/policy/"); get("/policy/?scope=admin")
    return out
if __name__ == "__main__":
    ours, ref = run(sys.argv[1]), run(sys.argv[2])
    diff = 0
    for x, y in zip(ours, ref):
        print("SAME" if x == y else "DIFF", x, "" if x == y else y)
        diff += x != y
    print(f"{len(ours)} steps, {diff} differences")
    sys.exit(1 if diff else 0)
