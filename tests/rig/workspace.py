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
import base64
import contextlib
import errno
import hashlib
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
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from tests.rig import files_api, mcp_api

CLI_CLIENT_ID = "databricks-cli"
DEFAULT_WORKSPACE_ID = "1234567890123456"
DEFAULT_ACCOUNT_ID = "7f3e8c2a-5b1d-4e9f-a6c0-2d8b4f1e9a37"
DEFAULT_USER = "test.user@example.com"

_FAMILY_DISPLAY = {"opus": "Opus", "sonnet": "Sonnet", "haiku": "Haiku", "fable": "Fable"}
GATEWAY_ON, GATEWAY_OFF, GATEWAY_REDIRECT = "on", "off", "redirect"
LISTING_APIS = ("foundation-models", "model-services")
# What each Claude foundation model answers on (serving-endpoints:foundation-models `api_types`).
_CLAUDE_API_TYPES = [
    "mlflow/v1/chat/completions",
    "anthropic/v1/messages",
    "cursor/v1/chat/completions",
]


def _api_types(name: str) -> list[str]:
    """The APIs a foundation model endpoint answers on, by its name."""
    from tests.rig.agent_routes import GEMINI_API_TYPES, GPT_API_TYPES

    if "claude" in name:
        return list(_CLAUDE_API_TYPES)
    if "gpt" in name:
        return list(GPT_API_TYPES)
    if "gemini" in name:
        return list(GEMINI_API_TYPES)
    return ["mlflow/v1/chat/completions"]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()


# --------------------------------------------------------------------------- endpoints


def _display_name(name: str) -> str:
    """databricks-claude-sonnet-4-5 -> Claude Sonnet 4.5; databricks-claude-3-7-sonnet -> ..."""
    parts = name.removeprefix("databricks-").split("-")
    if parts and parts[0] == "claude":
        words = ["Claude"]
        nums: list[str] = []
        for p in parts[1:]:
            if p.isdigit():
                nums.append(p)
            else:
                if nums:
                    words.append(".".join(nums))
                    nums = []
                words.append(_FAMILY_DISPLAY.get(p, p.capitalize()))
        if nums:
            words.append(".".join(nums))
        return " ".join(words)
    return " ".join(p.capitalize() for p in parts)


def endpoint(
    name: str, ready: bool = True, kind: str = "fmapi", long_context: bool = False
) -> dict[str, Any]:
    """One entry of `GET /api/2.0/serving-endpoints`.

    kind: "fmapi" (FOUNDATION_MODEL_API), "external" (EXTERNAL_MODEL, provider anthropic) or
    "custom" (CUSTOM_MODEL). long_context: the model also has a 1M-token variant, which the AI
    Gateway's model listing shows as `<name>[1m]` (kept under the rig's own key `_long_context`,
    which no listing shows).
    """
    now_ms = 1_730_000_000_000
    entry: dict[str, Any] = {
        "name": name,
        "id": uuid.uuid5(uuid.NAMESPACE_DNS, name).hex,
        "creator": "system" if kind == "fmapi" else DEFAULT_USER,
        "creation_timestamp": now_ms,
        "last_updated_timestamp": now_ms,
        "state": {
            "ready": "READY" if ready else "NOT_READY",
            "config_update": "NOT_UPDATING" if ready else "IN_PROGRESS",
        },
        "permission_level": "CAN_QUERY",
        "route_optimized": False,
    }
    if kind == "fmapi":
        entry["endpoint_type"] = "FOUNDATION_MODEL_API"
        entry["task"] = "llm/v1/chat"
        model = name.removeprefix("databricks-")
        entry["config"] = {
            "served_entities": [
                {
                    "name": model,
                    "entity_name": f"system.ai.{model.replace('-', '_')}",
                    "foundation_model": {
                        "name": f"system.ai.{model.replace('-', '_')}",
                        "display_name": _display_name(name),
                        "docs": "https://docs.databricks.com/",
                        "description": f"{_display_name(name)} (pay-per-token)",
                    },
                }
            ]
        }
    elif kind == "external":
        entry["endpoint_type"] = "EXTERNAL_MODEL"
        entry["task"] = "llm/v1/chat"
        entry["config"] = {
            "served_entities": [
                {
                    "name": f"{name}-entity",
                    "external_model": {
                        "provider": "anthropic",
                        "name": "claude-sonnet-4-5",
                        "task": "llm/v1/chat",
                    },
                }
            ]
        }
    elif kind == "custom":
        entry["endpoint_type"] = "CUSTOM_MODEL"
        entry["config"] = {
            "served_entities": [
                {
                    "name": f"{name}-1",
                    "entity_name": f"main.default.{name.replace('-', '_')}",
                    "entity_version": "1",
                    "workload_size": "Small",
                    "scale_to_zero_enabled": True,
                }
            ]
        }
    else:
        raise ValueError(f"unknown endpoint kind {kind!r}")
    if long_context:
        entry["_long_context"] = True
    return entry


