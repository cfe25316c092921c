#!/usr/bin/env bash
# Throw-away OpenLDAP server (Debian's slapd) for testing the LDAP resolver
# (ours and privacyIDEA's reference one) against a real directory.
#
# Usage: scripts/ldap-test-server.sh {install|start|stop|restart|status|reset|ldif|env}
#
# (Copied from the team's tools/ldap-test-server.sh; this copy can also serve
# TLS: with LDAP_TEST_TLS_PORT set, `start` creates a throw-away CA and a
# server certificate for 127.0.0.1/localhost with openssl in
# $LDAP_TEST_DIR/tls (ca.pem, server.pem, server.key), enables StartTLS on the
# plain port and listens on ldaps://$LDAP_TEST_HOST:$LDAP_TEST_TLS_PORT too.)
# Its pid-file handling (stop, status) is scripts/lib/daemon.sh, shared with
# scripts/ref/ref-server.sh.
#
#   install  apt-get install slapd + ldap-utils (needs root and the Debian
#            package registry; run `apt-get update` once before). A system
#            slapd is NOT started (a temporary policy-rc.d denies it if the
#            machine has none).
#   start    write slapd.conf + data into $LDAP_TEST_DIR (default
#            /tmp/pi-ldap-test), load the fixture with slapadd, start slapd on
#            ldap://$LDAP_TEST_HOST:$LDAP_TEST_PORT (default 127.0.0.1:3890),
#            wait until it answers and verify with ldapsearch (5 users).
#            Idempotent: an already running server is left alone.
#   stop     stop slapd by the PID in $LDAP_TEST_DIR/slapd.pid.
#   reset    stop, delete $LDAP_TEST_DIR, start again (fresh data).
#   status   tell whether it runs and answers.
#   ldif     print the fixture LDIF.
#   env      print the connection facts (for scripts).
#
# Works as root or as an ordinary user (port > 1024, files only in the temp
# directory, no change under /etc). Loopback only.
#
# Fixture (base dc=example,dc=org, all passwords stored as {SSHA} with a fixed
# salt so the values are reproducible):
#   cn=admin,dc=example,dc=org                 rootdn, password "adminpw"
#   cn=reader,ou=services,dc=example,dc=org    service account, "readerpw"
#   uid=alice,ou=people,...   "alicepw"  two mobile values, entryUUID 1111...
#   uid=bob,ou=people,...     "bobpw"
#   uid=carol,ou=people,...   "cärolpw" (UTF-8, non-ASCII)
#   uid=dave,ou=people,...    no userPassword (every bind fails)
#   uid=eve,ou=people,...     "evepw", sn/cn with an apostrophe
#   cn=staff,ou=groups,...    groupOfNames: alice, bob
#   cn=admins,ou=groups,...   groupOfNames: alice
# Users are objectClass inetOrgPerson; use LDAPSEARCHFILTER
# (objectClass=inetOrgPerson) to exclude the service account.
set -euo pipefail

LDAP_TEST_DIR="${LDAP_TEST_DIR:-/tmp/pi-ldap-test}"
LDAP_TEST_HOST="${LDAP_TEST_HOST:-127.0.0.1}"
LDAP_TEST_PORT="${LDAP_TEST_PORT:-3890}"
BASE="dc=example,dc=org"
ROOTDN="cn=admin,$BASE"
ROOTPW="adminpw"
URI="ldap://$LDAP_TEST_HOST:$LDAP_TEST_PORT"
LDAP_TEST_TLS_PORT="${LDAP_TEST_TLS_PORT:-}"
TLS_DIR="$LDAP_TEST_DIR/tls"
PIDFILE="$LDAP_TEST_DIR/slapd.pid"
SLAPD="${SLAPD:-/usr/sbin/slapd}"
SLAPADD="${SLAPADD:-/usr/sbin/slapadd}"
SCHEMA_DIR="${SCHEMA_DIR:-/etc/ldap/schema}"
MODULE_DIR="${MODULE_DIR:-/usr/lib/ldap}"

log() { printf '[ldap-test-server] %s\n' "$*" >&2; }
. "$(dirname "${BASH_SOURCE[0]}")/lib/daemon.sh"

# {SSHA} = base64( sha1(password || salt) || salt ), RFC 2307 style.
ssha() {
    python3 - "$1" "$2" <<'EOF'
import base64, hashlib, sys
pw, salt = sys.argv[1].encode("utf-8"), sys.argv[2].encode("ascii")
print("{SSHA}" + base64.b64encode(hashlib.sha1(pw + salt).digest() + salt).decode())
EOF
}

b64() { printf '%s' "$1" | base64 -w0; }

