#!/usr/bin/env python3
"""The audit rows of requests the router answers around the views: our
server vs the release (decisions/0017).

Usage: scripts/compare-audit.py OURS_URL REF_URL
Both servers have the admin `admin`/`test`; the script deletes every
policy first (an admin policy could forbid reading the audit log). Sends
each request of the list below to both, with and without the admin's JWT,
and compares the audit row it leaves (action, success, authentication,
administrator, user, realm, resolver, info, action_detail), or that it
leaves none. Exits 1 on a difference.
"""
import json
import sys
import time
import urllib.error
import urllib.request

OURS, REF = sys.argv[1], sys.argv[2]
FIELDS = ("action", "success", "authentication", "administrator", "user",
          "realm", "resolver", "info", "action_detail")


def call(base, method, path, token=None, data=None):
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = token
    req = urllib.request.Request(base + path, method=method, headers=headers, data=data)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Server:
    def __init__(self, base):
        self.base = base
        status, body = call(base, "POST", "/auth", data=b"username=admin&password=test")
        assert status == 200, (base, status, body)
        self.token = json.loads(body)["result"]["value"]["token"]
        _, body = call(base, "GET", "/policy/", self.token)
        for p in json.loads(body)["result"]["value"]:
            call(base, "DELETE", "/policy/" + p["name"], self.token)

    def newest(self):
        """The newest row before the audit read itself (which leaves one)."""
        _, body = call(self.base, "GET", "/audit/?page_size=2", self.token)
        rows = json.loads(body)["result"]["value"]["auditdata"]
        return rows

    def row_of(self, method, path, jwt):
        before = self.newest()[0]["number"]
        status, _ = call(self.base, method, path, self.token if jwt else None)
        for _ in range(50):  # the writer is asynchronous
            time.sleep(0.1)
            rows = self.newest()
            if rows[0]["number"] > before + 1 or rows[1]["number"] > before:
                break
        rows = [r for r in self.newest() if r["number"] > before]
        # rows[0] is this read; a row between is the request's
        row = rows[1] if len(rows) > 1 and rows[1]["action"] != "GET /audit/" else None
        if row is None:
            return status, None
        return status, {k: row.get(k) for k in FIELDS}


requests = [("HEAD", p) for p in ["/policy/", "/policy/defs", "/realm/",
                                  "/policy/check?user=x&realm=r&scope=admin&action=a&client=1.2.3.4"]]
requests += [("OPTIONS", p) for p in [
    "/auth", "/auth/rights", "/policy/", "/policy/p1", "/policy/check", "/policy/defs",
    "/policy/enable/p1", "/realm/", "/realm/r3", "/system/nodes", "/user/", "/healthz/",
    "/privacyideaserver/", "/resolver/", "/resolver/res4", "/defaultrealm", "/client/",
    "/audit/", "/auth?username=bob&realm=r1", "/policy/?realm=r2&user=u2&resolver=x"]]
# redirects, 404 and 405 leave no row
requests += [("GET", "/policy"), ("GET", "/nope"), ("PUT", "/policy/p1"),
             ("DELETE", "/policy//"), ("GET", "//realm/"), ("DELETE", "/auth")]

ours, ref = Server(OURS), Server(REF)
n = diff = 0
for method, path in requests:
    for jwt in (False, True):
        a = ref.row_of(method, path, jwt)
        b = ours.row_of(method, path, jwt)
        n += 1
        if a != b:
            diff += 1
            print(method, path, "jwt" if jwt else "no jwt", "\n   ref ", a, "\n   ours", b)
print(f"{n} requests, {diff} differences")
sys.exit(1 if diff else 0)
