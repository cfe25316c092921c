#!/usr/bin/env bash
# The differential test against the released privacyIDEA 3.14, self-contained:
# installs the release (scripts/ref/ref-server.sh, pinned by its lock file)
# into $PI_REF_DIR, starts it and our debug build on free loopback ports with
# fresh databases, runs scripts/differential.py (the policy engine) and
# scripts/compare-not-found.py (unknown paths, the WebUI's paths, redirects,
# HEAD, OPTIONS; our WebUI served from the release's own static folder) and
# scripts/compare-audit.py (answers and audit rows of those and of a
# write/read sequence), stops both.
#
#   ROUNDS=3 QUERIES=100 scripts/differential-ci.sh     # CI: 300 queries
#   ROUNDS=20 QUERIES=100 scripts/differential-ci.sh    # 2,000 queries
#
# Needs python3 (with venv) and network access to PyPI for the first install.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS="${ROUNDS:-3}"
QUERIES="${QUERIES:-100}"
SEED="${SEED:-$(date +%s)}"
export PI_REF_DIR="${PI_REF_DIR:-$HOME/.cache/privacyidea-ref-ci}"
REF_PORT="${REF_PORT:-5301}"
OURS_PORT="${OURS_PORT:-5302}"
export REF_PORT
. scripts/lib/ref-pair.sh
start_ref /tmp/pi-diff.XXXXXX

cargo build -q -p pi-server -p pi-manage
static=$("$PI_REF_DIR/venv/bin/python" -c 'import os, privacyidea; print(os.path.join(os.path.dirname(privacyidea.__file__), "static"))')
cat > "$work/pi.cfg" <<EOF
import logging
SQLALCHEMY_DATABASE_URI = 'sqlite:///$work/pi.sqlite'
SECRET_KEY = '$(openssl rand -hex 32)'
PI_PEPPER = '$(openssl rand -hex 24)'
PI_ENCFILE = '$work/enckey'
PI_UUID_FILE = '$work/uuid.txt'
PI_NODE = 'refnode'
PI_LOGLEVEL = logging.WARNING
SUPERUSER_REALM = ['superuser']
PI_WEBUI_STATIC_DIR = '$static'
EOF
./target/debug/pi-manage --config "$work/pi.cfg" create_enckey >/dev/null
./target/debug/pi-manage --config "$work/pi.cfg" create_tables >/dev/null
printf 'test\n' | ./target/debug/pi-manage --config "$work/pi.cfg" admin add admin --password-stdin >/dev/null
start_ours "$work/pi.cfg"

echo "differential test: $ROUNDS rounds x $QUERIES queries, seed $SEED"
python3 scripts/differential.py \
    --ours "http://127.0.0.1:$OURS_PORT" --ref "http://127.0.0.1:$REF_PORT" \
    --data-dir "$PI_REF_DIR/data" --rounds "$ROUNDS" --queries "$QUERIES" --seed "$SEED"

echo "unknown paths, the WebUI's paths, redirects, HEAD, OPTIONS"
python3 scripts/compare-not-found.py "http://127.0.0.1:$OURS_PORT" "http://127.0.0.1:$REF_PORT"

echo "answers and audit rows: HEAD, OPTIONS, redirects, 404, 405, a write/read sequence"
python3 scripts/compare-audit.py "http://127.0.0.1:$OURS_PORT" "http://127.0.0.1:$REF_PORT"
