#!/usr/bin/env bash
# Audit trail cost: GET /policy/check throughput and POST /policy/<name>
# latency with the audit log off (PI_AUDIT_DISABLE), on (unsigned rows) and on
# with signed rows and signed responses (PI_AUDIT_KEY_*), each on a fresh
# SQLite database, wrk over loopback. Needs wrk and openssl.
#
#   scripts/bench-audit.sh            # DURATION=10s THREADS=2 CONNECTIONS=32
#   BIN_DIR=/tmp/old scripts/bench-audit.sh   # binaries from elsewhere (no build)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
if [ -z "${BIN_DIR:-}" ]; then
    cargo build --release -q -p pi-server -p pi-manage
    BIN_DIR=./target/release
fi
WORK=$(mktemp -d)
SERVER_PID=""
trap 'kill "$SERVER_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
openssl genrsa -out "$WORK/private.pem" 2048 2>/dev/null
openssl rsa -in "$WORK/private.pem" -pubout -out "$WORK/public.pem" 2>/dev/null

cpu_ticks() { # utime + stime of a process, in clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat"
}

bench() { # label extra-cfg-lines
    local dir="$WORK/$1"
    mkdir -p "$dir"
    cat > "$dir/pi.cfg" <<CFG
SQLALCHEMY_DATABASE_URI = 'sqlite:///$dir/pi.sqlite'
SECRET_KEY = 'bench-secret'
PI_PEPPER = 'bench-pepper'
PI_ENCFILE = '$dir/enckey'
PI_UUID_FILE = '$dir/uuid.txt'
PI_LOGLEVEL = 40
$2
CFG
    "$BIN_DIR/pi-manage" --config "$dir/pi.cfg" create_enckey >/dev/null
    echo "bench-password" | "$BIN_DIR/pi-manage" --config "$dir/pi.cfg" admin add admin --password-stdin >/dev/null
    "$BIN_DIR/pi-server" --config "$dir/pi.cfg" --listen 127.0.0.1:0 > "$dir/out" 2>"$dir/err" &
    SERVER_PID=$!
    for _ in $(seq 100); do grep -q "listening on" "$dir/out" 2>/dev/null && break; sleep 0.1; done
    local base token
    base=$(sed -n 's/^pi-server listening on //p' "$dir/out" | head -1)
    token=$(curl -s -d username=admin -d password=bench-password "$base/auth" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["value"]["token"])')
    for i in $(seq 1 10); do
        curl -s -o /dev/null -H "Authorization: $token" -H 'Content-Type: application/json' \
            -d "{\"scope\":\"authentication\",\"action\":\"otppin=userstore\",\"user\":\"user$i\"}" "$base/policy/bench$i"
    done
    cat > "$dir/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "$token"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  local body = '{"scope":"enrollment","action":"max_token_per_user=3","realm":"","priority":' .. (counter % 5 + 1) .. '}'
  return wrk.format(nil, "/policy/benchpost" .. (counter % 50), nil, body)
end
LUA
    echo "## audit $1"
    echo "### GET /policy/check ($CONNECTIONS connections)"
    # CPU time of the server per request (user+sys, all threads, the audit
    # writer included, until its queue is empty): robust against other load
    # on the machine, unlike req/s
    local before after n
    before=$(cpu_ticks "$SERVER_PID")
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: $token" \
        "$base/policy/check?user=user8&realm=realm1&scope=authentication&action=otppin&client=10.1.2.3" \
        > "$dir/wrk.txt"
    sleep 2
    after=$(cpu_ticks "$SERVER_PID")
    grep -E "Requests/sec|50%|99%" "$dir/wrk.txt"
    n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$dir/wrk.txt")
    echo "server CPU per request: $(( (after - before) * 1000000 / $(getconf CLK_TCK) / n )) us ($n requests)"
    echo "### POST /policy/<name> (1 connection)"
    wrk -t1 -c1 -d"$DURATION" --latency -s "$dir/post.lua" "$base/policy/x" | grep -E "Requests/sec|50%|99%"
    sleep 1
    local rows
    rows=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from pidea_audit').fetchone()[0])" "$dir/pi.sqlite" 2>/dev/null || echo 0)
    echo "audit rows written: $rows"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

bench off "PI_AUDIT_DISABLE = True"
bench on ""
bench off-signed "PI_AUDIT_DISABLE = True
PI_AUDIT_KEY_PRIVATE = '$WORK/private.pem'
PI_AUDIT_KEY_PUBLIC = '$WORK/public.pem'"
bench on-signed "PI_AUDIT_KEY_PRIVATE = '$WORK/private.pem'
PI_AUDIT_KEY_PUBLIC = '$WORK/public.pem'"
