"""A service principal's secret goes to the workspace and nowhere else (security review, issue
25): a redirect from the token endpoint is not followed (urllib copied the Authorization header
to wherever it pointed, https to http too), and a token endpoint that discovery names on another
host is refused before the secret is sent. In process, on loopback servers: the "workspace" and
a second server on another port, which records every Authorization header it sees."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from dbx_fmapi_claude.auth import credentials
from dbx_fmapi_claude.auth.credentials import M2M, CredentialError, Source

SECRET = "sp-secret-0123456789"


class Server:
    """A loopback HTTP server answering each path from `routes` (status, headers, JSON body)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], Any]] = {}
        self.seen: list[tuple[str, str | None]] = []  # (path, Authorization)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                path = self.path.split("?")[0]
                server.seen.append((path, self.headers.get("Authorization")))
                status, headers, body = server.routes.get(path, (404, {}, {"error": "nf"}))
                raw = json.dumps(body).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def servers() -> Iterator[tuple[Server, Server]]:
    ws, other = Server(), Server()
    other.routes["/oidc/v1/token"] = (200, {}, {"access_token": "stolen", "expires_in": 3600})
    try:
        yield ws, other
    finally:
        ws.close()
        other.close()


def _fetch(ws: Server) -> Any:
    return credentials._fetch(Source(M2M, ws.url, "sp", "sp-id", SECRET), {})


def _secret_seen(server: Server) -> bool:
    return any(auth and auth.startswith("Basic") for _, auth in server.seen)


def test_a_redirect_from_the_token_endpoint_is_not_followed(
    servers: tuple[Server, Server],
) -> None:
    ws, other = servers
    ws.routes["/oidc/v1/token"] = (307, {"Location": f"{other.url}/oidc/v1/token"}, {})
    with pytest.raises(CredentialError) as err:
        _fetch(ws)
    assert not _secret_seen(other) and other.seen == []
    assert "redirect" in err.value.message and "not followed" in err.value.message
    assert err.value.fix and SECRET not in err.value.message + err.value.fix


@pytest.mark.parametrize(
    "where",
    [
        "{other}/oidc/v1/token",  # another port on the same address
        "http://localhost:{port}/oidc/v1/token",  # another host name
        "https://127.0.0.2:{port}/oidc/v1/token",  # https, on another address
    ],
)
def test_a_token_endpoint_on_another_host_is_refused_before_the_secret_is_sent(
    servers: tuple[Server, Server], where: str
) -> None:
    ws, other = servers
    port = other.url.rsplit(":", 1)[1]
    endpoint = where.format(other=other.url, port=port)
    ws.routes["/oidc/.well-known/oauth-authorization-server"] = (
        200,
        {},
        {"token_endpoint": endpoint, "issuer": f"{ws.url}/oidc"},
    )
    with pytest.raises(CredentialError) as err:
        _fetch(ws)
    assert not _secret_seen(other) and not _secret_seen(ws)
    assert "token endpoint elsewhere" in err.value.message
    assert err.value.fix and SECRET not in err.value.message + err.value.fix


def test_the_workspaces_own_token_endpoint_is_used(servers: tuple[Server, Server]) -> None:
    ws, _ = servers
    ws.routes["/oidc/.well-known/oauth-authorization-server"] = (
        200,
        {},
        {"token_endpoint": f"{ws.url}/oidc/v1/token"},
    )
    ws.routes["/oidc/v1/token"] = (200, {}, {"access_token": "good", "expires_in": 3600})
    assert _fetch(ws).access_token == "good"
    assert ("/oidc/v1/token", ws.seen[-1][1]) == ws.seen[-1] and _secret_seen(ws)
