"""The loopback proxy (agents/proxy.py), in process: a stand-in workspace on 127.0.0.1, the
proxy in front of it, http.client as the agent. Order and content are asserted, never speed:
a proxy that buffered or serialised would make these tests fail or wait out a guard, not pass."""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dbx_fmapi_claude.agents import proxy, upstream
from dbx_fmapi_claude.core.errors import UserError
from tests.helpers.proxy_world import (
    BASE,
    GUARD,
    STREAM,
    Seen,
    Tokens,
    Workspace,
    _client,
    _Handler,
    _ok,
    _post,
    token_n,
)


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    ws = Workspace()
    yield ws
    ws.stop()


@pytest.fixture
def tokens() -> Tokens:
    return Tokens()


@pytest.fixture
def running(workspace: Workspace, tokens: Tokens) -> Iterator[proxy.Proxy]:
    with proxy.start(workspace.url, tokens, read_timeout=GUARD) as p:
        yield p


def _message(body: bytes) -> str:
    return str(json.loads(body)["error"]["message"])


# --- who may use it ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "credential",
    [
        {},
        {"Authorization": "Bearer not-the-secret"},
        {"x-api-key": "not-the-secret"},
        {"x-goog-api-key": "not-the-secret"},
        {"x-goog-api-key": ""},
        {"Authorization": "Basic {secret}"},  # the right value under another scheme
        {"Authorization": "{secret}"},
        {"x-goog-api-key": "{secret}x"},
        {"X-Other": "{secret}"},
    ],
)
def test_a_client_without_the_secret_gets_401_and_nothing_is_forwarded(
    running: proxy.Proxy, workspace: Workspace, tokens: Tokens, credential: dict[str, str]
) -> None:
    headers = {k: v.format(secret=running.secret) for k, v in credential.items()}
    status, body = _post(running, headers)
    assert status == 401
    assert "proxy key" in _message(body)
    assert json.loads(body)["error"]["code"] == 401
    assert workspace.seen == []
    assert tokens.calls == 0


@pytest.mark.parametrize(
    "header, value",
    [("Authorization", "Bearer {s}"), ("x-api-key", "{s}"), ("x-goog-api-key", "{s}")],
)
def test_the_secret_is_accepted_where_each_agent_sends_it_and_never_forwarded(
    running: proxy.Proxy, workspace: Workspace, header: str, value: str
) -> None:
    # A personal key in another credential header must not reach the workspace either.
    other = "x-api-key" if header != "x-api-key" else "x-goog-api-key"
    headers = {header: value.format(s=running.secret), other: "sk-personal-key"}
    status, body = _post(running, headers, b'{"q": 1}')
    assert status == 200, body
    (seen,) = workspace.seen
    assert seen.method == "POST"
    assert seen.path == BASE + STREAM
    assert seen.body == b'{"q": 1}'
    assert seen.header("Authorization") == [f"Bearer {token_n(1)}"]
    assert seen.header("x-api-key") == seen.header("x-goog-api-key") == []
    assert seen.header("Host") == [f"127.0.0.1:{workspace.server_address[1]}"]
    everything = repr(seen.headers) + seen.path + seen.body.decode()
    assert running.secret not in everything
    assert "sk-personal-key" not in everything


def test_each_request_carries_the_token_of_that_moment(
    running: proxy.Proxy, workspace: Workspace, tokens: Tokens
) -> None:
    conn = _client(running)
    for _ in range(3):
        conn.request("GET", "/v1beta/models", headers={"Authorization": f"Bearer {running.secret}"})
        assert conn.getresponse().read()
    conn.close()
    assert tokens.calls == 3
    assert [s.header("Authorization") for s in workspace.seen] == [
        [f"Bearer {token_n(i)}"] for i in (1, 2, 3)
    ]


