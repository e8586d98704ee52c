"""A fake Databricks workspace: OIDC (U2M with PKCE, refresh, M2M), SCIM Me, serving endpoints
and the Anthropic Messages routes, with a request log, token control and fault injection.

Faithful to ../shared/notes/databricks.md; docs/databricks-shapes.md says where each shape the
fake serves comes from (and which ones are assumed). Per test: the AI Gateway on, off
(FEATURE_DISABLED) or behind an account-level URL (303) through `ai_gateway`, the newer listing
APIs on or off through `listing_apis`, and the catalogue through `endpoints` (default_endpoints()
is the 2025 one, current_endpoints() today's). Stdlib + trustme only.

This module holds FakeWorkspace (its knobs, lifecycle, test controls and request log) and the
route table: every API is a module of its own with its ROUTES (tests/rig/routing.py says how
to add one), listed in APIS below. Beside it: tokens.py (the tokens it issues), faults.py,
server.py (HTTP), endpoints.py (the catalogue), records.py, standalone.py (the command line).

    with FakeWorkspace() as ws:
        token = ws.issue_token()
        ...  # point things at ws.url
        assert ws.messages_requests()[-1].token.matches(token)

Standalone, for trying the tool by hand (from the repo root):

    python -m tests.rig.workspace [--port N] [--tls] [--token-lifetime S]
"""

from __future__ import annotations

import importlib
import os
import shutil
import ssl
import sys
import tempfile
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from tests.rig import faults, files_api, mcp_api
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
)
from tests.rig.routing import Request, Response, Route, databricks_error, scim_error
from tests.rig.server import SDK_TRANSIENT_MARKERS, _bind, _Handler, _Server, parse, send
from tests.rig.tokens import TokenAuthority

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
    "mlflow_api",  # MLflow: forwarded to a real tracking server, or get-by-name alone
    "otlp_api",  # OpenTelemetry ingest: /api/2.0/otel/v1/{metrics,logs,traces}
    "agent_routes",  # OpenAI Responses, Gemini and chat completions for the other agents
)
ROUTES: list[Route] = [
    route for name in APIS for route in importlib.import_module(f"tests.rig.{name}").ROUTES
]

GATEWAY_ON, GATEWAY_OFF, GATEWAY_REDIRECT = "on", "off", "redirect"
LISTING_APIS = ("foundation-models", "model-services")


class FakeWorkspace(TokenAuthority):
    """A fake Databricks workspace on 127.0.0.1 (see module doc)."""

    def __init__(
        self,
        tls: bool = False,
        access_token_lifetime: float = 3600,
        refresh_token_lifetime: float | None = None,
        endpoints: list[dict[str, Any]] | None = None,
        ai_gateway: str = GATEWAY_OFF,
    ) -> None:
        super().__init__(access_token_lifetime, refresh_token_lifetime)
        self.tls = tls
        self.endpoints: list[dict[str, Any]] = (
            list(endpoints) if endpoints is not None else default_endpoints()
        )
        self.account_id = DEFAULT_ACCOUNT_ID
        self.cloud = "AWS"
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
        # MLflow (tests/rig/mlflow_api.py): a real tracking server's URL to forward to, else the
        # experiments get-by-name knows (name -> id).
        self.mlflow_upstream: str | None = None
        self.mlflow_experiments: dict[str, str] = {}
        # Records.
        self.log: list[RequestRecord] = []
        self.token_requests: list[tuple[str, bool]] = []
        self.faults: list[Fault] = []

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

    # ------------------------------------------------------------------ request handling

    def _handle(self, h: _Handler) -> None:
        req = parse(self, h)
        with self._lock:
            self.log.append(req.record)
        try:
            faults.delay(self, req.path)
            faults.check_fault(self, req.path, req.body)
            self._route(req)
        except Response as resp:
            req.record.status = resp.status
            send(h, resp)
        except (BrokenPipeError, ConnectionResetError):
            return

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

    def mcp_host(self) -> mcp_api.McpHost:
        """The workspace's MCP server (tests/rig/mcp_api.py), made on first use."""
        with self._lock:
            if self._mcp_host is None:
                self._mcp_host = mcp_api.McpHost(self.mcp)
            return self._mcp_host

    def start_mcp(self) -> None:
        """Start the MCP server now rather than on the first MCP request: its imports and
        start then take none of a client's connect timeout (Claude Code's `mcp list` gives a
        server 30 s, which a busy machine used up)."""
        self.mcp_host().start()

    def mcp_requests(self) -> list[RequestRecord]:
        return [r for r in self.requests() if mcp_api.is_mcp_path(r.path)]


def main(argv: list[str] | None = None) -> int:
    """Serve until Ctrl-C (tests/rig/standalone.py)."""
    from tests.rig.standalone import main as serve

    return serve(argv)


if __name__ == "__main__":
    # Run as `python -m tests.rig.workspace`, this file is the module `__main__`: serve from the
    # one copy `tests.rig.workspace` that the route modules and the tests import instead.
    from tests.rig.workspace import main as _main

    sys.exit(_main())
