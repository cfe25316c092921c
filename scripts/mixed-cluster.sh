#!/usr/bin/env bash
# A mixed cluster on ONE MariaDB database: the released privacyIDEA 3.14
# (scripts/ref/ref-server.sh, gunicorn) plus two of our pi-server nodes.
# Manual tool (issue 12), not run by CI: it shows that a write on any node is
# served by every other node on its next request, and that all three nodes
# appear in GET /system/nodes.
#
# Usage: scripts/mixed-cluster.sh {start|demo|stop}
#
#   start  create the database $DB on $MYSQL_URL (default
#          mysql://root@127.0.0.1:3307, a user that may CREATE DATABASE),
#          create privacyIDEA's tables with the release's pi-manage (its
#          MariaDB schema, SEQUENCEs and all), add admin "admin"/"test", start
#          the release on $REF_PORT (5115) and our nodes on $PORT_A (5116) and
#          $PORT_B (5117), all with the release's SECRET_KEY, PI_PEPPER and
#          enckey, each with its own PI_NODE / PI_NODE_UUID.
#   demo   write a policy on each node and read it back from the others;
#          print /system/nodes of each node.
#   stop   stop the three servers (by their PID files), drop $DB, remove $STATE.
#
# Needs: the release venv (scripts/ref/ref-server.sh install; its venv has
# PyMySQL), a MariaDB server (e.g. the unprivileged one `.ci/run` starts, or
#   mariadb-install-db --datadir=/tmp/m/data --auth-root-authentication-method=normal
#   mariadbd --no-defaults --datadir=/tmp/m/data --port=3307 --bind-address=127.0.0.1 --socket=/tmp/m/sock &
# ), the `mariadb` client, curl and python3, and a built pi-server
# (cargo build --release -p pi-server; $PI_SERVER overrides the path).
# Everything listens on 127.0.0.1 only; state lives in $STATE (default
# /tmp/pi-mixed-cluster).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MYSQL_URL="${MYSQL_URL:-mysql://root@127.0.0.1:3307}"
DB="${DB:-pi_mixed}"
STATE="${STATE:-/tmp/pi-mixed-cluster}"
REF_PORT="${REF_PORT:-5115}"
PORT_A="${PORT_A:-5116}"
PORT_B="${PORT_B:-5117}"
export PI_REF_DIR="${PI_REF_DIR:-$STATE/ref}"
REF_VENV="${REF_VENV:-$HOME/.cache/privacyidea-ref/venv}"
PI_SERVER="${PI_SERVER:-$ROOT/target/release/pi-server}"
[ -x "$PI_SERVER" ] || PI_SERVER="$ROOT/target/debug/pi-server"
UUID_A=11111111-1111-4111-8111-111111111111
UUID_B=22222222-2222-4222-8222-222222222222
UUID_REF=33333333-3333-4333-8333-333333333333

log() { printf '[mixed-cluster] %s\n' "$*" >&2; }

# mysql://user[:pw]@host[:port] -> mariadb client arguments
my_args() {
    python3 - "$MYSQL_URL" <<'PY'
import sys, urllib.parse as u
p = u.urlparse(sys.argv[1])
args = ["--no-defaults", "-h", p.hostname or "127.0.0.1", "-P", str(p.port or 3306), "-u", u.unquote(p.username or "root")]
if p.password: args.append("--password=" + u.unquote(p.password))
print(" ".join(args))
PY
}
sql() { mariadb $(my_args) -N -B -e "$1"; }
db_uri() {
    # the URI as privacyIDEA writes it (driver + charset)
    python3 - "$MYSQL_URL" "$DB" <<'PY'
import sys, urllib.parse as u
p = u.urlparse(sys.argv[1])
auth = p.netloc
print(f"mysql+pymysql://{auth}/{sys.argv[2]}?charset=utf8mb4")
PY
}
cfg_value() { sed -n "s/^$1 = '\(.*\)'$/\1/p" "$PI_REF_DIR/data/pi.cfg"; }

our_cfg() { # name uuid file
    cat > "$3" <<CFG
import logging
SQLALCHEMY_DATABASE_URI = '$(db_uri)'
SECRET_KEY = '$(cfg_value SECRET_KEY)'
PI_PEPPER = '$(cfg_value PI_PEPPER)'
PI_ENCFILE = '$PI_REF_DIR/data/enckey'
PI_NODE = '$1'
PI_NODE_UUID = '$2'
PI_LOGLEVEL = logging.WARNING
CFG
}