write_ldif() {
    cat <<EOF
dn: $BASE
objectClass: dcObject
objectClass: organization
dc: example
o: Example Org

dn: ou=people,$BASE
objectClass: organizationalUnit
ou: people

dn: ou=groups,$BASE
objectClass: organizationalUnit
ou: groups

dn: ou=services,$BASE
objectClass: organizationalUnit
ou: services

dn: cn=reader,ou=services,$BASE
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
description: read-only bind account
userPassword: $(ssha readerpw saltRead)

dn: uid=alice,ou=people,$BASE
objectClass: inetOrgPerson
uid: alice
cn: Alice Example
sn: Example
givenName: Alice
mail: alice@example.org
telephoneNumber: +49 111 1111
mobile: +49 170 1111
mobile: +49 171 1111
employeeNumber: 1001
userPassword: $(ssha alicepw saltAlic)
entryUUID: 11111111-1111-4111-8111-111111111111

dn: uid=bob,ou=people,$BASE
objectClass: inetOrgPerson
uid: bob
cn: Bob Builder
sn: Builder
givenName: Bob
mail: bob@example.org
telephoneNumber: +49 222 2222
employeeNumber: 1002
userPassword: $(ssha bobpw saltBob1)
entryUUID: 22222222-2222-4222-8222-222222222222

dn: uid=carol,ou=people,$BASE
objectClass: inetOrgPerson
uid: carol
cn: Carol Cipher
sn: Cipher
givenName:: $(b64 'Cärol')
mail: carol@example.org
employeeNumber: 1003
userPassword: $(ssha 'cärolpw' saltCaro)
entryUUID: 33333333-3333-4333-8333-333333333333

dn: uid=dave,ou=people,$BASE
objectClass: inetOrgPerson
uid: dave
cn: Dave NoPassword
sn: NoPassword
givenName: Dave
mail: dave@example.org
employeeNumber: 1004
entryUUID: 44444444-4444-4444-8444-444444444444

dn: uid=eve,ou=people,$BASE
objectClass: inetOrgPerson
uid: eve
cn: Eve O'Neil
sn: O'Neil
givenName: Eve
mail: eve@example.org
mobile: +49 175 5555
employeeNumber: 1005
userPassword: $(ssha evepw saltEve1)
entryUUID: 55555555-5555-4555-8555-555555555555

dn: cn=staff,ou=groups,$BASE
objectClass: groupOfNames
cn: staff
member: uid=alice,ou=people,$BASE
member: uid=bob,ou=people,$BASE

dn: cn=admins,ou=groups,$BASE
objectClass: groupOfNames
cn: admins
member: uid=alice,ou=people,$BASE
EOF
}

