#!/usr/bin/env bash
# Two of our nodes on one database, then scripts/bench-cluster.py: the time
# from a commit on node A to node B serving it (p50/p99).
#
#   scripts/bench-cluster.sh                          # a SQLite file
#   DB_URI='mysql://root@127.0.0.1:3307/pi_bench' scripts/bench-cluster.sh   # database must exist
#   DB_URI='postgresql://postgres@127.0.0.1:55439/pi_bench' scripts/bench-cluster.sh
#
# ROUNDS (default 200). Uses target/release binaries (built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-200}
[ -x target/release/pi-server ] || cargo build --release -q -p pi-server -p pi-manage
. scripts/lib/bench-server.sh
BIN_DIR=./target/release
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
DB_URI=${DB_URI:-sqlite:///$WORK/pi.sqlite}
node() { # name uuid
    cat > "$WORK/$1.cfg" <<CFG
SQLALCHEMY_DATABASE_URI = '$DB_URI'
SECRET_KEY = 'bench-secret'
PI_PEPPER = 'bench-pepper'
PI_ENCFILE = '$WORK/enckey'
PI_NODE = '$1'
PI_NODE_UUID = '$2'
PI_LOGLEVEL = 40
CFG
    launch_bench_server "$WORK/$1.cfg" "$WORK/$1.out" "$WORK/$1.err"
    PIDS+=("$SERVER_PID")
}
cat > "$WORK/manage.cfg" <<CFG
SQLALCHEMY_DATABASE_URI = '$DB_URI'
SECRET_KEY = 'bench-secret'
PI_PEPPER = 'bench-pepper'
PI_ENCFILE = '$WORK/enckey'
CFG
init_bench_admin "$WORK/manage.cfg"
node nodeA 11111111-1111-4111-8111-111111111111
A=$BASE
node nodeB 22222222-2222-4222-8222-222222222222
B=$BASE
echo "database: ${DB_URI%%://*}"
python3 scripts/bench-cluster.py "$A" "$(bench_token "$A")" "$B" "$(bench_token "$B")" "$ROUNDS"
