"""A loopback proxy that puts a fresh Databricks token on every request an agent makes.

Gemini CLI (and OpenCode) read their API key once, at start, and a workspace token lives about an
hour. `dbx-fmapi run AGENT` starts this proxy in a thread of its own process, points the agent at
`proxy.url` with `proxy.secret` as the agent's API key, and the proxy forwards each request to the
workspace with `Authorization: Bearer <token()>`.

    with proxy.start("https://host/ai-gateway/gemini", token=source.token) as p:
        env["GOOGLE_GEMINI_BASE_URL"] = p.url
        env["GEMINI_API_KEY"] = p.secret
        subprocess.run(["gemini", *args], env=env)

What it guarantees:
- it listens on 127.0.0.1 only, on a port the system picks;
- a client must present the per-launch secret (`Authorization: Bearer`, `x-api-key`,
  `x-goog-api-key` or `?key=`, whichever its agent sends); anything else is answered 401 and
  never forwarded, so another local user cannot borrow the user's identity;
- the client's credential headers never reach the workspace;
- responses stream as they arrive (SSE event by event), never buffered whole;
- a workspace that cannot be reached, or stops answering, gets a one-line JSON error (502, 504)
  naming the workspace, within the connect / read timeouts; a token that cannot be had gets 401
  (login needed) or 503 with the fix;
- no token and no secret in any log record or message.

`token` is called once per request, on the request's thread, so it should answer from a cache
while the token has life left (the project's token source does).

Standard library only: threads plus http.client met the budget in benchmarks/proxy.py.
"""

from __future__ import annotations

import contextlib
import hmac
import http.client
import json
import logging
import os
import re
import secrets as _secrets
import selectors
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from urllib.parse import parse_qsl, urlencode

from .upstream import Upstream

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0
# Between two reads of a response, not for the whole response: a stream that keeps sending may
# last as long as it likes, while a model that has not answered for this long is taken as gone.
READ_TIMEOUT = 300.0
_READ_SIZE = 64 * 1024
_DISCARD_LIMIT = 1024 * 1024
_CREDENTIAL_HEADERS = frozenset({"authorization", "x-api-key", "x-goog-api-key"})
# Per connection, never forwarded (RFC 9110 7.6.1), plus what the proxy sets itself.
_DROPPED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "expect",  # the proxy answers 100-continue itself and sends the body whole
    }
)
# Credential-shaped strings, in case a token source's error message quotes one.
_TOKEN_SHAPES = re.compile(r"eyJ[\w-]{8,}\.[\w.-]*|dapi[0-9a-f]{16,}|dose\w{16,}|doau\w{16,}")
_RETRYABLE_ON_REUSE = (
    http.client.RemoteDisconnected,
    BrokenPipeError,
    ConnectionResetError,
    ConnectionAbortedError,
)


