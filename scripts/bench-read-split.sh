#!/usr/bin/env bash
# Where the CPU of a read goes, per backend: GET /policy/check and GET /policy/
# at 1,000 policies (audit off, wrk -t2 -c32, 5 s), with the CPU the server,
# the database processes (postgres/mariadbd) and nothing (idle) used meanwhile,
# from /proc (100 Hz ticks). Issue 12's reads-within-10 % item.
#
#   [BIN_DIR=target/release] [DB_URI=<empty database>] [LABEL=name] scripts/bench-read-split.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/bench-server.sh
bench_binaries
DB_URI=${DB_URI:-}
LABEL=${LABEL:-${DB_URI%%:*}}
LABEL=${LABEL:-sqlite}
bench_workdir
start_bench_server "$WORK" "PI_AUDIT_DISABLE = True"
add_check_policies 1000 >/dev/null
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
db_ticks() { cat /proc/[0-9]*/stat 2>/dev/null | awk '$2 ~ /postgres|mariadbd|mysqld/ {s+=$14+$15} END {print s+0}'; }
idle() { awk 'NR==1 {print $5}' /proc/stat; }
for route in check list; do
    path=$CHECK_PATH; [ "$route" = list ] && path=/policy/
    wrk -t2 -c32 -d1s -H "Authorization: $TOKEN" "$BASE$path" >/dev/null
    s0=$(ticks "$SERVER_PID"); d0=$(db_ticks); i0=$(idle)
    rate=$(wrk -t2 -c32 -d5s -H "Authorization: $TOKEN" "$BASE$path" | awk '/Requests\/sec/ {print $2}')
    s1=$(ticks "$SERVER_PID"); d1=$(db_ticks); i1=$(idle)
    awk -v l="$LABEL" -v ro="$route" -v r="$rate" -v s=$((s1 - s0)) -v d=$((d1 - d0)) -v i=$((i1 - i0)) 'BEGIN {
        printf "%-10s %-5s %7.0f req/s  server %.2f CPU (%5.1f us/req, %6.0f req/s per CPU)  database %.2f CPU  idle %.2f\n",
            l, ro, r, s / 500, s * 10000 / (r * 5), r / (s / 500), d / 500, i / 500 }'
done
