#!/usr/bin/env python3
"""Paths no route serves as sent, the WebUI's own paths, HEAD and OPTIONS:
our server vs the release (decisions/0017).

Usage: scripts/compare-not-found.py OURS_URL REF_URL
Our server needs `PI_WEBUI_STATIC_DIR` set to the release's own
`privacyidea/static` folder (inside the venv `scripts/ref/ref-server.sh`
installs). Sends every (method, path, Accept) of the lists below to both and
prints each answer that differs in status, content type, `Location` (port
left out), `Allow` or body;
exits 1 on a difference. Known and documented (docs/compatibility.md): a
405's body (werkzeug HTML there, the envelope here).
"""
import http.client
import itertools
import json
import sys
from urllib.parse import urlsplit

OURS, REF = sys.argv[1], sys.argv[2]
accepts = [None, "", "application/json", "text/html", "*/*", "application/json, text/html;q=0.5", "text/html;q=0, */*", "*/*;q=0", "application/xhtml+xml", "text/html;level=1", "application/json;q=0.5, text/*", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"]
paths = ["/foo/bar", "/pi.cfg", "/de", "/de/x", "/DE/x", "/zh-Hant/x", "/app/v2/", "/app/v2", "/app/v2/de", "/app/v2/de/", "/app/v2/de/tokens", "/app/v2/xx/y", "/app/v2/login", "/app/v2/en/", "/app/v2/EN/x?a=1", "/static/nonexist.js", "/static/public/customize/x.css", "/static/x/../../etc", "/healthz/nope", "/policy/x/y/z", "/", "//policy/x/y", "/policy/%2F", "/policy/a%2Fb", "/policy/a%2fb/", "/policy/%2F/", "/policy//x", "//"]
methods = ["GET", "POST"]
extra = [("GET", "/policy", {"X-Forwarded-Proto": "https"}), ("GET", "/realm", {"X-Forwarded-Ssl": "on"}), ("GET", "/policy?scope=admin", {}), ("GET", "/realm", {}), ("GET", "/realm//", {}), ("GET", "/policy//defs", {}), ("GET", "/healthz", {}), ("HEAD", "/healthz", {}), ("POST", "/policy", {}), ("DELETE", "/realm", {}), ("GET", "/config/", {}), ("HEAD", "/healthz/livez", {}), ("HEAD", "/auth", {}), ("HEAD", "/nope", {}), ("OPTIONS", "/auth", {}), ("OPTIONS", "/realm/", {}), ("OPTIONS", "/policy/p1", {}), ("OPTIONS", "/nope", {}), ("OPTIONS", "/app/v2/en/", {}), ("DELETE", "/auth", {}), ("PUT", "/policy/p1", {}), ("GET", "/x", {"Accept": "*/*", "Cookie": "pi_ui_locale=de"}), ("GET", "/x", {"Accept": "*/*", "Accept-Language": "de-DE,de;q=0.9"}), ("GET", "/app/v2/zz/", {"Accept": "text/html", "Accept-Language": "nl"}), ("GET", "//policy", {}), ("GET", "//healthz/", {}), ("GET", "///healthz/livez", {}), ("POST", "/policy/%2Fa", {}), ("POST", "/auth%2F", {}), ("OPTIONS", "//policy/", {}), ("HEAD", "//healthz/", {}), ("OPTIONS", "/policy//", {}), ("OPTIONS", "/policy//x", {}), ("OPTIONS", "/policy", {}), ("OPTIONS", "/auth/", {}), ("DELETE", "/policy//", {}), ("PUT", "/policy//x", {}), ("POST", "/realm//", {}), ("PATCH", "/policy//x", {}), ("PUT", "/policy/x/", {}), ("POST", "/auth/", {})]
def req(base, m, p, h):
    u = urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.request(m, p, headers=h)
    r = c.getresponse(); b = r.read()
    ct = (r.getheader("Content-Type") or "").split(";")[0]
    port = str(u.port).encode()
    loc = (r.getheader("Location") or "").replace(str(u.port), "PORT")
    allow = sorted(m.strip() for m in (r.getheader("Allow") or "").split(",") if m.strip())
    body = b.replace(port, b"PORT")
    if ct == "application/json":
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):  # an envelope: its time and signature vary
            parsed.pop("time", None)
            parsed.pop("signature", None)
            body = json.dumps(parsed, sort_keys=True)
    return (r.status, ct, loc, allow, body)
diff = n = 0
cases = [(m, p, ({} if a is None else {"Accept": a})) for m, p, a in itertools.product(methods, paths, accepts)] + extra
for m, p, h in cases:
    if m == "POST" and p == "/": continue
    b = req(OURS, m, p, h)
    a = req(REF, m, p, h)
    n += 1
    if a[0] == b[0] == 405:
        a, b = a[:4], b[:4]  # a 405's body and content type are ours (documented)
        a, b = (a[0], a[2], a[3]), (b[0], b[2], b[3])
    if a != b:
        diff += 1
        print(m, p, h, "\n   ref ", a[:4], a[4:][:1], "\n   ours", b[:4], b[4:][:1])
print(f"{n} requests, {diff} differences")
sys.exit(1 if diff else 0)
