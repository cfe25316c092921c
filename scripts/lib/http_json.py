"""JSON over HTTP for the scripts that compare our server with the release
(standard library only)."""
import json
import urllib.error
import urllib.request


def request_json(url, method, data=None, headers=None, timeout=30, unparsed=None):
    """(status, parsed JSON answer; null for an empty body). An error answer
    that is not JSON gives `unparsed(raw bytes)` (default: its first 200
    bytes as text)."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, (unparsed or (lambda b: b[:200].decode("utf-8", "replace")))(raw)