def test_a_key_in_the_query_is_a_secret_too_and_stays_here(
    running: proxy.Proxy, workspace: Workspace
) -> None:
    path = "/v1beta/models/m:streamGenerateContent?alt=sse&key="
    assert _post(running, {}, path=path + "wrong")[0] == 401
    assert _post(running, {}, path=path + running.secret)[0] == 200
    (seen,) = workspace.seen
    assert seen.path == BASE + "/v1beta/models/m:streamGenerateContent?alt=sse"


def test_hop_by_hop_headers_stay_on_their_hop(running: proxy.Proxy, workspace: Workspace) -> None:
    status, _ = _post(
        running,
        {
            "x-goog-api-key": running.secret,
            "Connection": "keep-alive, X-Per-Hop",
            "X-Per-Hop": "1",
            "Keep-Alive": "timeout=5",
            "Proxy-Authorization": "Basic abc",
            "x-databricks-use-coding-agent-mode": "true",
        },
    )
    assert status == 200
    (seen,) = workspace.seen
    names = {k.lower() for k, _ in seen.headers}
    assert not names & {"x-per-hop", "keep-alive", "proxy-authorization"}
    assert seen.header("x-databricks-use-coding-agent-mode") == ["true"]


# --- where it listens ---------------------------------------------------------------------------


def _other_local_addresses() -> list[tuple[int, str]]:
    found = [(socket.AF_INET, "127.0.0.2")]  # Linux routes all of 127/8 to the loopback device
    if socket.has_ipv6:
        found.append((socket.AF_INET6, "::1"))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET: picks the outgoing address, sends nothing
            address = probe.getsockname()[0]
        except OSError:
            address = None
    if address and not address.startswith("127."):
        found.append((socket.AF_INET, address))
    return found


def test_it_listens_on_127_0_0_1_only(running: proxy.Proxy) -> None:
    assert running.address == ("127.0.0.1", running.port)
    assert running.url == f"http://127.0.0.1:{running.port}"
    for family, address in _other_local_addresses():
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(GUARD)
            with pytest.raises(OSError):
                s.connect((address, running.port))


def test_stop_closes_the_port_and_may_be_called_twice(workspace: Workspace) -> None:
    p = proxy.start(workspace.url, lambda: "t")
    idle = socket.create_connection(("127.0.0.1", p.port), timeout=GUARD)  # held open: no hang
    p.stop()
    p.stop()
    idle.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", p.port), timeout=GUARD).close()


def test_the_secret_is_random_per_launch_and_never_in_repr(workspace: Workspace) -> None:
    with proxy.start(workspace.url, lambda: "t") as a, proxy.start(workspace.url, lambda: "t") as b:
        assert a.secret != b.secret
        assert len(a.secret) >= 32
        assert a.secret not in repr(a)


@pytest.mark.parametrize(
    "upstream", ["http://example.com/x", "http://localhost:1/x", "ftp://h/x", "https://h/x?o=1"]
)
def test_plain_http_only_to_127_0_0_1(upstream: str) -> None:
    with pytest.raises(ValueError, match="upstream"):
        proxy.start(upstream, lambda: "t")


# --- streaming ----------------------------------------------------------------------------------

EVENT_1 = b'data: {"candidates": [{"content": {"parts": [{"text": "Hel"}]}}]}\n\n'
EVENT_2 = b'data: {"candidates": [{"content": {"parts": [{"text": "lo"}]}}]}\n\n'


@pytest.mark.parametrize("framing", ["chunked", "content-length"])
def test_sse_passes_event_by_event(
    running: proxy.Proxy, workspace: Workspace, framing: str
) -> None:
    released = threading.Event()
    waited_out = threading.Event()

    def stream(handler: _Handler, seen: Seen) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        if framing == "chunked":
            handler.send_header("Transfer-Encoding", "chunked")
        else:
            handler.send_header("Content-Length", str(len(EVENT_1 + EVENT_2)))
        handler.end_headers()
        send = handler.chunk if framing == "chunked" else handler.wfile.write
        send(EVENT_1)
        if not released.wait(GUARD):
            waited_out.set()  # the test never saw the first event on its own
        send(EVENT_2)
        if framing == "chunked":
            handler.wfile.write(b"0\r\n\r\n")

    workspace.reply = stream
    conn = _client(running)
    conn.request("POST", STREAM, b"{}", {"x-goog-api-key": running.secret})
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream"
    first = b""
    while not first.endswith(b"\n\n"):
        first += response.read1(65536)
    assert first == EVENT_1
    assert not waited_out.is_set()
    released.set()
    assert response.read() == EVENT_2
    conn.close()
    assert not waited_out.is_set()


