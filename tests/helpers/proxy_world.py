"""A stand-in workspace on 127.0.0.1 for the loopback proxy's in-process tests, a token source
that hands out a new token per call, and http.client as the agent."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from dbx_fmapi_claude.agents import proxy

GUARD = 10.0  # seconds a test's server waits for the test before giving up: a failure, not a pace


BASE = "/ai-gateway/gemini"


STREAM = "/v1beta/models/databricks-gemini-2-5-pro:streamGenerateContent?alt=sse"


@dataclass
class Seen:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


Reply = Callable[["_Handler", Seen], None]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Workspace

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        pass

    def _any(self) -> None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or ""):
            raise AssertionError("the proxy sends bodies with a Content-Length")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        seen = Seen(self.command, self.path, list(self.headers.items()), body)
        with self.server.lock:
            self.server.seen.append(seen)
        self.server.reply(self, seen)

    do_GET = do_POST = do_PUT = do_DELETE = _any  # noqa: N815 - http.server's naming

    def send_json(self, status: int, data: Any) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%b\r\n" % (len(data), data))
        self.wfile.flush()


def _ok(handler: _Handler, seen: Seen) -> None:
    handler.send_json(200, {"path": seen.path})


class Workspace(ThreadingHTTPServer):
    """What the proxy talks to: records every request it gets, answers with `reply`."""

    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.reply: Reply = _ok
        self.scheme = "https" if tls else "http"
        # A short poll: shutdown() waits for it, at the end of every test.
        self.thread = threading.Thread(target=self.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}{BASE}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join()


class Tokens:
    """A token source that hands out a new token on every call, as after a refresh."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return token_n(self.calls)


def token_n(n: int) -> str:
    """Shaped like a workspace OAuth token (a JWT), so that what redacts tokens sees one."""
    return f"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIiwibiI6{n}fQ.c2lnbmF0dXJl"


def _client(p: proxy.Proxy) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", p.port, timeout=GUARD)


def _post(
    p: proxy.Proxy, headers: dict[str, str] | None = None, body: bytes = b"{}", path: str = STREAM
) -> tuple[int, bytes]:
    conn = _client(p)
    try:
        conn.request(
            "POST", path, body, {"x-goog-api-key": p.secret} if headers is None else headers
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()
