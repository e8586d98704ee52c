"""A fake Databricks workspace: OIDC (U2M with PKCE, refresh, M2M), SCIM Me, serving endpoints
and the Anthropic Messages routes, with a request log, token control and fault injection.

Faithful to ../shared/notes/databricks.md; docs/databricks-shapes.md says where each shape the
fake serves comes from (and which ones are assumed). Per test: the AI Gateway on, off
(FEATURE_DISABLED) or behind an account-level URL (303) through `ai_gateway`, the newer listing
APIs on or off through `listing_apis`, and the catalogue through `endpoints` (default_endpoints()
is the 2025 one, current_endpoints() today's). Stdlib + trustme only.

    with FakeWorkspace() as ws:
        token = ws.issue_token()
        ...  # point things at ws.url
        assert ws.messages_requests()[-1].token.matches(token)

Standalone, for trying the tool by hand (from the repo root):

    python -m tests.rig.workspace [--port N] [--tls] [--token-lifetime S]
"""

from __future__ import annotations

import argparse
import errno
import importlib
import json
import os
import secrets
import shutil
import signal
import ssl
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from tests.rig import files_api, mcp_api
from tests.rig.endpoints import (
    current_endpoints,
    default_endpoints,
    endpoint,
    is_claude_endpoint,
    uc_name,
)
from tests.rig.records import (
    CLI_CLIENT_ID,
    DEFAULT_ACCOUNT_ID,
    DEFAULT_USER,
    DEFAULT_WORKSPACE_ID,
    Fault,
    RequestRecord,
    TokenRef,
    _AccessToken,
    _AuthCode,
    _b64url,
    _digest,
    _RefreshToken,
)
from tests.rig.routing import Request, Response, Route, databricks_error, scim_error
from tests.rig.server import SDK_TRANSIENT_MARKERS, _bind, _Handler, _Server, read_body, send

# The rig's other modules (and tests) import these from here.
__all__ = [
    "CLI_CLIENT_ID",
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_USER",
    "DEFAULT_WORKSPACE_ID",
    "SDK_TRANSIENT_MARKERS",
    "FakeWorkspace",
    "Fault",
    "RequestRecord",
    "TokenRef",
    "current_endpoints",
    "databricks_error",
    "default_endpoints",
    "endpoint",
    "is_claude_endpoint",
    "scim_error",
    "uc_name",
]
_Response = Response  # the name route modules written before routing.py raise

# The APIs the workspace serves, one module each (tests/rig/<name>.py, its ROUTES), tried in
# this order after the public ones (OAuth): see tests/rig/routing.py. A new API: one line here.
APIS = (
    "oidc_api",  # host metadata, OIDC discovery, authorize, token (public)
    "mcp_api",  # managed MCP servers: /api/2.0/mcp/..., /ai-gateway/mcp-services/...
    "files_api",  # workspace files and Unity Catalog volume files
    "scim_api",  # the current user
    "serving_api",  # serving-endpoint listings, foundation models, UC model services
    "anthropic_api",  # Anthropic Messages on serving endpoints and the AI Gateway
    "sql_api",  # SQL warehouses and statements (on DuckDB)
    "agent_routes",  # OpenAI Responses, Gemini and chat completions for the other agents
)
ROUTES: list[Route] = [
    route for name in APIS for route in importlib.import_module(f"tests.rig.{name}").ROUTES
]

GATEWAY_ON, GATEWAY_OFF, GATEWAY_REDIRECT = "on", "off", "redirect"
LISTING_APIS = ("foundation-models", "model-services")


