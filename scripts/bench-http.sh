#!/usr/bin/env bash
# HTTP load benchmark: a release pi-server on a fresh SQLite database, driven by
# wrk over loopback, for GET /policy/check, GET /policy/ and POST /policy/<name>
# at 10 and 1,000 policies. Needs wrk (apt-get install wrk).
#
#   scripts/bench-http.sh            # DURATION=10s THREADS=2 CONNECTIONS=32 by default
#   DB_URI='mysql+pymysql://root@127.0.0.1:3307/pi_bench' scripts/bench-http.sh
#   DB_URI='postgresql://postgres@127.0.0.1:55439/pi_bench' scripts/bench-http.sh
#                                    # another backend: an EMPTY existing database
#   BIN_DIR=/tmp/old scripts/bench-http.sh   # binaries from elsewhere (no build)
#   ROUTES=post scripts/bench-http.sh        # only the POST runs (ROUTES=get: only the GETs)
#   AUDIT=off scripts/bench-http.sh          # PI_AUDIT_DISABLE = True (default: audit rows written)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
ROUTES=${ROUTES:-all}
if [ -z "${BIN_DIR:-}" ]; then
    cargo build --release -q -p pi-server -p pi-manage
    BIN_DIR=./target/release
fi
WORK=$(mktemp -d)
trap 'kill "$SERVER_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
cat > "$WORK/pi.cfg" <<CFG
SQLALCHEMY_DATABASE_URI = '${DB_URI:-sqlite:///$WORK/pi.sqlite}'
SECRET_KEY = 'bench-secret'
PI_PEPPER = 'bench-pepper'
PI_ENCFILE = '$WORK/enckey'
PI_UUID_FILE = '$WORK/uuid.txt'
PI_LOGLEVEL = 40
CFG
if [ "${AUDIT:-on}" = off ]; then echo "PI_AUDIT_DISABLE = True" >> "$WORK/pi.cfg"; fi
"$BIN_DIR/pi-manage" --config "$WORK/pi.cfg" create_enckey >/dev/null
echo "bench-password" | "$BIN_DIR/pi-manage" --config "$WORK/pi.cfg" admin add admin --password-stdin >/dev/null
"$BIN_DIR/pi-server" --config "$WORK/pi.cfg" --listen 127.0.0.1:0 > "$WORK/out" 2>"$WORK/err" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/out" 2>/dev/null && break; sleep 0.1; done
BASE=$(sed -n 's/^pi-server listening on //p' "$WORK/out" | head -1)
TOKEN=$(curl -s -d username=admin -d password=bench-password "$BASE/auth" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["value"]["token"])')

make_policies() { # from to
    for i in $(seq "$1" "$2"); do
        case $((i % 4)) in
            0) body="{\"scope\":\"authentication\",\"action\":\"otppin=userstore\",\"user\":\"user$i\",\"priority\":$((i % 7 + 1))}";;
            1) body="{\"scope\":\"authorization\",\"action\":\"tokentype=hotp totp\",\"client\":\"10.$((i % 250)).0.0/16\"}";;
            2) body="{\"scope\":\"enrollment\",\"action\":\"max_token_per_user=$((i % 9 + 1))\",\"user\":\"u.*$i\"}";;
            3) body="{\"scope\":\"webui\",\"action\":\"logout_time=$((i + 60))\",\"user_agents\":\"PAM\"}";;
        esac
        curl -s -o /dev/null -H "Authorization: $TOKEN" -H 'Content-Type: application/json' -d "$body" "$BASE/policy/bench$i"
    done
}

cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "$TOKEN"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  local body = '{"scope":"enrollment","action":"max_token_per_user=3","realm":"","priority":' .. (counter % 5 + 1) .. '}'
  return wrk.format(nil, "/policy/benchpost" .. (counter % 50), nil, body)
end
LUA

cat > "$WORK/create.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "$TOKEN"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  local body = '{"scope":"enrollment","action":"max_token_per_user=3","user":"c' .. counter .. '"}'
  return wrk.format(nil, "/policy/created" .. counter, nil, body)
end
LUA

run_one() { # label path lua: one connection (latency without queueing)
    [ "$ROUTES" != get ] || return 0
    echo "### $1 (1 connection)"
    wrk -t1 -c1 -d"$DURATION" --latency -s "$3" "$BASE$2" | grep -E "Requests/sec|Latency|50%|99%"
}

run() { # label path [lua]
    case "$ROUTES:${3:+post}" in post:|get:post) return;; esac
    echo "### $1"
    if [ -n "${3:-}" ]; then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$3" "$BASE$2" | grep -E "Requests/sec|Latency|50%|99%"
    else
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: $TOKEN" "$BASE$2" | grep -E "Requests/sec|Latency|50%|99%"
    fi
}

CHECK="/policy/check?user=user8&realm=realm1&scope=authentication&action=otppin&client=10.1.2.3"
make_policies 1 10
echo "## 10 policies"
run "GET /policy/check" "$CHECK"
run "GET /policy/" "/policy/"
run "POST /policy/<name>" "/policy/x" "$WORK/post.lua"
run_one "POST /policy/<name>" "/policy/x" "$WORK/post.lua"
make_policies 11 1000
echo "## 1000 policies"
run "GET /policy/check" "$CHECK"
run "GET /policy/" "/policy/"
run "POST /policy/<name>" "/policy/x" "$WORK/post.lua"
run_one "POST /policy/<name>" "/policy/x" "$WORK/post.lua"
run_one "POST /policy/<new name> (creates)" "/policy/x" "$WORK/create.lua"
