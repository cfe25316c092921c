#!/usr/bin/env bash
# Mixed-cluster audit check: the released privacyIDEA 3.14 and our server
# on ONE database (the release's SQLite file), both with the release's audit
# keys. Each writes audit rows; then the release's GET /audit/ must verify
# our rows (sig_check OK) and ours must verify the release's, and both
# must list the same entries for the same filter.
#
#   bash scripts/audit-mixed.sh          # CI runs it after the differential test
#
# Installs the release like scripts/differential-ci.sh (scripts/ref/).
set -euo pipefail
cd "$(dirname "$0")/.."

export PI_REF_DIR="${PI_REF_DIR:-$HOME/.cache/privacyidea-ref-ci}"
REF_PORT="${REF_PORT:-5303}"
OURS_PORT="${OURS_PORT:-5304}"
export REF_PORT
. scripts/lib/ref-pair.sh
start_ref /tmp/pi-audit-mixed.XXXXXX
DATA="$PI_REF_DIR/data"

cargo build -q -p pi-server
val() { python3 - "$DATA/pi.cfg" "$1" <<'PY'
import sys
ns = {}
exec(open(sys.argv[1]).read(), ns)
print(ns[sys.argv[2]])
PY
}
cat > "$work/pi.cfg" <<EOF
SQLALCHEMY_DATABASE_URI = '$(val SQLALCHEMY_DATABASE_URI)'
SECRET_KEY = '$(val SECRET_KEY)'
PI_PEPPER = '$(val PI_PEPPER)'
PI_ENCFILE = '$(val PI_ENCFILE)'
PI_AUDIT_KEY_PRIVATE = '$(val PI_AUDIT_KEY_PRIVATE)'
PI_AUDIT_KEY_PUBLIC = '$(val PI_AUDIT_KEY_PUBLIC)'
PI_NODE = 'rustnode'
PI_UUID_FILE = '$work/uuid.txt'
EOF
start_ours "$work/pi.cfg"

python3 - "http://127.0.0.1:$REF_PORT" "http://127.0.0.1:$OURS_PORT" <<'PY'
import json, sys, time, urllib.parse, urllib.request

ref, ours = sys.argv[1], sys.argv[2]

def call(base, method, path, data=None, token=None):
    body = urllib.parse.urlencode(data).encode() if data else None
    req = urllib.request.Request(base + path, data=body, method=method)
    if token:
        req.add_header("Authorization", token)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)

_, a = call(ref, "POST", "/auth", {"username": "admin", "password": "test"})
token = a["result"]["value"]["token"]
for base in (ref, ours):
    call(base, "POST", "/auth", {"username": "admin", "password": "wrong"})
    call(base, "POST", "/policy/mixed", {"scope": "system", "action": "read"}, token)
    call(base, "GET", "/policy/check?user=u&realm=r&scope=system&action=read", token=token)
    call(base, "DELETE", "/policy/nosuchpolicy", token=token)
time.sleep(1)

pages = {}
for name, base in (("release", ref), ("ours", ours)):
    status, page = call(base, "GET", "/audit/?page_size=100&sortorder=asc", token=token)
    assert status == 200, (name, status, page)
    pages[name] = page["result"]["value"]
failures = 0
checked = 0
for name, page in pages.items():
    servers = {e["privacyidea_server"] for e in page["auditdata"]}
    assert {"refnode", "rustnode"} <= servers, (name, servers)
    for e in page["auditdata"]:
        checked += 1
        if e["sig_check"] != "OK":
            failures += 1
            print(f"{name}: entry {e['number']} ({e['privacyidea_server']} {e['action']}) sig_check {e['sig_check']}")
# the same entries in both listings, as far as both reach
common = min(len(pages["release"]["auditdata"]), len(pages["ours"]["auditdata"]))
keys = ("number", "action", "success", "user", "realm", "administrator", "info",
        "action_detail", "privacyidea_server", "sig_check", "date", "startdate", "duration")
for x, y in zip(pages["release"]["auditdata"][:common], pages["ours"]["auditdata"][:common]):
    checked += 1
    diff = {k: (x[k], y[k]) for k in keys if x[k] != y[k]}
    if diff:
        failures += 1
        print("listings differ:", x["number"], diff)
for q in ("action=*check*", "privacyidea_server=rustnode"):
    checked += 1
    counts = [call(b, "GET", "/audit/?" + q, token=token)[1]["result"]["value"]["count"] for b in (ref, ours)]
    if counts[0] != counts[1]:
        failures += 1
        print("filter", q, "counts differ", counts)
ours_rows = sum(1 for e in pages["release"]["auditdata"] if e["privacyidea_server"] == "rustnode")
print(f"audit mixed cluster: the release lists {len(pages['release']['auditdata'])} entries, "
      f"{ours_rows} written by us")
print(f"{checked - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
PY