def default_endpoints() -> list[dict[str, Any]]:
    """The 2025 catalogue: Claude families, a NOT_READY preview, an external and a custom model,
    a Llama model, and GPT and Gemini models for Codex, Gemini CLI and OpenCode."""
    return [
        endpoint("databricks-claude-opus-4-6"),
        endpoint("databricks-claude-opus-4-5"),
        endpoint("databricks-claude-opus-4-1"),
        endpoint("databricks-claude-sonnet-4-5"),
        endpoint("databricks-claude-sonnet-4"),
        endpoint("databricks-claude-haiku-4-5"),
        endpoint("databricks-claude-3-7-sonnet"),
        endpoint("databricks-claude-sonnet-4-6-preview", ready=False),
        endpoint("anthropic-external-claude", kind="external"),
        endpoint("my-custom-model", kind="custom"),
        endpoint("databricks-meta-llama-3-3-70b-instruct"),
        endpoint("databricks-gpt-5"),
        endpoint("databricks-gpt-5-mini"),
        endpoint("databricks-gemini-2-5-pro"),
        endpoint("databricks-gemini-2-5-flash"),
    ]


def current_endpoints() -> list[dict[str, Any]]:
    """The catalogue of late 2026 (../shared/notes/databricks.md): opus-4-8 and sonnet-4-6 with
    1M-token variants, opus-4-7, haiku-4-5, a fable family (5-2 READY, 5-3 still coming), opus-4-5
    (retires 2027-01-22) and sonnet-4-5 (retires 2026-11-30), plus the external and custom kinds,
    and GPT and Gemini models for the other agents (one GPT model still coming)."""
    return [
        endpoint("databricks-claude-opus-4-8", long_context=True),
        endpoint("databricks-claude-opus-4-7"),
        endpoint("databricks-claude-opus-4-5"),
        endpoint("databricks-claude-sonnet-4-6", long_context=True),
        endpoint("databricks-claude-sonnet-4-5"),
        endpoint("databricks-claude-haiku-4-5"),
        endpoint("databricks-claude-fable-5-2"),
        endpoint("databricks-claude-fable-5-3", ready=False),
        endpoint("anthropic-external-claude", kind="external"),
        endpoint("my-custom-model", kind="custom"),
        endpoint("databricks-meta-llama-3-3-70b-instruct"),
        endpoint("databricks-gpt-5-5"),
        endpoint("databricks-gpt-5-2"),
        endpoint("databricks-gpt-5-1-codex-max", ready=False),
        endpoint("databricks-gemini-3-1-pro"),
        endpoint("databricks-gemini-2-5-flash"),
    ]


def _page_token(offset: int) -> str:
    """An opaque page token as standard base64: always holds `+`, `/` and `=` (from the bytes
    0xfb 0xef 0xff and the padding), like the real tokens a caller must URL-encode."""
    return base64.b64encode(b"\xfb\xef\xff" + offset.to_bytes(4, "big")).decode("ascii")


