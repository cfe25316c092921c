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
BIN=${BIN_DIR:-target/release}; audit=${1:-on}; DURATION=${DURATION:-5s}
dir=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
cat > "$dir/pi.cfg" <<CFG
SQLALCHEMY_DATABASE_URI = '${DB_URI:-sqlite:///$dir/pi.sqlite}'
SECRET_KEY = 'bench-secret'
PI_PEPPER = 'bench-pepper'
PI_ENCFILE = '$dir/enckey'
PI_UUID_FILE = '$dir/uuid.txt'
PI_LOGLEVEL = 40
CFG
if [ "$audit" = off ]; then echo "PI_AUDIT_DISABLE = True" >> "$dir/pi.cfg"; fi
"$BIN/pi-manage" --config "$dir/pi.cfg" create_enckey >/dev/null
echo "bench-password" | "$BIN/pi-manage" --config "$dir/pi.cfg" admin add admin --password-stdin >/dev/null
"$BIN/pi-server" --config "$dir/pi.cfg" --listen 127.0.0.1:0 > "$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$dir/out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^pi-server listening on //p' "$dir/out" | head -1)
tok=$(curl -s -d username=admin -d password=bench-password "$base/auth" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["value"]["token"])')
for i in $(seq 1 10); do
    curl -s -o /dev/null -H "Authorization: $tok" -H 'Content-Type: application/json' \
        -d "{\"scope\":\"authentication\",\"action\":\"otppin=userstore\",\"user\":\"user$i\"}" "$base/policy/bench$i"
done
url="$base/policy/check?user=user8&realm=realm1&scope=authentication&action=otppin&client=10.1.2.3"
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
