# Decrypts values encrypted by pi-realm with privacyIDEA's own security module
# and records them in enckey.vectors.json as "rust_vectors".
# Usage (in testdata/): python check_rust_vectors.py /tmp/rustvec.json
import json, sys, logging
logging.disable(logging.CRITICAL)
from privacyidea.lib.security.default import DefaultSecurityModule
hsm = DefaultSecurityModule({"file": "enckey"})
rust = json.load(open(sys.argv[1]))
for plain, stored in rust:
    assert hsm.decrypt_password(stored) == plain, (plain, stored)
vec = json.load(open("enckey.vectors.json"))
vec["rust_vectors"] = rust
json.dump(vec, open("enckey.vectors.json", "w"), indent=1, ensure_ascii=False)
print("ok", len(rust))
