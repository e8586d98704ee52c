"""The tests' web browser: `browser.py URL` follows the URL with urllib (the fake workspace's
authorize page auto-approves and redirects to the CLI's localhost callback), standing in for a
person clicking Approve.

It detaches at once (returns exit 0 while a child does the visit), so a CLI that waits for its
browser command and one that does not both work, and it never holds the caller's stdout/stderr.
Each visit is appended to $RIG_BROWSER_LOG (if set) as a JSON line: {"url", "status", "error"}.
Trusts the CAs the default SSL context trusts (so SSL_CERT_FILE works for a TLS workspace).
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request


def follow(url: str, timeout: float = 30) -> tuple[int, str]:
    """Visit url, following redirects; (final status, final URL)."""
    ctx = ssl.create_default_context()
    req = urllib.request.Request(url, headers={"User-Agent": "rig-browser/1.0"})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as resp:  # noqa: S310
            resp.read()
            return resp.status, resp.geturl()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.geturl()


def _log(record: dict[str, object]) -> None:
    path = os.environ.get("RIG_BROWSER_LOG")
    if path:
        record["time"] = time.time()
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: browser.py URL", file=sys.stderr)
        return 2
    url = args[-1]
    if os.environ.get("RIG_BROWSER_FOREGROUND") != "1" and os.fork() != 0:
        return 0
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    try:
        status, final = follow(url)
        _log({"url": url, "status": status, "final": final, "error": None})
    except Exception as exc:  # noqa: BLE001 - a browser shows errors, it does not crash
        _log({"url": url, "status": None, "final": None, "error": repr(exc)})
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)
