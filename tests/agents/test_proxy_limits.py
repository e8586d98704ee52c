"""Any local user can reach the loopback proxy; without the secret it must neither tie the proxy
up nor use it to reach the workspace's other APIs (security review, issue 25: 300 half-sent
requests left 302 threads alive; `/../../api/2.0/token/create` reached the workspace with the
user's token). Counts threads and connections, never times anything."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from dbx_fmapi_claude.agents import guard, proxy
from tests.helpers.proxy_world import GUARD, STREAM, Tokens, Workspace, _post


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    ws = Workspace()
    yield ws
    ws.stop()


@pytest.fixture
def tokens() -> Tokens:
    return Tokens()


def _client_threads() -> int:
    return sum(t.name == "dbx-fmapi-proxy-client" for t in threading.enumerate())


def _connect(p: proxy.Proxy, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", p.port), timeout=GUARD)
    sock.sendall(data)
    return sock


def test_many_half_sent_requests_keep_the_threads_bounded_and_the_agent_served(
    workspace: Workspace, tokens: Tokens
) -> None:
    with proxy.start(workspace.url, tokens) as p:
        before = _client_threads()
        half = [
            _connect(p, b"POST /v1beta/x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n")
            for _ in range(300)
        ]
        try:
            status, _ = _post(p)  # the agent, after all of them
            assert status == 200
            assert _client_threads() - before <= guard.MAX_PENDING + 1
            # The oldest half-sent connections were closed to make room.
            half[0].settimeout(GUARD)
            assert half[0].recv(1024) == b""
        finally:
            for sock in half:
                sock.close()
    assert len(workspace.seen) == 1 and tokens.calls == 1


def test_a_401_does_not_wait_for_a_body_that_never_comes(
    workspace: Workspace, tokens: Tokens
) -> None:
    with proxy.start(workspace.url, tokens) as p:
        sock = _connect(
            p,
            b"POST /v1beta/x HTTP/1.1\r\nHost: a\r\nx-goog-api-key: wrong\r\n"
            b"Content-Length: 1000\r\n\r\n",
        )
        with sock:
            sock.settimeout(GUARD)
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 401 ")
    assert b"Connection: close" in answer
    assert workspace.seen == [] and tokens.calls == 0


@pytest.mark.parametrize("sent", [b"", b"GET / HTTP/1.1\r\nHost: a\r\n"], ids=["idle", "headers"])
def test_a_client_that_stops_sending_is_cut(
    workspace: Workspace, tokens: Tokens, sent: bytes
) -> None:
    with proxy.start(workspace.url, tokens, idle_timeout=0.2, header_timeout=0.2) as p:
        sock = _connect(p, sent)
        with sock:
            sock.settimeout(GUARD)
            assert sock.recv(1024) == b""  # closed by the proxy, not by the guard timeout
        assert _post(p)[0] == 200


@pytest.mark.parametrize(
    "path",
    [
        "/../../api/2.0/token/create",
        "/v1beta/../../../api/2.0/token/create",
        "/%2e%2e/%2e%2e/api/2.0/token/create",
        "/%2E%2E/api/2.0/token/create",
        "/v1beta/..%2f..%2fapi/2.0/token/create",
        "/./v1beta/models",
        "/v1beta/%252e%252e/api",
        "/v1beta\\..\\api",
    ],
)
def test_a_path_that_climbs_out_of_the_route_is_refused_and_not_forwarded(
    workspace: Workspace, tokens: Tokens, path: str
) -> None:
    with proxy.start(workspace.url, tokens) as p:
        status, body = _post(p, path=path)
    assert status == 400 and b"route" in body
    assert workspace.seen == [] and tokens.calls == 0


def test_paths_under_the_route_pass(workspace: Workspace, tokens: Tokens) -> None:
    with proxy.start(workspace.url, tokens) as p:
        assert _post(p, path=STREAM)[0] == 200
        assert _post(p, path="/v1beta/models/gemini-2.5-pro..x:generateContent")[0] == 200
    assert [s.path.split("?")[0] for s in workspace.seen] == [
        "/ai-gateway/gemini/v1beta/models/databricks-gemini-2-5-pro:streamGenerateContent",
        "/ai-gateway/gemini/v1beta/models/gemini-2.5-pro..x:generateContent",
    ]
