# Shared setup of the HTTP benchmarks (sourced, not run). Needs curl, python3.
#
#   bench_binaries                       BIN_DIR, or a release build of pi-server/pi-manage
#   start_bench_server DIR [CFG_LINES]   fresh pi.cfg in DIR (DB_URI: an EMPTY database,
#                                        default SQLite in DIR), admin/bench-password, a
#                                        server on a free port; sets SERVER_PID, BASE, TOKEN
#   add_check_policies N                 bench1..benchN, the /policy/check mix
#   write_post_lua FILE                  wrk script: POST /policy/benchpost0..49 (updates)
# CHECK_PATH is the /policy/check request they are measured with.

CHECK_PATH="/policy/check?user=user8&realm=realm1&scope=authentication&action=otppin&client=10.1.2.3"

bench_binaries() {
    if [ -z "${BIN_DIR:-}" ]; then
        cargo build --release -q -p pi-server -p pi-manage
        BIN_DIR=./target/release
    fi
}

start_bench_server() {
    local dir=$1
    mkdir -p "$dir"
    cat > "$dir/pi.cfg" <<CFG
SQLALCHEMY_DATABASE_URI = '${DB_URI:-sqlite:///$dir/pi.sqlite}'
SECRET_KEY = 'bench-secret'
PI_PEPPER = 'bench-pepper'
PI_ENCFILE = '$dir/enckey'
PI_UUID_FILE = '$dir/uuid.txt'
PI_LOGLEVEL = 40
${2:-}
CFG
    "$BIN_DIR/pi-manage" --config "$dir/pi.cfg" create_enckey >/dev/null
    echo "bench-password" | "$BIN_DIR/pi-manage" --config "$dir/pi.cfg" admin add admin --password-stdin >/dev/null
    "$BIN_DIR/pi-server" --config "$dir/pi.cfg" --listen 127.0.0.1:0 > "$dir/out" 2>"$dir/err" &
    SERVER_PID=$!
    for _ in $(seq 100); do grep -q "listening on" "$dir/out" 2>/dev/null && break; sleep 0.1; done
    BASE=$(sed -n 's/^pi-server listening on //p' "$dir/out" | head -1)
    TOKEN=$(curl -s -d username=admin -d password=bench-password "$BASE/auth" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["value"]["token"])')
}

add_check_policies() {
    local i
    for i in $(seq 1 "$1"); do
        curl -s -o /dev/null -H "Authorization: $TOKEN" -H 'Content-Type: application/json' \
            -d "{\"scope\":\"authentication\",\"action\":\"otppin=userstore\",\"user\":\"user$i\"}" "$BASE/policy/bench$i"
    done
}

write_post_lua() {
    cat > "$1" <<LUA
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
}