make_tls() {
    [ -f "$TLS_DIR/server.pem" ] && return 0
    mkdir -p "$TLS_DIR"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=pi-ldap-test CA" \
        -keyout "$TLS_DIR/ca.key" -out "$TLS_DIR/ca.pem" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        >/dev/null 2>&1
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
        -keyout "$TLS_DIR/server.key" -out "$TLS_DIR/server.csr" >/dev/null 2>&1
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$TLS_DIR/ext.cnf"
    openssl x509 -req -in "$TLS_DIR/server.csr" -CA "$TLS_DIR/ca.pem" -CAkey "$TLS_DIR/ca.key" \
        -CAcreateserial -days 2 -extfile "$TLS_DIR/ext.cnf" -out "$TLS_DIR/server.pem" >/dev/null 2>&1
    chmod 644 "$TLS_DIR"/*
}

write_conf() {
    local tls_conf=""
    if [ -n "$LDAP_TEST_TLS_PORT" ]; then
        make_tls
        tls_conf="TLSCACertificateFile $TLS_DIR/ca.pem
TLSCertificateFile $TLS_DIR/server.pem
TLSCertificateKeyFile $TLS_DIR/server.key"
    fi
    cat > "$LDAP_TEST_DIR/slapd.conf" <<EOF
# generated by tools/ldap-test-server.sh -- test-only, loopback only
include $SCHEMA_DIR/core.schema
include $SCHEMA_DIR/cosine.schema
include $SCHEMA_DIR/nis.schema
include $SCHEMA_DIR/inetorgperson.schema
modulepath $MODULE_DIR
moduleload back_mdb
pidfile $PIDFILE
argsfile $LDAP_TEST_DIR/slapd.args
loglevel stats
sizelimit 500
$tls_conf

database mdb
maxsize 104857600
suffix "$BASE"
rootdn "$ROOTDN"
rootpw $(ssha "$ROOTPW" saltRoot)
directory $LDAP_TEST_DIR/db
index objectClass eq
index uid eq,sub
index cn eq,sub
index mail eq,sub
index entryUUID eq
access to attrs=userPassword
    by self write
    by anonymous auth
    by * none
access to *
    by * read
EOF
}

answers() {
    ldapsearch -x -LLL -H "$URI" -b "" -s base "(objectClass=*)" namingContexts >/dev/null 2>&1
}

cmd_install() {
    if command -v slapd >/dev/null 2>&1 || [ -x "$SLAPD" ]; then
        if command -v ldapsearch >/dev/null 2>&1; then
            log "slapd and ldap-utils already installed"
            return 0
        fi
    fi
    local made_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        # keep the package from starting a system-wide slapd on port 389
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slapd ldap-utils || {
        [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
        return 1
    }
    [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
    log "installed slapd and ldap-utils"
}

cmd_start() {
    [ -x "$SLAPD" ] || { log "$SLAPD missing: run '$0 install' (apt-get install slapd ldap-utils)"; exit 1; }
    command -v ldapsearch >/dev/null 2>&1 || { log "ldapsearch missing: run '$0 install'"; exit 1; }
    if is_running; then
        log "already running (pid $(cat "$PIDFILE")) on $URI"
        return 0
    fi
    rm -f "$PIDFILE"
    mkdir -p "$LDAP_TEST_DIR/db"
    write_conf
    write_ldif > "$LDAP_TEST_DIR/fixture.ldif"
    if [ ! -f "$LDAP_TEST_DIR/db/data.mdb" ]; then
        log "loading fixture into $LDAP_TEST_DIR/db"
        "$SLAPADD" -f "$LDAP_TEST_DIR/slapd.conf" -l "$LDAP_TEST_DIR/fixture.ldif" \
            >"$LDAP_TEST_DIR/slapadd.log" 2>&1 || { cat "$LDAP_TEST_DIR/slapadd.log" >&2; exit 1; }
    fi
    log "starting slapd on $URI"
    # slapd forks into the background and writes its PID to $PIDFILE.
    # -d would keep it in the foreground; instead stats go to syslog (if any).
    local listen="$URI/"
    [ -n "$LDAP_TEST_TLS_PORT" ] && listen="$URI/ ldaps://$LDAP_TEST_HOST:$LDAP_TEST_TLS_PORT/"
    "$SLAPD" -f "$LDAP_TEST_DIR/slapd.conf" -h "$listen" -n pi-ldap-test \
        >"$LDAP_TEST_DIR/slapd.out" 2>&1 </dev/null
    for _ in $(seq 1 50); do
        if is_running && answers; then
            local n
            n="$(ldapsearch -x -LLL -H "$URI" -D "$ROOTDN" -w "$ROOTPW" -b "$BASE" \
                 "(objectClass=inetOrgPerson)" dn | grep -c '^dn:' || true)"
            log "running (pid $(cat "$PIDFILE")), $n users under $BASE"
            [ "$n" = "5" ] || { log "expected 5 users, found $n"; exit 1; }
            # a user bind with the {SSHA} password must work
            ldapwhoami -x -H "$URI" -D "uid=alice,ou=people,$BASE" -w alicepw >/dev/null \
                || { log "bind as alice failed"; exit 1; }
            return 0
        fi
        sleep 0.2
    done
    log "slapd did not come up; see $LDAP_TEST_DIR/slapd.out"
    cat "$LDAP_TEST_DIR/slapd.out" >&2 || true
    exit 1
}

cmd_stop() { daemon_stop 50 0.2; }

cmd_status() { daemon_status "uri=$URI"; }

cmd_env() {
    echo "LDAP_URI=$URI"
    echo "LDAP_BASE=$BASE"
    echo "LDAP_BINDDN=$ROOTDN"
    echo "LDAP_BINDPW=$ROOTPW"
    echo "LDAP_READER_DN=cn=reader,ou=services,$BASE"
    echo "LDAP_READER_PW=readerpw"
    if [ -n "$LDAP_TEST_TLS_PORT" ]; then
        echo "LDAPS_URI=ldaps://$LDAP_TEST_HOST:$LDAP_TEST_TLS_PORT"
        echo "LDAP_CA_FILE=$TLS_DIR/ca.pem"
    fi
}

case "${1:-}" in
    install) cmd_install ;;
    start)   cmd_start ;;
    stop)    cmd_stop ;;
    restart) cmd_stop; cmd_start ;;
    reset)   cmd_stop; rm -rf "$LDAP_TEST_DIR"; cmd_start ;;
    status)  cmd_status ;;
    ldif)    write_ldif ;;
    env)     cmd_env ;;
    *) echo "usage: $0 {install|start|stop|restart|status|reset|ldif|env}" >&2; exit 2 ;;
esac
