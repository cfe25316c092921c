#!/usr/bin/env python3
"""Differential test of policy decisions: our server against the released
privacyIDEA 3.14 (../shared/tools/ref-server.sh), over real HTTP.

Both servers get the same passwd resolvers and realms, then, round after
round, the same random set of authorization policies (user, realm, resolver
lists with exclusions and patterns, client lists, check_all_resolvers,
user_case_insensitive, priorities, inactive conditions that only move a
policy in the load order) and the same random `GET /policy/check` queries.
Status, `allowed` and the names of the matching policies *in order* must be
identical.

Usage:
  scripts/differential.py --ours http://127.0.0.1:5077 --ref http://127.0.0.1:5001 \
      --data-dir ~/.cache/privacyidea-ref/data [--rounds 20 --queries 100 --seed 1]

Both servers need the admin `admin` with password `test` and no admin
policies; `--data-dir` holds the reference's passwd files (users.passwd,
users2.passwd), readable by both servers. Exit status 1 on any difference.
Standard library only.
"""

import argparse
import json
import os
import random
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from http_json import request_json  # noqa: E402


class Server:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.token = None

    def call(self, method, path, data=None):
        headers = {}
        body = None
        if data is not None:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = self.token
        return request_json(self.base + path, method, body, headers,
                            unparsed=lambda raw: {"raw": raw[:200].decode("utf-8", "replace")})

    def login(self):
        status, body = self.call("POST", "/auth", {"username": "admin", "password": "test"})
        if status != 200:
            raise SystemExit(f"{self.base}: admin login failed: {status} {body}")
        self.token = body["result"]["value"]["token"]


REALMS = ["realm1", "realm2", "realm3"]
USERS = ["alice", "bob", "frank", "Alice", "BOB", "grace", "nobody"]
RESOLVERS = ["reso1", "reso2"]
CLIENTS = ["10.0.0.1", "10.0.0.5", "192.168.1.7", "172.16.0.1", "8.8.8.8"]


def pick_list(rng, plain, extra):
    """A random comma list (or empty) of plain names, `*`, exclusions and patterns."""
    if rng.random() < 0.35:
        return ""
    items = set()
    for _ in range(rng.randint(1, 3)):
        kind = rng.random()
        if kind < 0.5:
            items.add(rng.choice(plain))
        elif kind < 0.7:
            items.add("*")
        elif kind < 0.9:
            items.add(rng.choice(["!", "-"]) + rng.choice(plain))
        else:
            items.add(rng.choice(extra) if extra else "*")
    return ", ".join(sorted(items))


def random_policy(rng):
    p = {
        "scope": "authorization",
        "action": rng.choice(["tokentype=hotp", "tokentype=totp", "tokentype=hotp totp",
                              "serial=abc", "tokentype=hotp, serial=x"]),
        "realm": pick_list(rng, REALMS, []),
        "user": pick_list(rng, [u for u in USERS if u != "nobody"], ["al.*", "b.b", "[fg].*"]),
        "resolver": pick_list(rng, RESOLVERS, []),
        "client": ", ".join(sorted(set(rng.sample(
            ["10.0.0.0/8", "!10.0.0.5", "192.168.0.0/16", "172.16.0.1", "-192.168.1.7"],
            rng.randint(1, 2))))) if rng.random() < 0.3 else "",
        "priority": rng.choice([1, 1, 2, 3]),
        "active": rng.random() < 0.9,
        "check_all_resolvers": rng.random() < 0.2,
        "user_case_insensitive": rng.random() < 0.25,
    }
    if rng.random() < 0.3:
        # Inactive: never decides, but moves the policy in the load order.
        p["conditions"] = [["HTTP Request header", "X-Test", "equals", "x", False]]
    return p


def random_query(rng):
    q = {"scope": "authorization", "action": rng.choice(["tokentype", "serial"])}
    if rng.random() < 0.85:
        q["user"] = rng.choice(USERS)
    if rng.random() < 0.85:
        q["realm"] = rng.choice(REALMS)
    if rng.random() < 0.75:
        q["resolver"] = rng.choice(RESOLVERS)
    q["client"] = rng.choice(CLIENTS)
    return q


def decision(status, body):
    if status != 200:
        return status, body.get("result", {}).get("error")
    v = body["result"]["value"]
    return status, v.get("allowed"), [p["name"] for p in v.get("policy", [])]


def setup(servers, data_dir):
    for s in servers:
        s.login()
        for name, f in [("reso1", "users.passwd"), ("reso2", "users2.passwd")]:
            st, b = s.call("POST", "/resolver/" + name,
                           {"type": "passwdresolver", "fileName": f"{data_dir}/{f}"})
            assert st == 200, (s.base, st, b)
        for realm, body in [
            ("realm1", {"resolvers": "reso1, reso2", "priority.reso1": 1, "priority.reso2": 2}),
            ("realm2", {"resolvers": "reso2"}),
            ("realm3", {"resolvers": "reso2, reso1", "priority.reso2": 1, "priority.reso1": 5}),
        ]:
            st, b = s.call("POST", "/realm/" + realm, body)
            assert st == 200, (s.base, st, b)


def clear_policies(servers):
    for s in servers:
        st, b = s.call("GET", "/policy/")
        for p in b["result"]["value"]:
            s.call("DELETE", "/policy/" + urllib.parse.quote(p["name"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--ref", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--policies", type=int, default=25)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    ref, ours = Server(a.ref), Server(a.ours)
    servers = [ref, ours]
    setup(servers, a.data_dir)
    total = diffs = matched = 0
    for rnd in range(a.rounds):
        clear_policies(servers)
        for i in range(a.policies):
            p = random_policy(rng)
            answers = [s.call("POST", f"/policy/d{rnd}_{i}", p) for s in servers]
            if answers[0][0] != answers[1][0]:
                diffs += 1
                print(f"DIFF create d{rnd}_{i} {json.dumps(p)}\n  ref:  {answers[0]}\n  ours: {answers[1]}")
        # The list order must agree as well.
        lists = [[p["name"] for p in s.call("GET", "/policy/")[1]["result"]["value"]] for s in servers]
        if lists[0] != lists[1]:
            diffs += 1
            print(f"DIFF GET /policy/ order (round {rnd})\n  ref:  {lists[0]}\n  ours: {lists[1]}")
        for _ in range(a.queries):
            q = random_query(rng)
            path = "/policy/check?" + urllib.parse.urlencode(q)
            r = [decision(*s.call("GET", path)) for s in servers]
            total += 1
            if r[0] != r[1]:
                diffs += 1
                print(f"DIFF {path}\n  ref:  {r[0]}\n  ours: {r[1]}")
            elif r[0][0] == 200 and r[0][2]:
                matched += 1
    clear_policies(servers)
    print(f"{total} queries over {a.rounds} policy sets of {a.policies}: "
          f"{matched} with matching policies, {diffs} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
