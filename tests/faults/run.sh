#!/usr/bin/env bash
# Fault suite (issue 12, item 4; `make test-faults`): a throw-away unprivileged
# MariaDB on a loopback port, one pi-server on it; the database restarted
# under load (tests/faults/db_restart.py); a full connection pool, slow
# clients (slowloris) and oversized bodies (tests/faults/limits.py); then the
# server SIGKILLed during a large import and a burst of writes
# (tests/faults/kill_server.py). Needs mariadb-server (mariadbd,
# mariadb-install-db), python3 and a built pi-server/pi-manage
# (debug by default; PI_SERVER_BIN / PI_MANAGE_BIN override).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PI_SERVER_BIN="${PI_SERVER_BIN:-$ROOT/target/debug/pi-server}"
PI_MANAGE_BIN="${PI_MANAGE_BIN:-$ROOT/target/debug/pi-manage}"
PORT="${FAULT_DB_PORT:-33082}"
WORK=$(mktemp -d /tmp/pi-faults.XXXXXX)
if [ "$(id -u)" = 0 ]; then
    chown mysql "$WORK"
    as_my() { su mysql -s /bin/sh -c "$*"; }
else
    as_my() { sh -c "$*"; }
fi
SERVER_PID=""
db_start() {
    as_my "setsid mariadbd --no-defaults --datadir=$WORK/data --port=$PORT --bind-address=127.0.0.1 --socket=$WORK/sock --pid-file=$WORK/pid --log-error=$WORK/err.log --innodb-buffer-pool-size=32M --innodb-flush-log-at-trx-commit=2 >/dev/null 2>&1 &"
    for _ in $(seq 1 60); do
        mariadb --no-defaults -uroot -h127.0.0.1 -P"$PORT" -e 'SELECT 1' >/dev/null 2>&1 && return 0
        sleep 0.25
    done
    echo "mariadbd did not start" >&2; cat "$WORK/err.log" >&2; return 1
}
db_stop() {
    local pid
    pid=$(cat "$WORK/pid" 2>/dev/null || true)
    [ -n "$pid" ] || return 0
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    rm -f "$WORK/pid"
}
cleanup() {
    [ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true
    db_stop
    rm -rf "$WORK"
}
trap cleanup EXIT
as_my "mariadb-install-db --no-defaults --datadir=$WORK/data --auth-root-authentication-method=normal --skip-test-db >/dev/null 2>&1"
db_start
mariadb --no-defaults -uroot -h127.0.0.1 -P"$PORT" -e "CREATE DATABASE pi CHARACTER SET utf8mb4"
cat > "$WORK/pi.cfg" <<CFG
SQLALCHEMY_DATABASE_URI = 'mysql+pymysql://root@127.0.0.1:$PORT/pi?charset=utf8'
SECRET_KEY = 'fault-test-secret-0123456789abcdef'
PI_PEPPER = 'fault-pepper'
PI_ENCFILE = '$WORK/enckey'
PI_UUID_FILE = '$WORK/uuid.txt'
PI_NODE = 'faultnode'
PI_BODY_TIMEOUT = 3
CFG
"$PI_MANAGE_BIN" --config "$WORK/pi.cfg" create_enckey >/dev/null
printf 'Fault123!\n' | "$PI_MANAGE_BIN" --config "$WORK/pi.cfg" admin add admin --password-stdin >/dev/null
"$PI_SERVER_BIN" --config "$WORK/pi.cfg" --listen 127.0.0.1:0 --workers 4 >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 1 60); do
    grep -q 'listening on' "$WORK/server.out" 2>/dev/null && break
    sleep 0.25
done
BASE="http://$(sed -n 's/^pi-server listening on //p' "$WORK/server.out" | head -1)"
BASE="${BASE/http:\/\/http:\/\//http://}"
TOKEN=$(curl -fsS -X POST "$BASE/auth" -d username=admin -d 'password=Fault123!' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["value"]["token"])')
echo "== database restart under load ($BASE)"
# the restart commands, as scripts the load driver can run
for f in db_start db_stop; do
    { echo '#!/usr/bin/env bash'; echo "WORK='$WORK' PORT='$PORT'"; declare -f as_my db_start db_stop; echo "$f"; } >"$WORK/$f.sh"
done
if ! python3 "$ROOT/tests/faults/db_restart.py" "$BASE" "$TOKEN" "bash $WORK/db_stop.sh" "bash $WORK/db_start.sh"; then
    echo "--- pi-server log (errors)"; grep -E "ERROR|internal" "$WORK/server.err" | head -10
    exit 1
fi
echo "== full pool, slow clients, oversized bodies"
LOCK_CMD="mariadb --no-defaults -uroot -h127.0.0.1 -P$PORT pi -e 'LOCK TABLES policy WRITE; SELECT SLEEP(6); UNLOCK TABLES' >/dev/null"
if ! python3 "$ROOT/tests/faults/limits.py" "$BASE" "$TOKEN" "$LOCK_CMD"; then
    echo "--- pi-server log (errors)"; grep -E "ERROR|internal" "$WORK/server.err" | head -10
    exit 1
fi
kill "$SERVER_PID" 2>/dev/null || true
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
echo "== SIGKILL of the server during a large import and a burst of writes"
python3 "$ROOT/tests/faults/kill_server.py" "$PI_SERVER_BIN" "$WORK/pi.cfg"
