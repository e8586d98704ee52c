"""The fake workspace's OAuth and OIDC: host metadata (`/.well-known/databricks-config`), OIDC
discovery, the authorization endpoint (U2M with PKCE), the token endpoint (authorization code,
refresh, client credentials for service principals) and an empty JWKS. All public: answered
before any bearer check."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.rig.records import _AuthCode, _b64url
from tests.rig.routing import Request, Response, Route

if TYPE_CHECKING:
    from tests.rig.server import _Handler
    from tests.rig.workspace import FakeWorkspace


def _token_route(req: Request) -> None:
    if req.method != "POST":
        raise Response(405, {"error": "invalid_request"})
    token(req.ws, req.h, req.body)


def _authorize_route(req: Request) -> None:
    authorize(req.ws, req.query)


def _host_metadata_route(req: Request) -> None:
    raise Response(200, host_metadata(req.ws))


def _discovery_route(req: Request) -> None:
    raise Response(200, discovery(req.ws))


def _jwks_route(req: Request) -> None:
    raise Response(200, {"keys": []})


ROUTES = [
    Route("GET", "/.well-known/databricks-config", _host_metadata_route, public=True),
    Route("*", "/oidc/.well-known/oauth-authorization-server", _discovery_route, public=True),
    Route("*", "/oidc/.well-known/openid-configuration", _discovery_route, public=True),
    Route("GET", "/oidc/v1/authorize", _authorize_route, public=True),
    Route("*", "/oidc/v1/token", _token_route, public=True),
    Route("*", "/oidc/jwks.json", _jwks_route, public=True),
]


def host_metadata(ws: FakeWorkspace) -> dict[str, Any]:
    """`GET /.well-known/databricks-config`, unauthenticated, as a workspace answers it
    (databricks-sdk-go config.HostMetadata): the CLI resolves it before every login and token
    call and saves workspace_id (and account_id) into the profile at login."""
    return {
        "oidc_endpoint": f"{ws.url}/oidc",
        "account_id": ws.account_id,
        "workspace_id": ws.workspace_id,
        "cloud": ws.cloud,
        "host_type": "workspace",
    }


def discovery(ws: FakeWorkspace) -> dict[str, Any]:
    u = ws.url
    return {
        "issuer": f"{u}/oidc",
        "authorization_endpoint": f"{u}/oidc/v1/authorize",
        "token_endpoint": f"{u}/oidc/v1/token",
        "jwks_uri": f"{u}/oidc/jwks.json",
        "userinfo_endpoint": f"{u}/oidc/v1/userinfo",
        "revocation_endpoint": f"{u}/oidc/v1/revoke",
        "scopes_supported": ["all-apis", "offline_access", "openid", "profile", "email"],
        "response_types_supported": ["code", "id_token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": ["client_credentials", "authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["iss", "sub", "aud", "iat", "exp", "jti", "name", "email"],
    }


def authorize(ws: FakeWorkspace, q: dict[str, str]) -> None:
    redirect_uri = q.get("redirect_uri", "")
    ru = urlsplit(redirect_uri)
    if (
        q.get("client_id") not in ws.public_clients
        or ru.scheme != "http"
        or ru.hostname not in ("localhost", "127.0.0.1")
    ):
        raise Response(
            400,
            "<html><body>Invalid OAuth request: unknown client or redirect_uri</body></html>",
            content_type="text/html; charset=utf-8",
        )

    def back(params: dict[str, str]) -> Response:
        if "state" in q:
            params["state"] = q["state"]
        sep = "&" if ru.query else "?"
        return Response(302, None, {"Location": redirect_uri + sep + urlencode(params)})

    if q.get("response_type") != "code":
        raise back({"error": "unsupported_response_type"})
    if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
        raise back(
            {
                "error": "invalid_request",
                "error_description": "PKCE with code_challenge_method=S256 is required",
            }
        )
    if ws.deny_login:
        raise back({"error": "access_denied", "error_description": "The user denied the request"})
    code = secrets.token_urlsafe(32)
    with ws._lock:
        ws._codes[code] = _AuthCode(
            client_id=q["client_id"],
            redirect_uri=redirect_uri,
            challenge=q["code_challenge"],
            scope=q.get("scope", ""),
            exp=time.time() + 300,
        )
    raise back({"code": code})


def token(ws: FakeWorkspace, h: _Handler, body: bytes) -> None:
    form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    grant = form.get("grant_type", "")
    client_id = form.get("client_id")
    client_secret = form.get("client_secret")
    basic = h.headers.get("authorization", "")
    if basic.lower().startswith("basic "):
        with contextlib.suppress(ValueError):
            cid, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            client_id, client_secret = cid, secret

    def error(err: str, desc: str, status: int = 400) -> Response:
        with ws._lock:
            ws.token_requests.append((grant, False))
        return Response(status, {"error": err, "error_description": desc})

    def ok(payload: dict[str, Any]) -> Response:
        with ws._lock:
            ws.token_requests.append((grant, True))
        return Response(200, payload, {"Cache-Control": "no-store"})

    now = time.time()
    if grant == "authorization_code":
        with ws._lock:
            code = ws._codes.get(form.get("code", ""))
            if code is not None and (code.used or code.exp < now):
                code = None
            if code is not None:
                code.used = True
        if code is None or code.client_id != client_id:
            raise error("invalid_grant", "Authorization code is invalid")
        if form.get("redirect_uri") != code.redirect_uri:
            raise error("invalid_grant", "redirect_uri does not match")
        verifier = form.get("code_verifier", "")
        if _b64url(hashlib.sha256(verifier.encode()).digest()) != code.challenge:
            raise error("invalid_grant", "PKCE verification failed")
        raise ok(token_payload(ws, client_id, refresh=True))
    if grant == "refresh_token":
        raw = form.get("refresh_token", "")
        with ws._lock:
            rt = ws._refresh.get(raw)
            bad = (
                rt is None
                or rt.revoked
                or (rt.exp is not None and rt.exp <= now)
                or rt.client_id != client_id
            )
            if not bad and ws.single_use_refresh_tokens:
                assert rt is not None
                rt.revoked = True
        if bad:
            raise error("invalid_grant", "Refresh token is invalid")
        if ws.rotate_refresh_tokens:
            raise ok(token_payload(ws, client_id or "", refresh=True))
        payload = token_payload(ws, client_id or "", refresh=False)
        payload["refresh_token"] = raw
        raise ok(payload)
    if grant == "client_credentials":
        if client_id in ws.disabled_principals:
            # Shape assumed (not verified against a real workspace): the same error class
            # as a bad secret, with its own description.
            raise error("invalid_client", "Service principal is disabled", 401)
        if client_id not in ws.service_principals or not secrets.compare_digest(
            ws.service_principals[client_id or ""], client_secret or ""
        ):
            raise error("invalid_client", "Client authentication failed", 401)
        payload = token_payload(ws, client_id or "", refresh=False, sub=client_id)
        payload["scope"] = form.get("scope", "all-apis")
        raise ok(payload)
    raise error("unsupported_grant_type", f"Unsupported grant_type {grant!r}")


def token_payload(
    ws: FakeWorkspace, client_id: str | None, refresh: bool, sub: str | None = None
) -> dict[str, Any]:
    raw, tok = ws._new_access_token(None, sub or ws.user_name, client_id or "")
    payload: dict[str, Any] = {
        "access_token": raw,
        "token_type": "Bearer",
        "expires_in": max(0, int(round(tok.exp - tok.iat))),
        "scope": "offline_access all-apis",
    }
    if refresh:
        payload["refresh_token"] = ws._new_refresh_token(client_id or "")
    return payload
