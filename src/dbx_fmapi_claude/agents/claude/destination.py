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


def _value(path: str) -> str | None:
    """The settings file's env ANTHROPIC_BASE_URL (None: the file, or the key, is not there).
    A file read past its comments counts as read: a refusal too many beats a token sent to
    the wrong place."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    try:
        data = settings.parse(raw, path)
    except settings.SettingsCorrupt as exc:
        data = exc.salvage if exc.relaxed and isinstance(exc.salvage, dict) else {}
    env = data.get("env")
    value = env.get(KEY) if isinstance(env, dict) else None
    return value if isinstance(value, str) and value else None


def base_url(home: str, cwd: str, environ: Mapping[str, str]) -> str | None:
    """The base URL Claude Code started in `cwd` uses; None when no level sets one."""
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
    for path in (
        *managed,
        os.path.join(project, "settings.local.json"),
        os.path.join(project, "settings.json"),
        os.path.join(home, ".claude", "settings.json"),
    ):
        value = _value(path)
        if value is not None:
            return value
    return environ.get(KEY) or None


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
