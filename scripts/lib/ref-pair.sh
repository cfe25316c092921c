# Shared setup of the scripts that run the released privacyIDEA 3.14
# (scripts/ref/ref-server.sh, on $REF_PORT, state in $PI_REF_DIR) beside our
# debug build (on $OURS_PORT). Sourced, not run, from the repository root.
#
#   start_ref TEMPLATE   work=$(mktemp -d TEMPLATE), removed on exit with our server
#                        and the release stopped; installs, resets and starts the release
#   start_ours CFG       ./target/debug/pi-server --config CFG (log: $work/server.log);
#                        sets ours_pid, waits until /healthz/ answers

REF=scripts/ref/ref-server.sh

start_ref() {
    work=$(mktemp -d "$1")
    ours_pid=""
    trap ref_pair_cleanup EXIT
    bash "$REF" install >/dev/null
    bash "$REF" reset >/dev/null
    bash "$REF" start >/dev/null
}

ref_pair_cleanup() {
    [ -n "$ours_pid" ] && kill "$ours_pid" 2>/dev/null || true
    bash "$REF" stop >/dev/null 2>&1 || true
    rm -rf "$work"
}

start_ours() {
    ./target/debug/pi-server --config "$1" --listen "127.0.0.1:$OURS_PORT" >"$work/server.log" 2>&1 &
    ours_pid=$!
    for _ in $(seq 1 50); do
        curl -fs "http://127.0.0.1:$OURS_PORT/healthz/" >/dev/null 2>&1 && break
        sleep 0.2
    done
}
