#!/usr/bin/env bash
# HTTP load benchmark: a release pi-server on a fresh SQLite database, driven by
# wrk over loopback, for GET /policy/check, GET /policy/ and POST /policy/<name>
# at 10 and 1,000 policies. Needs wrk (apt-get install wrk).
#
#   scripts/bench-http.sh            # DURATION=10s THREADS=2 CONNECTIONS=32 by default
#   DB_URI='mysql+pymysql://root@127.0.0.1:3307/pi_bench' scripts/bench-http.sh
#   DB_URI='postgresql://postgres@127.0.0.1:55439/pi_bench' scripts/bench-http.sh
#                                    # another backend: an EMPTY existing database
#   BIN_DIR=/tmp/old scripts/bench-http.sh   # binaries from elsewhere (no build)
#   ROUTES=post scripts/bench-http.sh        # only the POST runs (ROUTES=get: only the GETs)
#   AUDIT=off scripts/bench-http.sh          # PI_AUDIT_DISABLE = True (default: audit rows written)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUTES=${ROUTES:-all}
. scripts/lib/bench-server.sh
wrk_settings 32
bench_binaries
bench_workdir
start_bench_server "$WORK" "$(audit_cfg "${AUDIT:-on}")"

make_policies() { # from to
    for i in $(seq "$1" "$2"); do
        case $((i % 4)) in
            0) body="{\"scope\":\"authentication\",\"action\":\"otppin=userstore\",\"user\":\"user$i\",\"priority\":$((i % 7 + 1))}";;
            1) body="{\"scope\":\"authorization\",\"action\":\"tokentype=hotp totp\",\"client\":\"10.$((i % 250)).0.0/16\"}";;
            2) body="{\"scope\":\"enrollment\",\"action\":\"max_token_per_user=$((i % 9 + 1))\",\"user\":\"u.*$i\"}";;
            3) body="{\"scope\":\"webui\",\"action\":\"logout_time=$((i + 60))\",\"user_agents\":\"PAM\"}";;
        esac
        post_policy "bench$i" "$body"
    done
}

write_post_lua "$WORK/post.lua"

write_post_lua "$WORK/create.lua" "'{\"scope\":\"enrollment\",\"action\":\"max_token_per_user=3\",\"user\":\"c' .. counter .. '\"}'" '"/policy/created" .. counter'

run_one() { # label path lua: one connection (latency without queueing)
    [ "$ROUTES" != get ] || return 0
    echo "### $1 (1 connection)"
    wrk -t1 -c1 -d"$DURATION" --latency -s "$3" "$BASE$2" | grep -E "Requests/sec|Latency|50%|99%"
}

run() { # label path [lua]
    case "$ROUTES:${3:+post}" in post:|get:post) return;; esac
    echo "### $1"
    if [ -n "${3:-}" ]; then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$3" "$BASE$2" | grep -E "Requests/sec|Latency|50%|99%"
    else
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: $TOKEN" "$BASE$2" | grep -E "Requests/sec|Latency|50%|99%"
    fi
}

CHECK="$CHECK_PATH"
make_policies 1 10
echo "## 10 policies"
run "GET /policy/check" "$CHECK"
run "GET /policy/" "/policy/"
run "POST /policy/<name>" "/policy/x" "$WORK/post.lua"
run_one "POST /policy/<name>" "/policy/x" "$WORK/post.lua"
make_policies 11 1000
echo "## 1000 policies"
run "GET /policy/check" "$CHECK"
run "GET /policy/" "/policy/"
run "POST /policy/<name>" "/policy/x" "$WORK/post.lua"
run_one "POST /policy/<name>" "/policy/x" "$WORK/post.lua"
run_one "POST /policy/<new name> (creates)" "/policy/x" "$WORK/create.lua"
