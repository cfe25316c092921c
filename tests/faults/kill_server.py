#!/usr/bin/env python3
"""Fault test: SIGKILL the server in the middle of a large import and a burst
of writes (issue 12, item 4). The database must hold every write that was
answered 200 and nothing half-written (the import is one transaction: all of
its policies or none); the restarted server serves exactly that.

usage: kill_server.py PI_SERVER_BIN PI_CFG
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

BIN, CFG = sys.argv[1:3]
N_IMPORT = 3000


def start():
    p = subprocess.Popen([BIN, "--config", CFG, "--listen", "127.0.0.1:0", "--workers", "4"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    while True:
        line = p.stdout.readline()
        if not line:
            sys.exit("pi-server exited before listening")
        if line.startswith("pi-server listening on "):
            base = line.split("listening on ", 1)[1].strip()
            threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
            return p, base


def call(base, token, method, path, body=None, ctype="application/json", timeout=60):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if token:
        req.add_header("Authorization", token)
    if data is not None:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, None
    except Exception:
        return None, None


def login(base):
    data = b"username=admin&password=Fault123!"
    _, body = call(base, None, "POST", "/auth", data, "application/x-www-form-urlencoded")
    return body["result"]["value"]["token"]


proc, base = start()
token = login(base)
# the import file: N_IMPORT policies, one transaction
cfg = "".join(
    f"[imp{i}]\nscope = webui\naction = \"{{'login_mode': 'userstore'}}\"\nactive = True\npriority = 1\n\n"
    for i in range(N_IMPORT)
).encode()
boundary = "faultboundary"
multipart = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.cfg\"\r\n"
             f"Content-Type: text/plain\r\n\r\n").encode() + cfg + f"\r\n--{boundary}--\r\n".encode()

acked = []  # policy names answered 200
lock = threading.Lock()
stop = threading.Event()


def writer(w):
    n = 0
    while not stop.is_set():
        n += 1
        name = f"burst_{w}_{n}"
        status, _ = call(base, token, "POST", f"/policy/{name}",
                         {"scope": "webui", "action": "login_mode=userstore"}, timeout=10)
        if status == 200:
            with lock:
                acked.append(name)
        elif status is None:
            return


import_result = {}


def importer():
    import_result["status"], _ = call(base, token, "POST", "/policy/import/p.cfg", multipart,
                                      f"multipart/form-data; boundary={boundary}", timeout=120)


threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
threads.append(threading.Thread(target=importer))
for t in threads:
    t.start()
time.sleep(1.0)
os.kill(proc.pid, signal.SIGKILL)
proc.wait()
stop.set()
for t in threads:
    t.join(timeout=30)

proc, base = start()
token = login(base)
_, body = call(base, token, "GET", "/policy/")
names = {p["name"] for p in body["result"]["value"]}
imported = sum(1 for n in names if n.startswith("imp"))
missing = [n for n in acked if n not in names]
print(f"writes answered 200 before the kill: {len(acked)}; import answered: {import_result.get('status')}")
print(f"after restart: {len(names)} policies, {imported} of {N_IMPORT} imported ones, {len(missing)} acknowledged writes missing")
proc.send_signal(signal.SIGTERM)
proc.wait(timeout=10)
ok = not missing and imported in (0, N_IMPORT)
if import_result.get("status") == 200 and imported != N_IMPORT:
    ok = False
print("OK" if ok else "FAIL")
sys.exit(0 if ok else 1)
