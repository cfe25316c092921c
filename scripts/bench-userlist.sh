#!/usr/bin/env bash
# HTTP load benchmark of the WebUI's Users page: GET /user/?realm=<r> and
# GET /user/count?realm=<r> over a passwd resolver with 10,000 users (about
# 2.6 MB of JSON per list), a release pi-server on a fresh SQLite database,
# driven by wrk over loopback. Needs wrk (apt-get install wrk).
#
#   scripts/bench-userlist.sh        # USERS=10000 DURATION=10s THREADS=2 CONNECTIONS=8
#   REF=http://127.0.0.1:5104 REF_PASSWORD=test scripts/bench-userlist.sh
#                                    # also the release (scripts/ref/ref-server.sh) on the same file
#   LDAP=1 scripts/bench-userlist.sh # also an LDAP resolver over slapd (scripts/ldap-test-server.sh)
#                                    # holding LDAP_USERS (default 10000) more users, SIZELIMIT above that
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${USERS:-10000}
. scripts/lib/bench-server.sh
wrk_settings 8
bench_binaries
WORK=$(mktemp -d)
export LDAP_TEST_DIR="$WORK/ldap"
export LDAP_TEST_PORT=${LDAP_TEST_PORT:-38932}
cleanup() {
    kill "$SERVER_PID" 2>/dev/null || true
    [ -z "${LDAP:-}" ] || bash scripts/ldap-test-server.sh stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
SERVER_PID=""
trap cleanup EXIT
python3 - "$WORK/users.passwd" "$USERS" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(f"user{i:05d}:x:{10000 + i}:{10000 + i}:Given{i} Sur{i},Room {i % 100},+49 {i},+49 {i + 1},user{i}@example.com:/home/user{i}:/bin/bash\n")
PY
bench_cfg "$WORK" > "$WORK/pi.cfg"
init_bench_admin "$WORK/pi.cfg"
launch_bench_server "$WORK/pi.cfg" "$WORK/out" "$WORK/err"

setup() { # base password -> token
    local token
    token=$(bench_token "$1" "$2")
    curl -s -o /dev/null -H "Authorization: $token" -d type=passwdresolver -d fileName="$WORK/users.passwd" "$1/resolver/benchusers"
    curl -s -o /dev/null -H "Authorization: $token" -d resolvers=benchusers "$1/realm/benchrealm"
    echo "$token"
}

run() { # label base token path
    echo "### $1"
    local n
    n=$(curl -s -H "Authorization: $3" "$2$4" | python3 -c 'import json,sys; v=json.load(sys.stdin)["result"]["value"]; print(len(v) if isinstance(v, list) else v)')
    echo "answer: $n"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 30s --latency -H "Authorization: $3" "$2$4" | grep -E "requests in|Requests/sec|Latency|50%|99%|Transfer/sec|timeout"
}

TOKEN=$(setup "$BASE" bench-password)
run "pi-server GET /user/?realm=benchrealm ($USERS users)" "$BASE" "$TOKEN" "/user/?realm=benchrealm"
run "pi-server GET /user/count?realm=benchrealm" "$BASE" "$TOKEN" "/user/count?realm=benchrealm"
run "pi-server GET /user/?realm=benchrealm&username=user0001* (10 users)" "$BASE" "$TOKEN" "/user/?realm=benchrealm&username=user0001*"
if [ -n "${REF:-}" ]; then
    RTOKEN=$(setup "$REF" "${REF_PASSWORD:-test}")
    run "release GET /user/?realm=benchrealm ($USERS users)" "$REF" "$RTOKEN" "/user/?realm=benchrealm"
    run "release GET /user/count?realm=benchrealm" "$REF" "$RTOKEN" "/user/count?realm=benchrealm"
    run "release GET /user/?realm=benchrealm&username=user0001* (10 users)" "$REF" "$RTOKEN" "/user/?realm=benchrealm&username=user0001*"
fi
if [ -n "${LDAP:-}" ]; then
    LDAP_USERS=${LDAP_USERS:-10000}
    bash scripts/ldap-test-server.sh start 2>/dev/null
    URI="ldap://127.0.0.1:$LDAP_TEST_PORT"
    python3 - "$LDAP_USERS" > "$WORK/users.ldif" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    print(f"dn: uid=luser{i:05d},ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: luser{i:05d}\n"
          f"cn: Given{i} Sur{i}\nsn: Sur{i}\ngivenName: Given{i}\nmail: luser{i}@example.org\n"
          f"telephoneNumber: +49 {i}\nmobile: +49 {i + 1}\n")
PY
    ldapadd -x -H "$URI" -D cn=admin,dc=example,dc=org -w adminpw -f "$WORK/users.ldif" >/dev/null
    python3 - "$URI" "$LDAP_USERS" > "$WORK/ldapresolver.json" <<'PY'
import json, sys
print(json.dumps({
    "type": "ldapresolver", "LDAPURI": sys.argv[1], "LDAPBASE": "ou=people,dc=example,dc=org",
    "BINDDN": "cn=admin,dc=example,dc=org", "BINDPW": "adminpw", "LOGINNAMEATTRIBUTE": "uid",
    "LDAPSEARCHFILTER": "(objectClass=inetOrgPerson)", "UIDTYPE": "entryUUID",
    "USERINFO": json.dumps({"username": "uid", "givenname": "givenName", "surname": "sn",
                            "email": "mail", "phone": "telephoneNumber", "mobile": "mobile"}),
    "SIZELIMIT": int(sys.argv[2]) + 100}))
PY
    curl -s -o /dev/null -H "Authorization: $TOKEN" -H 'Content-Type: application/json' \
        -d @"$WORK/ldapresolver.json" "$BASE/resolver/ldapusers"
    curl -s -o /dev/null -H "Authorization: $TOKEN" -d resolvers=ldapusers "$BASE/realm/ldaprealm"
    run "pi-server LDAP GET /user/?realm=ldaprealm ($LDAP_USERS + 5 users)" "$BASE" "$TOKEN" "/user/?realm=ldaprealm"
    run "pi-server LDAP GET /user/?realm=ldaprealm&username=luser0001* (10 users)" "$BASE" "$TOKEN" "/user/?realm=ldaprealm&username=luser0001*"
fi
