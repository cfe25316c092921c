#!/usr/bin/env python3
"""Check privacyIDEA's own WebUI against a running pi-server in headless
Chromium, the way an operator would: open the start page, log in as an
admin, open Users (a realm's users must be listed), Policies and Realms.

    python3 scripts/webui-browser-check.py http://127.0.0.1:5105 admin test realm1 alice

pi-server must serve the WebUI (`PI_WEBUI_STATIC_DIR`). Needs Debian's
`chromium`; speaks the DevTools protocol over a minimal stdlib WebSocket.
Prints what each page shows and exits non-zero when a check fails.
"""
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BASE, USER, PASSWORD, REALM, EXPECT_USER = sys.argv[1:6]
PORT = 9333


class Ws:
    def __init__(self, url):
        host_port, path = url[len("ws://"):].split("/", 1)
        host, port = host_port.split(":")
        self.sock = socket.create_connection((host, int(port)))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /{path} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        resp = b""
        while b"\r\n\r\n" not in resp:
            resp += self.sock.recv(1)
        assert b" 101 " in resp.split(b"\r\n")[0], resp
        self.next_id = 0
        self.events = []

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
        return buf

    def send(self, obj):
        data = json.dumps(obj).encode()
        head = bytearray([0x81])
        n = len(data)
        if n < 126:
            head.append(0x80 | n)
        elif n < 65536:
            head.append(0x80 | 126)
            head += n.to_bytes(2, "big")
        else:
            head.append(0x80 | 127)
            head += n.to_bytes(8, "big")
        mask = os.urandom(4)
        self.sock.sendall(bytes(head) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv(self):
        msg = b""
        while True:
            b1, b2 = self._recv_exact(2)
            n = b2 & 0x7F
            if n == 126:
                n = int.from_bytes(self._recv_exact(2), "big")
            elif n == 127:
                n = int.from_bytes(self._recv_exact(8), "big")
            msg += self._recv_exact(n)
            if b1 & 0x80:
                return json.loads(msg)

    def call(self, method, **params):
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            m = self.recv()
            if m.get("id") == self.next_id:
                return m.get("result", m)
            if "method" in m:
                self.events.append(m)


def evaluate(ws, js):
    r = ws.call("Runtime.evaluate", expression=js, returnByValue=True, awaitPromise=True)
    return r.get("result", {}).get("value")


def wait_for(ws, js, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        v = evaluate(ws, js)
        if v:
            return v
        time.sleep(0.3)
    return None


def main():
    profile = tempfile.mkdtemp()
    proc = subprocess.Popen(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--remote-debugging-port={PORT}", f"--user-data-dir={profile}",
         "--window-size=1400,1000", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    failures = []
    try:
        for _ in range(100):
            try:
                pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{PORT}/json"))
                if pages:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        page = next(p for p in pages if p.get("type") == "page")
        ws = Ws(page["webSocketDebuggerUrl"])
        ws.call("Page.enable")
        ws.call("Runtime.enable")
        ws.call("Network.enable")
        ws.call("Page.navigate", url=BASE + "/")
        ok = wait_for(ws, "!!document.querySelector('input[type=password]')")
        print("login page:", "password field shown" if ok else "NO LOGIN FORM")
        if not ok:
            failures.append("login form")
            print(evaluate(ws, "document.body && document.body.innerText.slice(0, 500)"))
            return failures
        # Type like a user: focus each field, insert the text (real input
        # events for Angular's forms), then click "Log In".
        for kind, text in (("user", USER), ("password", PASSWORD)):
            sel = ("input[type=password]" if kind == "password" else
                   "input:not([type=password]):not([type=hidden]):not([type=checkbox])")
            evaluate(ws, f"document.querySelector({json.dumps(sel)}).focus()")
            ws.call("Input.insertText", text=text)
        evaluate(ws, """(() => { const b = [...document.querySelectorAll('button')]
            .find(b => /^\\s*log in\\s*$/i.test(b.innerText)) || document.querySelector('button[type=submit]');
            b.click(); return b.innerText; })()""")
        logged_in = wait_for(ws, "!document.querySelector('input[type=password]') && location.pathname")
        print("after login:", logged_in)
        if not logged_in:
            failures.append("login")
            print(evaluate(ws, "document.body.innerText.slice(0, 800)"))
            return failures
        for name, path, expect in [("Users", "users", EXPECT_USER), ("Policies", "policies", None),
                                   ("Realms", "users/realms", REALM)]:
            clicked = evaluate(ws, f"""(() => {{ const a = [...document.querySelectorAll('a')].find(a =>
                (a.getAttribute('href') || '').endsWith('/{path}')); if (a) {{ a.click(); return true; }}
                return false; }})()""")
            if not clicked:
                # not in the visible menu: open the address (the session stays in this tab)
                ws.call("Page.navigate", url=f"{BASE}/app/v2/{path}")
            shown = wait_for(ws, f"location.pathname.endsWith('/{path}') && document.body.innerText.length > 0 "
                                 f"&& ({json.dumps(expect)} === null || document.body.innerText.includes({json.dumps(expect)}))"
                                 " && location.pathname")
            text = evaluate(ws, "document.body.innerText") or ""
            errors = [line for line in text.splitlines() if "failed" in line.lower() or "error" in line.lower()]
            print(f"{name}: {'OK' if shown else 'FAILED'} at {evaluate(ws, 'location.pathname')};"
                  f" error lines: {errors[:5]}")
            if expect:
                print(f"  page shows {expect!r}: {expect in text}")
            if not shown:
                failures.append(name)
                print(text[:1500])
        api = [(e["params"]["response"]["status"], e["params"]["response"]["url"])
               for e in ws.events if e["method"] == "Network.responseReceived"]
        print(f"{len(api)} responses; 4xx/5xx:", [a for a in api if a[0] >= 400] or "none")
        print("user/config/client requests:", sorted({f"{a[0]} {a[1].split(BASE, 1)[-1]}" for a in api
              if any(p in a[1] for p in ("/user/", "/config", "/client/"))}))
        return failures
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    failed = main()
    print("FAILED: " + ", ".join(failed) if failed else "all pages OK")
    sys.exit(1 if failed else 0)
