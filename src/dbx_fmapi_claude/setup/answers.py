"""Setup's answers: the flags checked, the defaults (previous run, then built-in), and the
small text helpers its messages share."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..auth.profilechoice import PROFILE_RE
from ..auth.source import BY_NAME
from ..changes import engine
from ..core.errors import usage_error
from ..core.fileio import q
from ..record import config
from ..workspace import routes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PROG = "setup-fmapi-claudecode"
MODEL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}(\[1m\])?")  # [1m]: the 1M variant
NONE = "none"  # --fable none, --subagent-model none: write no such model
OTHER = "\x00other"
HELPER = "helper"
STATIC = "static"
_STATUS_COLOURS = (("ok", "green"), ("FAIL", "red"), ("note", "yellow"))
ENV_VARS = {name: kind.env_vars for name, kind in BY_NAME.items()}  # the variables holding each
MAX_NEED_SECONDS = 55 * 60  # OAuth access tokens live about an hour
TOKEN_PLACEHOLDER = "<the token from databricks auth token>"  # noqa: S105 - dry-run text


# --- small helpers ---------------------------------------------------------------------------


def span(seconds: float) -> str:
    s = max(int(seconds), 0)
    if s < 90:
        return f"{s}s"
    if s < 5400:
        return f"{round(s / 60)}m"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def duration_text(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


# --- answers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answers:
    """Every answer setup writes: the flags', then the steps' (setup/flow.py assembles them
    from the steps' results)."""

    host: str = ""
    profile: str = ""
    model: str = ""
    opus: str = ""
    sonnet: str = ""
    haiku: str = ""
    fable: str = ""  # "" = none
    subagent: str = ""  # "" = subagents use the main model
    route: str = routes.SERVING_NAME
    route_auto: bool = True
    location: str = "home"
    token_mode: str = HELPER
    ttl_seconds: int = config.DEFAULT_TTL_SECONDS
    margin_seconds: int = config.DEFAULT_MARGIN_SECONDS
    shell: str = "none"
    otel_tables: str | None = None  # --otel-tables, checked: CATALOG.SCHEMA.PREFIX or "none"
    otel_spans: str | None = None  # --otel-spans, checked: "on" or "off"


def check_spans(value: str, tables_flag: str | None, prev: Mapping[str, Any]) -> str:
    """`--otel-spans on|off`; on needs tables, given now or kept from the last run."""
    from ..telemetry import tables

    spans = tables.check_spans(value)
    prefix = tables.prefix_of({"otel_tables": tables_flag}) if tables_flag else None
    if spans == "on" and prefix is None and (tables_flag or tables.prefix_of(prev) is None):
        raise usage_error(
            "--otel-spans on needs --otel-tables: the spans go to PREFIX_otel_spans, beside "
            "the metrics and logs",
            f"{PROG} --otel-tables {tables.EXAMPLE} --otel-spans on",
        )
    return spans


def check_profile(value: str) -> str:
    value = value.strip()
    if not PROFILE_RE.fullmatch(value):
        raise usage_error(
            f"invalid profile name {value!r} (letters, digits and . _ - @ + only)",
            f"{PROG} --profile my-workspace",
        )
    return value


def check_model(value: str, flag: str = "--model") -> str:
    value = value.strip()
    if not MODEL_RE.fullmatch(value):
        raise usage_error(
            f"invalid model endpoint name {value!r} (letters, digits and . _ - only)",
            f"list the workspace's models with: dbx-fmapi models   (then {PROG} {flag} NAME)",
        )
    return value


def check_location(value: str, cwd: Path) -> str:
    """`home`, `cwd`, or an existing folder (returned absolute)."""
    text = value.strip()
    if text in ("home", "cwd"):
        return text
    if not text:
        raise usage_error("the settings location is empty", f"{PROG} --settings-location home")
    folder = Path(os.path.expanduser(text))
    if not folder.is_absolute():
        folder = cwd / folder
    folder = Path(os.path.normpath(folder))
    if folder.exists() and not folder.is_dir():
        raise usage_error(
            f"settings location {folder} is a file, not a folder",
            f"pass the folder that should hold .claude/: {PROG} --settings-location "
            f"{q(folder.parent)}",
        )
    if not folder.is_dir():
        raise usage_error(
            f"settings location {folder} does not exist",
            f"create it first: mkdir -p {q(folder)}",
        )
    return str(folder)


def check_duration(value: str, flag: str) -> int:
    try:
        return config.parse_duration(value)
    except ValueError as exc:
        raise usage_error(f"{flag} {value!r}: {exc}", f"{PROG} {flag} 15m") from None


def default_shell(env: Mapping[str, str]) -> str:
    name = os.path.basename(env.get("SHELL", "")).strip()
    if name in ("zsh", "bash", "fish"):
        return name
    from .install import platform  # install's subprocess only when no --shell is given

    return "zsh" if platform(env) == "darwin" else "bash"


def default_location(prev: Mapping[str, Any], cwd: Path) -> str:
    loc = prev.get("settings_location")
    if not isinstance(loc, str) or not loc:
        return "home"
    if loc == "cwd":
        folder = Path(str(prev.get("settings_file") or "")).parent.parent
        if not prev.get("settings_file") or folder == cwd:
            return "cwd"
        return str(folder) if folder.is_dir() else "cwd"
    if loc != "home" and not os.path.isdir(loc):
        return "home"
    return loc


def find_installed(name: str, env: Mapping[str, str], home: Path) -> str | None:
    """Absolute path of our executable `name`: next to this Python, next to argv[0], or on
    PATH; the ~/.local/bin link instead when it points at the same file (a stable path)."""
    candidates = [Path(sys.executable).parent / name]
    if sys.argv and os.sep in sys.argv[0]:
        candidates.append(Path(os.path.abspath(sys.argv[0])).parent / name)
    import shutil

    on_path = shutil.which(name, path=env.get("PATH"))
    if on_path:
        candidates.append(Path(os.path.abspath(on_path)))
    found = next((c for c in candidates if c.is_file() and os.access(c, os.X_OK)), None)
    if found is None:
        # The bootstrap's --dry-run, before anything is installed: where it would link them.
        planned = env.get("DBX_FMAPI_PLANNED_BIN")
        return str(Path(planned) / name) if planned else None
    local = home / ".local" / "bin" / name
    with contextlib.suppress(OSError):
        if local.exists() and os.path.samefile(local, found):
            return str(local)
    return str(found)


# --- the plan: new bytes for every file ------------------------------------------------------


Change = engine.Change
