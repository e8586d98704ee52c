"""Issue 19, item 1, behind the loopback proxy (`dbx-fmapi run gemini|opencode`): a token the
workspace refuses although its expiry says good (revoked, rotated) is replaced and the request
sent once more, before anything reaches the agent. In process: the proxy, its FreshToken and the
rig's workspace over real HTTP; the refetch asks the workspace as `dbx-fmapi token` does."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from dbx_fmapi_claude.agents import proxy
from dbx_fmapi_claude.agents.freshtoken import FreshToken
from dbx_fmapi_claude.auth import rejected
from dbx_fmapi_claude.auth.dbcli import Token
from tests.rig.workspace import FakeWorkspace

MESSAGES = "/serving-endpoints/anthropic/v1/messages"
GATEWAY_MESSAGES = "/ai-gateway/anthropic/v1/messages"
BODY = {
    "model": "databricks-claude-sonnet-4-5",
    "max_tokens": 5,
    "messages": [{"role": "user", "content": "hi"}],
}


class Source:
    """The token source `dbx-fmapi run` gives the proxy: fetch = the helper's token; refetch =
    the helper's token after asking the workspace (a rejected one is replaced)."""

    def __init__(self, ws: FakeWorkspace, refuse_refresh: bool = False) -> None:
        self.ws = ws
        self.current = Token(ws.issue_token(), time.time() + 3600)
        self.refetches = 0
        self.refuse_refresh = refuse_refresh

    def fetch(self) -> Token:
        return self.current

    def refetch(self) -> Token:
        self.refetches += 1
        verdict = rejected.check(self.ws.url, self.current.access_token, {})
        if verdict == rejected.REJECTED:
            if self.refuse_refresh:
                raise rejected.RejectedLogin(
                    "the workspace rejected the token of profile 'DEFAULT' and refused to refresh",
                    "dbx-fmapi login --profile DEFAULT",
                )
            self.current = Token(self.ws.issue_token(), time.time() + 3600)
        return self.current


@pytest.fixture
def ws() -> Iterator[FakeWorkspace]:
    with FakeWorkspace() as w:
        w.ai_gateway = "on"
        yield w


def start(ws: FakeWorkspace, source: Source) -> Any:
    fresh = FreshToken(source.fetch, keep=30, held=source.fetch(), refetch=source.refetch)
    return proxy.start(ws.url, fresh, env={})


def post(p: Any, path: str) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", p.port, timeout=30)
    try:
        conn.request(
            "POST",
            path,
            body=json.dumps(BODY),
            headers={"Authorization": f"Bearer {p.secret}", "Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        conn.close()


def upstream(ws: FakeWorkspace, path: str) -> list[tuple[int, str]]:
    return [(r.status, r.token.state if r.token else "none") for r in ws.requests(path)]


@pytest.mark.parametrize(
    "path, status", [(GATEWAY_MESSAGES, 400), (MESSAGES, 403), (MESSAGES, 401)]
)
def test_a_revoked_token_is_replaced_and_the_request_sent_once_more(
    ws: FakeWorkspace, path: str, status: int
) -> None:
    ws.invalid_token_status = 401 if status == 401 else 403
    source = Source(ws)
    with start(ws, source) as p:
        assert post(p, path)[0] == 200
        ws.revoke_token(source.current.access_token)
        code, answer = post(p, path)
        assert code == 200, answer
        assert post(p, path)[0] == 200  # the replacement is held: no further refetch
    assert upstream(ws, path) == [
        (200, "valid"),
        (status, "revoked"),
        (200, "valid"),
        (200, "valid"),
    ]
    assert source.refetches == 1
    assert [r.json["model"] for r in ws.requests(path)][-2:] == [BODY["model"]] * 2  # body resent


def test_a_refusal_that_is_not_about_the_token_reaches_the_agent_as_it_came(
    ws: FakeWorkspace,
) -> None:
    source = Source(ws)
    ws.fail(MESSAGES, 403, times=1, body={"error_code": "PERMISSION_DENIED", "message": "no"})
    with start(ws, source) as p:
        code, answer = post(p, MESSAGES)
    assert (code, answer) == (403, {"error_code": "PERMISSION_DENIED", "message": "no"})
    assert upstream(ws, MESSAGES) == [(403, "valid")]  # asked once; the token was fine
    assert source.refetches == 0  # a PERMISSION_DENIED is not about the token: no check


def test_a_403_the_check_finds_is_not_about_the_token_reaches_the_agent(
    ws: FakeWorkspace,
) -> None:
    source = Source(ws)
    ws.fail(MESSAGES, 403, times=1, body={"error_code": "403", "message": "blocked"})
    with start(ws, source) as p:
        code, answer = post(p, MESSAGES)
    assert (code, answer) == (403, {"error_code": "403", "message": "blocked"})
    assert upstream(ws, MESSAGES) == [(403, "valid")]
    assert source.refetches == 1  # asked the workspace: it accepts the token


def test_a_refused_refresh_tells_the_agent_to_log_in(ws: FakeWorkspace) -> None:
    source = Source(ws, refuse_refresh=True)
    with start(ws, source) as p:
        ws.revoke_access_tokens()
        code, answer = post(p, GATEWAY_MESSAGES)
    assert code == 401
    assert "dbx-fmapi login --profile DEFAULT" in answer["error"]["message"]
    assert upstream(ws, GATEWAY_MESSAGES) == [(400, "revoked")]


def test_what_counts_as_a_refused_token() -> None:
    assert rejected.is_rejection(401)
    assert rejected.is_rejection(403, b'{"error_code": "403", "message": "Invalid access token."}')
    assert not rejected.is_rejection(403, b'{"error_code": "PERMISSION_DENIED", "message": "no"}')
    assert rejected.is_rejection(400, b'{"error_code": "400", "message": "Invalid Token"}')
    assert not rejected.is_rejection(400, b'{"error_code": "BAD_REQUEST", "message": "bad"}')
    assert not rejected.is_rejection(429) and not rejected.is_rejection(404)


def test_the_check_asks_the_workspace_over_tls_and_says_unknown_when_it_cannot() -> None:
    with FakeWorkspace(tls=True) as tls:
        env = {"SSL_CERT_FILE": str(tls.ca_file)}
        token = tls.issue_token()
        assert rejected.check(tls.url, token, env) == rejected.ACCEPTED
        assert rejected.check(tls.url, token, {}) == rejected.UNKNOWN  # CA not trusted
        tls.revoke_token(token)
        assert rejected.check(tls.url, token, env) == rejected.REJECTED
        assert [r.status for r in tls.requests(rejected.CHECK_PATH)] == [200, 403]
        port = tls.port
    assert rejected.check(f"https://127.0.0.1:{port}", token, env, timeout=2) == rejected.UNKNOWN
