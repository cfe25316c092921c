import json, os, binascii, logging
logging.disable(logging.CRITICAL)
import privacyidea.lib.security.default as dmod
dmod.geturandom = os.urandom
from privacyidea.lib.security.default import DefaultSecurityModule
from privacyidea.lib.crypto import aes_cbc_encrypt
key = os.urandom(96)
open("enckey", "wb").write(key)
hsm = DefaultSecurityModule({"file": "enckey"})
plains = ["", "secret", "Tr0ub4dor&3 with spaces", "pässwörd ☃", "x" * 16, "y" * 47]
vec = {"password_vectors": [[p, hsm.encrypt_password(p)] for p in plains]}
# legacy format: hexlify(data) + 0x01 0x02 + zero padding, encrypted with the config key (slot 1)
def legacy(p):
    data = binascii.hexlify(p.encode()) + b"\x01\x02"
    data += b"\0" * ((16 - len(data) % 16) % 16)
    iv = os.urandom(16)
    return binascii.hexlify(iv).decode() + ":" + binascii.hexlify(aes_cbc_encrypt(key[32:64], iv, data)).decode()
vec["legacy_vectors"] = [[p, legacy(p)] for p in ["legacy secret", "abc"]]
for p, c in vec["password_vectors"] + vec["legacy_vectors"]:
    assert hsm.decrypt_password(c) == p, p
# encrypted key file (pi-manage setup encrypt_enckey) with password
enc = DefaultSecurityModule.password_encrypt(key, "keyfilepw")
open("enckey.encrypted", "w").write(enc + "\n")
h2 = DefaultSecurityModule({"file": "enckey.encrypted"})
h2.setup_module({"password": "keyfilepw"})
assert h2.decrypt_password(vec["password_vectors"][1][1]) == "secret"
vec["encrypted_keyfile_password"] = "keyfilepw"
json.dump(vec, open("enckey.vectors.json", "w"), indent=1, ensure_ascii=False)
print(json.dumps(vec, ensure_ascii=False)[:600])
