#!/usr/bin/env bash
# Server CPU per request (perf stat -e task-clock on the server process, all
# threads, the audit writer included) and req/s for GET /policy/check with
# the audit log on or off: a fresh SQLite database (or DB_URI, an EMPTY
# database) with 10 policies, wrk over loopback. Robust against other load
# on the machine where req/s is not; alternate binaries and take medians.
#
#   BIN_DIR=target/release scripts/bench-audit-cpu.sh on|off   # DURATION=5s
# Needs wrk and perf; prints one line.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN_DIR=${BIN_DIR:-target/release}; audit=${1:-on}; DURATION=${DURATION:-5s}
. scripts/lib/bench-server.sh
bench_workdir
start_bench_server "$WORK" "$(audit_cfg "$audit")"
pid=$SERVER_PID tok=$TOKEN
add_check_policies 10
url="$BASE$CHECK_PATH"
wrk -t2 -c32 -d1s -H "Authorization: $tok" "$url" >/dev/null
secs=${DURATION%s}
perf stat -e task-clock -x, -o "$WORK/stat" -p "$pid" -- sleep $((secs + 2)) &
sp=$!
sleep 0.2
wrk -t2 -c32 -d"$DURATION" -H "Authorization: $tok" "$url" > "$WORK/wrk.txt"
wait "$sp"
n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$WORK/wrk.txt")
rps=$(sed -n 's/^Requests\/sec: *//p' "$WORK/wrk.txt")
ms=$(grep task-clock "$WORK/stat" | cut -d, -f1)
echo "audit=$audit requests=$n req/s=$rps cpu_us_per_request=$(python3 -c "print(round($ms*1000/$n,1))") load=$(cut -d' ' -f1 /proc/loadavg)"
