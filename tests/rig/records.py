"""What the fake workspace keeps about tokens and requests: the tokens it issued (never printed),
how the request log refers to a token (TokenRef), one logged request (RequestRecord), an
injected fault (Fault), and the ids it answers with."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

CLI_CLIENT_ID = "databricks-cli"
DEFAULT_WORKSPACE_ID = "1234567890123456"
DEFAULT_ACCOUNT_ID = "7f3e8c2a-5b1d-4e9f-a6c0-2d8b4f1e9a37"
DEFAULT_USER = "test.user@example.com"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()


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
