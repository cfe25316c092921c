#!/usr/bin/env bash
# LDAP resolver benchmark: what the resolver adds to slapd's own round trip
# (crates/pi-realm/examples/ldap_bench.rs), then POST /auth of LDAP users
# through a release pi-server with wrk. Needs slapd + ldap-utils (a throw-away
# server is started with scripts/ldap-test-server.sh) and wrk.
#
#   scripts/bench-ldap.sh     # DURATION=10s THREADS=2 CONNECTIONS=8 by default
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/bench-server.sh
wrk_settings 8
bench_binaries
cargo build --release -q -p pi-realm --example ldap_bench
WORK=$(mktemp -d)
export LDAP_TEST_DIR="$WORK/ldap"
export LDAP_TEST_PORT=${LDAP_TEST_PORT:-38931}
cleanup() {
    kill "$SERVER_PID" 2>/dev/null || true
    bash scripts/ldap-test-server.sh stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
SERVER_PID=""
trap cleanup EXIT
bash scripts/ldap-test-server.sh start 2>/dev/null
URI="ldap://127.0.0.1:$LDAP_TEST_PORT"

echo "== resolver vs. raw ldap3 (single thread) =="
./target/release/examples/ldap_bench "$URI" 4000

start_bench_server "$WORK" "SUPERUSER_REALM = ['superuser']"
post() { curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: $TOKEN" -H 'Content-Type: application/json' -d "$2" "$BASE$1"; }
post /resolver/ldap1 "{\"type\":\"ldapresolver\",\"LDAPURI\":\"$URI\",\"LDAPBASE\":\"dc=example,dc=org\",\"BINDDN\":\"cn=admin,dc=example,dc=org\",\"BINDPW\":\"adminpw\",\"LOGINNAMEATTRIBUTE\":\"uid\",\"LDAPSEARCHFILTER\":\"(objectClass=inetOrgPerson)\",\"USERINFO\":\"{\\\"username\\\":\\\"uid\\\",\\\"email\\\":\\\"mail\\\",\\\"mobile\\\":\\\"mobile\\\"}\",\"UIDTYPE\":\"DN\"}" >/dev/null
post /realm/superuser '{"resolvers":"ldap1"}' >/dev/null
post /realm/ldaprealm '{"resolvers":"ldap1"}' >/dev/null
post /policy/mailpol '{"scope":"user","action":"disable","realm":"ldaprealm","conditions":[["userinfo","email","equals","alice@example.org",true]]}' >/dev/null

for user in alice@superuser alice@ldaprealm; do
    cat > "$WORK/auth.lua" <<LUA
wrk.method = "POST"
wrk.body = "username=$user&password=alicepw"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
LUA
    code=$(curl -s -o /dev/null -w '%{http_code}' -d "username=$user" -d password=alicepw "$BASE/auth")
    echo "== POST /auth $user (HTTP $code) =="
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/auth.lua" "$BASE/auth" | grep -E "Requests/sec|Latency|50%|99%"
done
