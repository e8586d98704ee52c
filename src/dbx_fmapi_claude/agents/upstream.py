"""The proxy's side towards the workspace: where it is, how to trust it, how to get there (a
company's HTTP proxy from https_proxy), kept-alive connections.

Standard library only (http.client): the proxy runs inside `dbx-fmapi run` for the agent's
whole life, and the bootstrap installs the package with no dependencies.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import socket
import ssl
import threading
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from ..workspace.client import ssl_context

# Connections kept open between requests. Agents make a few calls in parallel (a model call, a
# token count, a title); more idle connections than that only hold sockets open.
MAX_IDLE = 8


# Connect with one bound, then read with another: a workspace that does not accept the
# connection fails fast, while a model may legitimately think for a while before it streams.
class _HTTP(http.client.HTTPConnection):
    read_timeout: float | None = None

    def connect(self) -> None:
        super().connect()  # sets TCP_NODELAY: each SSE event leaves as soon as it is written
        self.sock.settimeout(self.read_timeout)


class _HTTPS(http.client.HTTPSConnection):
    read_timeout: float | None = None

    def connect(self) -> None:
        super().connect()  # TCP connect and TLS handshake, both under the connect timeout
        self.sock.settimeout(self.read_timeout)


class Upstream:
    """One workspace base URL (`https://host/ai-gateway/gemini`) and a small pool of connections."""

    def __init__(
        self,
        url: str,
        *,
        env: Mapping[str, str],
        connect_timeout: float,
        read_timeout: float,
    ) -> None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme == "https":
            self._ctx: ssl.SSLContext | None = ssl_context(env)
        elif parts.scheme == "http" and host == "127.0.0.1":
            self._ctx = None  # a local test server: never plain http to anything else
        else:
            raise ValueError(
                f"upstream must be an https:// URL (http:// only for 127.0.0.1), not {url!r}"
            )
        if not host or parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError(f"upstream must be a plain base URL (scheme, host, path): {url!r}")
        self.host = host
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.base_path = parts.path.rstrip("/")
        # What messages name: the workspace, never a path with a query or anything secret.
        netloc = host if parts.port is None else f"{host}:{parts.port}"
        self.origin = f"{parts.scheme}://{netloc}"
        self._via = https_proxy_for(host, env) if self._ctx is not None else None
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._idle: list[http.client.HTTPConnection] = []
        self._busy: set[http.client.HTTPConnection] = set()
        self._lock = threading.Lock()
        self._closed = False

    def target(self, path: str) -> str:
        """The upstream request target for a client's path+query (which starts with /)."""
        return self.base_path + path

    def get(self) -> tuple[http.client.HTTPConnection, bool]:
        """A connection and whether it was used before (then a failure to send on it may just
        mean the workspace closed it while idle, and the request may be retried once)."""
        with self._lock:
            conn = self._idle.pop() if self._idle else None
            reused = conn is not None
            if conn is None:
                conn = self._new()
            self._busy.add(conn)
        return conn, reused

    def _new(self) -> http.client.HTTPConnection:
        conn: _HTTP | _HTTPS
        if self._ctx is None:
            conn = _HTTP(self.host, self.port, timeout=self.connect_timeout)
        elif self._via is not None:
            via_host, via_port, headers = self._via
            conn = _HTTPS(via_host, via_port, timeout=self.connect_timeout, context=self._ctx)
            conn.set_tunnel(self.host, self.port, headers)  # CONNECT, then TLS to the workspace
        else:
            conn = _HTTPS(self.host, self.port, timeout=self.connect_timeout, context=self._ctx)
        conn.read_timeout = self.read_timeout
        return conn

    def put(self, conn: http.client.HTTPConnection) -> None:
        """Give back a connection whose response was read to the end."""
        with self._lock:
            self._busy.discard(conn)
            if not self._closed and len(self._idle) < MAX_IDLE and conn.sock is not None:
                self._idle.append(conn)
                return
        conn.close()

    def idle(self) -> int:
        """How many connections wait for reuse (for tests: a response the client has read may
        still be on its way back to the pool)."""
        with self._lock:
            return len(self._idle)

    def discard(self, conn: http.client.HTTPConnection) -> None:
        """Close a connection that cannot carry another request (error, half-read response)."""
        with self._lock:
            self._busy.discard(conn)
        conn.close()

    def close(self) -> None:
        """Close idle connections and cut the ones in use, so handler threads end promptly."""
        with self._lock:
            self._closed = True
            conns = self._idle + list(self._busy)
            self._idle.clear()
        for conn in conns:
            _shutdown(conn)


def https_proxy_for(host: str, env: Mapping[str, str]) -> tuple[str, int, dict[str, str]] | None:
    """The company's HTTP proxy for `host` from https_proxy / no_proxy (curl's reading of them),
    as (host, port, CONNECT headers); None to connect directly."""
    url = env.get("https_proxy") or env.get("HTTPS_PROXY")
    if not url:
        return None
    for entry in (env.get("no_proxy") or env.get("NO_PROXY") or "").split(","):
        suffix = entry.strip().lstrip(".").lower()
        if suffix == "*" or (suffix and (host == suffix or host.endswith("." + suffix))):
            return None
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"https_proxy must be an http:// proxy URL, not {parts.scheme}://…")
    headers = {}
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    return parts.hostname, parts.port or 80, headers


def _shutdown(conn: http.client.HTTPConnection) -> None:
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed by the other side
            sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked reading it
