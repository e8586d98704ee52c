"""Where Claude Code sends its requests: one of the workspace's Anthropic Messages routes.

- `ai-gateway`: `{host}/ai-gateway/anthropic`, the route Databricks' own coding-agent docs use,
  with a model listing at `/v1/models`. A token it does not accept is `400 Invalid Token`, which
  Claude Code never retries: the token lifetime guarantee is what keeps sessions alive there.
- `serving-endpoints`: `{host}/serving-endpoints/anthropic`, every workspace's. A rejected token is
  a 403, which Claude Code retries after running the helper again.

setup chooses (`--route auto`, the default: the gateway when it answers, else serving endpoints),
the record keeps the choice (a record from before routes existed means serving endpoints), and
`ANTHROPIC_BASE_URL` follows it. See docs/routes.md for how each route was measured.
Not on the hot path: the wrapper and the token helper never import this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from .client import Workspace, WorkspaceError

AUTO = "auto"
GATEWAY_NAME = "ai-gateway"
SERVING_NAME = "serving-endpoints"
CHOICES = (AUTO, GATEWAY_NAME, SERVING_NAME)


class Route(Protocol):
    """What the rest of the code needs to know about a route."""

    @property
    def name(self) -> str:
        """As in --route and the record."""

    @property
    def label(self) -> str:
        """For people."""

    @property
    def path(self) -> str:
        """Under the workspace URL."""

    def base_url(self, host: str) -> str:
        """ANTHROPIC_BASE_URL for `host`."""

    def models_url(self, host: str) -> str | None:
        """The route's own model listing, None when it has none."""

    @property
    def disable_experimental_betas(self) -> bool:
        """Whether CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS=1 goes into the settings."""


@dataclass(frozen=True)
class _Route:
    name: str
    label: str
    path: str
    models_path: str | None
    # Both routes keep the seed's CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS=1: what Claude Code adds
    # without it (context_management in the body, three more betas, extended-cache-ttl) is what
    # the gateway was reported to reject with a 400; docs/routes.md has the measurement.
    disable_experimental_betas: bool = True

    def base_url(self, host: str) -> str:
        return f"{host.rstrip('/')}{self.path}"

    def models_url(self, host: str) -> str | None:
        return None if self.models_path is None else f"{self.base_url(host)}{self.models_path}"


GATEWAY: Route = _Route(GATEWAY_NAME, "AI Gateway", "/ai-gateway/anthropic", "/v1/models")
SERVING: Route = _Route(SERVING_NAME, "serving endpoints", "/serving-endpoints/anthropic", None)
ROUTES: dict[str, Route] = {r.name: r for r in (GATEWAY, SERVING)}


def get(name: Any) -> Route:
    """The route named `name`; serving endpoints for a record written before routes existed."""
    return ROUTES.get(name, SERVING) if isinstance(name, str) else SERVING


def for_record(cfg: Mapping[str, Any] | None) -> Route:
    return get((cfg or {}).get("route"))


@dataclass
class Probe:
    """Whether the AI Gateway answers for this workspace, and what it lists."""

    works: bool
    error: WorkspaceError | None = None  # why it does not
    models: list[dict[str, Any]] | None = None  # its listing's entries ({"id", "display_name"})
    how: str = ""  # "listing" or "request": what showed it
    notes: list[str] = field(default_factory=list)


LISTING_LIMIT = 1000  # the most the Anthropic model listing returns per page


def list_gateway_models(ws: Workspace) -> list[dict[str, Any]]:
    """The gateway's model listing (every page); WorkspaceError when it does not answer. The
    next page starts after the last id received: the gateway leaves `last_id` null even when it
    says `has_more` (reported in databricks/unity-gateway#680)."""
    base = GATEWAY.models_url(ws.host)
    out: list[dict[str, Any]] = []
    after = ""
    seen: set[str] = set()
    for _ in range(20):  # bounded: a listing that never ends is not followed forever
        query = {"limit": str(LISTING_LIMIT), **({"after_id": after} if after else {})}
        url = f"{base}?{urlencode(query)}"
        _, body = ws.request("GET", url)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise WorkspaceError("http", f"{url} answered without a model list", 200, body)
        page = [m for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)]
        out += page
        last = body.get("last_id") or (page[-1]["id"] if page else None)
        if not body.get("has_more") or not isinstance(last, str) or not last or last in seen:
            break
        seen.add(last)
        after = last
    return out


def probe_gateway(ws: Workspace, model: str | None) -> Probe:
    """Does the AI Gateway's Anthropic route answer? Its model listing first (no tokens spent);
    a workspace whose gateway has no listing gets a one-token request to `model` instead."""
    try:
        return Probe(True, models=list_gateway_models(ws), how="listing")
    except WorkspaceError as exc:
        # A gateway without the listing (404 ENDPOINT_NOT_FOUND, 405) may still serve messages.
        no_listing = exc.kind == "http" and exc.status in (404, 405)
        if not no_listing or exc.code not in ("", "ENDPOINT_NOT_FOUND") or not model:
            return Probe(False, exc)
    try:
        ws.ping_model(model, GATEWAY.base_url(ws.host))
    except WorkspaceError as exc:
        if exc.status == 429:  # rate limited, but it answers
            return Probe(True, how="request")
        return Probe(False, exc)
    return Probe(True, how="request")
