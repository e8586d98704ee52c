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
- nor tie it up (guard.py): a connection idle too long, or whose headers drip in too slowly,
  is closed; a 401 closes without reading the body; connections that have not presented the
  secret are capped (a new one takes the oldest one's place), and so are the agent's;
- only paths under the agent's route are forwarded: no `.`/`..` segment, no encoded dot or
  slash, so a request cannot climb to the workspace's other APIs with the user's token;
- the client's credential headers never reach the workspace;
- responses stream as they arrive (SSE event by event), never buffered whole;
- a workspace that cannot be reached, or stops answering, gets a one-line JSON error (502, 504)
  naming the workspace, within the connect / read timeouts; a token that cannot be had gets 401
  (login needed) or 503 with the fix;
- the workspace is trusted with the company CA from SSL_CERT_FILE / REQUESTS_CA_BUNDLE, and
  reached through the company's HTTP proxy when https_proxy says so (no_proxy honoured);
- no token and no secret in any log record or message.

`token` is called once per request, on the request's thread, so it should answer from a cache
while the token has life left (the project's token source does).

Standard library only: threads plus http.client met the budget in benchmarks/proxy.py.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import secrets as _secrets
import selectors
import socket
import socketserver
import threading
from collections.abc import Callable, Mapping
from types import TracebackType

from . import guard
from .relay import Handler
from .upstream import Upstream

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0
# Between two reads of a response, not for the whole response: a stream that keeps sending may
# last as long as it likes, while a model that has not answered for this long is taken as gone.
READ_TIMEOUT = 300.0


class Proxy:
    """A running proxy. `url` is its base URL, `secret` what clients present; `stop()` ends it."""

    def __init__(self, server: Server, thread: threading.Thread) -> None:
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
        if server.drain is not None:
            server.drain()
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
    idle_timeout: float = guard.IDLE_TIMEOUT,
    header_timeout: float = guard.HEADER_TIMEOUT,
    sock: socket.socket | None = None,
    login_status: int = 401,
    handler: type[Handler] = Handler,
    prepare: Callable[[Server], None] | None = None,
) -> Proxy:
    """Start a proxy to the workspace base URL `upstream` in a background thread.

    `token()` gives the bearer token for each request; it may raise (see relayfail.token_error).
    `secret` defaults to a fresh `secrets.token_urlsafe(32)`. `env` (default: os.environ) is
    where the CA settings are read. Raises ValueError for an upstream that is not https (or
    http://127.0.0.1) and OSError when no loopback port can be had. `sock`: a listening socket
    on 127.0.0.1 bound before (the wrapper binds it before it starts claude); `login_status`:
    the status of the answer when only a new login can give a token (Claude Code retries a
    401 for minutes, and stops at once on a 400).
    """
    if not log.handlers:
        # Without any handler, logging's last resort prints warnings on stderr, which is the
        # agent's terminal; `run` attaches its own handler (a debug log) when it wants one.
        log.addHandler(logging.NullHandler())
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
    server = Server(up, token, secret, sock, handler)
    server.login_status = login_status
    server.idle_timeout, server.header_timeout = idle_timeout, header_timeout
    if prepare is not None:
        prepare(server)  # e.g. otelproxy.py's forwarder, before the first request
    thread = threading.Thread(target=server.serve, name="dbx-fmapi-proxy", daemon=True)
    thread.start()
    return Proxy(server, thread)


class Server(socketserver.TCPServer):
    address_family = socket.AF_INET
    allow_reuse_address = False
    request_queue_size = 64

    def __init__(
        self,
        upstream: Upstream,
        token: Callable[[], str],
        secret: str,
        sock: socket.socket | None = None,
        handler: type[Handler] = Handler,
    ) -> None:
        # Loopback only, never 0.0.0.0 or ::; port 0: the system picks a free one.
        super().__init__(("127.0.0.1", 0), handler, bind_and_activate=sock is None)
        if sock is not None:
            if sock.getsockname()[0] != "127.0.0.1":
                raise ValueError("the proxy listens on 127.0.0.1 only")
            self.socket.close()
            self.socket = sock
            self.server_address = sock.getsockname()
        self.login_status = 401
        self.drain: Callable[[], None] | None = None  # sends still queued, before stop
        self.upstream = upstream
        self.token = token
        self.secret = secret
        self._secret_bytes = secret.encode()
        self.stopped = False
        self.idle_timeout = guard.IDLE_TIMEOUT
        self.header_timeout = guard.HEADER_TIMEOUT
        self._clients: dict[socket.socket, threading.Thread] = {}
        # Connections not yet trusted, oldest first (a dict keeps insertion order), and those
        # that presented the secret: each capped (guard.py).
        self._pending: dict[socket.socket, None] = {}
        self._trusted: set[socket.socket] = set()
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
        oldest: tuple[socket.socket, threading.Thread | None] | None = None
        with self._lock:
            if len(self._pending) >= guard.MAX_PENDING:
                sock = next(iter(self._pending))
                del self._pending[sock]
                oldest = sock, self._clients.get(sock)
            self._pending[request] = None
            self._clients[request] = thread
        if oldest is not None:
            # The oldest connection that never presented the secret makes room (a half-sent
            # request); its thread ends on the cut, before another starts.
            with contextlib.suppress(OSError):
                oldest[0].shutdown(socket.SHUT_RDWR)
            if oldest[1] is not None:
                oldest[1].join(timeout=1)
        thread.start()

    def trust(self, sock: socket.socket) -> bool:
        """`sock` presented the secret: no longer pending. False when the agent's connections
        are at their cap."""
        with self._lock:
            if sock in self._trusted:
                return True
            self._pending.pop(sock, None)
            if len(self._trusted) >= guard.MAX_TRUSTED:
                return False
            self._trusted.add(sock)
            return True

    def _serve_client(self, request: socket.socket, client_address: tuple[str, int] | str) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            log.debug("proxy: client connection ended with an error", exc_info=True)
        finally:
            with self._lock:
                self._clients.pop(request, None)
                self._pending.pop(request, None)
                self._trusted.discard(request)
            self.shutdown_request(request)

    def close_clients(self) -> None:
        with self._lock:
            clients = list(self._clients.items())
        for sock, _ in clients:
            with contextlib.suppress(OSError):  # the client already went away
                sock.shutdown(socket.SHUT_RDWR)
        for _, thread in clients:
            thread.join(timeout=5)  # a token() call in progress is not ours to cut short
