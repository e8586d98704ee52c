"""Self-tests of the fake workspace (tests/rig/workspace.py), over HTTP."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.rig import http
from tests.rig.sandbox import REPO_ROOT
from tests.rig.workspace import FakeWorkspace, current_endpoints, endpoint

MSG = {"model": "databricks-claude-sonnet-4-5", "max_tokens": 16, "messages": []}


def pkce() -> tuple[str, str]:
    verifier = "v" * 43
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorize(ws: FakeWorkspace, **overrides: str) -> http.Response:
    _, challenge = pkce()
    q = {
        "client_id": "databricks-cli",
        "response_type": "code",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "redirect_uri": "http://localhost:8020",
        "scope": "offline_access all-apis",
        "state": "st4te",
    }
    q.update(overrides)
    q = {k: v for k, v in q.items() if v != ""}
    return http.get(f"{ws.url}/oidc/v1/authorize?{urlencode(q)}", follow_redirects=False)


def code_login(ws: FakeWorkspace) -> dict:
    resp = authorize(ws)
    assert resp.status == 302
    code = parse_qs(urlsplit(resp.headers["location"]).query)["code"][0]
    verifier, _ = pkce()
    tok = http.post(
        f"{ws.url}/oidc/v1/token",
        form={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": "http://localhost:8020",
            "client_id": "databricks-cli",
        },
    )
    assert tok.status == 200, tok.text
    return tok.json()


def test_discovery(workspace: FakeWorkspace) -> None:
    meta = http.get(f"{workspace.url}/oidc/.well-known/oauth-authorization-server").json()
    assert meta["authorization_endpoint"] == f"{workspace.url}/oidc/v1/authorize"
    assert meta["token_endpoint"] == f"{workspace.url}/oidc/v1/token"
    assert "S256" in meta["code_challenge_methods_supported"]
    # the host metadata the CLI reads before login and token (unauthenticated)
    host = http.get(f"{workspace.url}/.well-known/databricks-config")
    assert host.status == 200
    assert host.json() == {
        "oidc_endpoint": f"{workspace.url}/oidc",
        "account_id": workspace.account_id,
        "workspace_id": workspace.workspace_id,
        "cloud": "AWS",
        "host_type": "workspace",
    }


def test_down_and_up_keep_the_address_and_the_tokens() -> None:
    with FakeWorkspace() as ws:
        token = ws.issue_token()
        url = ws.url
        ws.down()
        assert not ws.is_up
        with pytest.raises(OSError):
            http.get(f"{url}/.well-known/databricks-config", timeout=2)
        ws.up()
        assert ws.is_up and ws.url == url
        assert ws.token_state(token) == "valid"
        assert http.get(f"{url}/api/2.0/serving-endpoints", token=token).status == 200


def test_authorize_checks_pkce_client_and_redirect(workspace: FakeWorkspace) -> None:
    ok = authorize(workspace)
    loc = urlsplit(ok.headers["location"])
    assert (ok.status, loc.netloc) == (302, "localhost:8020")
    assert parse_qs(loc.query)["state"] == ["st4te"] and "code" in parse_qs(loc.query)

    plain = authorize(workspace, code_challenge_method="plain")
    assert parse_qs(urlsplit(plain.headers["location"]).query)["error"] == ["invalid_request"]
    assert "error" in parse_qs(
        urlsplit(authorize(workspace, code_challenge="").headers["location"]).query
    )
    assert authorize(workspace, client_id="someone-else").status == 400
    assert authorize(workspace, redirect_uri="http://evil.example.com:8020").status == 400

    workspace.deny_login = True
    denied = authorize(workspace)
    assert parse_qs(urlsplit(denied.headers["location"]).query)["error"] == ["access_denied"]


def test_code_exchange_verifies_pkce_and_is_single_use(workspace: FakeWorkspace) -> None:
    resp = authorize(workspace)
    code = parse_qs(urlsplit(resp.headers["location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": "wrong" * 10,
        "redirect_uri": "http://localhost:8020",
        "client_id": "databricks-cli",
    }
    assert http.post(f"{workspace.url}/oidc/v1/token", form=form).json()["error"] == (
        "invalid_grant"
    )
    tok = code_login(workspace)
    assert tok["token_type"] == "Bearer" and tok["expires_in"] == 3600
    assert tok["refresh_token"] and tok["scope"]
    header, payload, _sig = tok["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert {"exp", "iat", "sub", "jti"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 3600
    assert workspace.token_requests == [("authorization_code", False), ("authorization_code", True)]


def test_refresh_rotates_and_invalid_refresh_is_invalid_grant(workspace: FakeWorkspace) -> None:
    tok = code_login(workspace)
    form = {
        "grant_type": "refresh_token",
        "refresh_token": tok["refresh_token"],
        "client_id": "databricks-cli",
    }
    new = http.post(f"{workspace.url}/oidc/v1/token", form=form)
    assert new.status == 200
    assert new.json()["refresh_token"] != tok["refresh_token"]
    assert workspace.refresh_count() == 1

    workspace.revoke_refresh_tokens()
    bad = http.post(f"{workspace.url}/oidc/v1/token", form=form)
    assert bad.status == 400
    assert bad.json() == {"error": "invalid_grant", "error_description": "Refresh token is invalid"}
    assert workspace.token_requests[-1] == ("refresh_token", False)


def test_refresh_token_lifetime() -> None:
    with FakeWorkspace(refresh_token_lifetime=0.5) as ws:
        tok = code_login(ws)
        time.sleep(0.6)
        form = {
            "grant_type": "refresh_token",
            "refresh_token": tok["refresh_token"],
            "client_id": "databricks-cli",
        }
        assert http.post(f"{ws.url}/oidc/v1/token", form=form).status == 400


def test_client_credentials(workspace: FakeWorkspace) -> None:
    form = {"grant_type": "client_credentials", "scope": "all-apis"}
    good = http.post(
        f"{workspace.url}/oidc/v1/token",
        form={**form, "client_id": "test-sp", "client_secret": "test-sp-secret"},
    )
    assert good.status == 200 and "refresh_token" not in good.json()
    assert workspace.token_state(good.json()["access_token"]) == "valid"
    bad = http.post(
        f"{workspace.url}/oidc/v1/token",
        form={**form, "client_id": "test-sp", "client_secret": "nope"},
    )
    assert bad.status == 401 and bad.json()["error"] == "invalid_client"


def test_scim_me_and_endpoints(workspace: FakeWorkspace) -> None:
    token = workspace.issue_token()
    me = http.get(f"{workspace.url}/api/2.0/preview/scim/v2/Me", token=token)
    assert me.status == 200 and me.json()["userName"] == workspace.user_name
    assert me.headers["x-databricks-org-id"] == workspace.workspace_id

    eps = http.get(f"{workspace.url}/api/2.0/serving-endpoints", token=token).json()["endpoints"]
    by_name = {e["name"]: e for e in eps}
    assert by_name["databricks-claude-opus-4-6"]["state"]["ready"] == "READY"
    assert by_name["databricks-claude-sonnet-4-6-preview"]["state"]["ready"] == "NOT_READY"
    types = {e["endpoint_type"] for e in eps}
    assert types == {"FOUNDATION_MODEL_API", "EXTERNAL_MODEL", "CUSTOM_MODEL"}
    fm = by_name["databricks-claude-haiku-4-5"]["config"]["served_entities"][0]["foundation_model"]
    assert fm["display_name"] == "Claude Haiku 4.5"

    one = http.get(
        f"{workspace.url}/api/2.0/serving-endpoints/databricks-claude-opus-4-5", token=token
    )
    assert one.json()["name"] == "databricks-claude-opus-4-5"
    missing = http.get(f"{workspace.url}/api/2.0/serving-endpoints/nope", token=token)
    assert missing.status == 404
    assert missing.json() == {
        "error_code": "RESOURCE_DOES_NOT_EXIST",
        "message": "Endpoint with name 'nope' does not exist.",
    }
    workspace.set_endpoints([endpoint("databricks-claude-opus-4-7")])
    eps = http.get(f"{workspace.url}/api/2.0/serving-endpoints", token=token).json()["endpoints"]
    assert [e["name"] for e in eps] == ["databricks-claude-opus-4-7"]


# A token the workspace does not accept: 403 on serving endpoints, `400 Invalid Token` on the
# AI Gateway (which Claude Code does not retry).
REJECTED = {
    "/serving-endpoints/anthropic": (
        403,
        {"error_code": "403", "message": "Invalid access token."},
    ),
    "/ai-gateway/anthropic": (400, {"error_code": "400", "message": "Invalid Token"}),
}


@pytest.mark.parametrize("base", ["/serving-endpoints/anthropic", "/ai-gateway/anthropic"])
def test_messages_auth_and_model_errors(workspace: FakeWorkspace, base: str) -> None:
    workspace.ai_gateway = "on"
    url = f"{workspace.url}{base}/v1/messages?beta=true"
    none = http.post(url, json_body=MSG)
    assert none.status == 401
    assert none.headers["www-authenticate"] == 'Bearer realm="DatabricksRealm"'
    bogus = http.post(url, json_body=MSG, token="not-a-token")
    assert (bogus.status, bogus.json()) == REJECTED[base]
    token = workspace.issue_token()
    for model in (
        "nope",
        "databricks-claude-sonnet-4-6-preview",
        "databricks-meta-llama-3-3-70b-instruct",
    ):
        resp = http.post(url, json_body={**MSG, "model": model}, token=token)
        assert resp.status == 404 and resp.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    ok = http.post(url, json_body=MSG, token=token)
    assert ok.status == 200 and ok.json()["content"][0]["text"] == "pong"
    ext = http.post(url, json_body={**MSG, "model": "anthropic-external-claude"}, token=token)
    assert ext.status == 200
    workspace.expire_access_tokens()
    assert http.post(url, json_body=MSG, token=token).status == REJECTED[base][0]
    rec = workspace.messages_requests()[-1]
    assert rec.token is not None and rec.token.state == "expired" and rec.token.matches(token)
    assert rec.query == {"beta": "true"} and rec.path == f"{base}/v1/messages"


def test_ai_gateway_switches_and_error_shapes(workspace: FakeWorkspace) -> None:
    token = workspace.issue_token()
    url = f"{workspace.gateway_base_url}/v1/messages"
    models = f"{workspace.gateway_base_url}/v1/models"
    workspace.ai_gateway = "on"
    assert http.post(url, json_body=MSG, token=token).status == 200

    workspace.ai_gateway = "off"  # the default
    for resp in (http.post(url, json_body=MSG, token=token), http.get(models, token=token)):
        assert resp.status == 404, resp.text
        body = resp.json()
        assert body["error_code"] == "FEATURE_DISABLED"
        assert body["message"] == "AI Gateway is not available for this workspace."
    # serving endpoints are not the gateway
    assert http.post(f"{workspace.anthropic_base_url}/v1/messages", json_body=MSG, token=token).ok

    workspace.ai_gateway = "redirect"
    moved = http.post(url, json_body=MSG, token=token, follow_redirects=False)
    assert moved.status == 303 and "/login.html" in moved.headers["location"]

    workspace.ai_gateway = "on"
    workspace.traffic_split.add(MSG["model"])
    split = http.post(url, json_body=MSG, token=token)
    assert split.status == 400 and "traffic" in split.json()["message"]
    assert http.post(f"{workspace.anthropic_base_url}/v1/messages", json_body=MSG, token=token).ok


def test_current_catalogue_and_listing_apis(workspace: FakeWorkspace) -> None:
    workspace.modernize()
    assert workspace.endpoints == current_endpoints()
    token = workspace.issue_token()
    listing = http.get(f"{workspace.gateway_base_url}/v1/models?limit=1000", token=token).json()
    ids = [m["id"] for m in listing["data"]]
    assert ids[:3] == [
        "databricks-claude-opus-4-8",
        "databricks-claude-opus-4-8[1m]",
        "databricks-claude-opus-4-7",
    ]
    assert "databricks-claude-fable-5-2" in ids and "databricks-claude-fable-5-3" not in ids
    assert listing["has_more"] is False and listing["first_id"] == ids[0]
    assert all(m["type"] == "model" and m["display_name"] for m in listing["data"])
    two = http.get(f"{workspace.gateway_base_url}/v1/models?limit=2", token=token).json()
    # like the real gateway (databricks/unity-gateway#680): `last_id` stays null
    assert two["has_more"] is True and two["last_id"] is None and len(two["data"]) == 2
    query = urlencode({"limit": 2, "after_id": ids[1]})
    after = http.get(f"{workspace.gateway_base_url}/v1/models?{query}", token=token)
    assert [m["id"] for m in after.json()["data"]] == ids[2:4]

    fm = http.get(f"{workspace.url}/api/2.0/serving-endpoints:foundation-models", token=token)
    names = [e["name"] for e in fm.json()["endpoints"]]
    assert "databricks-claude-opus-4-8" in names and "anthropic-external-claude" not in names
    entity = fm.json()["endpoints"][0]["config"]["served_entities"][0]["foundation_model"]
    assert entity["ai_gateway_v2_supported"] is True
    assert "anthropic/v1/messages" in entity["api_types"]

    uc_url = f"{workspace.url}/api/2.1/unity-catalog/model-services?parent=schemas/system.ai"
    uc = http.get(uc_url, token=token).json()
    uc_names = [m["name"] for m in uc["model_services"]]
    assert "model-services/system.ai.claude-opus-4-8" in uc_names
    assert "model-services/system.ai.claude-fable-5-3" not in uc_names  # not READY yet
    assert "next_page_token" not in uc
    page = http.get(f"{uc_url}&page_size=2", token=token).json()
    assert len(page["model_services"]) == 2 and page["next_page_token"]
    workspace.model_services_empty_first_page = True
    first = http.get(uc_url, token=token).json()
    assert first["model_services"] == [] and first["next_page_token"]
    again = urlencode({"page_token": first["next_page_token"]})  # base64: `+ / =` encoded
    rest = http.get(f"{uc_url}&{again}", token=token).json()
    assert [m["name"] for m in rest["model_services"]] == uc_names

    # The gateway answers to a Unity Catalog name; serving endpoints only to the endpoint name.
    uc_msg = {**MSG, "model": "system.ai.claude-opus-4-8"}
    assert http.post(f"{workspace.gateway_base_url}/v1/messages", json_body=uc_msg, token=token).ok
    served = http.post(f"{workspace.anthropic_base_url}/v1/messages", json_body=uc_msg, token=token)
    assert served.status == 404

    workspace.listing_apis["foundation-models"] = False
    workspace.listing_apis["model-services"] = False
    for url in (uc_url, f"{workspace.url}/api/2.0/serving-endpoints:foundation-models"):
        off = http.get(url, token=token)
        assert off.status == 404 and off.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    plain = http.get(f"{workspace.url}/api/2.0/serving-endpoints", token=token).json()
    assert not any(k.startswith("_") for e in plain["endpoints"] for k in e)


def test_messages_stream(workspace: FakeWorkspace) -> None:
    workspace.reply_text = "hello there"
    token = workspace.issue_token()
    resp = http.post(
        f"{workspace.anthropic_base_url}/v1/messages",
        json_body={**MSG, "stream": True},
        token=token,
    )
    assert resp.headers["content-type"].startswith("text/event-stream")
    events = [line[7:] for line in resp.text.splitlines() if line.startswith("event: ")]
    assert events == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert '"text": "hello there"' in resp.text
    count = http.post(
        f"{workspace.anthropic_base_url}/v1/messages/count_tokens", json_body=MSG, token=token
    )
    assert count.status == 200 and count.json()["input_tokens"] > 0


def test_token_controls_and_redacted_log(workspace: FakeWorkspace) -> None:
    token = workspace.issue_token(lifetime=100)
    http.get(
        f"{workspace.url}/api/2.0/serving-endpoints",
        token=token,
        headers={"x-api-key": token, "x-custom": "yes"},
    )
    rec = workspace.log[-1]
    assert token not in repr(rec) and token not in str(rec.headers) and token not in repr(rec.token)
    assert rec.headers["x-custom"] == "yes"
    assert rec.token is not None and rec.token.matches(token) and rec.token.state == "valid"
    assert rec.api_key is not None and rec.api_key.matches(token)
    assert 98 < (rec.token.seconds_left or 0) <= 100
    assert not rec.token.matches(token + "x")
    assert repr(rec.token).startswith(f"<token #{rec.token.id} valid, ")

    workspace.revoke_access_tokens()
    assert workspace.token_state(token) == "revoked"
    assert http.get(f"{workspace.url}/api/2.0/serving-endpoints", token=token).status == 403
    assert workspace.log[-1].token is not None and workspace.log[-1].token.state == "revoked"
    assert workspace.token_state("garbage") == "unknown"
    assert repr(workspace.token_ref("garbage")) == "<token unknown>"

    workspace.access_token_lifetime = 5
    short = workspace.issue_token()
    ref = workspace.token_ref(short)
    assert ref is not None and ref.seconds_left is not None and ref.seconds_left <= 5


def test_fault_and_latency_injection(workspace: FakeWorkspace) -> None:
    token = workspace.issue_token()
    url = f"{workspace.anthropic_base_url}/v1/messages"
    fault = workspace.fail("/serving-endpoints/anthropic", 429, times=2, retry_after=3)
    for _ in range(2):
        resp = http.post(url, json_body=MSG, token=token)
        assert resp.status == 429 and resp.headers["retry-after"] == "3"
        assert resp.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert http.post(url, json_body=MSG, token=token).status == 200
    assert fault.hits == 2

    workspace.fail("/oidc/v1/token", 503, body={"error": "temporarily_unavailable"})
    form = {"grant_type": "refresh_token", "refresh_token": "x", "client_id": "databricks-cli"}
    assert http.post(f"{workspace.url}/oidc/v1/token", form=form).status == 503
    assert workspace.token_requests == [("refresh_token", False)]
    workspace.fail("/api/", 500, body="plain text")
    assert http.get(f"{workspace.url}/api/2.0/serving-endpoints", token=token).text == "plain text"

    # A path's own latency is felt on that path only: set far beyond anything a busy machine
    # adds, so the other path's answer cannot be mistaken for it.
    workspace.set_latency("/api/2.0/serving-endpoints", 30.0)
    workspace.latency = 0.2
    start = time.monotonic()
    http.get(f"{workspace.url}/api/2.0/preview/scim/v2/Me", token=token)
    assert 0.2 <= time.monotonic() - start < 30.0
    workspace.set_latency("/api/2.0/serving-endpoints", 0.3)
    start = time.monotonic()
    http.get(f"{workspace.url}/api/2.0/serving-endpoints", token=token)
    assert time.monotonic() - start >= 0.3


def test_tls_workspace(tls_workspace: FakeWorkspace) -> None:
    assert tls_workspace.url.startswith("https://127.0.0.1:")
    meta = http.get(
        f"{tls_workspace.url}/oidc/.well-known/oauth-authorization-server",
        ca_file=tls_workspace.ca_file,
    )
    assert meta.json()["token_endpoint"].startswith("https://")
    with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):
        http.get(f"{tls_workspace.url}/oidc/.well-known/oauth-authorization-server", ca_file=None)
    # localhost is in the certificate too
    local = tls_workspace.url.replace("127.0.0.1", "localhost")
    assert http.get(f"{local}/oidc/jwks.json", ca_file=tls_workspace.ca_file).status == 200


def test_standalone_server() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.rig.workspace", "--tls", "--token-lifetime", "60"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        ca = proc.stdout.readline().split()[-1]
        assert url.startswith("https://127.0.0.1:")
        meta = http.get(f"{url}/oidc/.well-known/oauth-authorization-server", ca_file=ca)
        assert meta.status == 200
    finally:
        proc.terminate()
        proc.wait(10)


def test_no_workspace_port_the_sdk_would_take_for_a_rate_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real CLI retries for minutes any failure whose text holds "429", the URL's port
    included: a free port such as 42913 is refused (and held until a good one comes)."""
    from tests.rig import server as rig

    handed: list[int] = [42913, 34290, 51234]
    made: list[tuple[int, list[str]]] = []

    class Server:
        def __init__(self, address: tuple[str, int], handler: object) -> None:
            self.server_address = (address[0], handed.pop(0) if address[1] == 0 else address[1])
            self.calls: list[str] = []
            made.append((self.server_address[1], self.calls))

        def server_close(self) -> None:
            self.calls.append("closed")

    monkeypatch.setattr(rig, "_Server", Server)
    server = rig._bind(0)
    assert server.server_address[1] == 51234
    assert made == [(42913, ["closed"]), (34290, ["closed"]), (51234, [])]
    assert rig._bind(42913).server_address[1] == 42913  # a port asked for is a port given
