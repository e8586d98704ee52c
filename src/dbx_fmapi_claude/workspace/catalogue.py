"""The workspace's Claude models: discovered through the newest listing the workspace offers, read
by name (family, version, Unity Catalog names, `[1m]` variants), and the default per family.

Discovery, newest first (docs/databricks-shapes.md has each shape and its source):
  1. Unity Catalog model services, `GET /api/2.1/unity-catalog/model-services` with
     `parent=schemas/system.ai` (names like `system.ai.claude-opus-4-8`; no READY state);
  2. `GET /api/2.0/serving-endpoints:foundation-models` (state, and whether the AI Gateway serves
     each model);
  3. `GET /api/2.0/serving-endpoints`, the fallback, and the only one that lists external and
     custom endpoints;
  4. on the AI Gateway route, its model listing, which also names the 1M-token variants.
Nothing readable: the seed's names (workspace.SEED_DEFAULTS), each one that retires soon replaced
by today's (FALLBACKS): the seed's sonnet-4-5 retires on 2026-11-30.

A family's default is its newest READY model that is neither retired nor retiring within a week
(RETIREMENTS). Not on the hot path.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from .client import SEED_DEFAULTS, Workspace, WorkspaceError
from .modelnames import Name as Name
from .modelnames import base_name as base_name
from .modelnames import parse as parse
from .modelnames import recognised as recognised
from .modelnames import retirement as retirement
from .modelnames import retirement_note as retirement_note
from .modelnames import retiring as retiring
from .modelnames import today as today

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FAMILIES = ("opus", "sonnet", "haiku", "fable")
# The late-2026 pay-per-token names (../shared/notes/databricks.md), for a seed name that retires
# soon when no listing can be read. No fable: a name nobody listed is a guess.
FALLBACKS = {
    "opus": "databricks-claude-opus-4-8",
    "sonnet": "databricks-claude-sonnet-4-6",
    "haiku": "databricks-claude-haiku-4-5",
}
CONTEXT_TOKENS = 200_000  # the context window of a Claude model without the 1M variant


@dataclass
class Model:
    name: str  # what goes into the settings: an endpoint name, a UC name, or `<name>[1m]`
    family: str | None
    version: tuple[int, int]
    state: str = "UNKNOWN"  # READY, NOT_READY or UNKNOWN (a listing without state)
    kind: str = "foundation"  # foundation, external or other
    long_context: bool = False
    sources: list[str] = field(default_factory=list)
    gateway: bool | None = None  # served by the AI Gateway (foundation-models listing)
    uc_name: str | None = None
    entry: dict[str, Any] | None = None  # the serving-endpoints entry, when listed there

    @property
    def ready(self) -> bool:
        return self.state == "READY"


@dataclass
class Catalogue:
    models: list[Model] = field(default_factory=list)
    source: str = "seed"  # the newest listing that answered
    sources: list[str] = field(default_factory=list)  # every listing that answered
    errors: dict[str, WorkspaceError] = field(default_factory=dict)  # listing -> why not
    endpoints: list[dict[str, Any]] | None = None  # /api/2.0/serving-endpoints, when read
    # Every model any listing names, Claude or not (GPT, Gemini, ...): name -> state, for the
    # other agents (setup/agentsteps.py).
    every: dict[str, str] = field(default_factory=dict)

    @property
    def read(self) -> bool:
        """Something could be read (else the seed names stand in)."""
        return bool(self.sources)

    def find(self, name: str) -> Model | None:
        return next((m for m in self.models if m.name == name), None)

    def add(self, name: str, source: str) -> Model:
        """The model named `name`, added when new; `source` noted."""
        model = self.find(name)
        if model is None:
            n = parse(name)
            model = Model(name, n.family, n.version, long_context=n.long_context)
            self.models.append(model)
        if source not in model.sources:
            model.sources.append(source)
        return model

    def add_gateway_models(self, items: Iterable[Mapping[str, Any]]) -> None:
        """The AI Gateway's own listing: its Claude ids, `[1m]` variants included (a variant is
        as READY as its base model). A `system.ai.claude-…` id is the Unity Catalog name of the
        `databricks-claude-…` endpoint (one model, never two); an id ending `-anthropic` names
        no endpoint (the official tool drops them) and is never offered."""
        if "ai-gateway" not in self.sources:
            self.sources.append("ai-gateway")
        for item in items:
            listed = item.get("id")
            if not isinstance(listed, str) or parse(listed).family is None:
                continue
            name = gateway_endpoint(listed)
            if name is None:
                continue
            model = self.add(name, "ai-gateway")
            if name != listed and model.uc_name is None:
                model.uc_name = listed
            base = self.find(base_name(name))
            if model.state == "UNKNOWN":
                model.state = base.state if base is not None and base is not model else "READY"
            model.gateway = True
        if self.source == "seed":
            self.source = "ai-gateway"

    def names(self) -> set[str]:
        return {m.name for m in self.models}

    def has(self, name: str) -> bool:
        """The workspace knows `name` (a `[1m]` name: its base model)."""
        names = self.names()
        return name in names or base_name(name) in names

    def claude(self, family: str | None = None) -> list[Model]:
        """Claude models (by name), READY first, newest first (families mixed, as offered)."""
        found = [m for m in self.models if m.family is not None]
        if family is not None:
            found = [m for m in found if m.family == family]
        return sorted(
            found,
            key=lambda m: (
                not m.ready,
                tuple(-v for v in m.version),
                m.long_context,
                m.name,
            ),
        )

    def default(self, family: str, on: _dt.date) -> str | None:
        """The newest READY endpoint of `family` that is neither retired nor retiring within
        SOON; None when there is none. Never a 1M variant (it costs more; offered, not chosen)."""
        for m in self.claude(family):
            if not m.ready or m.long_context or m.kind != "foundation":
                continue
            if retiring(m.name, on) is None:
                return m.name
        return None


# What the Go SDK defines for the model-services listing (ListModelServicesRequest, 0.175:
# "defaults to 100 when unset or 0; the maximum is 100"); larger pages were reported answered
# with an empty HTTP 499.
PAGE_SIZE = 100


def _paged_model_services(ws: Workspace) -> list[str]:
    names: list[str] = []
    token = ""
    seen: set[str] = set()
    for _ in range(50):  # a page may be empty while later ones are not; bounded all the same
        query = {"parent": "schemas/system.ai", "page_size": str(PAGE_SIZE)}
        if token:
            query["page_token"] = token  # opaque, base64: `+ / =` must be encoded
        body = ws.get(f"/api/2.1/unity-catalog/model-services?{urlencode(query)}")
        items = body.get("model_services") if isinstance(body, dict) else None
        for item in items if isinstance(items, list) else []:
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str) and name:
                names.append(name.removeprefix("model-services/"))
        nxt = body.get("next_page_token") if isinstance(body, dict) else None
        if not isinstance(nxt, str) or not nxt or nxt in seen:
            break
        seen.add(nxt)
        token = nxt
    return names


NOT_AN_ENDPOINT = "-anthropic"  # gateway ids the official tool drops: not endpoint names


def gateway_endpoint(listed: str) -> str | None:
    """The endpoint a gateway listing id stands for (`[1m]` kept): `databricks-claude-…` as it
    is, `system.ai.claude-…` mapped to its endpoint; None for an id ending `-anthropic`."""
    base = base_name(listed)
    if base.endswith(NOT_AN_ENDPOINT):
        return None
    if not base.startswith("system.ai."):
        return listed
    return _endpoint_name_of(base) + listed[len(base) :]


def _endpoint_name_of(uc: str) -> str:
    """system.ai.claude-opus-4-8 (or system.ai.databricks-claude-opus-4-8) -> the pay-per-token
    endpoint databricks-claude-opus-4-8."""
    short = uc.rsplit(".", 1)[-1]
    return short if short.startswith("databricks-") else f"databricks-{short}"


def _state(entry: Mapping[str, Any]) -> str:
    state = entry.get("state") or {}
    value = state.get("ready") if isinstance(state, dict) else None
    return str(value) if value in ("READY", "NOT_READY") else "UNKNOWN"


_TYPE_HINT = {"FOUNDATION_MODEL_API": "foundation", "EXTERNAL_MODEL": "external"}


def endpoint_kind(entry: Mapping[str, Any]) -> str:
    """foundation (pay-per-token), external or other, from what the SDKs define: a served entity
    with `external_model` or `foundation_model` (ServedEntitySpec). `endpoint_type`, which no SDK's
    ServingEndpoint has, is only a hint for an entry that shows neither; without entities at all,
    the name (Databricks names its pay-per-token endpoints `databricks-…`)."""
    config = entry.get("config")
    entities = config.get("served_entities") if isinstance(config, dict) else None
    entities = [e for e in entities if isinstance(e, dict)] if isinstance(entities, list) else []
    if any(isinstance(e.get("external_model"), dict) for e in entities):
        return "external"
    if any(isinstance(e.get("foundation_model"), dict) for e in entities):
        return "foundation"
    hint = _TYPE_HINT.get(str(entry.get("endpoint_type") or ""))
    if hint is not None:
        return hint
    if entities:  # served entities of another kind: a custom or provisioned model
        return "other"
    return "foundation" if str(entry.get("name") or "").startswith("databricks-") else "other"


def external_model(entry: Mapping[str, Any] | None) -> str | None:
    """The Anthropic model an external-model endpoint serves (`claude-sonnet-4-5`), if any."""
    for e in ((entry or {}).get("config") or {}).get("served_entities") or []:
        ext = e.get("external_model") if isinstance(e, dict) else None
        if isinstance(ext, dict) and ext.get("provider") == "anthropic":
            name = ext.get("name")
            return name if isinstance(name, str) else None
    return None


def _is_anthropic(entry: Mapping[str, Any]) -> bool:
    if endpoint_kind(entry) == "external":
        return external_model(entry) is not None
    return "claude" in str(entry.get("name") or "")


def discover(ws: Workspace, gateway_models: Iterable[Mapping[str, Any]] | None = None) -> Catalogue:
    """Read every listing the workspace offers (never raises: a listing that fails is noted in
    `errors`); `gateway_models`: the AI Gateway's own listing, when the route is the gateway."""
    cat = Catalogue()
    add = cat.add

    uc: list[str] | None = None
    try:
        uc = _paged_model_services(ws)
        cat.sources.append("model-services")
    except WorkspaceError as exc:
        cat.errors["model-services"] = exc
    fm: list[dict[str, Any]] | None = None
    try:
        body = ws.get("/api/2.0/serving-endpoints:foundation-models")
        items = (body or {}).get("endpoints") if isinstance(body, dict) else None
        fm = [e for e in items or [] if isinstance(e, dict) and isinstance(e.get("name"), str)]
        cat.sources.append("foundation-models")
    except WorkspaceError as exc:
        cat.errors["foundation-models"] = exc
    try:
        cat.endpoints = ws.endpoints()
        cat.sources.append("serving-endpoints")
    except WorkspaceError as exc:
        cat.errors["serving-endpoints"] = exc

    for entry in [*(cat.endpoints or []), *(fm or [])]:
        if endpoint_kind(entry) != "other" or entry in (fm or []):
            state = _state(entry)
            if cat.every.get(str(entry["name"]), "UNKNOWN") == "UNKNOWN":
                cat.every[str(entry["name"])] = state
    for uc_name in uc or []:
        cat.every.setdefault(_endpoint_name_of(uc_name), "READY")
    for entry in cat.endpoints or []:
        if not _is_anthropic(entry):
            continue
        model = add(str(entry["name"]), "serving-endpoints")
        model.state, model.kind, model.entry = _state(entry), endpoint_kind(entry), entry
    for entry in fm or []:
        if "claude" not in str(entry["name"]):
            continue
        model = add(str(entry["name"]), "foundation-models")
        if model.state == "UNKNOWN":
            model.state = _state(entry)
        for entity in (entry.get("config") or {}).get("served_entities") or []:
            fmodel = entity.get("foundation_model") if isinstance(entity, dict) else None
            if isinstance(fmodel, dict) and "ai_gateway_v2_supported" in fmodel:
                model.gateway = bool(fmodel["ai_gateway_v2_supported"])
    for uc_name in uc or []:
        if parse(uc_name).family is None:
            continue
        model = add(_endpoint_name_of(uc_name), "model-services")
        model.uc_name = uc_name
        if model.state == "UNKNOWN":
            model.state = "READY"  # a system-provided service exists only for a served model
    if gateway_models is not None:
        cat.add_gateway_models(gateway_models)
    for newest in ("model-services", "foundation-models", "serving-endpoints", "ai-gateway"):
        if newest in cat.sources:
            cat.source = newest
            break
    return cat


def fallback(family: str, on: _dt.date) -> str:
    """The name for `family` when nothing could be read: the seed's, unless it retires soon (the
    seed's sonnet-4-5 retires on 2026-11-30), then today's (FALLBACKS)."""
    name = SEED_DEFAULTS[family]
    return name if retiring(name, on) is None else FALLBACKS[family]
