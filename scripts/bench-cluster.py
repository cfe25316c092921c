#!/usr/bin/env python3
"""Two-node propagation time (issue 12): how long after a commit on node A
(A's 200 answer) node B serves the write. Polls B's GET /policy/<name> back
to back after each write on A and reports p50/p99 over ROUNDS writes.

usage: bench-cluster.py URL_A TOKEN_A URL_B TOKEN_B [ROUNDS]
(scripts/bench-cluster.sh starts the two nodes on one database.)
"""
import json
import statistics
import sys
import time
import urllib.request

a, ta, b, tb = sys.argv[1:5]
rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 200


def call(base, token, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


lat, polls = [], []
for i in range(rounds):
    prio = i + 1
    call(a, ta, "POST", "/policy/propagate", {"scope": "webui", "action": "login_mode=userstore", "priority": prio})
    t0 = time.perf_counter()
    n = 0
    while True:
        n += 1
        v = call(b, tb, "GET", "/policy/propagate")["result"]["value"]
        if v and v[0]["priority"] == prio:
            break
    lat.append((time.perf_counter() - t0) * 1000)
    polls.append(n)
lat.sort()
p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
print(f"writes: {rounds}; A commit -> B serves it: p50 {statistics.median(lat):.2f} ms, "
      f"p99 {p99:.2f} ms, max {lat[-1]:.2f} ms; B requests needed: max {max(polls)} "
      f"(1 = B's very next request served it)")
