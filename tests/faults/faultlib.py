"""What the fault tests share (standard library only)."""
import json
import time
import urllib.error
import urllib.request


def timed_request(base, token, method, path, body=None, timeout=30):
    """One request with the admin token and a JSON body (if any): its status
    (or "error:<kind>" for a hang or a reset, which is a failure) and how long
    it took in seconds."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        e.read()
        status = e.code
    except Exception as e:  # a hang or a reset is a failure
        status = f"error:{type(e).__name__}"
    return status, time.monotonic() - t0
