"""Is setup's Codex config the one Codex uses? (doctor's `agent:codex:config`)

Codex reads `$CODEX_HOME/config.toml` (so a CODEX_HOME other than setup's means another file),
then lays an administrator's `/etc/codex/managed_config.toml` over it: a key there wins over
every user setting (codex-rs `config_loader`). Within the user's file, our top block's
`model_provider` is what makes plain `codex` use the workspace; a top-level `profile` picks a
profile whose own `model_provider` wins over it; and our provider table must still point at the
workspace with our token command.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from ...core.fileio import q, read_bytes
from ..base import SETUP_AGAIN, Finding
from . import configtoml

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MANAGED_ENV = "DBX_FMAPI_CODEX_MANAGED_CONFIG"  # moves the administrator's file (tests)
MANAGED = Path("/etc/codex/managed_config.toml")


def managed_path(env: Mapping[str, str]) -> Path:
    value = env.get(MANAGED_ENV)
    return Path(value) if value and os.path.isabs(value) else MANAGED


def _toml(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """(the parsed table, None), (None, why it is not TOML), or (None, None) on Python 3.10,
    which has no TOML reader."""
    try:
        tomllib: Any = __import__("tomllib")  # __import__: mypy checks for Python 3.10
    except ImportError:  # Python 3.10
        return None, None
    try:
        return tomllib.loads(text), None
    except tomllib.TOMLDecodeError as exc:
        return None, str(exc)


_STR_VALUE = re.compile(r"""[^=]*=\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')""")


def _top_strings(text: str) -> dict[str, str]:
    """Top-level `key = "string"` lines before the first table (what Python 3.10 can tell
    without a TOML reader)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.lstrip().startswith("["):
            break
        key = configtoml._top_key(line)
        m = _STR_VALUE.match(line)
        if key and m and not line.lstrip().startswith("#"):
            out[key] = m[1] if m[1] is not None else m[2]
    return out


def _edit(path: Path) -> str:
    return f'repair it, then re-run setup: "${{EDITOR:-vi}}" {q(path)}'


def findings(state: Mapping[str, Any], now: Path, env: Mapping[str, str]) -> list[Finding]:
    recorded = str(state.get("file") or "")
    if not recorded:
        return [Finding("setup recorded no Codex config file")]
    path = Path(recorded)
    if os.path.abspath(now) != os.path.abspath(path):
        where = f"CODEX_HOME={env['CODEX_HOME']}" if env.get("CODEX_HOME") else "without CODEX_HOME"
        return [
            Finding(
                f"Codex started here ({where}) reads {now}, but setup configured {path}",
                SETUP_AGAIN + "   (with CODEX_HOME as you run Codex, so it writes that file)",
            )
        ]
    raw = read_bytes(path)
    if raw is None:
        return [Finding(f"{path} is gone")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return [Finding(f"{path} is not UTF-8 text, so Codex cannot read it", _edit(path))]
    data, bad = _toml(text)
    if bad is not None:
        return [Finding(f"{path} is not valid TOML ({bad}); Codex refuses to start", _edit(path))]
    if not configtoml.has_ours(text):
        return [Finding(f"{path} no longer holds setup's Databricks provider")]
    provider = str(state.get("provider") or configtoml.PROVIDER_ID)
    out = _user_file(path, text, data, provider, state)
    return out + _managed(managed_path(env), provider)


def _user_file(
    path: Path, text: str, data: dict[str, Any] | None, provider: str, state: Mapping[str, Any]
) -> list[Finding]:
    top = data if data is not None else _top_strings(text)
    out: list[Finding] = []
    chosen = top.get("model_provider")
    if chosen != provider:
        said = f"model_provider = {configtoml.string(chosen)}" if chosen else "no model_provider"
        out.append(
            Finding(
                f"{path} has {said}, not setup's {configtoml.string(provider)}: plain `codex` "
                "does not use the workspace"
            )
        )
    profile = top.get("profile")
    if isinstance(profile, str) and data is not None:
        table = (data.get("profiles") or {}).get(profile)
        theirs = table.get("model_provider") if isinstance(table, dict) else None
        if theirs is not None and theirs != provider:
            out.append(
                Finding(
                    f"{path} sets profile = {configtoml.string(profile)}, whose model_provider "
                    f"{configtoml.string(str(theirs))} wins over setup's"
                )
            )
    if data is None:
        return out
    table = (data.get("model_providers") or {}).get(provider)
    if not isinstance(table, dict):
        out.append(Finding(f"{path} has no [model_providers.{provider}] table"))
        return out
    base = state.get("base_url")
    if base and table.get("base_url") != base:
        out.append(
            Finding(
                f"[model_providers.{provider}] base_url in {path} is "
                f"{configtoml.string(str(table.get('base_url')))}, not the workspace's {base}"
            )
        )
    auth = table.get("auth")
    command = auth.get("command") if isinstance(auth, dict) else None
    if not isinstance(command, str) or not command:
        out.append(Finding(f"[model_providers.{provider}.auth] in {path} has no token command"))
    elif not (os.path.isfile(command) and os.access(command, os.X_OK)):
        out.append(
            Finding(f"Codex's token command {command} (in {path}) is missing or not executable")
        )
    return out


def _managed(path: Path, provider: str) -> list[Finding]:
    """An administrator's managed config: its keys win over config.toml."""
    raw = read_bytes(path)
    if raw is None:
        return []
    admin = f"ask your administrator to remove it from {path} (it wins over your config.toml)"
    data, bad = _toml(raw.decode("utf-8", "replace"))
    if bad is not None:
        return [
            Finding(
                f"{path} (an administrator's) is not valid TOML ({bad}); Codex refuses to start",
                f"ask your administrator to repair {path}",
            )
        ]
    text = raw.decode("utf-8", "replace")
    top = data if data is not None else _top_strings(text)
    out: list[Finding] = []
    for key in ("model_provider", "profile"):
        value = top.get(key)
        if value is not None and not (key == "model_provider" and value == provider):
            shown = configtoml.string(str(value))
            out.append(
                Finding(f"{path} (an administrator's) sets {key} = {shown}", f"{key}: {admin}")
            )
    if isinstance(top.get("model"), str):
        out.append(
            Finding(
                f"{path} (an administrator's) sets model = {configtoml.string(top['model'])}, "
                "which Codex uses instead of setup's",
                f"model: {admin}",
                warn=True,
            )
        )
    theirs = ((data or {}).get("model_providers") or {}).get(provider)
    if theirs is not None:
        out.append(
            Finding(
                f"{path} (an administrator's) changes [model_providers.{provider}]",
                f"[model_providers.{provider}]: {admin}",
            )
        )
    return out