start_ours() { # name uuid port
    local dir="$STATE/$1"
    mkdir -p "$dir"
    our_cfg "$1" "$2" "$dir/pi.cfg"
    nohup "$PI_SERVER" --config "$dir/pi.cfg" --listen "127.0.0.1:$3" >"$dir/log" 2>&1 &
    echo $! >"$dir/pid"
    for _ in $(seq 1 60); do
        curl -fsS "http://127.0.0.1:$3/healthz/" >/dev/null 2>&1 && { log "$1 on :$3"; return 0; }
        sleep 0.5
    done
    log "$1 did not come up, see $dir/log"; return 1
}

port_free() {
    python3 -c 'import socket,sys; s=socket.socket(); sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) else 1)' "$1"
}

cmd_start() {
    for p in "$REF_PORT" "$PORT_A" "$PORT_B"; do
        port_free "$p" || { log "port $p is in use (set REF_PORT/PORT_A/PORT_B)"; exit 1; }
    done
    [ ! -e "$PI_REF_DIR/data" ] || { log "$PI_REF_DIR/data exists: run stop first"; exit 1; }
    mkdir -p "$PI_REF_DIR"
    [ -e "$PI_REF_DIR/venv" ] || ln -s "$REF_VENV" "$PI_REF_DIR/venv"
    sql "CREATE DATABASE IF NOT EXISTS $DB CHARACTER SET utf8mb4"
    # the reference's data dir (keys, pi.cfg) then point it at MariaDB
    REF_PORT="$REF_PORT" REF_NODE_UUID="$UUID_REF" bash "$ROOT/scripts/ref/ref-server.sh" init
    sed -i "s|^SQLALCHEMY_DATABASE_URI = .*|SQLALCHEMY_DATABASE_URI = '$(db_uri)'|; s|^SQLALCHEMY_ENGINE_OPTIONS.*|SQLALCHEMY_ENGINE_OPTIONS = {}|" "$PI_REF_DIR/data/pi.cfg"
    export PRIVACYIDEA_CONFIGFILE="$PI_REF_DIR/data/pi.cfg"
    "$PI_REF_DIR/venv/bin/pi-manage" setup create_tables >/dev/null 2>&1
    "$PI_REF_DIR/venv/bin/pi-manage" admin add admin -p test >/dev/null 2>&1 || true
    REF_PORT="$REF_PORT" bash "$ROOT/scripts/ref/ref-server.sh" start
    start_ours nodeA "$UUID_A" "$PORT_A"
    start_ours nodeB "$UUID_B" "$PORT_B"
}

token() { # port
    curl -fsS -X POST "http://127.0.0.1:$1/auth" -d username=admin -d password=test |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["value"]["token"])'
}

cmd_demo() {
    local ports=("$REF_PORT" "$PORT_A" "$PORT_B") names=(release nodeA nodeB) tokens=()
    for p in "${ports[@]}"; do tokens+=("$(token "$p")"); done
    for i in 0 1 2; do
        local pol="mixed_${names[$i]}"
        curl -fsS -X POST "http://127.0.0.1:${ports[$i]}/policy/$pol" -H "Authorization: ${tokens[$i]}" \
            -H 'Content-Type: application/json' -d '{"scope": "webui", "action": "login_mode=userstore", "priority": 7}' >/dev/null
        for j in 0 1 2; do
            [ "$i" = "$j" ] && continue
            local n
            n=$(curl -fsS "http://127.0.0.1:${ports[$j]}/policy/$pol" -H "Authorization: ${tokens[$j]}" |
                python3 -c 'import json,sys; print(len(json.load(sys.stdin)["result"]["value"]))')
            printf '%-8s wrote %-20s %-8s sees it: %s\n' "${names[$i]}" "$pol" "${names[$j]}" "$([ "$n" = 1 ] && echo yes || echo NO)"
        done
    done
    for i in 0 1 2; do
        printf '%-8s /system/nodes: ' "${names[$i]}"
        curl -fsS "http://127.0.0.1:${ports[$i]}/system/nodes" -H "Authorization: ${tokens[$i]}" |
            python3 -c 'import json,sys; print(sorted(n["name"] for n in json.load(sys.stdin)["result"]["value"]))'
    done
}

cmd_stop() {
    for n in nodeA nodeB; do
        if [ -f "$STATE/$n/pid" ]; then kill "$(cat "$STATE/$n/pid")" 2>/dev/null || true; rm -f "$STATE/$n/pid"; fi
    done
    REF_PORT="$REF_PORT" bash "$ROOT/scripts/ref/ref-server.sh" stop || true
    sql "DROP DATABASE IF EXISTS $DB" || true
    rm -rf "$STATE"
}

case "${1:-}" in
    start) cmd_start ;;
    demo) cmd_demo ;;
    stop) cmd_stop ;;
    *) echo "usage: $0 {start|demo|stop}" >&2; exit 2 ;;
esac
