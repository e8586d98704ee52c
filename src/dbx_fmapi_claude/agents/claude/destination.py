"""Where Claude Code, started in a folder, sends its requests: the ANTHROPIC_BASE_URL that wins
across the settings levels (managed > local > project > user > the environment; see
effective.py, which doctor uses to explain every level). The token helper asks it before it
hands out a token, so this is its hot path: os and jsonread only, no pathlib, a handful of
small file reads, and nothing at all when Claude Code is not the caller."""

from __future__ import annotations

import os
import sys

from ...core.errors import UserError
from . import settings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

KEY = "ANTHROPIC_BASE_URL"
_MANAGED = {"darwin": "/Library/Application Support/ClaudeCode", "linux": "/etc/claude-code"}


def _settings(path: str) -> dict[str, object]:
    """A settings file's keys ({} when it is not there). A file read past its comments counts
    as read: a refusal too many beats a token sent to the wrong place."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError:
        return {}
    try:
        return settings.parse(raw, path)
    except settings.SettingsCorrupt as exc:
        return exc.salvage if exc.relaxed and isinstance(exc.salvage, dict) else {}


def _env_value(data: Mapping[str, object], key: str) -> str | None:
    env = data.get("env")
    value = env.get(key) if isinstance(env, dict) else None
    return value if isinstance(value, str) and value else None


def _value(path: str) -> str | None:
    """The settings file's env ANTHROPIC_BASE_URL (None: the file, or the key, is not there)."""
    return _env_value(_settings(path), KEY)


def _levels(home: str, cwd: str, environ: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(managed settings files, the others), each highest first."""
    folder = environ.get("DBX_FMAPI_MANAGED_SETTINGS_DIR") or _MANAGED.get(
        sys.platform, _MANAGED["linux"]
    )
    drop_ins = os.path.join(folder, "managed-settings.d")
    try:
        names = sorted(n for n in os.listdir(drop_ins) if n.endswith(".json"))
    except OSError:
        names = []
    managed = [os.path.join(drop_ins, n) for n in reversed(names)]  # the last one wins
    managed.append(os.path.join(folder, "managed-settings.json"))
    project = os.path.join(cwd, ".claude")
    return managed, [
        os.path.join(project, "settings.local.json"),
        os.path.join(project, "settings.json"),
        os.path.join(home, ".claude", "settings.json"),
    ]


def base_url(home: str, cwd: str, environ: Mapping[str, str]) -> str | None:
    """The base URL Claude Code started in `cwd` uses; None when no level sets one."""
    managed, others = _levels(home, cwd, environ)
    for path in (*managed, *others):
        value = _value(path)
        if value is not None:
            return value
    return environ.get(KEY) or None


OTEL_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
_OTEL_SIGNAL_ENDPOINTS = tuple(
    f"OTEL_EXPORTER_OTLP_{s}_ENDPOINT" for s in ("METRICS", "LOGS", "TRACES")
)


def otel_relayable(home: str, cwd: str, environ: Mapping[str, str], endpoint: str) -> bool:
    """May the wrapper's relay take Claude Code's OTLP exports (its `--settings` pointing the
    endpoint and the otelHeadersHelper at the relay)? Only when the endpoint that wins is the
    workspace's `endpoint` (setup's), no per-signal endpoint would send a signal elsewhere,
    and no managed settings set the endpoint or the helper: theirs win over `--settings`
    (measured with 2.1.332), and a managed endpoint would get the relay's key."""
    managed, others = _levels(home, cwd, environ)
    found: str | None = None
    for path in managed:
        data = _settings(path)
        if "otelHeadersHelper" in data or _env_value(data, OTEL_ENDPOINT) is not None:
            return False
        if any(_env_value(data, k) is not None for k in _OTEL_SIGNAL_ENDPOINTS):
            return False
    for path in others:
        data = _settings(path)
        if any(_env_value(data, k) is not None for k in _OTEL_SIGNAL_ENDPOINTS):
            return False
        if found is None:
            found = _env_value(data, OTEL_ENDPOINT)
    if any(environ.get(k) for k in _OTEL_SIGNAL_ENDPOINTS):
        return False
    found = found or environ.get(OTEL_ENDPOINT)
    return found is not None and found.rstrip("/") == endpoint.rstrip("/")


def origin(url: str) -> str:
    """`scheme://host[:port]` of a URL, lower-cased (no urllib: the helper's budget)."""
    scheme, sep, rest = url.strip().partition("://")
    return f"{scheme}{sep}{rest.split('/', 1)[0]}".lower().rstrip(".")


def refusal(home: str, cwd: str, environ: Mapping[str, str], host: str) -> UserError | None:
    """Why a token for the workspace `host` must not go to Claude Code started in `cwd`: its
    settings send requests elsewhere (a project file, a managed one, a stray variable). None
    when they go to the workspace, or nowhere is set."""
    base = base_url(home, cwd, environ)
    if base is None or origin(base) == origin(host):
        return None
    return UserError(
        f"Claude Code would send this Databricks token to {origin(base)} (ANTHROPIC_BASE_URL), "
        f"not to the workspace {origin(host)}; no token given",
        "dbx-fmapi doctor   (names the settings file or variable that sets it)",
    )
