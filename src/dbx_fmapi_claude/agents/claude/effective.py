"""The Claude Code configuration that is actually in effect, across every settings level.

Claude Code merges, per key, highest first: managed settings (an administrator's, which nobody
else can override) > `<project>/.claude/settings.local.json` > `<project>/.claude/settings.json` >
`~/.claude/settings.json` > the process environment (see ../shared/notes/claude-code.md).
Managed settings live in `/etc/claude-code/` on Linux and `/Library/Application
Support/ClaudeCode/` on macOS: `managed-settings.json`, then each `managed-settings.d/*.json` in
name order (a later file's key wins). DBX_FMAPI_MANAGED_SETTINGS_DIR moves that folder (tests).
A key of ours that a higher level overrides, or a conflicting credential anywhere, is what
`doctor` reports. Stdlib only; never returns the value of a secret for display (see `shown`).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ...core import redact
from ...core.errors import UserError
from ...core.fileio import read_bytes
from ...core.paths import Paths, same_file
from . import settings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ENVIRONMENT = "environment"
ADMIN = "admin"  # managed settings: an administrator's
LEVEL_ORDER = ("user", "project", "local", ADMIN)  # lowest precedence first (after the env)
MANAGED_DIR_ENV = "DBX_FMAPI_MANAGED_SETTINGS_DIR"
MANAGED_DIRS = {
    "darwin": Path("/Library/Application Support/ClaudeCode"),
    "linux": Path("/etc/claude-code"),
}


@dataclass
class Level:
    name: str  # "user", "project", "local" or ADMIN
    path: Path
    exists: bool = False
    data: dict[str, Any] | None = None  # parsed, None when absent or unreadable
    error: str | None = None  # why it could not be read
    managed: bool = False  # the file setup manages

    @property
    def label(self) -> str:
        return _label(self.name, self.path)


def _label(name: str, path: Path | None) -> str:
    if name == ADMIN:
        return f"managed settings, an administrator's ({path})"
    return f"{name} settings ({path})"


@dataclass(frozen=True)
class Origin:
    """Where a key's value comes from: a settings level or the process environment."""

    key: str
    value: Any
    source: str  # a level name or ENVIRONMENT
    path: Path | None = None

    @property
    def label(self) -> str:
        if self.source == ENVIRONMENT:
            return "your shell environment"
        return _label(self.source, self.path)

    @property
    def secret(self) -> bool:
        return redact.is_secret_name(self.key)

    @property
    def shown(self) -> str:
        """The value as we may print it: secrets are never shown."""
        if redact.is_secret_name(self.key):
            return "(a secret, not shown)"
        return str(self.value)

    def remove_fix(self) -> str:
        if self.source == ENVIRONMENT:
            return f"unset {self.key}  (and remove it from your shell profile)"
        if self.source == ADMIN:
            return (
                f"ask your administrator: {self.path} sets {self.key} for everyone on this "
                "machine, and nothing you or setup write can override it"
            )
        where = '"env"' if self.key != settings.HELPER_KEY else "the top level"
        return (
            f'"${{EDITOR:-vi}}" {shlex.quote(str(self.path))}  # delete "{self.key}" from {where}'
        )


@dataclass
class Effective:
    levels: list[Level]
    env: dict[str, Origin] = field(default_factory=dict)  # env key -> winning origin
    helper: Origin | None = None  # winning apiKeyHelper
    shadowed: dict[str, list[Origin]] = field(default_factory=dict)  # key -> losing origins

    def origin(self, key: str) -> Origin | None:
        if key == settings.HELPER_KEY:
            return self.helper
        return self.env.get(key)


def project_dir(paths: Paths, managed: Path | None, cwd: Path) -> Path:
    """The project whose settings matter: the one holding the managed file, or (when setup
    manages the user-level file) the folder we run in."""
    if managed is None or same_file(managed, paths.user_settings):
        return cwd
    return managed.parent.parent


def managed_dir(environ: Mapping[str, str]) -> Path:
    """Where an administrator's managed settings live on this machine."""
    if environ.get(MANAGED_DIR_ENV):
        return Path(environ[MANAGED_DIR_ENV])
    return MANAGED_DIRS.get(sys.platform, MANAGED_DIRS["linux"])


