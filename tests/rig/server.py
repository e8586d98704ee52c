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
from urllib.parse import parse_qs, urlsplit

from tests.rig.records import RequestRecord, TokenRef
from tests.rig.routing import Request, Response

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


def parse(ws: FakeWorkspace, h: _Handler) -> Request:
    """The request as a handler sees it, with its log record (the secrets in its headers
    redacted: a token shows as what the workspace thinks of it)."""
    split = urlsplit(h.path)
    path = split.path
    query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
    body = read_body(h)
    headers = {k.lower(): v for k, v in h.headers.items()}
    auth = headers.get("authorization")
    token: TokenRef | None = None
    bearer: str | None = None
    if auth is not None:
        if auth[:7].lower() == "bearer ":
            bearer = auth[7:].strip()
            token = ws.token_ref(bearer)
            headers["authorization"] = f"Bearer {token!r}"
        else:
            headers["authorization"] = "<redacted>"
    api_key: TokenRef | None = None
    # x-api-key: Claude Code with an apiKeyHelper; x-goog-api-key: Gemini CLI.
    for key_header in ("x-api-key", "x-goog-api-key"):
        if key_header in headers:
            api_key = ws.token_ref(headers[key_header])
            headers[key_header] = repr(api_key)
    for secret_header in ("cookie",):
        if secret_header in headers:
            headers[secret_header] = "<redacted>"
    parsed: Any = None
    if body and "json" in headers.get("content-type", "json"):
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
    record = RequestRecord(
        method=h.command,
        path=path,
        query=query,
        headers=headers,
        model=parsed.get("model") if isinstance(parsed, dict) else None,
        token=token,
        api_key=api_key,
        json=None if path.startswith("/oidc/") else parsed,
        bearer_exact=None if bearer is None else auth == f"Bearer {bearer}",
    )
    return Request(ws, h, record, h.command, path, query, body, parsed, bearer, token)
