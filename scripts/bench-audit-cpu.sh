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
dir=$(mktemp -d)
SERVER_PID=""
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$dir"' EXIT
cfg=""
if [ "$audit" = off ]; then cfg="PI_AUDIT_DISABLE = True"; fi
start_bench_server "$dir" "$cfg"
pid=$SERVER_PID tok=$TOKEN
add_check_policies 10
url="$BASE$CHECK_PATH"
wrk -t2 -c32 -d1s -H "Authorization: $tok" "$url" >/dev/null
secs=${DURATION%s}
perf stat -e task-clock -x, -o "$dir/stat" -p "$pid" -- sleep $((secs + 2)) &
sp=$!
sleep 0.2
wrk -t2 -c32 -d"$DURATION" -H "Authorization: $tok" "$url" > "$dir/wrk.txt"
wait "$sp"
n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$dir/wrk.txt")
rps=$(sed -n 's/^Requests\/sec: *//p' "$dir/wrk.txt")
ms=$(grep task-clock "$dir/stat" | cut -d, -f1)
echo "audit=$audit requests=$n req/s=$rps cpu_us_per_request=$(python3 -c "print(round($ms*1000/$n,1))") load=$(cut -d' ' -f1 /proc/loadavg)"