def admin_levels(environ: Mapping[str, str]) -> list[Level]:
    """The managed-settings files that exist, lowest precedence first."""
    folder = managed_dir(environ)
    files = [folder / "managed-settings.json"]
    with contextlib.suppress(OSError):  # no drop-in folder
        files += sorted(
            p for p in (folder / "managed-settings.d").iterdir() if p.name.endswith(".json")
        )
    out = []
    for path in files:
        level = Level(ADMIN, path)
        _read_into(level)
        if level.exists:
            out.append(level)
    return out


def _read_into(level: Level) -> None:
    try:
        raw = read_bytes(level.path)
    except UserError as exc:
        level.exists, level.error = True, exc.message
        return
    if raw is not None:
        level.exists = True
        try:
            level.data = settings.parse(raw, level.path)
        except settings.SettingsCorrupt as exc:
            level.error = exc.why


def load_levels(
    paths: Paths, project: Path, managed: Path | None, environ: Mapping[str, str] | None = None
) -> list[Level]:
    """The levels, lowest precedence first: user, project, local, then (given `environ`) the
    managed settings. The project level is left out when it is the user file itself (running in
    the home folder)."""
    candidates = [
        Level("user", paths.user_settings),
        Level("project", project / ".claude" / "settings.json"),
        Level("local", project / ".claude" / "settings.local.json"),
    ]
    out: list[Level] = []
    for level in candidates:
        if any(same_file(level.path, seen.path) for seen in out):
            continue
        level.managed = managed is not None and same_file(level.path, managed)
        _read_into(level)
        out.append(level)
    if managed is not None and not any(level.managed for level in out):
        # Setup manages a file outside this project (a folder given to --settings-location):
        # show it anyway, as a level of its own kind.
        extra = Level("local" if managed.name == "settings.local.json" else "project", managed)
        extra.managed = True
        _read_into(extra)
        out.append(extra)
    if environ is not None:
        out += admin_levels(environ)
    return out


def resolve(levels: list[Level], environ: Mapping[str, str], keys: list[str]) -> Effective:
    """Per key, the winning value and the values it shadows. `keys` are the env names to follow
    from the process environment (settings env keys are always followed)."""
    eff = Effective(levels=levels)
    chain: dict[str, list[Origin]] = {}
    for key in keys:
        if environ.get(key):
            chain.setdefault(key, []).append(Origin(key, environ[key], ENVIRONMENT))
    helper_chain: list[Origin] = []
    for level in levels:
        if level.data is None:
            continue
        env = level.data.get("env") or {}
        for key, value in env.items():
            chain.setdefault(key, []).append(Origin(key, value, level.name, level.path))
        if settings.HELPER_KEY in level.data:
            helper_chain.append(
                Origin(settings.HELPER_KEY, level.data[settings.HELPER_KEY], level.name, level.path)
            )
    for key, origins in chain.items():
        eff.env[key] = origins[-1]
        if len(origins) > 1:
            eff.shadowed[key] = origins[:-1]
    if helper_chain:
        eff.helper = helper_chain[-1]
        if len(helper_chain) > 1:
            eff.shadowed[settings.HELPER_KEY] = helper_chain[:-1]
    return eff


def helper_argv(command: str) -> list[str]:
    """The words of an apiKeyHelper command (as /bin/sh would split a simple command)."""
    try:
        return shlex.split(command)
    except ValueError:
        return command.split()


def is_our_helper(command: Any, recorded: Any = None) -> bool:
    """Is this apiKeyHelper ours? The one answer for setup, uninstall and doctor: the command
    setup recorded (`recorded`, from config.json), or any command that runs `dbx-fmapi token`
    (another install path, an earlier run)."""
    if not isinstance(command, str):
        return False
    if isinstance(recorded, str) and command == recorded:
        return True
    words = helper_argv(command)
    return bool(words) and os.path.basename(words[0]) == "dbx-fmapi" and "token" in words[1:]


def helper_profile(command: str) -> str | None:
    words = helper_argv(command)
    for i, word in enumerate(words):
        if word == "--profile" and i + 1 < len(words):
            return words[i + 1]
        if word.startswith("--profile="):
            return word.split("=", 1)[1]
    return None
