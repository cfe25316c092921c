#!/usr/bin/env python3
"""Fault tests: a full connection pool, slow clients, oversized bodies (issue 12, item 4).

usage: limits.py BASE_URL TOKEN 'lock command'

* pool exhaustion: the `lock command` holds a table lock on `policy` in the
  database for a few seconds (MariaDB `LOCK TABLES … WRITE; SELECT SLEEP(n)`);
  48 clients read single policies (each read needs its own connection and
  blocks in the database), so the pool (8) fills and further requests queue
  for a connection. Every answer must be 200 or 503 within the checkout
  timeout plus a margin — no queue that keeps growing — and all reads are
  200 again right after the lock is gone.
* slowloris: 100 connections send their request head one byte per second,
  10 more send a complete head and then their body one byte per second;
  meanwhile a normal client must keep being served (every answer 200, fast),
  and the server must cut every slow connection (request-head timeout 5 s,
  body timeout PI_BODY_TIMEOUT = 3 s in the fault suite's pi.cfg).
* oversized bodies: a 64 MiB body (Content-Length and chunked) is refused
  with 413 after the first MiB, without reading the rest; others are served.
"""
import functools
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

from faultlib import timed_request

BASE, TOKEN, LOCK_CMD = sys.argv[1:4]
HOST, PORT = urllib.parse.urlsplit(BASE).hostname, urllib.parse.urlsplit(BASE).port
CHECKOUT_TIMEOUT = 3.0
MARGIN = 1.5
failures = []


def fail(msg):
    print("FAIL:", msg)
    failures.append(msg)


request = functools.partial(timed_request, BASE, TOKEN)


def hammer(path, threads, seconds, method="GET"):
    """Runs `threads` clients for `seconds`; returns (statuses, longest, count)."""
    lock = threading.Lock()
    statuses, longest, stop = {}, [0.0], time.monotonic() + seconds

    def worker():
        while time.monotonic() < stop:
            status, dt = request(method, path)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                longest[0] = max(longest[0], dt)

    ts = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=seconds + 30)
    return statuses, longest[0]


# ---------------------------------------------------------------- pool
print("== pool exhaustion (policy table locked in the database for 6 s)")
for i in range(8):
    request("POST", f"/policy/poolfill{i}", {"scope": "webui", "action": "login_mode=userstore"})
locker = subprocess.Popen(LOCK_CMD, shell=True)
time.sleep(0.5)  # the lock is taken
statuses, longest = hammer("/policy/poolfill1", 48, 5.0)
print("answers by status:", dict(sorted(statuses.items(), key=lambda kv: str(kv[0]))))
print(f"longest answer: {longest:.2f} s")
if set(statuses) - {200, 503}:
    fail(f"answers other than 200/503 with a full pool: {statuses}")
if 503 not in statuses:
    fail("no 503 while the pool was full")
if longest > CHECKOUT_TIMEOUT + MARGIN:
    fail(f"an answer took {longest:.2f} s with a full pool (> {CHECKOUT_TIMEOUT + MARGIN} s)")
locker.wait(timeout=30)
statuses, longest = hammer("/policy/poolfill1", 8, 1.0)
print("after the lock:", statuses, f"longest {longest:.2f} s")
if set(statuses) != {200}:
    fail(f"reads did not recover after the lock was released: {statuses}")

# ---------------------------------------------------------------- slowloris
print("== slowloris: 100 slow request heads, 10 slow bodies")
head = f"GET /policy/ HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: {TOKEN}\r\nX-Slow: ".encode()
body_head = (
    f"POST /policy/slowbody HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: {TOKEN}\r\n"
    "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
).encode()
cut_after = {}  # kind -> [seconds until the server closed the connection]
cut_lock = threading.Lock()


def slow_client(kind, first):
    s = socket.create_connection((HOST, PORT), timeout=30)
    s.settimeout(1.0)
    t0 = time.monotonic()
    s.sendall(first)
    answer = b""
    while time.monotonic() - t0 < 25:
        try:
            s.sendall(b"a")
        except OSError:
            break
        try:
            data = s.recv(4096)
            if not data:
                break
            answer += data
        except socket.timeout:
            continue
        except OSError:
            break
    with cut_lock:
        cut_after.setdefault(kind, []).append((time.monotonic() - t0, answer[:12]))
    s.close()


slow = [threading.Thread(target=slow_client, args=("head", head), daemon=True) for _ in range(100)]
slow += [threading.Thread(target=slow_client, args=("body", body_head), daemon=True) for _ in range(10)]
for t in slow:
    t.start()
time.sleep(0.5)
statuses, longest = hammer("/policy/", 4, 4.0)
print("normal clients meanwhile:", statuses, f"longest {longest:.2f} s")
if set(statuses) != {200} or longest > 1.0:
    fail(f"normal clients were not served during the slowloris: {statuses}, longest {longest:.2f} s")
for t in slow:
    t.join(timeout=40)
for kind, limit in (("head", 5.0), ("body", 3.0)):
    times = [t for t, _ in cut_after.get(kind, [])]
    answers = sorted({a.decode(errors="replace") for _, a in cut_after.get(kind, [])})
    print(f"slow {kind}s: {len(times)} cut after {min(times, default=0):.1f}–{max(times, default=0):.1f} s, answers {answers}")
    if len(times) != (100 if kind == "head" else 10) or max(times, default=99) > limit + 4:
        fail(f"slow {kind}s were not cut within {limit} s (+4 s): {times}")
body_answers = [a for _, a in cut_after.get("body", [])]
if not all(a.startswith(b"HTTP/1.1 408") for a in body_answers):
    fail(f"a slow body was not answered 408: {body_answers}")

# ---------------------------------------------------------------- oversized
print("== oversized bodies (64 MiB; limit 1 MiB)")


def big_upload(chunked):
    s = socket.create_connection((HOST, PORT), timeout=30)
    s.settimeout(10)
    size = 64 << 20
    hdr = f"POST /policy/huge HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: {TOKEN}\r\nContent-Type: application/json\r\n"
    hdr += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {size}\r\n\r\n"
    t0 = time.monotonic()
    s.sendall(hdr.encode())
    block = b"x" * 65536
    sent, answer = 0, b""
    s.setblocking(False)
    while sent < size and time.monotonic() - t0 < 20:
        try:
            data = block if not chunked else b"10000\r\n" + block + b"\r\n"
            s.sendall(data)
            sent += len(block)
        except BlockingIOError:
            time.sleep(0.01)
        except OSError:
            break
        try:
            got = s.recv(4096)
            if not got:
                break
            answer += got
            if b"\r\n\r\n" in answer:
                break
        except BlockingIOError:
            pass
        except OSError:
            break
    dt = time.monotonic() - t0
    s.close()
    return answer[:12], sent, dt


for chunked in (False, True):
    answer, sent, dt = big_upload(chunked)
    kind = "chunked" if chunked else "Content-Length"
    print(f"{kind}: answer {answer!r} after {sent >> 20} MiB sent, {dt:.2f} s")
    if not answer.startswith(b"HTTP/1.1 413") or sent >= 64 << 20 or dt > 5:
        fail(f"oversized {kind} body not cut with 413 ({answer!r}, {sent} bytes, {dt:.2f} s)")
status, dt = request("GET", "/policy/")
if status != 200:
    fail(f"server not serving after the oversized bodies: {status}")

sys.exit(1 if failures else 0)
