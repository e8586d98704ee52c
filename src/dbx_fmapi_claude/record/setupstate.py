"""Reading what setup left behind in a configuration: configured models, the managed settings
file, the token mode, the shell's rc file. Shared by status, doctor, models and uninstall. Stdlib
only. (The shell block's state: shell/rcblock.py; the profiles: auth/databrickscfg.py.)"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# The model roles a configuration records (Claude Code's env key for each: settings.ROLE_ENV)
ROLES = ("model", "opus", "sonnet", "haiku", "fable", "subagent")


def configured_models(cfg: Mapping[str, Any]) -> dict[str, str]:
    """role -> endpoint name, for the roles setup recorded."""
    return {role: str(cfg[role]) for role in ROLES if cfg.get(role)}


def roles_by_model(cfg: Mapping[str, Any]) -> dict[str, list[str]]:
    """endpoint name -> the roles it fills, in a stable order."""
    out: dict[str, list[str]] = {}
    for role, name in configured_models(cfg).items():
        out.setdefault(name, []).append(role)
    return out


def managed_settings(cfg: Mapping[str, Any] | None) -> Path | None:
    if not cfg or not cfg.get("settings_file"):
        return None
    return Path(os.path.expanduser(str(cfg["settings_file"])))


def token_mode(cfg: Mapping[str, Any]) -> str:
    return "static" if cfg.get("token_mode") == "static" else "helper"


def rc_file(cfg: Mapping[str, Any] | None) -> Path | None:
    if not cfg or not cfg.get("rc_file"):
        return None
    return Path(os.path.expanduser(str(cfg["rc_file"])))
