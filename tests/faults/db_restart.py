#!/usr/bin/env python3
"""Fault test: restart the database under load (issue 12, item 4).

Drives a running pi-server with concurrent readers (GET /policy/) and writers
(POST /policy/<name>) while the caller restarts the database (a `restart`
command given as argv). Asserts: every answer is 200 or 503, none takes
longer than the pool checkout timeout plus a margin, and service resumes
within a few seconds after the database is back. Prints the numbers.

usage: db_restart.py BASE_URL TOKEN 'stop command' 'start command'
"""
import functools
import subprocess
import sys
import threading
import time

from faultlib import timed_request

BASE, TOKEN, STOP, START = sys.argv[1:5]
CHECKOUT_TIMEOUT = 3.0  # pi-store's default pool checkout timeout
MARGIN = 1.5  # all database waits of a request share one checkout timeout
THREADS = 8

lock = threading.Lock()
statuses = {}
longest = 0.0
events = []  # (time, status)
stop_flag = threading.Event()


request = functools.partial(timed_request, BASE, TOKEN)


def worker(i):
    global longest
    n = 0
    while not stop_flag.is_set():
        n += 1
        if i % 2:
            status, dt = request("GET", "/policy/")
        else:
            status, dt = request(
                "POST",
                f"/policy/fault_{i}_{n % 20}",
                {"scope": "webui", "action": "login_mode=userstore", "priority": n % 50 + 1},
            )
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
            longest = max(longest, dt)
            events.append((time.monotonic(), status))


threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(THREADS)]
for t in threads:
    t.start()
time.sleep(3)
t_stop = time.monotonic()
subprocess.run(STOP, shell=True, check=True)
time.sleep(4)
subprocess.run(START, shell=True, check=True)
t_back = time.monotonic()
time.sleep(8)
stop_flag.set()
for t in threads:
    t.join(timeout=40)

first_ok_after = next((t for t, s in events if t >= t_back and s == 200), None)
print("answers by status:", dict(sorted(statuses.items(), key=lambda kv: str(kv[0]))))
print(f"longest answer: {longest:.2f} s")
print(f"database down for {t_back - t_stop:.1f} s")
if first_ok_after is not None:
    print(f"first 200 after the database was back: {first_ok_after - t_back:.2f} s")
bad = {k: v for k, v in statuses.items() if k not in (200, 503)}
ok = True
if bad:
    print("FAIL: answers other than 200/503:", bad)
    ok = False
if longest > CHECKOUT_TIMEOUT + MARGIN:
    print(f"FAIL: an answer took {longest:.2f} s (> {CHECKOUT_TIMEOUT + MARGIN} s)")
    ok = False
if 503 not in statuses:
    print("FAIL: no 503 while the database was down")
    ok = False
if first_ok_after is None or first_ok_after - t_back > 10:
    print("FAIL: service did not resume within 10 s")
    ok = False
sys.exit(0 if ok else 1)
