# Shared setup of the HTTP benchmarks (sourced, not run). Needs curl, python3.
#
#   wrk_settings CONNECTIONS             DURATION (10s), THREADS (2), CONNECTIONS defaults;
#                                        exit 1 unless wrk is installed
#   bench_workdir                        WORK, a temporary directory removed on exit
#                                        (SERVER_PID killed)
#   bench_binaries                       BIN_DIR, or a release build of pi-server/pi-manage
#   bench_cfg DIR [CFG_LINES]            prints a pi.cfg for DIR (DB_URI: an EMPTY database,
#                                        default SQLite in DIR)
#   init_bench_admin CFG                 the enckey and admin/bench-password
#   launch_bench_server CFG OUT ERR      a server on a free port; sets SERVER_PID, BASE
#   bench_token BASE [PASSWORD]          prints admin's token (default bench-password)
#   start_bench_server DIR [CFG_LINES]   all of it: fresh DIR/pi.cfg, admin, a server
#                                        (DIR/out, DIR/err); sets SERVER_PID, BASE, TOKEN
#   audit_cfg on|off                     the pi.cfg line for the audit log off, or nothing
#   post_policy NAME JSON                POST /policy/NAME with TOKEN
#   add_check_policies N                 bench1..benchN, the /policy/check mix
#   write_post_lua FILE [BODY PATH]      wrk script: POST with TOKEN; BODY and PATH are Lua
#                                        expressions of `counter` (default: /policy/benchpost0..49,
#                                        updates)
# CHECK_PATH is the /policy/check request they are measured with.

CHECK_PATH="/policy/check?user=user8&realm=realm1&scope=authentication&action=otppin&client=10.1.2.3"

wrk_settings() {
    DURATION=${DURATION:-10s}
    THREADS=${THREADS:-2}
    CONNECTIONS=${CONNECTIONS:-$1}
    command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
}

bench_workdir() {
    WORK=$(mktemp -d)
    SERVER_PID=""
    trap 'kill "$SERVER_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
}

audit_cfg() {
    if [ "$1" = off ]; then echo "PI_AUDIT_DISABLE = True"; fi
}

bench_binaries() {
    if [ -z "${BIN_DIR:-}" ]; then
        cargo build --release -q -p pi-server -p pi-manage
        BIN_DIR=./target/release
    fi
}

bench_cfg() {
    cat <<CFG
SQLALCHEMY_DATABASE_URI = '${DB_URI:-sqlite:///$1/pi.sqlite}'
SECRET_KEY = 'bench-secret'
PI_PEPPER = 'bench-pepper'
PI_ENCFILE = '$1/enckey'
PI_UUID_FILE = '$1/uuid.txt'
PI_LOGLEVEL = 40
${2:-}
CFG
}

init_bench_admin() {
    "$BIN_DIR/pi-manage" --config "$1" create_enckey >/dev/null
    echo "bench-password" | "$BIN_DIR/pi-manage" --config "$1" admin add admin --password-stdin >/dev/null
}

launch_bench_server() {
    "$BIN_DIR/pi-server" --config "$1" --listen 127.0.0.1:0 > "$2" 2>"$3" &
    SERVER_PID=$!
    for _ in $(seq 100); do grep -q "listening on" "$2" 2>/dev/null && break; sleep 0.1; done
    BASE=$(sed -n 's/^pi-server listening on //p' "$2" | head -1)
}

bench_token() {
    curl -s -d username=admin -d password="${2:-bench-password}" "$1/auth" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["value"]["token"])'
}

start_bench_server() {
    local dir=$1
    mkdir -p "$dir"
    bench_cfg "$dir" "${2:-}" > "$dir/pi.cfg"
    init_bench_admin "$dir/pi.cfg"
    launch_bench_server "$dir/pi.cfg" "$dir/out" "$dir/err"
    TOKEN=$(bench_token "$BASE")
}

post_policy() {
    curl -s -o /dev/null -H "Authorization: $TOKEN" -H 'Content-Type: application/json' -d "$2" "$BASE/policy/$1"
}

add_check_policies() {
    local i
    for i in $(seq 1 "$1"); do
        post_policy "bench$i" "{\"scope\":\"authentication\",\"action\":\"otppin=userstore\",\"user\":\"user$i\"}"
    done
}

write_post_lua() {
    local body="'{\"scope\":\"enrollment\",\"action\":\"max_token_per_user=3\",\"realm\":\"\",\"priority\":' .. (counter % 5 + 1) .. '}'"
    local path='"/policy/benchpost" .. (counter % 50)'
    if [ $# -gt 1 ]; then body=$2; path=$3; fi
    cat > "$1" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "$TOKEN"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  local body = $body
  return wrk.format(nil, $path, nil, body)
end
LUA
}
