from privacyidea.lib import passlib_compat  # noqa
from passlib.hash import sha512_crypt, sha256_crypt, bcrypt
lines = []
def add(name, pw, uid, gecos, hasher, **kw):
    h = hasher.using(**kw).hash(pw) if hasher else pw
    lines.append(f"{name}:{h}:{uid}:{uid}:{gecos}:/home/{name}:/bin/bash")
add("alice", "secret1", 2000, "Alice Wonder,Room 1,+491700000001,+49301234,alice@example.org", sha512_crypt, rounds=5000)
add("bob", "hunter2", 2001, "Bob,,+491700000002,+49305678,nomail,bob@example.com", sha256_crypt, rounds=5000)
add("carol", "correct horse", 2002, "Carol Ann Smith,Office,,", bcrypt, ident="2b", rounds=5)
add("dave", "pässwörd", 2003, "Dave", bcrypt, ident="2a", rounds=4)
add("erin", "erinpw", 2004, "Erin Example,a,b,c,first@one.org,second@two.net", bcrypt, ident="2y", rounds=4)
add("frank", "x", 2005, "Frank Shadow", None)
add("grace", "*", 2006, "Grace Star", None)
add("heidi", "", 2007, "Heidi Empty", None)
add("ivan", "ivanpw", 2010, "Ivan Rounds", sha512_crypt, rounds=1000)
add("judy", "judypw", 2100, "Judy", sha256_crypt, rounds=1000)
add("Mallory", "malpw", 900, "Mallory Upper,,,,Mallory@Example.COM", sha512_crypt, rounds=1000)
lines.append("")
lines.append("service:!:999:999::/srv:/usr/sbin/nologin")
with open("passwd", "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")