def _page_offset(token: str) -> int | None:
    """The offset in a token from _page_token; None for anything else (a mangled token)."""
    try:
        raw = base64.b64decode(token.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        return None
    if len(raw) != 7 or raw[:3] != b"\xfb\xef\xff":
        return None
    return int.from_bytes(raw[3:], "big")


def _service_config(endpoint_name: str) -> dict[str, Any]:
    """A system model service's `config` in the FULL view: one pay-per-token destination
    (databricks-sdk-go catalog ModelServiceConfig, 0.175)."""
    return {
        "routing": {
            "destinations": [
                {
                    "name": endpoint_name,
                    "destination_type": "DESTINATION_TYPE_PAY_PER_TOKEN_FOUNDATION_MODEL",
                    "pay_per_token_config": {"model": f"models/{uc_name(endpoint_name)}"},
                }
            ]
        }
    }


def uc_name(endpoint_name: str) -> str:
    """databricks-claude-opus-4-8 -> system.ai.claude-opus-4-8 (the Unity Catalog model service
    Databricks provides for each pay-per-token foundation model)."""
    return "system.ai." + endpoint_name.removeprefix("databricks-")


def is_claude_endpoint(entry: dict[str, Any]) -> bool:
    """Can the Anthropic Messages route serve this endpoint?"""
    if entry.get("endpoint_type") == "FOUNDATION_MODEL_API":
        return "claude" in entry["name"]
    if entry.get("endpoint_type") == "EXTERNAL_MODEL":
        entities = entry.get("config", {}).get("served_entities", [])
        return any(e.get("external_model", {}).get("provider") == "anthropic" for e in entities)
    return False


# --------------------------------------------------------------------------- tokens


@dataclass
class _AccessToken:
    id: int
    digest: str
    iat: float
    exp: float
    sub: str
    client_id: str
    revoked: bool = False


@dataclass
class _RefreshToken:
    id: int
    client_id: str
    exp: float | None
    revoked: bool = False
    scope: str = "offline_access all-apis"


@dataclass
class _AuthCode:
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str
    exp: float
    used: bool = False


class TokenRef:
    """How the request log refers to a token. Never holds or prints the raw value."""

    __slots__ = ("id", "state", "seconds_left", "_digest")

    def __init__(self, id: int, state: str, seconds_left: float | None, digest: str) -> None:
        self.id = id  # 0 for an unknown token
        self.state = state  # "valid" | "expired" | "revoked" | "unknown"
        self.seconds_left = seconds_left  # at request time; None when unknown
        self._digest = digest

    def matches(self, raw: str | None) -> bool:
        return raw is not None and secrets.compare_digest(_digest(raw.strip()), self._digest)

    @property
    def valid(self) -> bool:
        return self.state == "valid"

    def __repr__(self) -> str:
        if self.state == "unknown":
            return "<token unknown>"
        return f"<token #{self.id} {self.state}, {self.seconds_left:.1f}s left>"

    __str__ = __repr__


@dataclass
class RequestRecord:
    """One request the workspace received (secrets redacted)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    model: str | None = None
    token: TokenRef | None = None  # from Authorization: Bearer
    api_key: TokenRef | None = None  # from x-api-key (claude's apiKeyHelper) or x-goog-api-key
    json: Any = None  # parsed JSON body (not kept for the OIDC routes)
    # Authorization was exactly "Bearer <token>" (no padding around the token); None: no bearer
    bearer_exact: bool | None = None
    status: int = 0
    time: float = field(default_factory=time.time)

    @property
    def stream(self) -> bool:
        return isinstance(self.json, dict) and bool(self.json.get("stream"))

    def __repr__(self) -> str:
        extra = f" model={self.model}" if self.model else ""
        return f"<{self.method} {self.path} -> {self.status} token={self.token!r}{extra}>"


@dataclass
class Fault:
    path_prefix: str
    status: int
    times: int | None  # None: until cleared
    retry_after: float | None
    body: Any
    hits: int = 0


_ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    429: "REQUEST_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def databricks_error(status: int, message: str | None = None) -> dict[str, Any]:
    code = _ERROR_CODES.get(status, "UNKNOWN")
    if message is None:
        message = {
            429: "Exceeded workspace rate limit. Please retry later.",
            503: "The service is temporarily unavailable. Please retry later.",
        }.get(status, f"Injected {status} error.")
    return {
        "error_code": code,
        "message": message,
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.RequestInfo",
                "request_id": str(uuid.uuid4()),
                "serving_data": "",
            }
        ],
    }


def scim_error(status: int, detail: str, scim_type: str | None = None) -> dict[str, Any]:
    """A SCIM error body (RFC 7644 section 3.12), as the SCIM API (`/api/2.0/preview/scim/v2/…`)
    answers: no `error_code` or `message`; the SDKs read `detail` and `scimType` (databricks-sdk-go
    apierr standardErrorParser, databricks-sdk-py DatabricksError). For fail(…, body=…)."""
    body: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "detail": detail,
        "status": str(status),
    }
    if scim_type is not None:
        body["scimType"] = scim_type
    return body


# --------------------------------------------------------------------------- server

# The Databricks SDK's token client (config.go, refreshClient) retries, with backoff for
# minutes, any failed request whose error text contains one of these, its URL included: a
# workspace on port 34290 or 42913 turns a TLS or HTTP failure that is reported at once
# anywhere else into a five-minute wait. A port of ours never contains one.
SDK_TRANSIENT_MARKERS = ("429",)


def _bind(port: int) -> _Server:
    """A server on 127.0.0.1:port; port 0: a free port whose number contains no
    SDK_TRANSIENT_MARKERS (the ones refused stay bound until then, so none comes back)."""
    refused: list[_Server] = []
    try:
        while True:
            server = _Server(("127.0.0.1", port), _Handler)
            number = str(server.server_address[1])
            if port or not any(m in number for m in SDK_TRANSIENT_MARKERS):
                return server
            refused.append(server)
    finally:
        for server in refused:
            server.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    ssl_context: ssl.SSLContext | None = None
    workspace: FakeWorkspace

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(10)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # e.g. a client that does not trust our CA
        try:
            tls.settimeout(None)
            super().finish_request(tls, client_address)
        finally:
            with contextlib.suppress(OSError):
                tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "databricks"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.workspace._handle(self)

    def do_POST(self) -> None:
        self.server.workspace._handle(self)

    def do_HEAD(self) -> None:
        self.server.workspace._handle(self)

    def do_PUT(self) -> None:
        self.server.workspace._handle(self)

    def do_DELETE(self) -> None:
        self.server.workspace._handle(self)

    def do_PATCH(self) -> None:
        self.server.workspace._handle(self)


class _Response(Exception):
    def __init__(
        self,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.content_type = content_type


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
        body = self._read_body(h)
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
            self._route(h, record, path, query, body, parsed, bearer, token)
        except _Response as resp:
            record.status = resp.status
            self._send(h, resp)
        except (BrokenPipeError, ConnectionResetError):
            return

    def _read_body(self, h: _Handler) -> bytes:
        if h.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                line = h.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(h.rfile.read(size))
                h.rfile.readline()
            return b"".join(chunks)
        length = int(h.headers.get("content-length") or 0)
        return h.rfile.read(length) if length else b""

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
        raise _Response(fault.status, payload, headers)

    def _send(self, h: _Handler, resp: _Response) -> None:
        body = resp.body
        if body is None:
            data = b""
        elif isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode()
            if resp.content_type == "application/json" and not body.lstrip().startswith(("{", "[")):
                resp.content_type = "text/plain; charset=utf-8"
        else:
            data = json.dumps(body).encode()
        h.send_response(resp.status)
        if data or resp.status not in (204, 302):
            h.send_header("Content-Type", resp.content_type)
        h.send_header("Content-Length", str(len(data)))
        h.send_header("x-request-id", str(uuid.uuid4()))
        for k, v in resp.headers.items():
            h.send_header(k, v)
        h.end_headers()
        if h.command != "HEAD" and data:
            h.wfile.write(data)
        h.wfile.flush()

    # ------------------------------------------------------------------ routes

    def _route(
        self,
        h: _Handler,
        record: RequestRecord,
        path: str,
        query: dict[str, str],
        body: bytes,
        parsed: Any,
        bearer: str | None,
        token: TokenRef | None,
    ) -> None:
        method = h.command
        if path == "/.well-known/databricks-config" and method == "GET":
            raise _Response(200, self._host_metadata())
        if path in (
            "/oidc/.well-known/oauth-authorization-server",
            "/oidc/.well-known/openid-configuration",
        ):
            raise _Response(200, self._discovery())
        if path == "/oidc/v1/authorize" and method == "GET":
            self._authorize(query)
        if path == "/oidc/v1/token":
            if method != "POST":
                raise _Response(405, {"error": "invalid_request"})
            self._token(h, body)
        if path == "/oidc/jwks.json":
            raise _Response(200, {"keys": []})

        api = path.startswith(("/api/", "/serving-endpoints/", "/ai-gateway/"))
        if not api:
            raise _Response(
                404,
                {
                    "error_code": "ENDPOINT_NOT_FOUND",
                    "message": f"No API found for '{method} {path}'",
                },
            )
        gateway = path.startswith("/ai-gateway/")
        if gateway and self.ai_gateway == GATEWAY_REDIRECT:
            # An account-level custom URL is not a workspace: it sends the caller to sign in.
            raise _Response(
                303,
                "",
                {"Location": f"{self.url}/login.html?next_url={quote(path)}"},
                content_type="text/html; charset=utf-8",
            )
        self._authenticate(bearer, token, gateway)
        if gateway and self.ai_gateway == GATEWAY_OFF:
            raise _Response(
                404,
                {
                    "error_code": "FEATURE_DISABLED",
                    "message": "AI Gateway is not available for this workspace.",
                    "details": databricks_error(404)["details"],
                },
            )

        if mcp_api.is_mcp_path(path):
            self._mcp_route(h, record, method, path, body)
            return
        if path.startswith("/api/2.0/otel/"):  # OTLP ingest (tests/rig/otlp_api.py)
            from tests.rig import otlp_api

            otlp_api.route(self, h, method, path, body, token)
        answer = files_api.handle(self.files, method, path, query, body, parsed)
        if answer is not None:
            raise _Response(answer[0], answer[1], content_type=answer[2])
        if path == "/api/2.0/preview/scim/v2/Me" and method == "GET":
            raise _Response(200, self._me(), {"X-Databricks-Org-Id": self.workspace_id})
        if path == "/api/2.0/serving-endpoints" and method == "GET":
            with self._lock:
                raise _Response(200, {"endpoints": self._public(self.endpoints)})
        if path == "/api/2.0/serving-endpoints:foundation-models" and method == "GET":
            self._listing_api("foundation-models", method, path)
            raise _Response(200, {"endpoints": self._foundation_models()})
        if path == "/api/2.1/unity-catalog/model-services" and method == "GET":
            self._listing_api("model-services", method, path)
            raise _Response(200, self._model_services(query))
        if path == "/ai-gateway/anthropic/v1/models" and method == "GET":
            raise _Response(200, self._gateway_models(query))
        prefix = "/api/2.0/serving-endpoints/"
        if path.startswith(prefix) and method == "GET" and "/" not in path[len(prefix) :]:
            name = path[len(prefix) :]
            entry = self._find_endpoint(name)
            if entry is None:
                raise _Response(404, self._no_endpoint(name))
            raise _Response(200, self._public([entry])[0])
        for base in ("/serving-endpoints/anthropic", "/ai-gateway/anthropic"):
            if path == f"{base}/v1/messages" and method == "POST":
                self._messages(h, record, parsed, gateway)
            if path == f"{base}/v1/messages/count_tokens" and method == "POST":
                self._count_tokens(parsed, gateway)
        if path.startswith("/api/2.0/sql/"):  # warehouses, statements (tests/rig/sql_api.py)
            from tests.rig import sql_api

            sql_api.route(self, method, path, parsed)
        # OpenAI Responses, Gemini and chat completions (tests/rig/agent_routes.py).
        from tests.rig import agent_routes

        agent_routes.route(self, method, path, query, parsed, record)
        raise _Response(
            404,
            {"error_code": "ENDPOINT_NOT_FOUND", "message": f"No API found for '{method} {path}'"},
        )

    def _public(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Endpoint entries as the API shows them: without the rig's own `_` keys (and without
        `endpoint_type` when endpoint_type_field is off)."""
        out = json.loads(json.dumps(entries))
        for e in out:
            for key in [k for k in e if k.startswith("_")]:
                del e[key]
            if not self.endpoint_type_field:
                e.pop("endpoint_type", None)
        return list(out)

    def _listing_api(self, name: str, method: str, path: str) -> None:
        with self._lock:
            on = self.listing_apis.get(name, True)
        if not on:
            raise _Response(
                404,
                {
                    "error_code": "ENDPOINT_NOT_FOUND",
                    "message": f"No API found for '{method} {path}'",
                },
            )

    def _foundation_models(self) -> list[dict[str, Any]]:
        """`GET /api/2.0/serving-endpoints:foundation-models`: the pay-per-token foundation model
        endpoints, each served entity's foundation_model telling whether the AI Gateway (v2)
        serves it and through which APIs."""
        with self._lock:
            entries = self._public(
                [e for e in self.endpoints if e.get("endpoint_type") == "FOUNDATION_MODEL_API"]
            )
        for e in entries:
            claude = "claude" in e["name"]
            for entity in e.get("config", {}).get("served_entities", []):
                fm = entity.setdefault("foundation_model", {})
                fm["ai_gateway_v2_supported"] = claude
                fm["api_types"] = _api_types(e["name"])
        return entries

    def _model_services(self, query: dict[str, str]) -> dict[str, Any]:
        """`GET /api/2.1/unity-catalog/model-services?parent=schemas/system.ai`: one system-provided
        model service per READY pay-per-token foundation model, paged (page_size, page_token) as
        the SDKs define it (databricks-sdk-go ListModelServicesRequest: default and maximum 100).
        A larger page gets an empty HTTP 499; the opaque page tokens are standard base64 (`+ / =`),
        so a caller that does not URL-encode them sends one this refuses."""
        if query.get("parent", "schemas/system.ai") != "schemas/system.ai":
            return {"model_services": []}
        with self._lock:
            names = [
                str(e["name"])
                for e in self.endpoints
                if e.get("endpoint_type") == "FOUNDATION_MODEL_API"
                and e["state"]["ready"] == "READY"
            ]
            empty_first = self.model_services_empty_first_page
            largest = self.model_services_max_page_size
        full = query.get("view") == "FULL"  # BASIC (the default) omits the destinations
        services = [
            {
                "name": f"model-services/{uc_name(n)}",
                "owner": "System user",
                "effective_owner": "System user",
                "metastore_id": "19a85dee-54bc-43a2-87ab-023d0ec16013",
                "create_time": "2026-06-01T00:00:00Z",
                "created_by": "System user",
                "update_time": "2026-06-01T00:00:00Z",
                "updated_by": "System user",
                "comment": f"{_display_name(n)}, served by Databricks (pay-per-token)",
                "config": _service_config(n) if full else {},
                "etag": uuid.uuid5(uuid.NAMESPACE_DNS, n).hex[:16],
                "supported_api_types": _api_types(n),
            }
            for n in names
        ]
        try:
            size = int(query.get("page_size") or 0) or 100
        except ValueError:
            size = 100
        if size > largest:
            raise _Response(499, b"", content_type="text/plain")
        raw = query.get("page_token")
        start = 0
        if raw:
            start = _page_offset(raw)
            if start is None:
                raise _Response(
                    400,
                    {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid page token."},
                )
        if empty_first and not raw:
            return {"model_services": [], "next_page_token": _page_token(0)}
        page = services[start : start + size]
        out: dict[str, Any] = {"model_services": page}
        if start + size < len(services):
            out["next_page_token"] = _page_token(start + size)
        return out

    def _gateway_models(self, query: dict[str, str]) -> dict[str, Any]:
        """`GET /ai-gateway/anthropic/v1/models`: Anthropic's model-list shape, the Claude models
        the gateway serves (READY), a 1M-token variant as `<name>[1m]`, each under the id forms
        in gateway_model_ids. Paged by `limit` and `after_id`; like the real gateway (ug#680) it
        leaves `last_id` null, so a caller pages on the last id it got."""
        with self._lock:
            entries = [
                e
                for e in self.endpoints
                if e.get("endpoint_type") == "FOUNDATION_MODEL_API"
                and "claude" in str(e["name"])
                and e["state"]["ready"] == "READY"
            ]
            forms = self.gateway_model_ids
        data: list[dict[str, Any]] = []
        created = "2026-06-01T00:00:00Z"
        for e in entries:
            name, shown = str(e["name"]), _display_name(str(e["name"]))
            ids = {
                "endpoint": name,
                "system.ai": uc_name(name),
                "anthropic": f"{name}-anthropic",
            }
            for form in forms:
                data.append({"type": "model", "id": ids[form], "display_name": shown})
                if e.get("_long_context") and form != "anthropic":
                    data.append(
                        {
                            "type": "model",
                            "id": f"{ids[form]}[1m]",
                            "display_name": f"{shown} (1M context)",
                        }
                    )
        for d in data:
            d["created_at"] = created
        after = query.get("after_id")
        if after:
            ids_seen = [d["id"] for d in data]
            data = data[ids_seen.index(after) + 1 :] if after in ids_seen else []
        try:
            limit = max(1, min(1000, int(query.get("limit") or 20)))
        except ValueError:
            limit = 20
        page = data[:limit]
        return {
            "data": page,
            "has_more": len(data) > limit,
            "first_id": page[0]["id"] if page else None,
            "last_id": None,
        }

    def _host_metadata(self) -> dict[str, Any]:
        """`GET /.well-known/databricks-config`, unauthenticated, as a workspace answers it
        (databricks-sdk-go config.HostMetadata): the CLI resolves it before every login and token
        call and saves workspace_id (and account_id) into the profile at login."""
        return {
            "oidc_endpoint": f"{self.url}/oidc",
            "account_id": self.account_id,
            "workspace_id": self.workspace_id,
            "cloud": self.cloud,
            "host_type": "workspace",
        }

    def _discovery(self) -> dict[str, Any]:
        u = self.url
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

    def _authorize(self, q: dict[str, str]) -> None:
        redirect_uri = q.get("redirect_uri", "")
        ru = urlsplit(redirect_uri)
        if (
            q.get("client_id") not in self.public_clients
            or ru.scheme != "http"
            or ru.hostname not in ("localhost", "127.0.0.1")
        ):
            raise _Response(
                400,
                "<html><body>Invalid OAuth request: unknown client or redirect_uri</body></html>",
                content_type="text/html; charset=utf-8",
            )

        def back(params: dict[str, str]) -> _Response:
            if "state" in q:
                params["state"] = q["state"]
            sep = "&" if ru.query else "?"
            return _Response(302, None, {"Location": redirect_uri + sep + urlencode(params)})

        if q.get("response_type") != "code":
            raise back({"error": "unsupported_response_type"})
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            raise back(
                {
                    "error": "invalid_request",
                    "error_description": "PKCE with code_challenge_method=S256 is required",
                }
            )
        if self.deny_login:
            raise back(
                {"error": "access_denied", "error_description": "The user denied the request"}
            )
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = _AuthCode(
                client_id=q["client_id"],
                redirect_uri=redirect_uri,
                challenge=q["code_challenge"],
                scope=q.get("scope", ""),
                exp=time.time() + 300,
            )
        raise back({"code": code})

    def _token(self, h: _Handler, body: bytes) -> None:
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type", "")
        client_id = form.get("client_id")
        client_secret = form.get("client_secret")
        basic = h.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            with contextlib.suppress(ValueError):
                cid, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
                client_id, client_secret = cid, secret

        def error(err: str, desc: str, status: int = 400) -> _Response:
            with self._lock:
                self.token_requests.append((grant, False))
            return _Response(status, {"error": err, "error_description": desc})

        def ok(payload: dict[str, Any]) -> _Response:
            with self._lock:
                self.token_requests.append((grant, True))
            return _Response(200, payload, {"Cache-Control": "no-store"})

        now = time.time()
        if grant == "authorization_code":
            with self._lock:
                code = self._codes.get(form.get("code", ""))
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
            raise ok(self._token_payload(client_id, refresh=True))
        if grant == "refresh_token":
            raw = form.get("refresh_token", "")
            with self._lock:
                rt = self._refresh.get(raw)
                bad = (
                    rt is None
                    or rt.revoked
                    or (rt.exp is not None and rt.exp <= now)
                    or rt.client_id != client_id
                )
                if not bad and self.single_use_refresh_tokens:
                    assert rt is not None
                    rt.revoked = True
            if bad:
                raise error("invalid_grant", "Refresh token is invalid")
            if self.rotate_refresh_tokens:
                raise ok(self._token_payload(client_id or "", refresh=True))
            payload = self._token_payload(client_id or "", refresh=False)
            payload["refresh_token"] = raw
            raise ok(payload)
        if grant == "client_credentials":
            if client_id in self.disabled_principals:
                # Shape assumed (not verified against a real workspace): the same error class
                # as a bad secret, with its own description.
                raise error("invalid_client", "Service principal is disabled", 401)
            if client_id not in self.service_principals or not secrets.compare_digest(
                self.service_principals[client_id or ""], client_secret or ""
            ):
                raise error("invalid_client", "Client authentication failed", 401)
            payload = self._token_payload(client_id or "", refresh=False, sub=client_id)
            payload["scope"] = form.get("scope", "all-apis")
            raise ok(payload)
        raise error("unsupported_grant_type", f"Unsupported grant_type {grant!r}")

    def _token_payload(
        self, client_id: str | None, refresh: bool, sub: str | None = None
    ) -> dict[str, Any]:
        raw, tok = self._new_access_token(None, sub or self.user_name, client_id or "")
        payload: dict[str, Any] = {
            "access_token": raw,
            "token_type": "Bearer",
            "expires_in": max(0, int(round(tok.exp - tok.iat))),
            "scope": "offline_access all-apis",
        }
        if refresh:
            payload["refresh_token"] = self._new_refresh_token(client_id or "")
        return payload

    def _authenticate(self, bearer: str | None, token: TokenRef | None, gateway: bool) -> None:
        if bearer is None or token is None:
            raise _Response(
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
                raise _Response(400, {"error_code": "400", "message": "Invalid Token"})
            if self.invalid_token_status == 401:
                raise _Response(
                    401,
                    {"error_code": "401", "message": "Invalid access token."},
                    {"WWW-Authenticate": 'Bearer realm="DatabricksRealm"'},
                )
            raise _Response(403, {"error_code": "403", "message": "Invalid access token."})

    def _me(self) -> dict[str, Any]:
        return {
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:workspace:2.0:User",
            ],
            "id": "8765432109876543",
            "userName": self.user_name,
            "displayName": "Test User",
            "active": True,
            "emails": [{"type": "work", "value": self.user_name, "primary": True}],
            "name": {"givenName": "Test", "familyName": "User"},
            "groups": [{"display": "users", "type": "direct", "value": "1111", "$ref": "x"}],
            "entitlements": [{"value": "workspace-access"}],
        }

    def _find_endpoint(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            for e in self.endpoints:
                if e.get("name") == name:
                    return dict(json.loads(json.dumps(e)))
        return None

    @staticmethod
    def _no_endpoint(name: str) -> dict[str, Any]:
        return {
            "error_code": "RESOURCE_DOES_NOT_EXIST",
            "message": f"Endpoint with name '{name}' does not exist.",
        }

    def _model_endpoint(self, parsed: Any, gateway: bool = False) -> str:
        if not isinstance(parsed, dict):
            raise _Response(
                400, {"error_code": "BAD_REQUEST", "message": "Request body is not valid JSON."}
            )
        model = parsed.get("model")
        if not isinstance(model, str) or not model:
            raise _Response(
                400, {"error_code": "BAD_REQUEST", "message": "Missing required field 'model'."}
            )
        entry = self._find_endpoint(model)
        if entry is None and gateway and model.startswith("system.ai."):
            # The gateway also takes a Unity Catalog model service name for a foundation model.
            short = model.removeprefix("system.ai.").removeprefix("databricks-")
            entry = self._find_endpoint(f"databricks-{short}")
            if entry is not None and entry.get("endpoint_type") != "FOUNDATION_MODEL_API":
                entry = None
        if entry is None:
            raise _Response(404, self._no_endpoint(model))
        if not is_claude_endpoint(entry):
            raise _Response(
                404,
                {
                    "error_code": "RESOURCE_DOES_NOT_EXIST",
                    "message": f"Endpoint '{model}' does not serve an Anthropic model.",
                },
            )
        if entry["state"]["ready"] != "READY":
            raise _Response(
                404,
                {
                    "error_code": "RESOURCE_DOES_NOT_EXIST",
                    "message": f"Endpoint '{model}' is not ready.",
                },
            )
        if gateway and entry["name"] in self.traffic_split:
            # Body assumed (the reports give only the status): see docs/databricks-shapes.md.
            raise _Response(
                400,
                {
                    "error_code": "BAD_REQUEST",
                    "message": f"Endpoint '{entry['name']}' splits traffic between served "
                    "entities; the AI Gateway's Anthropic route needs a single served entity.",
                },
            )
        return model

    def _messages(
        self, h: _Handler, record: RequestRecord, parsed: Any, gateway: bool = False
    ) -> None:
        model = self._model_endpoint(parsed, gateway)
        answer = self.reply(parsed) if self.reply is not None else self.reply_text
        if isinstance(answer, dict):
            self._tool_use(model, parsed, answer["tool_use"])
        text = str(answer)
        msg_id = "msg_" + secrets.token_hex(12)
        in_tokens = max(1, len(json.dumps(parsed.get("messages", []))) // 4)
        out_tokens = max(1, len(text) // 4)
        if not parsed.get("stream"):
            raise _Response(
                200,
                {
                    "id": msg_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [{"type": "text", "text": text}],
                    "stop_reason": "end_turn",
                    "stop_sequence": None,
                    "usage": {"input_tokens": in_tokens, "output_tokens": out_tokens}
                    | self.usage_extra,
                },
            )
        events: list[tuple[str, dict[str, Any]]] = [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": msg_id,
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": {"input_tokens": in_tokens, "output_tokens": 1} | self.usage_extra,
                    },
                },
            ),
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            ),
            ("ping", {"type": "ping"}),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": text},
                },
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": out_tokens},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        data = "".join(f"event: {name}\ndata: {json.dumps(ev)}\n\n" for name, ev in events)
        raise _Response(
            200,
            data.encode(),
            {"Cache-Control": "no-cache"},
            content_type="text/event-stream; charset=utf-8",
        )

    def _tool_use(self, model: str, parsed: Any, tool: dict[str, Any]) -> None:
        """Answer with one tool_use block (stop_reason tool_use), streamed or not."""
        msg_id = "msg_" + secrets.token_hex(12)
        block = {"type": "tool_use", "id": "toolu_" + secrets.token_hex(12), "name": tool["name"]}
        usage = {"input_tokens": 10, "output_tokens": 10}
        if not parsed.get("stream"):
            raise _Response(
                200,
                {
                    "id": msg_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [dict(block, input=tool["input"])],
                    "stop_reason": "tool_use",
                    "stop_sequence": None,
                    "usage": usage,
                },
            )
        start_msg = {
            "id": msg_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": dict(usage, output_tokens=1),
        }
        events: list[tuple[str, dict[str, Any]]] = [
            ("message_start", {"type": "message_start", "message": start_msg}),
            (
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": dict(block, input={})},
            ),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {
                        "type": "input_json_delta",
                        "partial_json": json.dumps(tool["input"]),
                    },
                },
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                    "usage": {"output_tokens": 10},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        data = "".join(f"event: {name}\ndata: {json.dumps(ev)}\n\n" for name, ev in events)
        raise _Response(
            200,
            data.encode(),
            {"Cache-Control": "no-cache"},
            content_type="text/event-stream; charset=utf-8",
        )

    def _mcp_route(
        self, h: _Handler, record: RequestRecord, method: str, path: str, body: bytes
    ) -> None:
        service = path.removeprefix("/ai-gateway/mcp-services/")
        if service in self.mcp.suspended_services:
            raise _Response(
                400,
                {
                    "error_code": "BAD_REQUEST",
                    "message": "The MCP service is administratively suspended. Use the "
                    "workspace endpoint /api/2.0/mcp/sql instead.",
                },
            )
        try:
            mcp_api.tools_for(self.mcp, path)
        except mcp_api.NotFound:
            raise _Response(
                404,
                {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"No MCP server at {path}"},
            ) from None
        with self._lock:
            if self._mcp_host is None:
                self._mcp_host = mcp_api.McpHost(self.mcp)
            host = self._mcp_host
        record.status = 200
        host.forward(h, method, path, body)

    def mcp_requests(self) -> list[RequestRecord]:
        return [r for r in self.requests() if mcp_api.is_mcp_path(r.path)]

    def _count_tokens(self, parsed: Any, gateway: bool = False) -> None:
        self._model_endpoint(parsed, gateway)
        raise _Response(200, {"input_tokens": max(1, len(json.dumps(parsed)) // 4)})


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
    # agent_routes.py import `tests.rig.workspace`, a second copy whose _Response the first
    # copy's handler would never catch. Serve from that one copy instead.
    from tests.rig.workspace import main as _main

    sys.exit(_main())
