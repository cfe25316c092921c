#!/usr/bin/env bash
# Validates the OpenAPI 3.1 document pi-server serves at GET /openapi.json
# (printed by `pi-server --openapi`) with openapi-spec-validator from PyPI,
# installed (pinned) in a venv under ~/.cache. Needs python3-venv.
#
#   scripts/openapi-validate.sh          # builds the debug pi-server if needed
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${OPENAPI_VENV:-$HOME/.cache/pi-openapi-venv}
VERSION=0.7.2
if ! "$VENV/bin/python" -c "import openapi_spec_validator, importlib.metadata as m; assert m.version('openapi-spec-validator') == '$VERSION'" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "openapi-spec-validator==$VERSION"
fi
cargo build -q -p pi-server
DOC=$(mktemp --suffix=.json)
trap 'rm -f "$DOC"' EXIT
./target/debug/pi-server --openapi > "$DOC"
"$VENV/bin/openapi-spec-validator" "$DOC"
python3 - "$DOC" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["openapi"].startswith("3.1"), doc["openapi"]
ops = sum(1 for item in doc["paths"].values() for m in item if m in ("get", "post", "patch", "delete", "put"))
print(f"OpenAPI {doc['openapi']}: {len(doc['paths'])} paths, {ops} operations")
PY