def test_an_agent_that_hangs_up_mid_stream_ends_the_workspace_request(
    running: proxy.Proxy, workspace: Workspace
) -> None:
    released = threading.Event()
    cut = threading.Event()

    def endless(handler: _Handler, seen: Seen) -> None:
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        handler.chunk(EVENT_1)
        released.wait(GUARD)
        try:
            for _ in range(100_000):  # a bound, so a failing proxy ends the test
                handler.chunk(EVENT_2)
        except OSError:
            cut.set()  # the proxy closed its side: a cancelled answer stops costing

    workspace.reply = endless
    conn = _client(running)
    conn.request("POST", STREAM, b"{}", {"x-goog-api-key": running.secret})
    response = conn.getresponse()
    assert response.read1(65536).startswith(b"data:")
    conn.close()
    released.set()
    assert cut.wait(GUARD)


def test_a_stream_the_workspace_abandons_is_cut_not_ended(workspace: Workspace) -> None:
    released = threading.Event()

    def stalls(handler: _Handler, seen: Seen) -> None:
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        handler.chunk(EVENT_1)
        released.wait(GUARD)

    workspace.reply = stalls
    with proxy.start(workspace.url, lambda: "t", read_timeout=0.2) as p:
        conn = _client(p)
        conn.request("POST", STREAM, b"{}", {"x-goog-api-key": p.secret})
        response = conn.getresponse()
        assert response.status == 200
        # The agent must see a broken stream, not one that looks complete.
        with pytest.raises(http.client.IncompleteRead):
            response.read()
        conn.close()
    released.set()


# --- failures -----------------------------------------------------------------------------------


def test_workspace_down_is_a_502_naming_it(tokens: Tokens) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        port = closed.getsockname()[1]
        with proxy.start(f"http://127.0.0.1:{port}{BASE}", tokens) as p:
            status, body = _post(p)
    assert status == 502
    message = _message(body)
    assert f"cannot reach the workspace http://127.0.0.1:{port}" in message
    assert "refused" in message.lower()
    assert "token" not in message


def test_a_workspace_that_does_not_answer_is_a_504_after_the_read_timeout(tokens: Tokens) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts (backlog), never answers
        port = silent.getsockname()[1]
        with proxy.start(f"http://127.0.0.1:{port}", tokens, read_timeout=0.2) as p:
            status, body = _post(p)
    assert status == 504
    assert f"the workspace http://127.0.0.1:{port} did not answer in time" in _message(body)


def _raise(exc: Exception) -> Callable[[], str]:
    def token() -> str:
        raise exc

    return token


@pytest.mark.parametrize(
    "exc, status, words",
    [
        (
            UserError("no valid token for profile DEFAULT", "dbx-fmapi login", 4),
            401,
            "no valid token for profile DEFAULT; run: dbx-fmapi login",
        ),
        (OSError("cannot reach the token endpoint"), 503, "cannot reach the token endpoint"),
        (RuntimeError("refresh failed for eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"), 503, "["),
    ],
)
def test_a_token_that_cannot_be_had_is_a_clear_error(
    workspace: Workspace, exc: Exception, status: int, words: str
) -> None:
    with proxy.start(workspace.url, _raise(exc)) as p:
        got, body = _post(p)
    assert got == status
    message = _message(body)
    assert message.startswith("dbx-fmapi proxy: no Databricks token: ")
    assert words in message
    assert "eyJhbGci" not in message
    assert workspace.seen == []


