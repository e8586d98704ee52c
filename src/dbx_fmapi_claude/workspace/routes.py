"""The workspace's routes: where each API an agent speaks is served, on the AI Gateway or on
serving endpoints. Claude Code's is the Anthropic Messages API:

- `ai-gateway`: `{host}/ai-gateway/anthropic`, the route Databricks' own coding-agent docs use,
  with a model listing at `/v1/models`. A token it does not accept is `400 Invalid Token`, which
  Claude Code never retries: the token lifetime guarantee is what keeps sessions alive there.
- `serving-endpoints`: `{host}/serving-endpoints/anthropic`, every workspace's. A rejected token is
  a 403, which Claude Code retries after running the helper again.

The other agents' APIs (an Agent's `api`): OpenAI Responses (Codex), Gemini (Gemini CLI) and chat
completions (OpenCode), each with its paths on both routes, best first.

setup chooses (`--route auto`, the default: the gateway when it answers, else serving endpoints),
the record keeps the choice (a record from before routes existed means serving endpoints), and
`ANTHROPIC_BASE_URL` follows it. See docs/routes.md for how each route was measured.
Not on the hot path: the wrapper and the token helper never import this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .client import Workspace, WorkspaceError

AUTO = "auto"
GATEWAY_NAME = "ai-gateway"
SERVING_NAME = "serving-endpoints"
CHOICES = (AUTO, GATEWAY_NAME, SERVING_NAME)

# The APIs the agents speak (Agent.api).
ANTHROPIC = "anthropic"  # Anthropic Messages: Claude Code
RESPONSES = "responses"  # OpenAI Responses: Codex
GEMINI = "gemini"  # Gemini's generateContent: Gemini CLI
CHAT = "chat"  # OpenAI chat completions: OpenCode


@dataclass(frozen=True)
class Route:
    """One of the workspace's routes: its name (as in --route and the record), a label for
    people, and the paths under the workspace URL that serve each API, best first."""

    name: str
    label: str
    apis: Mapping[str, tuple[str, ...]]
    models_path: str | None  # the Anthropic API's own model listing, None when it has none
    # Both routes keep the seed's CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS=1: what Claude Code adds
    # without it (context_management in the body, three more betas, extended-cache-ttl) is what
    # the gateway was reported to reject with a 400; docs/routes.md has the measurement.
    disable_experimental_betas: bool = True

    @property
    def path(self) -> str:
        """The Anthropic API's path under the workspace URL."""
        return self.apis[ANTHROPIC][0]

    def base_url(self, host: str, api: str = ANTHROPIC) -> str:
        """`api`'s base URL on `host` (ANTHROPIC_BASE_URL for the Anthropic API)."""
        return f"{host.rstrip('/')}{self.apis[api][0]}"

    def models_url(self, host: str) -> str | None:
        """The route's own model listing, None when it has none."""
        return None if self.models_path is None else f"{self.base_url(host)}{self.models_path}"


GATEWAY = Route(
    GATEWAY_NAME,
    "AI Gateway",
    {
        ANTHROPIC: ("/ai-gateway/anthropic",),
        RESPONSES: ("/ai-gateway/codex/v1", "/ai-gateway/openai/v1"),
        GEMINI: ("/ai-gateway/gemini",),
        CHAT: ("/ai-gateway/mlflow/v1",),
    },
    "/v1/models",
)
SERVING = Route(
    SERVING_NAME,
    "serving endpoints",
    {
        ANTHROPIC: ("/serving-endpoints/anthropic",),
        RESPONSES: ("/serving-endpoints/openai/v1",),
        GEMINI: ("/serving-endpoints/gemini",),
        CHAT: ("/serving-endpoints",),
    },
    None,
)
ROUTES: dict[str, Route] = {r.name: r for r in (GATEWAY, SERVING)}


def get(name: Any) -> Route:
    """The route named `name`; serving endpoints for a record written before routes existed."""
    return ROUTES.get(name, SERVING) if isinstance(name, str) else SERVING


def for_record(cfg: Mapping[str, Any] | None) -> Route:
    return get((cfg or {}).get("route"))


def candidates(api: str, route: str, forced: bool) -> list[tuple[str, str]]:
    """(route name, path) where `api` may answer: `route`'s paths first, then the other
    route's; with `forced` (--route) only `route`'s own."""
    own = get(route)
    out = [(own.name, p) for p in own.apis[api]]
    if not forced:
        out += [(r.name, p) for r in ROUTES.values() if r is not own for p in r.apis[api]]
    return out


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
    from .client import WorkspaceError

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
    from .client import WorkspaceError

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
