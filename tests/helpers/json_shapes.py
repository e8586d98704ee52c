"""The documented --json shapes (docs/json.md), written out by hand, and a small checker.

A shape is: a Python type (str, int, bool; int never accepts a bool), `None` (JSON null),
`Nullable(shape)`, `OneOf(*values)` (an enum), `ListOf(shape)`, `MapOf(shape)` (an object with
any keys), or a dict {key: shape} (an object with exactly these keys; `Opt(key)` marks an
optional one). `check(value, shape)` returns the list of mismatches, empty when it fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Nullable:
    shape: Any


@dataclass(frozen=True)
class OneOf:
    values: tuple[Any, ...]

    def __init__(self, *values: Any) -> None:
        object.__setattr__(self, "values", values)


@dataclass(frozen=True)
class ListOf:
    shape: Any


@dataclass(frozen=True)
class MapOf:
    shape: Any


@dataclass(frozen=True)
class Opt:
    key: str


def check(value: Any, shape: Any, where: str = "$") -> list[str]:
    if isinstance(shape, Nullable):
        return [] if value is None else check(value, shape.shape, where)
    if shape is None:
        return [] if value is None else [f"{where}: expected null, got {value!r}"]
    if isinstance(shape, OneOf):
        return [] if value in shape.values else [f"{where}: {value!r} not in {shape.values}"]
    if isinstance(shape, ListOf):
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {type(value).__name__}"]
        out: list[str] = []
        for i, item in enumerate(value):
            out += check(item, shape.shape, f"{where}[{i}]")
        return out
    if isinstance(shape, MapOf):
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {type(value).__name__}"]
        out = []
        for k, v in value.items():
            out += check(v, shape.shape, f"{where}.{k}")
        return out
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {type(value).__name__}"]
        out = []
        required = {k for k in shape if not isinstance(k, Opt)}
        known = {k.key if isinstance(k, Opt) else k: s for k, s in shape.items()}
        for k in required - set(value):
            out.append(f"{where}: missing key {k!r}")
        for k in set(value) - set(known):
            out.append(f"{where}: undocumented key {k!r}")
        for k, v in value.items():
            if k in known:
                out += check(v, known[k], f"{where}.{k}")
        return out
    if shape is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{where}: expected an integer, got {value!r}"]
    if isinstance(shape, type):
        ok = isinstance(value, shape)
        return [] if ok else [f"{where}: expected {shape.__name__}, got {value!r}"]
    raise TypeError(f"bad shape at {where}: {shape!r}")


def assert_shape(value: Any, shape: Any) -> None:
    problems = check(value, shape)
    assert not problems, "JSON does not match its documented shape:\n" + "\n".join(problems)


ISO_OR_NULL = Nullable(str)
STATUS = OneOf("PASS", "WARN", "FAIL", "SKIP")
ENDPOINT_STATE = OneOf("READY", "NOT_READY", "UNKNOWN")

# `dbx-fmapi status --json`
STATUS_NOT_SET_UP = {
    "version": OneOf(4),
    "configured": OneOf(False),
    Opt("elsewhere"): ListOf({"settings_file": str, "workspace": str, "profile": Nullable(str)}),
}
STATUS_SHAPE = {
    "version": OneOf(4),
    "configured": OneOf(True),
    "workspace": str,
    "profile": str,
    "credential": OneOf("oauth", "m2m", "pat"),
    Opt("team"): str,
    "models": {
        Opt("model"): str,
        Opt("opus"): str,
        Opt("sonnet"): str,
        Opt("haiku"): str,
        Opt("fable"): str,
        Opt("subagent"): str,
    },
    "route": {
        "name": OneOf("ai-gateway", "serving-endpoints"),
        "base_url": str,
        "auto": bool,
    },
    "token_mode": OneOf("helper", "static"),
    "ttl_seconds": Nullable(int),
    "settings_file": Nullable(str),
    "settings_files": ListOf(
        {
            "level": OneOf("user", "project", "local", "admin"),
            "path": str,
            "exists": bool,
            "valid": bool,
            "managed": bool,
            "keys": ListOf(str),
            Opt("overridden_by"): MapOf(OneOf("user", "project", "local", "admin")),
        }
    ),
    "shell": {
        "name": OneOf("zsh", "bash", "fish", "none"),
        "rc_file": Nullable(str),
        "block": bool,
    },
    "token": {
        "state": OneOf(
            "valid",
            "expiring",
            "expired",
            "unknown",
            "missing",
            "login_needed",
            "error",
            "rejected",
        ),
        "source": Nullable(OneOf("record", "settings", "cli", "workspace", "credential")),
        "expires_at": ISO_OR_NULL,
        "seconds_left": Nullable(int),
        "checked": bool,
        "workspace": Nullable(OneOf("accepted", "replaced", "rejected", "unknown")),
        "message": Nullable(str),
        "fix": Nullable(str),
    },
    Opt("elsewhere"): ListOf({"settings_file": str, "workspace": str, "profile": Nullable(str)}),
    Opt("agents"): ListOf(
        {
            "name": OneOf("codex", "gemini", "opencode"),
            "label": str,
            "file": Nullable(str),
            "model": Nullable(str),
            "route": Nullable(OneOf("ai-gateway", "serving-endpoints")),
            "base_url": Nullable(str),
            "tokens": str,
            "launch": str,
            "problem": Nullable(str),
        }
    ),
    Opt("mlflow"): {"experiment": str, "version": str, "installed": bool},
}

# `dbx-fmapi doctor --json`
DOCTOR_SHAPE = {
    "version": OneOf(1),
    "ok": bool,
    "summary": {"pass": int, "warn": int, "fail": int, "skip": int},
    "checks": ListOf(
        {"id": str, "title": str, "status": STATUS, "detail": str, "fix": Nullable(str)}
    ),
}

# `dbx-fmapi models --json`
ROLES = ("model", "opus", "sonnet", "haiku", "fable", "subagent", "codex", "gemini", "opencode")
MODELS_SHAPE = {
    "version": OneOf(3),
    "workspace": str,
    "endpoints": ListOf(
        {
            "name": str,
            "state": ENDPOINT_STATE,
            "ready": bool,
            "family": Nullable(OneOf("opus", "sonnet", "haiku", "fable", "gpt", "gemini")),
            "kind": OneOf("foundation", "external", "other"),
            "configured_as": ListOf(OneOf(*ROLES)),
            "retires": ISO_OR_NULL,
        }
    ),
    "configured": ListOf(
        {
            "role": OneOf(*ROLES),
            "name": str,
            "state": OneOf("READY", "NOT_READY", "UNKNOWN", "MISSING"),
        }
    ),
    "valid": bool,
}

# `dbx-fmapi usage --json`
_COUNTS = {
    "requests": int,
    "input_tokens": int,
    "output_tokens": int,
    "cache_read_tokens": int,
    "cache_write_tokens": int,
    "cost_usd": Nullable(float),
}
_READ_OK = {"rows": ListOf(MapOf(Nullable(str)))}
_READ_FAILED = {"error": str, "grant": Nullable(str)}
USAGE_SHAPE = {
    "version": OneOf(1),
    "since": str,
    "by": OneOf("model", "agent", "day", "session"),
    "currency": Nullable(OneOf("USD")),
    "prices": Nullable(str),
    "rows": ListOf(
        {
            "model": Nullable(str),
            "agent": Nullable(OneOf("claude", "codex", "gemini", "opencode")),
            Opt("day"): str,
            Opt("session"): str,
            **_COUNTS,
        }
    ),
    "total": _COUNTS,
    Opt("unpriced_models"): ListOf(str),
    Opt("workspace"): {
        "host": str,
        "user": str,
        "warehouse": {"id": str, "name": str},
        "serving": MapOf(object),
        "gateway": MapOf(object),
        "billing": MapOf(object),
    },
}


def usage_reads_ok(workspace: dict[str, Any]) -> list[str]:
    """Each of --workspace's reads is one of its two documented shapes."""
    out: list[str] = []
    for name in ("serving", "gateway", "billing"):
        read = workspace[name]
        shape = _READ_FAILED if "error" in read else _READ_OK
        out += check(read, shape, f"$.workspace.{name}")
    return out
