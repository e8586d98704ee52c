"""The fake workspace's HTTP(S) server: a threading server on 127.0.0.1 (TLS with a throw-away
CA when asked), one handler class handing every request to the workspace, and reading a body
and sending a Response."""

from __future__ import annotations

import contextlib
import json
import ssl
import sys
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from tests.rig.routing import Response

if TYPE_CHECKING:
    from tests.rig.workspace import FakeWorkspace


# The Databricks SDK's token client (config.go, refreshClient) retries, with backoff for
# minutes, any failed request whose error text contains one of these, its URL included: a
# workspace on port 34290 or 42913 turns a TLS or HTTP failure that is reported at once
# anywhere else into a five-minute wait. A port of ours never contains one.
SDK_TRANSIENT_MARKERS = ("429",)


def _bind(port: int) -> _Server:
    """A server on 127.0.0.1:port; port 0: a free port whose number contains no
    SDK_TRANSIENT_MARKERS (the ones refused stay bound until then, so none comes back)."""
    refused: list[_Server] = []
    try:
        while True:
            server = _Server(("127.0.0.1", port), _Handler)
            number = str(server.server_address[1])
            if port or not any(m in number for m in SDK_TRANSIENT_MARKERS):
                return server
            refused.append(server)
    finally:
        for server in refused:
            server.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    ssl_context: ssl.SSLContext | None = None
    workspace: FakeWorkspace

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(10)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # e.g. a client that does not trust our CA
        try:
            tls.settimeout(None)
            super().finish_request(tls, client_address)
        finally:
            with contextlib.suppress(OSError):
                tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "databricks"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.workspace._handle(self)

    def do_POST(self) -> None:
        self.server.workspace._handle(self)

    def do_HEAD(self) -> None:
        self.server.workspace._handle(self)

    def do_PUT(self) -> None:
        self.server.workspace._handle(self)

    def do_DELETE(self) -> None:
        self.server.workspace._handle(self)

    def do_PATCH(self) -> None:
        self.server.workspace._handle(self)


def read_body(h: _Handler) -> bytes:
    if h.headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            line = h.rfile.readline()
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            chunks.append(h.rfile.read(size))
            h.rfile.readline()
        return b"".join(chunks)
    length = int(h.headers.get("content-length") or 0)
    return h.rfile.read(length) if length else b""


def send(h: _Handler, resp: Response) -> None:
    body = resp.body
    if body is None:
        data = b""
    elif isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode()
        if resp.content_type == "application/json" and not body.lstrip().startswith(("{", "[")):
            resp.content_type = "text/plain; charset=utf-8"
    else:
        data = json.dumps(body).encode()
    h.send_response(resp.status)
    if data or resp.status not in (204, 302):
        h.send_header("Content-Type", resp.content_type)
    h.send_header("Content-Length", str(len(data)))
    h.send_header("x-request-id", str(uuid.uuid4()))
    for k, v in resp.headers.items():
        h.send_header(k, v)
    h.end_headers()
    if h.command != "HEAD" and data:
        h.wfile.write(data)
    h.wfile.flush()
