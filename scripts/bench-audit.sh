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
. scripts/lib/bench-server.sh
wrk_settings 32
bench_binaries
bench_workdir
openssl genrsa -out "$WORK/private.pem" 2048 2>/dev/null
openssl rsa -in "$WORK/private.pem" -pubout -out "$WORK/public.pem" 2>/dev/null

cpu_ticks() { # utime + stime of a process, in clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat"
}

bench() { # label extra-cfg-lines
    local dir="$WORK/$1"
    mkdir -p "$dir"
    start_bench_server "$dir" "$2"
    local base=$BASE token=$TOKEN
    add_check_policies 10
    write_post_lua "$dir/post.lua"
    echo "## audit $1"
    echo "### GET /policy/check ($CONNECTIONS connections)"
    # CPU time of the server per request (user+sys, all threads, the audit
    # writer included, until its queue is empty): robust against other load
    # on the machine, unlike req/s
    local before after n
    before=$(cpu_ticks "$SERVER_PID")
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: $token" \
        "$base$CHECK_PATH" \
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
