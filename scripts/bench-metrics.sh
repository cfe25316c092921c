#!/usr/bin/env bash
# Metrics overhead: GET /policy/check throughput of a release pi-server with
# PI_METRICS = True against PI_METRICS = False, on one fresh SQLite database
# with 100 policies, driven by wrk over loopback. The two configurations run
# alternately ROUNDS times (a shared machine drifts); the script prints each
# run and the ratio of the medians (target: on >= 95 % of off). Throughput
# on a busy machine is noisy, so it also prints the server's CPU time per
# request (utime + stime from /proc during the wrk run / requests served),
# which other load on the machine disturbs much less.
#
#   scripts/bench-metrics.sh          # DURATION=10s THREADS=2 CONNECTIONS=32 ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
. scripts/lib/bench-server.sh
wrk_settings 32
bench_binaries
bench_workdir
bench_cfg "$WORK" > "$WORK/base.cfg"
init_bench_admin "$WORK/base.cfg"

start() { # True|False
    { cat "$WORK/base.cfg"; echo "PI_METRICS = $1"; } > "$WORK/pi.cfg"
    launch_bench_server "$WORK/pi.cfg" "$WORK/out" "$WORK/err"
    for _ in $(seq 20); do
        TOKEN=$(bench_token "$BASE" 2>/dev/null) && break
        sleep 0.5
    done
    [ -n "$TOKEN" ] || { echo "login failed" >&2; exit 1; }
}
stop() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }

start True
for i in $(seq 1 100); do
    body="{\"scope\":\"authentication\",\"action\":\"otppin=userstore\",\"user\":\"user$i\",\"priority\":$((i % 7 + 1))}"
    post_policy "bench$i" "$body"
done
stop

CHECK="$CHECK_PATH"
: > "$WORK/on"; : > "$WORK/off"; : > "$WORK/on_cpu"; : > "$WORK/off_cpu"
for r in $(seq 1 "$ROUNDS"); do
    for mode in True False; do
        start "$mode"
        curl -s -o /dev/null -H "Authorization: $TOKEN" "$BASE$CHECK"
        cpu0=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
        out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -H "Authorization: $TOKEN" "$BASE$CHECK")
        cpu1=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
        rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
        n=$(echo "$out" | awk '/requests in/ {print $1}')
        us=$(awk -v c=$((cpu1 - cpu0)) -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", c * 1e6 / hz / n}')
        if [ "$mode" = True ]; then
            echo "$rps" >> "$WORK/on"; echo "$us" >> "$WORK/on_cpu"
            # the counter saw the load: metrics were really recorded
            scraped=$(curl -s "$BASE/metrics")
            case "$scraped" in *'route="/policy/check"'*) ;; *) echo "no metrics recorded" >&2; exit 1;; esac
        else
            echo "$rps" >> "$WORK/off"; echo "$us" >> "$WORK/off_cpu"
        fi
        echo "round $r PI_METRICS=$mode: $rps req/s, $us µs server CPU per request"
        stop
    done
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ON=$(median "$WORK/on"); OFF=$(median "$WORK/off")
echo "median on: $ON req/s, off: $OFF req/s, on/off: $(awk -v a="$ON" -v b="$OFF" 'BEGIN {printf "%.1f %%", 100 * a / b}')"
CON=$(median "$WORK/on_cpu"); COFF=$(median "$WORK/off_cpu")
echo "median server CPU per request on: $CON µs, off: $COFF µs"
