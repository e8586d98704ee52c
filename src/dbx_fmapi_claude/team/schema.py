"""The team file: versioned JSON a platform team writes once for every developer.

`parse(raw, source)` checks every key and value and returns a `TeamFile`; anything it refuses is
a UserError naming the source, the key and the value (exit 2). The JSON Schema for editors is
docs/team-file.schema.json; docs/teams.md is the guide. Version 1 keys:

    version, host, profile, route, models, agents, ttl, margin, token_mode, mcp, otel_tables,
    otel_spans, mlflow_experiment, prices, budget, locked
    (and "$schema", "description" for people and editors)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .. import agents
from ..core.errors import ExitCode, UserError
from ..record.config import parse_duration
from ..workspace import routes
from ..workspace.hosts import normalize_host

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

VERSION = 1
UPGRADE = (
    "pipx upgrade dbx-fmapi-claude   (or run bash setup-fmapi-claudecode.sh from a newer clone)"
)

# Claude Code's model roles; every other agent's model goes under the agent's own name.
CLAUDE_MODEL_KEYS = ("model", "opus", "sonnet", "haiku", "fable", "subagent")
MCP_KINDS = ("genie", "sql", "functions", "ai-search", "external", "url")
PRICE_FIELDS = ("input", "output", "cache_read", "cache_write")
TOKEN_MODES = ("helper", "static")
# Keys a team may lock: a flag or a prompt cannot change them then.
LOCKABLE = (
    "host",
    "profile",
    "route",
    "models",
    "agents",
    "ttl",
    "margin",
    "token_mode",
    "mcp",
    "otel_tables",
    "otel_spans",
    "mlflow_experiment",
    "prices",
    "budget",
)
KEYS = ("version", *LOCKABLE, "locked")
FOR_PEOPLE = ("$schema", "description")

_PROFILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/\[\]-]{0,199}$")
_TABLES = re.compile(r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+$")


def model_keys() -> tuple[str, ...]:
    """Keys of `models`: Claude Code's roles, then each other agent's name (the registry)."""
    return CLAUDE_MODEL_KEYS + tuple(n for n in agents.NAMES if not agents.get(n).required)


@dataclass(frozen=True)
class TeamFile:
    source: str  # as given: a path, an https URL, /Workspace/..., /Volumes/...
    data: Mapping[str, Any]  # the checked keys, as in the file (no $schema/description)
    ttl_seconds: int | None = None
    margin_seconds: int | None = None
    host: str | None = None  # normalized
    locked: tuple[str, ...] = field(default=())

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    @property
    def models(self) -> Mapping[str, str]:
        value = self.data.get("models")
        return value if isinstance(value, Mapping) else {}

    def is_locked(self, key: str) -> bool:
        return key in self.locked


def _bad(source: str, key: str, value: Any, why: str) -> UserError:
    shown = json.dumps(value) if not isinstance(value, str) else repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return UserError(
        f"team file {source}: {key} = {shown}: {why}",
        "correct the team file (docs/teams.md lists every key), then "
        f"dbx-fmapi team validate {source}",
        ExitCode.USAGE,
    )


def _str(source: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(source, key, value, "must be a non-empty string")
    return value.strip()


def _duration(source: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _bad(source, key, value, 'must be a duration such as "30m", "90s" or "1h"')
    try:
        return parse_duration(str(value))
    except ValueError as exc:
        raise _bad(source, key, value, str(exc)) from None


def _number(source: str, key: str, value: Any, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(source, key, value, "must be a number")
    if value < 0 or (positive and value == 0):
        raise _bad(source, key, value, "must be greater than 0" if positive else "must be >= 0")
    return float(value)


def _models(source: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _bad(source, "models", value, 'must be an object such as {"model": "..."}')
    allowed = model_keys()
    out: dict[str, str] = {}
    for k, v in value.items():
        if k not in allowed:
            raise _bad(source, f"models.{k}", v, f"unknown key (known: {', '.join(allowed)})")
        name = _str(source, f"models.{k}", v)
        if not _MODEL.match(name):
            raise _bad(source, f"models.{k}", v, "is not a model endpoint name")
        out[k] = name
    return out


def _agents(source: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise _bad(source, "agents", value, 'must be a list such as ["claude", "codex"]')
    for name in value:
        if name not in agents.NAMES:
            raise _bad(source, "agents", name, f"unknown agent (known: {', '.join(agents.NAMES)})")
    return list(dict.fromkeys(value))


def _mcp(source: str, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _bad(source, "mcp", value, "must be a list of servers")
    for i, entry in enumerate(value):
        where = f"mcp[{i}]"
        if not isinstance(entry, dict):
            raise _bad(source, where, entry, 'must be an object such as {"kind": "sql"}')
        if entry.get("kind") not in MCP_KINDS:
            raise _bad(source, f"{where}.kind", entry.get("kind"), f"one of {', '.join(MCP_KINDS)}")
        for k, v in entry.items():
            if k != "kind" and not isinstance(v, str):
                raise _bad(source, f"{where}.{k}", v, "must be a string")
    return value


def _prices(source: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(source, "prices", value, "must be an object: model name -> prices")
    for model, entry in value.items():
        where = f"prices.{model}"
        if not isinstance(entry, dict):
            raise _bad(source, where, entry, f"must be an object with {', '.join(PRICE_FIELDS)}")
        for k, v in entry.items():
            if k == "currency":
                if not isinstance(v, str) or not re.match(r"^[A-Z]{3}$", v):
                    raise _bad(source, f"{where}.currency", v, "must be a currency code (USD)")
            elif k in PRICE_FIELDS:
                _number(source, f"{where}.{k}", v)
            else:
                raise _bad(
                    source,
                    f"{where}.{k}",
                    v,
                    f"unknown key (known: {', '.join(PRICE_FIELDS)}, currency)",
                )
    return value


def _budget(source: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(source, "budget", value, 'must be an object such as {"monthly": 200}')
    for k, v in value.items():
        where = f"budget.{k}"
        if k == "monthly":
            _number(source, where, v, positive=True)
        elif k == "warn":
            if _number(source, where, v) > 100:
                raise _bad(source, where, v, "is a percentage of the monthly budget (0-100)")
        elif k == "block":
            if not isinstance(v, bool):
                raise _bad(source, where, v, "must be true or false")
        elif k in ("currency", "contact"):
            _str(source, where, v)
        else:
            raise _bad(
                source, where, v, "unknown key (known: monthly, warn, block, currency, contact)"
            )
    if "monthly" not in value:
        raise _bad(source, "budget", value, 'needs "monthly" (the amount per developer per month)')
    return value


def check(data: Any, source: str) -> TeamFile:
    """The team file `data` (parsed JSON) checked key by key."""
    if not isinstance(data, dict):
        raise UserError(
            f"team file {source} is not a JSON object",
            'a team file looks like {"version": 1, "host": "https://..."} (docs/teams.md)',
            ExitCode.USAGE,
        )
    version = data.get("version")
    if "version" not in data:
        raise _bad(source, "version", None, 'is missing: a team file starts with "version": 1')
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _bad(source, "version", version, "must be 1")
    if version > VERSION:
        raise UserError(
            f"team file {source} is version {version}; this dbx-fmapi reads version {VERSION}",
            UPGRADE,
            ExitCode.USAGE,
        )
    out: dict[str, Any] = {}
    ttl = margin = None
    host = None
    for key, value in data.items():
        if key in FOR_PEOPLE:
            continue
        if key not in KEYS:
            raise _bad(source, key, value, f"unknown key (known: {', '.join(KEYS)})")
        if key == "version":
            continue
        if key == "host":
            text = _str(source, key, value)
            try:
                host = normalize_host(text)
            except UserError as exc:
                raise _bad(source, key, value, exc.message) from None
            out[key] = host
        elif key == "profile":
            text = _str(source, key, value)
            if not _PROFILE.match(text):
                raise _bad(source, key, value, "letters, digits, '.', '_' and '-' only")
            out[key] = text
        elif key == "route":
            if value not in routes.CHOICES:
                raise _bad(source, key, value, f"one of {', '.join(routes.CHOICES)}")
            out[key] = value
        elif key == "models":
            out[key] = _models(source, value)
        elif key == "agents":
            out[key] = _agents(source, value)
        elif key in ("ttl", "margin"):
            seconds = _duration(source, key, value)
            if key == "ttl":
                ttl = seconds
            else:
                margin = seconds
            out[key] = value
        elif key == "token_mode":
            if value not in TOKEN_MODES:
                raise _bad(source, key, value, f"one of {', '.join(TOKEN_MODES)}")
            out[key] = value
        elif key == "mcp":
            out[key] = _mcp(source, value)
        elif key == "otel_tables":
            text = _str(source, key, value)
            if text != "none" and not _TABLES.match(text):
                raise _bad(source, key, value, 'must be CATALOG.SCHEMA.PREFIX (or "none")')
            out[key] = text
        elif key == "otel_spans":
            if value not in ("on", "off"):
                raise _bad(source, key, value, 'must be "on" or "off"')
            tables = data.get("otel_tables")
            if value == "on" and (not isinstance(tables, str) or tables == "none"):
                raise _bad(source, key, value, "needs otel_tables (the spans go beside them)")
            out[key] = value
        elif key == "mlflow_experiment":
            from ..tracing.mlflowenv import check_experiment

            text = _str(source, key, value)
            try:
                out[key] = check_experiment(text, "dbx-fmapi team validate")
            except UserError:
                raise _bad(
                    source, key, value, 'must be an absolute workspace path, /Users/... (or "none")'
                ) from None
        elif key == "prices":
            out[key] = _prices(source, value)
        elif key == "budget":
            out[key] = _budget(source, value)
        elif key == "locked":
            if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
                raise _bad(source, key, value, "must be a list of key names")
            for k in value:
                if k not in LOCKABLE:
                    raise _bad(
                        source, "locked", k, f"cannot be locked (lockable: {', '.join(LOCKABLE)})"
                    )
    locked = tuple(dict.fromkeys(data.get("locked") or ()))
    for k in locked:
        if k not in out:
            raise _bad(source, "locked", k, "is locked but the team file does not set it")
    return TeamFile(source, out, ttl, margin, host, locked)


def parse(raw: bytes, source: str) -> TeamFile:
    """Bytes of a team file -> TeamFile; invalid JSON names the line and column."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise UserError(
            f"team file {source} is not UTF-8 text", "save it as UTF-8 JSON", ExitCode.USAGE
        ) from None
    except json.JSONDecodeError as exc:
        raise UserError(
            f"team file {source} is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}",
            f"correct the JSON, then dbx-fmapi team validate {source}",
            ExitCode.USAGE,
        ) from None
    return check(data, source)