class FakeWorkspace:
    """A fake Databricks workspace on 127.0.0.1 (see module doc)."""

    def __init__(
        self,
        tls: bool = False,
        access_token_lifetime: float = 3600,
        refresh_token_lifetime: float | None = None,
        endpoints: list[dict[str, Any]] | None = None,
        ai_gateway: str = GATEWAY_OFF,
    ) -> None:
        self.tls = tls
        self.access_token_lifetime = access_token_lifetime
        self.refresh_token_lifetime = refresh_token_lifetime
        self.endpoints: list[dict[str, Any]] = (
            list(endpoints) if endpoints is not None else default_endpoints()
        )
        self.workspace_id = DEFAULT_WORKSPACE_ID
        self.account_id = DEFAULT_ACCOUNT_ID
        self.cloud = "AWS"
        self.user_name = DEFAULT_USER
        # OAuth clients: public (PKCE) ones and service principals (client_credentials).
        self.public_clients = {CLI_CLIENT_ID}
        self.service_principals: dict[str, str] = {"test-sp": "test-sp-secret"}
        self.disabled_principals: set[str] = set()
        # Behaviour knobs.
        self.deny_login = False
        self.rotate_refresh_tokens = True  # each refresh returns a new refresh token
        self.single_use_refresh_tokens = False  # ...and revokes the one it was given
        self.reply_text = "pong"
        self.usage_extra: dict[str, int] = {}  # into every answer's usage: cache reads/writes
        # Put into every access token's signature and every refresh token, so a leak scan can
        # find any of them, or a piece of one, anywhere (letters only: valid in both).
        self.token_marker = ""
        # Overrides reply_text: a function of the request body returning the answer's text, or a
        # dict {"tool_use": {"name": ..., "input": {...}}} to make Claude Code run a tool.
        self.reply: Callable[[dict[str, Any]], str | dict[str, Any]] | None = None
        self.latency = 0.0
        self.path_latency: dict[str, float] = {}
        # The AI Gateway answers a token it does not accept with `400 Invalid Token` (Claude Code
        # does not retry it); 403 makes it answer like the serving-endpoints route instead.
        self.ai_gateway_invalid_token_status = 400
        # What the REST APIs and serving endpoints answer a token they do not accept: 403
        # `Invalid access token.` (as measured); 401 for the tests of Claude Code's 401 path.
        self.invalid_token_status = 403
        # GATEWAY_OFF (default: the account has not enabled the AI Gateway preview): every
        # /ai-gateway/ path is FEATURE_DISABLED; GATEWAY_ON; GATEWAY_REDIRECT: 303 to a sign-in
        # page, as an account-level custom URL answers instead of a workspace.
        self.ai_gateway = ai_gateway
        # The newer listing APIs, off by default (a 2025 workspace): one switched off answers
        # 404 ENDPOINT_NOT_FOUND, like a workspace that does not have it yet.
        self.listing_apis: dict[str, bool] = dict.fromkeys(LISTING_APIS, False)
        # Unity Catalog listing: the first page comes back empty (with a next_page_token), as
        # when the caller's grants hide the first page's services.
        self.model_services_empty_first_page = False
        # Endpoints with traffic splitting across served entities: the AI Gateway's Anthropic
        # route refuses them with a 400.
        self.traffic_split: set[str] = set()
        # Managed MCP servers (tests/rig/mcp_api.py): what they answer from, and their server.
        self.mcp = mcp_api.McpState()
        self._mcp_host: mcp_api.McpHost | None = None
        # Whether serving-endpoint entries carry `endpoint_type`, which no official SDK's
        # ServingEndpoint defines (docs/databricks-shapes.md): False serves the SDKs' shape only.
        self.endpoint_type_field = True
        # Unity Catalog listing: the largest page_size answered; a larger one gets the empty
        # HTTP 499 the official tool reports (docs/databricks-shapes.md).
        self.model_services_max_page_size = 100
        # The AI Gateway's model listing: which ids it shows for each READY Claude model:
        # "endpoint" (databricks-claude-…), "system.ai" (system.ai.claude-…), "anthropic"
        # (databricks-claude-…-anthropic, ids the official tool drops).
        self.gateway_model_ids: tuple[str, ...] = ("endpoint",)
        # Workspace and volume files (tests/rig/files_api.py).
        self.files = files_api.Files()
        # Records.
        self.log: list[RequestRecord] = []
        self.token_requests: list[tuple[str, bool]] = []
        self.faults: list[Fault] = []

        self._lock = threading.RLock()
        self._next_id = 0
        self._access: dict[str, _AccessToken] = {}  # digest -> token
        self._refresh: dict[str, _RefreshToken] = {}  # raw -> token
        self._codes: dict[str, _AuthCode] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._tmpdir: str | None = None
        self._ssl_context: ssl.SSLContext | None = None
        self.ca_file: str | None = None
        self.url = ""
        self.port = 0

    # ------------------------------------------------------------------ lifecycle

    def start(self, port: int = 0) -> FakeWorkspace:
        server = _bind(port)
        server.workspace = self
        self.port = server.server_address[1]
        if self.tls:
            import trustme

            self._tmpdir = tempfile.mkdtemp(prefix="fake-workspace-")
            ca = trustme.CA()
            cert = ca.issue_cert("127.0.0.1", "localhost")
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            cert.configure_cert(ctx)
            self._ssl_context = ctx
            self.ca_file = os.path.join(self._tmpdir, "ca.pem")
            ca.cert_pem.write_to_path(self.ca_file)
            self.url = f"https://127.0.0.1:{self.port}"
        else:
            self.url = f"http://127.0.0.1:{self.port}"
        self._serve(server)
        return self

    def _serve(self, server: _Server) -> None:
        server.ssl_context = self._ssl_context
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def down(self) -> None:
        """The workspace goes down: nothing listens at .url (connection refused). Tokens, logs
        and knobs stay; up() serves again at the same address."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def up(self) -> None:
        """Serve again at the same address (and with the same CA) after down()."""
        if self._server is None and self.port:
            server = _Server(("127.0.0.1", self.port), _Handler)
            server.workspace = self
            self._serve(server)

    @property
    def is_up(self) -> bool:
        return self._server is not None

    def stop(self) -> None:
        self.down()
        if self._mcp_host is not None:
            self._mcp_host.stop()
            self._mcp_host = None
        self.port = 0
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> FakeWorkspace:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        """The workspace URL (same as .url)."""
        return self.url

    @property
    def anthropic_base_url(self) -> str:
        return f"{self.url}/serving-endpoints/anthropic"

    @property
    def gateway_base_url(self) -> str:
        return f"{self.url}/ai-gateway/anthropic"

    def modernize(self, gateway: bool = True) -> FakeWorkspace:
        """A workspace of late 2026: today's catalogue, the newer listing APIs, the AI Gateway
        on (or, gateway=False, not enabled)."""
        self.set_endpoints(current_endpoints())
        self.listing_apis = dict.fromkeys(LISTING_APIS, True)
        self.ai_gateway = GATEWAY_ON if gateway else GATEWAY_OFF
        return self

    # ------------------------------------------------------------------ test controls

    def set_endpoints(self, endpoints: list[dict[str, Any]]) -> None:
        with self._lock:
            self.endpoints = list(endpoints)

    def fail(
        self,
        path_prefix: str,
        status: int,
        times: int | None = 1,
        retry_after: float | None = None,
        body: Any = None,
    ) -> Fault:
        """Answer the next `times` requests whose path starts with `path_prefix` with `status`.

        body: dict (sent as JSON), str/bytes (sent as is), or None for a Databricks-shaped
        error (OAuth-shaped under /oidc/). times=None: until clear_faults().
        """
        fault = Fault(path_prefix, status, times, retry_after, body)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def set_latency(self, path_prefix: str, seconds: float) -> None:
        """Delay every request whose path starts with path_prefix (on top of .latency)."""
        with self._lock:
            if seconds:
                self.path_latency[path_prefix] = seconds
            else:
                self.path_latency.pop(path_prefix, None)

    def issue_token(self, lifetime: float | None = None, client_id: str = CLI_CLIENT_ID) -> str:
        """A valid raw access token, for direct use."""
        return self._new_access_token(lifetime, self.user_name, client_id)[0]

    def issue_pat(self, lifetime: float = 90 * 86400) -> str:
        """A personal access token (`dapi` + 32 hex, like the real ones) the workspace accepts
        until it expires or revoke_pat() revokes it."""
        now = time.time()
        raw = "dapi" + self.token_marker + secrets.token_hex(16)
        tok = _AccessToken(self._new_id(), _digest(raw), now, now + lifetime, self.user_name, "pat")
        with self._lock:
            self._access[tok.digest] = tok
        return raw

    def revoke_pat(self, raw: str) -> None:
        with self._lock:
            tok = self._access.get(_digest(raw.strip()))
            if tok is not None:
                tok.revoked = True

    def issue_refresh_token(self, client_id: str = CLI_CLIENT_ID) -> str:
        return self._new_refresh_token(client_id)

    def revoke_token(self, raw: str) -> None:
        """The workspace stops accepting this one access token (revoked), whatever its expiry
        says; its refresh token still works. revoke_access_tokens(): all of them (rotated)."""
        self.revoke_pat(raw)

    def revoke_access_tokens(self) -> None:
        with self._lock:
            for t in self._access.values():
                t.revoked = True

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            for r in self._refresh.values():
                r.revoked = True

    def expire_access_tokens(self) -> None:
        now = time.time()
        with self._lock:
            for t in self._access.values():
                t.exp = min(t.exp, now - 1)

    def expire_refresh_tokens(self) -> None:
        now = time.time()
        with self._lock:
            for r in self._refresh.values():
                r.exp = now - 1

    def token_ref(self, raw: str | None) -> TokenRef | None:
        """What the workspace thinks of a raw access token right now."""
        if raw is None:
            return None
        raw = raw.strip()
        digest = _digest(raw)
        now = time.time()
        with self._lock:
            t = self._access.get(digest)
            if t is None:
                return TokenRef(0, "unknown", None, digest)
            state = "revoked" if t.revoked else "expired" if t.exp <= now else "valid"
            return TokenRef(t.id, state, t.exp - now, digest)

    def token_state(self, raw: str) -> str:
        ref = self.token_ref(raw)
        return ref.state if ref else "unknown"

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()
            self.token_requests.clear()

    def requests(self, path_prefix: str = "", method: str | None = None) -> list[RequestRecord]:
        with self._lock:
            return [
                r
                for r in self.log
                if r.path.startswith(path_prefix) and (method is None or r.method == method)
            ]

    def messages_requests(self) -> list[RequestRecord]:
        """POSTs to an Anthropic Messages route (not count_tokens)."""
        with self._lock:
            return [r for r in self.log if r.method == "POST" and r.path.endswith("/v1/messages")]

    def refresh_count(self) -> int:
        return sum(1 for grant, _ok in self.token_requests if grant == "refresh_token")

    # ------------------------------------------------------------------ token internals

    def _new_id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id

    def _new_access_token(
        self, lifetime: float | None, sub: str, client_id: str
    ) -> tuple[str, _AccessToken]:
        now = time.time()
        life = self.access_token_lifetime if lifetime is None else lifetime
        tid = self._new_id()
        header = {"kid": "fake-key-1", "typ": "at+jwt", "alg": "RS256"}
        payload = {
            "client_id": client_id,
            "scope": "offline_access all-apis",
            "iss": f"{self.url}/oidc",
            "aud": self.workspace_id,
            "sub": sub,
            "iat": int(now),
            "exp": int(now + life),
            "jti": str(uuid.uuid4()),
        }
        raw = ".".join(
            [
                _b64url(json.dumps(header, separators=(",", ":")).encode()),
                _b64url(json.dumps(payload, separators=(",", ":")).encode()),
                self.token_marker + _b64url(secrets.token_bytes(256)),
            ]
        )
        tok = _AccessToken(tid, _digest(raw), now, now + life, sub, client_id)
        with self._lock:
            self._access[tok.digest] = tok
        return raw, tok

    def _new_refresh_token(self, client_id: str) -> str:
        raw = "doau" + self.token_marker + secrets.token_hex(32)  # opaque, like the real ones
        life = self.refresh_token_lifetime
        exp = None if life is None else time.time() + life
        with self._lock:
            self._refresh[raw] = _RefreshToken(self._new_id(), client_id, exp)
        return raw

    # ------------------------------------------------------------------ request handling

    def _handle(self, h: _Handler) -> None:
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
                token = self.token_ref(bearer)
                headers["authorization"] = f"Bearer {token!r}"
            else:
                headers["authorization"] = "<redacted>"
        api_key: TokenRef | None = None
        # x-api-key: Claude Code with an apiKeyHelper; x-goog-api-key: Gemini CLI.
        for key_header in ("x-api-key", "x-goog-api-key"):
            if key_header in headers:
                api_key = self.token_ref(headers[key_header])
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
        with self._lock:
            self.log.append(record)
        try:
            self._delay(path)
            self._check_fault(path, body)
            req = Request(self, h, record, h.command, path, query, body, parsed, bearer, token)
            self._route(req)
        except Response as resp:
            record.status = resp.status
            send(h, resp)
        except (BrokenPipeError, ConnectionResetError):
            return

    def _delay(self, path: str) -> None:
        with self._lock:
            delay = self.latency + sum(
                s for p, s in self.path_latency.items() if path.startswith(p)
            )
        if delay > 0:
            time.sleep(delay)

    def _check_fault(self, path: str, body: bytes = b"") -> None:
        with self._lock:
            for fault in self.faults:
                if not path.startswith(fault.path_prefix):
                    continue
                if fault.times is not None and fault.hits >= fault.times:
                    continue
                fault.hits += 1
                break
            else:
                return
            if path == "/oidc/v1/token":
                form = parse_qs(body.decode("utf-8", "replace"))
                self.token_requests.append((form.get("grant_type", [""])[-1], False))
        headers = {}
        if fault.retry_after is not None:
            ra = fault.retry_after
            headers["Retry-After"] = str(int(ra)) if float(ra).is_integer() else str(ra)
        payload = fault.body
        if payload is None:
            if path.startswith("/oidc/"):
                err = "invalid_request" if fault.status == 400 else "temporarily_unavailable"
                payload = {"error": err, "error_description": f"Injected {fault.status} error"}
            else:
                payload = databricks_error(fault.status)
        if fault.status == 401 and not path.startswith("/oidc/"):
            headers.setdefault("WWW-Authenticate", 'Bearer realm="DatabricksRealm"')
        raise Response(fault.status, payload, headers)

    # ------------------------------------------------------------------ routes

    def _route(self, req: Request) -> None:
        """The public routes, then (for an API path, its bearer accepted) the others, in
        ROUTES order; a request none of them answers gets 404."""
        not_found = Response(
            404,
            {
                "error_code": "ENDPOINT_NOT_FOUND",
                "message": f"No API found for '{req.method} {req.path}'",
            },
        )
        if self._answer(req, public=True):
            return
        if not req.path.startswith(("/api/", "/serving-endpoints/", "/ai-gateway/")):
            raise not_found
        if req.gateway and self.ai_gateway == GATEWAY_REDIRECT:
            # An account-level custom URL is not a workspace: it sends the caller to sign in.
            raise Response(
                303,
                "",
                {"Location": f"{self.url}/login.html?next_url={quote(req.path)}"},
                content_type="text/html; charset=utf-8",
            )
        self._authenticate(req.bearer, req.token, req.gateway)
        if req.gateway and self.ai_gateway == GATEWAY_OFF:
            raise Response(
                404,
                {
                    "error_code": "FEATURE_DISABLED",
                    "message": "AI Gateway is not available for this workspace.",
                    "details": databricks_error(404)["details"],
                },
            )
        if not self._answer(req, public=False):
            raise not_found

    @staticmethod
    def _answer(req: Request, public: bool) -> bool:
        """Try each route of the kind (raises its Response); True: a handler answered itself."""
        for route in ROUTES:
            if route.public != public:
                continue
            params = route.match(req.method, req.path)
            if params is None:
                continue
            req.params = params
            if route.handler(req):
                return True
        return False

    def _authenticate(self, bearer: str | None, token: TokenRef | None, gateway: bool) -> None:
        if bearer is None or token is None:
            raise Response(
                401,
                {
                    "error_code": "401",
                    "message": "Credential was not sent or was of an unsupported type for this "
                    "API.",
                },
                {"WWW-Authenticate": 'Bearer realm="DatabricksRealm"'},
            )
        if token.state != "valid":
            if gateway and self.ai_gateway_invalid_token_status == 400:
                raise Response(400, {"error_code": "400", "message": "Invalid Token"})
            if self.invalid_token_status == 401:
                raise Response(
                    401,
                    {"error_code": "401", "message": "Invalid access token."},
                    {"WWW-Authenticate": 'Bearer realm="DatabricksRealm"'},
                )
            raise Response(403, {"error_code": "403", "message": "Invalid access token."})

    def mcp_requests(self) -> list[RequestRecord]:
        return [r for r in self.requests() if mcp_api.is_mcp_path(r.path)]


# --------------------------------------------------------------------------- standalone


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tests.rig.workspace",
        description="Serve a fake Databricks workspace on 127.0.0.1 until Ctrl-C.",
    )
    ap.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    ap.add_argument("--tls", action="store_true", help="HTTPS with a throw-away CA")
    ap.add_argument(
        "--token-lifetime", type=float, default=3600, help="access token lifetime, seconds"
    )
    ap.add_argument("--reply", default="pong", help="text of every model answer")
    ap.add_argument(
        "--bin",
        metavar="DIR",
        help="also write the fake `databricks` CLI and the test browser `rig-browser` into DIR",
    )
    args = ap.parse_args(argv)
    if args.tls:
        try:
            import trustme  # noqa: F401  (the throw-away CA)
        except ImportError:
            print(
                "--tls needs the trustme package: python3 -m pip install trustme"
                " (or use .venv/bin/python after ./scripts/test)",
                file=sys.stderr,
            )
            return 1
    ws = FakeWorkspace(tls=args.tls, access_token_lifetime=args.token_lifetime)
    ws.reply_text = args.reply
    try:
        # The server binds with SO_REUSEADDR (_Server.allow_reuse_address): the port of a run
        # stopped a moment ago is free again although its closed connections linger.
        ws.start(port=args.port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(
            f"port {args.port} is in use: pick another with --port, or leave it out",
            file=sys.stderr,
        )
        return 1
    print(f"Fake Databricks workspace: {ws.url}", flush=True)
    if ws.ca_file:
        print(f"CA certificate: {ws.ca_file}", flush=True)
        print(f"  export SSL_CERT_FILE={ws.ca_file} NODE_EXTRA_CA_CERTS={ws.ca_file}", flush=True)
    if args.bin:
        from tests.rig.sandbox import install_browser, install_fake_databricks

        os.makedirs(args.bin, exist_ok=True)
        cli = install_fake_databricks(Path(args.bin))
        browser = install_browser(Path(args.bin))
        print(f"Fake databricks CLI: {cli}", flush=True)
        print(f"  export PATH={args.bin}:$PATH BROWSER={browser}", flush=True)
    print("Ctrl-C to stop.", flush=True)

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        ws.stop()
    return 0


if __name__ == "__main__":
    # Run as `python -m tests.rig.workspace`, this file is the module `__main__`; the routes in
    # agent_routes.py import `tests.rig.workspace`, a second copy whose Response the first
    # copy's handler would never catch. Serve from that one copy instead.
    from tests.rig.workspace import main as _main

    sys.exit(_main())