def test_the_workspace_closing_an_idle_connection_costs_no_request(
    running: proxy.Proxy, workspace: Workspace
) -> None:
    def answer_then_hang_up(handler: _Handler, seen: Seen) -> None:
        _ok(handler, seen)
        handler.close_connection = True  # without saying so: the proxy finds out on reuse

    workspace.reply = answer_then_hang_up
    conn = _client(running)
    for _ in range(3):
        conn.request("GET", "/v1beta/models", headers={"x-api-key": running.secret})
        response = conn.getresponse()
        assert response.status == 200
        response.read()
    conn.close()
    assert len(workspace.seen) == 3


# --- load -------------------------------------------------------------------------------------


def test_concurrent_requests_are_served_together(
    running: proxy.Proxy, workspace: Workspace
) -> None:
    n = 8
    # Every request is held at the workspace until all n are there at once: a proxy that
    # served one at a time would break the barrier (its timeout), not just be slower.
    barrier = threading.Barrier(n, timeout=GUARD)

    def together(handler: _Handler, seen: Seen) -> None:
        barrier.wait()
        handler.send_json(200, {"echo": seen.body.decode()})

    workspace.reply = together
    results: dict[int, tuple[int, bytes]] = {}

    def one(i: int) -> None:
        results[i] = _post(running, body=json.dumps({"i": i}).encode())

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(n))
    for i, (status, body) in results.items():
        assert status == 200
        assert json.loads(json.loads(body)["echo"]) == {"i": i}


def test_large_bodies_pass_intact_both_ways(running: proxy.Proxy, workspace: Workspace) -> None:
    def echo(handler: _Handler, seen: Seen) -> None:
        handler.send_response(200)
        handler.send_header("X-Sha256", hashlib.sha256(seen.body).hexdigest())
        handler.send_header("Content-Length", str(len(seen.body)))
        handler.end_headers()
        handler.wfile.write(seen.body)

    workspace.reply = echo
    payload = os.urandom(5 * 1024 * 1024)
    status, body = _post(running, body=payload)
    assert status == 200
    assert body == payload

    # A client that streams its request body (chunked) gets the same, sent on with a length.
    conn = _client(running)
    pieces = [payload[i : i + 300_000] for i in range(0, len(payload), 300_000)]
    conn.request(
        "POST", STREAM, iter(pieces), {"x-goog-api-key": running.secret}, encode_chunked=True
    )
    response = conn.getresponse()
    assert response.getheader("X-Sha256") == hashlib.sha256(payload).hexdigest()
    assert response.read() == payload
    conn.close()


# --- what is never shown ------------------------------------------------------------------------


