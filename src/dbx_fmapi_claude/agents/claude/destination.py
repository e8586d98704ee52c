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
OTEL_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
_OTEL_SIGNAL_ENDPOINTS = tuple(
    f"OTEL_EXPORTER_OTLP_{s}_ENDPOINT" for s in ("METRICS", "LOGS", "TRACES")
)
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


class Levels:
    """The settings levels Claude Code started in `cwd` reads, each file read at most once and
    only when asked: the wrapper asks them where requests go, then whether telemetry may go
    through the relay, on one launch."""

    __slots__ = ("_read", "environ", "managed", "others")

    def __init__(self, home: str, cwd: str, environ: Mapping[str, str]) -> None:
        self.managed, self.others = _levels(home, cwd, environ)
        self.environ = environ
        self._read: dict[str, dict[str, object]] = {}

    def data(self, path: str) -> dict[str, object]:
        """A level's keys ({} when it is not there)."""
        found = self._read.get(path)
        if found is None:
            found = self._read[path] = _settings(path)
        return found

    def base_url(self) -> str | None:
        """The base URL Claude Code uses; None when no level sets one."""
        for path in (*self.managed, *self.others):
            value = _env_value(self.data(path), KEY)
            if value is not None:
                return value
        return self.environ.get(KEY) or None

    def otel_relayable(self, endpoint: str) -> bool:
        """May the wrapper's relay take Claude Code's OTLP exports (its `--settings` pointing the
        endpoint and the otelHeadersHelper at the relay)? Only when the endpoint that wins is the
        workspace's `endpoint` (setup's), no per-signal endpoint would send a signal elsewhere,
        and no managed settings set the endpoint or the helper: theirs win over `--settings`
        (measured with 2.1.332), and a managed endpoint would get the relay's key."""
        found: str | None = None
        for path in self.managed:
            data = self.data(path)
            if "otelHeadersHelper" in data or _env_value(data, OTEL_ENDPOINT) is not None:
                return False
            if any(_env_value(data, k) is not None for k in _OTEL_SIGNAL_ENDPOINTS):
                return False
        for path in self.others:
            data = self.data(path)
            if any(_env_value(data, k) is not None for k in _OTEL_SIGNAL_ENDPOINTS):
                return False
            if found is None:
                found = _env_value(data, OTEL_ENDPOINT)
        if any(self.environ.get(k) for k in _OTEL_SIGNAL_ENDPOINTS):
            return False
        found = found or self.environ.get(OTEL_ENDPOINT)
        return found is not None and found.rstrip("/") == endpoint.rstrip("/")

    def refusal(self, host: str) -> UserError | None:
        """Why a token for the workspace `host` must not go to Claude Code: its settings send
        requests elsewhere (a project file, a managed one, a stray variable). None when they go
        to the workspace, or nowhere is set."""
        base = self.base_url()
        if base is None or origin(base) == origin(host):
            return None
        return UserError(
            f"Claude Code would send this Databricks token to {origin(base)} (ANTHROPIC_BASE_URL), "
            f"not to the workspace {origin(host)}; no token given",
            "dbx-fmapi doctor   (names the settings file or variable that sets it)",
        )


def origin(url: str) -> str:
    """`scheme://host[:port]` of a URL, lower-cased (no urllib: the helper's budget)."""
    scheme, sep, rest = url.strip().partition("://")
    return f"{scheme}{sep}{rest.split('/', 1)[0]}".lower().rstrip(".")


def refusal(home: str, cwd: str, environ: Mapping[str, str], host: str) -> UserError | None:
    """Levels.refusal for Claude Code started in `cwd` (the token helper's one question)."""
    return Levels(home, cwd, environ).refusal(host)
