# A background server run from a pid file, shared by the throw-away servers
# of the tests (scripts/ldap-test-server.sh, scripts/ref/ref-server.sh).
# The sourcing script sets PIDFILE and defines `log` and `answers` (whether
# the server serves requests).

# Whether the process of $PIDFILE is alive.
is_running() {
    [ -f "$PIDFILE" ] || return 1
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# SIGTERM, then up to TRIES checks INTERVAL seconds apart, then SIGKILL.
#   daemon_stop TRIES INTERVAL
daemon_stop() {
    if ! is_running; then
        log "not running"
        rm -f "$PIDFILE"
        return 0
    fi
    local pid
    pid="$(cat "$PIDFILE")"
    log "stopping pid $pid"
    kill -TERM "$pid"
    for _ in $(seq 1 "$1"); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; log "stopped"; return 0; }
        sleep "$2"
    done
    log "pid $pid did not stop in time; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
}

# `running pid=… WHERE` (0), alive but not answering (1), or `stopped` (3).
#   daemon_status WHERE
daemon_status() {
    if ! is_running; then
        echo "stopped"
        return 3
    fi
    if answers; then
        echo "running pid=$(cat "$PIDFILE") $1"
    else
        echo "process pid=$(cat "$PIDFILE") alive but not answering"
        return 1
    fi
}