def test_no_token_or_secret_in_any_log_output(
    workspace: Workspace, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = Tokens()
    with proxy.start(workspace.url, tokens) as p:
        secret = p.secret
        assert _post(p, path=STREAM + f"&key={secret}")[0] == 200
        assert _post(p, {"Authorization": "Bearer wrong"})[0] == 401
    with proxy.start(workspace.url, _raise(RuntimeError(f"bad {tokens()}"))) as p:
        assert _post(p)[0] == 503
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        with proxy.start(f"http://127.0.0.1:{closed.getsockname()[1]}", tokens) as p:
            assert _post(p)[0] == 502
    out, err = capfd.readouterr()
    shown = caplog.text + out + err
    assert "proxy: POST" in caplog.text and "cannot reach" in caplog.text  # logs were written
    assert secret not in shown
    assert "eyJhbGci" not in shown
    # Nothing on the agent's terminal either when the program configured no logging at all.
    handlers = logging.getLogger("dbx_fmapi_claude.agents.proxy").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


# --- TLS ----------------------------------------------------------------------------------------


@pytest.fixture
def tls_workspace(tmp_path: Path) -> Iterator[tuple[Workspace, Path]]:
    import trustme

    ca = trustme.CA()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    ca_file = tmp_path / "company-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    ws = Workspace(tls=ctx)
    yield ws, ca_file
    ws.stop()


def test_https_workspace_behind_a_company_ca(
    tls_workspace: tuple[Workspace, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, ca_file = tls_workspace
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with proxy.start(ws.url, lambda: "tls-token") as p:
        status, body = _post(p)
    assert status == 200, body
    assert ws.seen[0].header("Authorization") == ["Bearer tls-token"]


def test_https_workspace_with_an_unknown_ca_is_a_502_with_the_fix(
    tls_workspace: tuple[Workspace, Path],
) -> None:
    ws, _ = tls_workspace
    with proxy.start(ws.url, lambda: "tls-token", env={}) as p:
        status, body = _post(p)
    assert status == 502
    message = _message(body)
    assert "certificate" in message
    assert "SSL_CERT_FILE" in message
    assert ws.seen == []


class _Tunnel(socketserver.ThreadingTCPServer):
    """A company's HTTP proxy: CONNECT host:port, then bytes both ways; records each CONNECT."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _TunnelHandler)
        self.asked: list[tuple[str, list[str]]] = []
        self.thread = threading.Thread(target=self.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()


class _TunnelHandler(socketserver.StreamRequestHandler):
    server: _Tunnel

    def handle(self) -> None:
        request = self.rfile.readline().decode()
        headers = []
        while (line := self.rfile.readline()) not in (b"\r\n", b""):
            headers.append(line.decode().strip())
        self.server.asked.append((request.strip(), headers))
        host, _, port = request.split()[1].rpartition(":")
        with socket.create_connection((host, int(port)), timeout=GUARD) as far:
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            back = threading.Thread(target=_pump, args=(far, self.connection), daemon=True)
            back.start()
            _pump(self.connection, far)
            back.join(GUARD)


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the other side closed first


def test_https_workspace_through_the_company_proxy(
    tls_workspace: tuple[Workspace, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, ca_file = tls_workspace
    tunnel = _Tunnel()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
        monkeypatch.setenv("https_proxy", f"http://me:p%40ss@127.0.0.1:{tunnel.server_address[1]}")
        monkeypatch.setenv("no_proxy", "internal.example.com")
        workspace_url = ws.url.replace("127.0.0.1", "localhost")
        with proxy.start(workspace_url, lambda: "via-proxy") as p:
            status, body = _post(p)
            assert status == 200, body
            # The client has the whole answer before the proxy's thread puts the connection
            # back in the pool: wait for that, then the tunnel must be reused.
            pool = p._server.upstream
            deadline = time.monotonic() + GUARD
            while pool.idle() == 0 and time.monotonic() < deadline:
                time.sleep(0.005)
            assert _post(p)[0] == 200  # the tunnel is kept alive like any connection
    finally:
        tunnel.shutdown()
        tunnel.server_close()
    ((request, headers),) = tunnel.asked
    assert request.startswith(f"CONNECT localhost:{ws.server_address[1]} HTTP/1.")
    assert "Proxy-Authorization: Basic bWU6cEBzcw==" in headers  # me:p@ss
    assert [s.header("Authorization") for s in ws.seen] == [["Bearer via-proxy"]] * 2


@pytest.mark.parametrize(
    "env, via",
    [
        ({}, None),
        ({"HTTPS_PROXY": "proxy.corp:3128"}, ("proxy.corp", 3128, {})),
        ({"https_proxy": "http://proxy.corp", "no_proxy": ".example.com"}, None),
        ({"https_proxy": "http://proxy.corp", "NO_PROXY": "other.org, ws.example.com"}, None),
        ({"https_proxy": "http://proxy.corp", "no_proxy": "*"}, None),
        ({"https_proxy": "http://proxy.corp", "no_proxy": "example.org"}, ("proxy.corp", 80, {})),
    ],
)
def test_which_workspaces_go_through_the_company_proxy(
    env: dict[str, str], via: tuple[str, int, dict[str, str]] | None
) -> None:
    assert upstream.https_proxy_for("ws.example.com", env) == via
