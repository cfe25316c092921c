#!/usr/bin/env bash
# Round trip of `pi-manage config export/import` (policies, realms,
# resolvers) between the released privacyIDEA 3.14 and this server:
#
#   1. import source.json into a fresh release database with the release's
#      own pi-manage, export it again            -> ref1.json
#   2. import ref1.json into a fresh database of ours with our pi-manage,
#      export it                                 -> ours.json
#   3. import ours.json into a fresh release database, export it -> ref2.json
#
# and requires ref1 == ours == ref2 (realm ids aside). No server is started.
#
#   bash scripts/config-roundtrip/run.sh
#
# Needs the release installed by scripts/ref/ref-server.sh (PI_REF_DIR,
# default ~/.cache/privacyidea-ref-roundtrip; `install` runs when its venv is
# missing, which needs PyPI) and python3.
set -euo pipefail
cd "$(dirname "$0")/../.."

export PI_REF_DIR="${PI_REF_DIR:-$HOME/.cache/privacyidea-ref-roundtrip}"
REF=scripts/ref/ref-server.sh
HERE=scripts/config-roundtrip
work=$(mktemp -d /tmp/pi-roundtrip.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ ! -x "$PI_REF_DIR/venv/bin/pi-manage" ]; then
    bash "$REF" install >/dev/null
fi
eval "$(bash "$REF" env | grep '^export')"
ref_manage() { "$PI_REF_DIR/venv/bin/pi-manage" "$@"; }

cargo build -q -p pi-manage
ours() { ./target/debug/pi-manage --config "$work/ours/pi.cfg" "$@"; }

echo "1. release: import source.json, export"
bash "$REF" reset >/dev/null 2>&1
ref_manage config import -i "$HERE/source.json"
ref_manage config export -t policy -t realm -t resolver >"$work/ref1.json"

echo "2. ours: import ref1.json, export"
mkdir -p "$work/ours"
ours setup >/dev/null
ours config import -i "$work/ref1.json"
ours config export -t policy -t realm -t resolver >"$work/ours.json"

echo "3. release: import ours.json, export"
bash "$REF" reset >/dev/null 2>&1
ref_manage config import -i "$work/ours.json"
ref_manage config export -t policy -t realm -t resolver >"$work/ref2.json"
bash "$REF" stop >/dev/null 2>&1 || true

python3 - "$work/ref1.json" "$work/ours.json" "$work/ref2.json" <<'PY'
import json, sys

def load(p):
    d = json.load(open(p))
    for r in d.get("realm", {}).values():
        r.pop("id", None)
    d["policy"] = sorted(d.get("policy", []), key=lambda x: x["name"])
    return d

ref1, ours, ref2 = (load(p) for p in sys.argv[1:4])
bad = 0
for key in ("policy", "realm", "resolver", "privacyIDEA_version"):
    for label, other in (("ours", ours), ("release again", ref2)):
        if ref1.get(key) != other.get(key):
            bad += 1
            print(f"DIFFERENT {key}: release vs {label}")
            print("  release:", json.dumps(ref1.get(key), sort_keys=True))
            print(f"  {label}:", json.dumps(other.get(key), sort_keys=True))
n = len(ref1["policy"]), len(ref1["realm"]), len(ref1["resolver"])
if bad:
    sys.exit(1)
print(f"round trip identical: {n[0]} policies, {n[1]} realms, {n[2]} resolvers")
PY
