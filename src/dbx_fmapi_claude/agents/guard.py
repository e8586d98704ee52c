"""What keeps the loopback proxy from being tied up or turned against the workspace by whoever
can reach 127.0.0.1 (every local user): the limits on waiting for a client, and the paths it
forwards (and the `?key=` secret it never forwards). Standard library only."""

from __future__ import annotations

import socket
import time
from urllib.parse import parse_qsl, unquote, urlencode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# A connection that sends nothing for this long between requests is closed (the agents keep
# theirs alive between turns, and open a new one when it is gone).
IDLE_TIMEOUT = 120.0
# From a request line to the end of its headers: a client sends them at once.
HEADER_TIMEOUT = 30.0
# Connections that have not presented the proxy's secret yet: at this many, a new one takes
# the place of the oldest (a half-sent request cannot hold a slot the agent needs).
MAX_PENDING = 32
# Connections that presented the secret (the agent's own, kept alive, in parallel).
MAX_TRUSTED = 128

# In a path, percent-encoded: a dot, a slash, a backslash, a percent sign (double encoding).
_ENCODED = ("%2e", "%2f", "%5c", "%25")


class Deadline:
    """`rfile`, read with whatever is left until `deadline` (time.monotonic()) as the socket's
    timeout: the headers of a request must all arrive by then, however slowly they drip."""

    def __init__(self, rfile: Any, sock: socket.socket, deadline: float) -> None:
        self._rfile = rfile
        self._sock = sock
        self._deadline = deadline

    def readline(self, limit: int = -1) -> bytes:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("request headers too slow")
        self._sock.settimeout(left)
        return bytes(self._rfile.readline(limit))

    def read(self, size: int = -1) -> bytes:
        return bytes(self._rfile.read(size))


def safe_path(path: str) -> bool:
    """May the client's path (and query) be appended to the agent's route? Not when it could
    climb out of it: a `.` or `..` segment, or a dot, slash, backslash or percent sign
    percent-encoded (`/../../api/2.0/token/create` would reach the workspace's API with the
    user's token)."""
    route = path.split("?", 1)[0]
    low = route.lower()
    if not route.startswith("/") or "\\" in route or any(e in low for e in _ENCODED):
        return False
    return not any(seg in (".", "..") for seg in unquote(route).split("/"))


def without_key(path: str) -> tuple[str, list[str]]:
    """Google's clients may pass their API key as `?key=`: take it as a presented secret, and
    keep it out of what is forwarded."""
    base, sep, query = path.partition("?")
    if "key=" not in query:
        return path, []
    pairs = parse_qsl(query, keep_blank_values=True)
    keys = [value for name, value in pairs if name == "key"]
    rest = urlencode([(name, value) for name, value in pairs if name != "key"])
    return (f"{base}?{rest}" if rest else base), keys