class Proxy:
    """A running proxy. `url` is its base URL, `secret` what clients present; `stop()` ends it."""

    def __init__(self, server: _Server, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.port: int = server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    @property
    def secret(self) -> str:
        return self._server.secret

    @property
    def address(self) -> tuple[str, int]:
        """Where the listening socket is bound (always 127.0.0.1)."""
        host, port = self._server.socket.getsockname()[:2]
        return str(host), int(port)

    def stop(self) -> None:
        """Stop accepting, cut open connections, close the listening socket. Idempotent."""
        server = self._server
        if server.stopped:
            return
        server.stopped = True
        server.wake()
        self._thread.join()
        server.upstream.close()
        server.close_clients()
        server.server_close()

    def __enter__(self) -> Proxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:  # never the secret
        return f"<Proxy {self.url} -> {self._server.upstream.origin}>"


def start(
    upstream: str,
    token: Callable[[], str],
    secret: str | None = None,
    *,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> Proxy:
    """Start a proxy to the workspace base URL `upstream` in a background thread.

    `token()` gives the bearer token for each request; it may raise (see `_token_error`).
    `secret` defaults to a fresh `secrets.token_urlsafe(32)`. `env` (default: os.environ) is
    where the CA settings are read. Raises ValueError for an upstream that is not https (or
    http://127.0.0.1) and OSError when no loopback port can be had.
    """
    if secret is None:
        secret = _secrets.token_urlsafe(32)
    if not secret or not secret.isascii() or any(c.isspace() for c in secret):
        raise ValueError("the proxy secret must be a non-empty ASCII string without spaces")
    up = Upstream(
        upstream,
        env=os.environ if env is None else env,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )
    server = _Server(up, token, secret)
    thread = threading.Thread(target=server.serve, name="dbx-fmapi-proxy", daemon=True)
    thread.start()
    return Proxy(server, thread)


class _Server(socketserver.TCPServer):
    address_family = socket.AF_INET
    allow_reuse_address = False
    request_queue_size = 64

    def __init__(self, upstream: Upstream, token: Callable[[], str], secret: str) -> None:
        # Loopback only, never 0.0.0.0 or ::; port 0: the system picks a free one.
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream
        self.token = token
        self.secret = secret
        self._secret_bytes = secret.encode()
        self.stopped = False
        self._clients: dict[socket.socket, threading.Thread] = {}
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()

    def serve(self) -> None:
        """Accept until stop() wakes us: serve_forever would poll, and make stop() wait for
        the next poll when the agent exits."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self.stopped:
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r:
                        return
                    try:
                        request, client_address = self.get_request()
                    except OSError:
                        continue  # the client gave up before we accepted it
                    self.process_request(request, client_address)

    def wake(self) -> None:
        self._wake_w.send(b"\0")

    def server_close(self) -> None:
        super().server_close()
        self._wake_r.close()
        self._wake_w.close()

    def secret_matches(self, presented: str) -> bool:
        return hmac.compare_digest(presented.encode("utf-8", "replace"), self._secret_bytes)

    # One thread per client connection (agents keep connections alive and make parallel calls).
    def process_request(
        self,
        request: socket.socket | tuple[bytes, socket.socket],
        client_address: tuple[str, int] | str,
    ) -> None:
        assert isinstance(request, socket.socket)  # a TCP server: always a socket
        thread = threading.Thread(
            target=self._serve_client,
            args=(request, client_address),
            name="dbx-fmapi-proxy-client",
            daemon=True,
        )
        with self._lock:
            self._clients[request] = thread
        thread.start()

    def _serve_client(self, request: socket.socket, client_address: tuple[str, int] | str) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            log.debug("proxy: client connection ended with an error", exc_info=True)
        finally:
            with self._lock:
                self._clients.pop(request, None)
            self.shutdown_request(request)

    def close_clients(self) -> None:
        with self._lock:
            clients = list(self._clients.items())
        for sock, _ in clients:
            with contextlib.suppress(OSError):  # the client already went away
                sock.shutdown(socket.SHUT_RDWR)
        for _, thread in clients:
            thread.join(timeout=5)  # a token() call in progress is not ours to cut short


class _Failure(Exception):
    """A request the proxy answers itself, with a status and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.close_connection = True
            self.requestline = self.command = self.path = ""
            self._answer(HTTPStatus.REQUEST_URI_TOO_LONG, "request line too long")
            return
        if not self.parse_request():
            return  # parse_request has answered (400/505) already
        started = time.perf_counter()
        status = self._proxy()
        log.debug(
            "proxy: %s %s -> %s in %.1f ms",
            self.command,
            self.path.split("?", 1)[0],  # a query may carry a key: never logged
            status,
            (time.perf_counter() - started) * 1000,
        )

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        """BaseHTTPRequestHandler writes request lines to stderr; ours go to debug logs only."""

    def _proxy(self) -> int | str:
        path, in_query = _without_key(self.path)
        if not self._authorized(in_query):
            self._discard_small_body()
            self.close_connection = True  # never forwarded, and never another request
            return self._answer(
                HTTPStatus.UNAUTHORIZED,
                "missing or wrong proxy key: start the agent with `dbx-fmapi run AGENT`",
            )
        if not self.path.startswith("/"):
            self.close_connection = True
            return self._answer(HTTPStatus.BAD_REQUEST, "request target must be a path")
        try:
            body = self._read_body()
            bearer = self._token()
            return self._forward(path, body, bearer)
        except _Failure as failure:
            log.warning("proxy: %s", failure.message)
            return self._answer(failure.status, failure.message)

    def _authorized(self, in_query: list[str]) -> bool:
        ok = False
        for value in in_query:
            ok = self.server.secret_matches(value) or ok
        for name in _CREDENTIAL_HEADERS:
            for value in self.headers.get_all(name) or ():
                if name == "authorization":
                    scheme, _, value = value.partition(" ")
                    if scheme.lower() != "bearer":
                        continue
                # No short-circuit: every presented value is compared, in constant time.
                ok = self.server.secret_matches(value.strip()) or ok
        return ok

    def _discard_small_body(self) -> None:
        """Read what a refused client sent, when it is small: closing a socket with unread data
        resets the connection, and the client could lose the 401 that says what is wrong."""
        try:
            size = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return
        if 0 < size <= _DISCARD_LIMIT:
            self.rfile.read(size)

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return None
        try:
            size = int(length)
            if size < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            raise _Failure(HTTPStatus.BAD_REQUEST, "bad Content-Length") from None
        body = self.rfile.read(size)
        if len(body) != size:
            self.close_connection = True
            raise _Failure(HTTPStatus.BAD_REQUEST, "request body cut short")
        return body

    def _read_chunked(self) -> bytes:
        parts = []
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise _Failure(HTTPStatus.BAD_REQUEST, "bad chunked request body") from None
            if size == 0:
                break
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)  # the CRLF after the chunk
        while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
            pass  # trailers: not forwarded
        return b"".join(parts)

    def _token(self) -> str:
        try:
            value = self.server.token()
        except Exception as exc:
            raise _token_error(exc, self.server.secret) from None
        if not isinstance(value, str) or not value or any(c in value for c in "\r\n"):
            raise _Failure(HTTPStatus.SERVICE_UNAVAILABLE, "the token source gave no usable token")
        return value

    def _headers_out(self, bearer: str, body: bytes | None) -> list[tuple[str, str]]:
        listed = {
            t.strip().lower()
            for v in self.headers.get_all("Connection") or ()
            for t in v.split(",")
        }
        out = [
            (name, value)
            for name, value in self.headers.items()
            if (low := name.lower()) not in _DROPPED
            and low not in _CREDENTIAL_HEADERS
            and low not in listed
        ]
        out.append(("Authorization", f"Bearer {bearer}"))
        if body is not None or self.command in ("POST", "PUT", "PATCH"):
            out.append(("Content-Length", str(len(body or b""))))
        return out

    def _forward(self, path: str, body: bytes | None, bearer: str) -> int | str:
        up = self.server.upstream
        headers = self._headers_out(bearer, body)
        has_encoding = any(name.lower() == "accept-encoding" for name, _ in headers)
        target = up.target(path)
        for attempt in (1, 2):
            conn, reused = up.get()
            try:
                conn.putrequest(self.command, target, skip_accept_encoding=has_encoding)
                for name, value in headers:
                    conn.putheader(name, value)
                conn.endheaders(body)
                response = conn.getresponse()
            except _RETRYABLE_ON_REUSE as exc:
                up.discard(conn)
                if reused and attempt == 1:
                    continue  # the workspace closed this idle connection: a new one, once
                raise _upstream_failure(up, exc) from None
            except (OSError, http.client.HTTPException) as exc:
                up.discard(conn)
                raise _upstream_failure(up, exc) from None
            return self._relay(conn, response)
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _relay(self, conn: http.client.HTTPConnection, response: http.client.HTTPResponse) -> int:
        """Send the workspace's answer on as it arrives."""
        up = self.server.upstream
        no_body = self.command == "HEAD" or response.status in (204, 304) or response.status < 200
        chunked = False
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in _DROPPED:
                self.send_header(name, value)
        if no_body:
            length = response.getheader("Content-Length")
            if length is not None:
                self.send_header("Content-Length", length)
        elif response.length is not None and not response.chunked:
            self.send_header("Content-Length", str(response.length))
        elif self.request_version != "HTTP/1.0":
            self.send_header("Transfer-Encoding", "chunked")
            chunked = True
        else:
            self.close_connection = True  # an HTTP/1.0 client: the end of the body is the close
        if self.close_connection:
            self.send_header("Connection", "close")
        complete = False
        try:
            self.end_headers()
            while not no_body:
                data = response.read1(_READ_SIZE)
                if not data:
                    break
                # Written at once (unbuffered socket, TCP_NODELAY): no event waits for the next.
                if chunked:
                    _send_parts(self.connection, (b"%x\r\n" % len(data), data, b"\r\n"))
                else:
                    self.connection.sendall(data)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            complete = True
            # http.client marks a Content-Length response done only on a read past its end;
            # closing it here (the connection stays open) lets the connection carry the next.
            response.close()
        except (OSError, http.client.HTTPException) as exc:
            # Headers are gone: the only honest signal left is to cut the connection, so the
            # agent sees a broken stream, not a short one that looks complete.
            self.close_connection = True
            if isinstance(exc, TimeoutError):
                log.warning("proxy: %s stopped sending mid-response (read timeout)", up.origin)
            else:
                log.info("proxy: response from %s not relayed to the end: %s", up.origin, exc)
        finally:
            if complete and not response.will_close:
                up.put(conn)
            else:
                up.discard(conn)
        return response.status

    def _answer(self, status: int, message: str) -> int:
        """The proxy's own JSON error: Google, OpenAI and Anthropic clients all read
        error.message; the prefix tells the user the proxy, not the model, said it."""
        reason = HTTPStatus(status).phrase
        body = json.dumps(
            {
                "error": {
                    "code": status,
                    "message": f"dbx-fmapi proxy: {message}",
                    "status": reason.upper().replace(" ", "_"),
                    "type": "dbx_fmapi_proxy_error",
                }
            }
        ).encode()
        try:
            self.send_response_only(status, reason)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True  # the client left; nothing to tell it
        return status


def _without_key(path: str) -> tuple[str, list[str]]:
    """Google's clients may pass their API key as `?key=`: take it as a presented secret, and
    keep it out of what is forwarded."""
    base, sep, query = path.partition("?")
    if "key=" not in query:
        return path, []
    pairs = parse_qsl(query, keep_blank_values=True)
    keys = [value for name, value in pairs if name == "key"]
    rest = urlencode([(name, value) for name, value in pairs if name != "key"])
    return (f"{base}?{rest}" if rest else base), keys


def _send_parts(sock: socket.socket, parts: tuple[bytes, ...]) -> None:
    """Frame and data in one vectored write: copying each chunk into a framed buffer was the
    largest part of the proxy's CPU per byte on a long stream (benchmarks/proxy.py)."""
    sent = sock.sendmsg(parts)
    if sent < sum(map(len, parts)):
        sock.sendall(b"".join(parts)[sent:])


def _upstream_failure(up: Upstream, exc: BaseException) -> _Failure:
    if isinstance(exc, TimeoutError):
        return _Failure(
            HTTPStatus.GATEWAY_TIMEOUT,
            f"the workspace {up.origin} did not answer in time; check the network or VPN and retry",
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = (
            f"{exc.verify_message}; if your company inspects TLS, export SSL_CERT_FILE="
            "/path/to/company-ca.pem"
        )
    elif isinstance(exc, socket.gaierror):
        reason = "cannot resolve its host name (DNS)"
    else:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        reason = reason or type(exc).__name__
    return _Failure(HTTPStatus.BAD_GATEWAY, f"cannot reach the workspace {up.origin}: {reason}")


def _token_error(exc: Exception, secret: str) -> _Failure:
    """The token source's failure, as the agent will show it. The project's UserError carries
    `message`, `fix` and `code` (4: a login is needed); anything else is reported by its text."""
    message = str(getattr(exc, "message", "") or exc) or type(exc).__name__
    fix = getattr(exc, "fix", None)
    if fix:
        message = f"{message}; run: {fix}"
    message = _TOKEN_SHAPES.sub("[redacted]", message.replace(secret, "[redacted]"))
    message = " ".join(message.split())  # one line
    status = HTTPStatus.UNAUTHORIZED if getattr(exc, "code", None) == 4 else 503
    return _Failure(status, f"no Databricks token: {message}")
