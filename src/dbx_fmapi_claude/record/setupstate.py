"""Reading what setup left behind: configured models, the managed settings file, the shell block,
the Databricks CLI profile. Shared by status, doctor, models and uninstall. Stdlib only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..agents.claude import settings
from ..auth import databrickscfg
from ..core.errors import UserError
from ..core.fileio import read_bytes
from ..core.paths import Paths
from ..shell import rcblock

# role in config.json -> the settings env key that carries it
ROLES = {
    "model": settings.ENV_MODEL,
    "opus": settings.ENV_OPUS,
    "sonnet": settings.ENV_SONNET,
    "haiku": settings.ENV_HAIKU,
    "fable": settings.ENV_FABLE,  # only when the workspace has a fable model
    "subagent": settings.ENV_SUBAGENT,  # only when setup was given one
}


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


def block_state(path: Path) -> str:
    """ "present", "absent", "missing-file", "half" (one marker only) or "unreadable"."""
    try:
        raw = read_bytes(path)
    except UserError:
        return "unreadable"
    if raw is None:
        return "missing-file"
    try:
        return "present" if rcblock.has_block(raw.decode("utf-8", "surrogateescape")) else "absent"
    except rcblock.HalfBlock:
        return "half"


def databrickscfg_path(paths: Paths, env: Mapping[str, str]) -> Path:
    return Path(databrickscfg.path(str(paths.home), env))


def read_profiles(paths: Paths, env: Mapping[str, str]) -> dict[str, dict[str, str]] | None:
    """Profiles in ~/.databrickscfg (section -> options), read as the Databricks CLI reads them;
    None when the file does not exist. A file the CLI cannot read either raises UserError."""
    path = databrickscfg_path(paths, env)
    raw = read_bytes(path)
    if raw is None:
        return None
    try:
        sections = databrickscfg.parse(raw.decode("utf-8", "replace"))
    except databrickscfg.ParseError as exc:
        raise UserError(f"{path} cannot be read: {exc}", f'"${{EDITOR:-vi}}" {path}') from None
    return databrickscfg.profiles(sections)
