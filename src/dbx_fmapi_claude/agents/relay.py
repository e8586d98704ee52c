"""The proxy's request handler: check the secret, put a fresh token on the request, send it to
the workspace, relay the answer as it arrives, and turn failures into one-line JSON errors.
One handler per client connection, on its own thread (see proxy.py for the guarantees)."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler

from ..auth.rejected import is_rejection
from . import guard
from .relayfail import Failure, token_error, upstream_failure

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .proxy import Server

log = logging.getLogger("dbx_fmapi_claude.agents.proxy")  # one logger for the whole proxy

_READ_SIZE = 64 * 1024
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
# Answers that may mean the token was refused (auth/rejected.py), and the largest error body
# held to find out (the workspace's are a few hundred bytes).
_REJECTIONS = frozenset({400, 401, 403})
_ERROR_BODY_LIMIT = 64 * 1024
# Credential-shaped strings, in case a token source's error message quotes one.
_RETRYABLE_ON_REUSE = (
    http.client.RemoteDisconnected,
    BrokenPipeError,
    ConnectionResetError,
    ConnectionAbortedError,
)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self) -> None:
        # A client that sends nothing, or drips its headers, is cut (guard.py): TimeoutError
        # ends the connection (proxy.Server._serve_client).
        self.connection.settimeout(self.server.idle_timeout)
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.close_connection = True
            self.requestline = self.command = self.path = ""
            self._answer(HTTPStatus.REQUEST_URI_TOO_LONG, "request line too long")
            return
        rfile = self.rfile
        self.rfile = guard.Deadline(  # type: ignore[assignment]  # readline is all it needs
            rfile, self.connection, time.monotonic() + self.server.header_timeout
        )
        try:
            parsed = self.parse_request()
        finally:
            self.rfile = rfile
            self.connection.settimeout(self.server.upstream.read_timeout)
        if not parsed:
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
        path, in_query = guard.without_key(self.path)
        if not self._authorized(in_query):
            # Never forwarded, never another request, and its body never read: a stranger
            # gets no thread that waits on what it may never send.
            self.close_connection = True
            return self._answer(
                HTTPStatus.UNAUTHORIZED,
                "missing or wrong proxy key: start the agent with `dbx-fmapi run AGENT`",
            )
        if not self.server.trust(self.connection):
            self.close_connection = True
            return self._answer(
                HTTPStatus.SERVICE_UNAVAILABLE, "too many connections to the proxy; retry"
            )
        if not self.path.startswith("/"):
            self.close_connection = True
            return self._answer(HTTPStatus.BAD_REQUEST, "request target must be a path")
        if not guard.safe_path(path):
            self.close_connection = True
            return self._answer(
                HTTPStatus.BAD_REQUEST,
                "the path must stay under the agent's route (no '.' or '..' segment, no "
                "encoded dot or slash)",
            )
        try:
            body = self._read_body()
            return self._deliver(path, body)
        except Failure as failure:
            log.warning("proxy: %s", failure.message)
            return self._answer(failure.status, failure.message)

    def _deliver(self, path: str, body: bytes | None) -> int | str:
        """Send the checked request on with a fresh token (otelproxy.py answers it itself)."""
        return self._forward(path, body, self._token())

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
            raise Failure(HTTPStatus.BAD_REQUEST, "bad Content-Length") from None
        body = self.rfile.read(size)
        if len(body) != size:
            self.close_connection = True
            raise Failure(HTTPStatus.BAD_REQUEST, "request body cut short")
        return body

    def _read_chunked(self) -> bytes:
        parts = []
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise Failure(HTTPStatus.BAD_REQUEST, "bad chunked request body") from None
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
            raise token_error(exc, self.server.secret, self.server.login_status) from None
        if not isinstance(value, str) or not value or any(c in value for c in "\r\n"):
            raise Failure(HTTPStatus.SERVICE_UNAVAILABLE, "the token source gave no usable token")
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
        conn, response = self._send(path, body, bearer)
        if response.status in _REJECTIONS:
            # The token refused although its expiry says good (revoked, rotated)? Nothing has
            # gone to the client yet: a replacement token, and the request once more.
            retry = self._after_rejection(conn, response, bearer)
            if isinstance(retry, str):
                conn, response = self._send(path, body, retry)
            elif retry is not None:
                return self._relay_buffered(response, retry)
        return self._relay(conn, response)

    def _send(
        self, path: str, body: bytes | None, bearer: str
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
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
                return conn, conn.getresponse()
            except _RETRYABLE_ON_REUSE as exc:
                up.discard(conn)
                if reused and attempt == 1:
                    continue  # the workspace closed this idle connection: a new one, once
                raise upstream_failure(up, exc) from None
            except (OSError, http.client.HTTPException) as exc:
                up.discard(conn)
                raise upstream_failure(up, exc) from None
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _after_rejection(
        self, conn: http.client.HTTPConnection, response: http.client.HTTPResponse, bearer: str
    ) -> str | bytes | None:
        """A 400/401/403 from the workspace: its (small) body read, then a replacement token
        when it refused `bearer` (str), else the body to relay as it came (bytes); None when
        it is too large to hold (relayed as any answer)."""
        replace = getattr(self.server.token, "replace", None)
        if replace is None or response.length is None or response.length > _ERROR_BODY_LIMIT:
            return None
        up = self.server.upstream
        try:
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            up.discard(conn)
            raise upstream_failure(up, exc) from None
        if response.will_close:
            up.discard(conn)
        else:
            up.put(conn)
        if not is_rejection(response.status, data):
            return data
        try:
            new = replace(bearer)
        except Exception as exc:
            raise token_error(exc, self.server.secret, self.server.login_status) from None
        if not isinstance(new, str) or not new or any(c in new for c in "\r\n"):
            return data  # the workspace still accepts the token: its refusal is about else
        log.info("proxy: the workspace refused the token; retrying once with a fresh one")
        return new

    def _relay_buffered(self, response: http.client.HTTPResponse, data: bytes) -> int:
        """Send on an answer whose body was read already."""
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in _DROPPED:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        try:
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except OSError:
            self.close_connection = True  # the client left
        return response.status

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


def _send_parts(sock: socket.socket, parts: tuple[bytes, ...]) -> None:
    """Frame and data in one vectored write: copying each chunk into a framed buffer was the
    largest part of the proxy's CPU per byte on a long stream (benchmarks/proxy.py)."""
    sent = sock.sendmsg(parts)
    if sent < sum(map(len, parts)):
        sock.sendall(b"".join(parts)[sent:])
