import json, logging
logging.disable(logging.CRITICAL)
from privacyidea.lib import passlib_compat  # noqa
from privacyidea.lib.resolvers.PasswdIdResolver import IdResolver
r = IdResolver().loadConfig({"fileName": "passwd"})
out = {"list": r.getUserList({}),
       "info": {u: r.get_user_info(r.getUserId(u)) for u in ["alice","bob","carol","erin","Mallory","service"]},
       "uid": {u: r.getUserId(u) for u in ["alice", "Alice", "mallory", "Mallory", "nobody", ""]},
       "username": {u: r.getUsername(u) for u in ["2000", "900", "1", ""]}}
searches = [{"username":"a*"},{"username":"*E"},{"username":"*AL*"},{"description":"*example*"},
    {"email":"*example.com"},{"email":"mallory@example.com"},{"userid":">2005"},{"userid":"<=999"},
    {"userid":"between 2100, 2003"},{"userid":"=2001"},{"userid":">=2100"},{"userid":"<1000"},
    {"userid":" > 2006 "},{"userid":"between2000,2001"},{"userid":">abc"},
    {"username":"*"},{"username":"*", "userid":">2004"},{"description":""},{"username":"ALICE"}]
out["search"] = [[s, [u["username"] for u in r.getUserList(s)]] for s in searches]
out["checks"] = [[u, pw, r.checkPass(r.getUserId(u), pw)] for u, pw in
    [("alice","secret1"),("alice","wrong"),("bob","hunter2"),("bob","Hunter2"),("carol","correct horse"),
     ("dave","pässwörd"),("dave","passwort"),("erin","erinpw"),("heidi",""),("heidi","x"),
     ("ivan","ivanpw"),("judy","judypw"),("Mallory","malpw")]]
json.dump(out, open("passwd.expected.json","w"), indent=1, ensure_ascii=False, sort_keys=True)
print(json.dumps(out["search"]))
