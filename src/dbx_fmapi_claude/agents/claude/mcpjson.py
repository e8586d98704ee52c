"""Claude Code's MCP servers in ~/.claude.json: pure transforms on the file's bytes.

A configuration for the home folder gives its servers to every folder: the top-level
`mcpServers` (Claude Code's "user" scope). A configuration for a project folder gives them to
that folder only, and to this user only: `projects[<folder>].mcpServers` ("local" scope), never
the folder's shared `.mcp.json`, which would put a command into the repository that runs on
every teammate's machine once trusted.

Each server is `{"type": "http", "url", "headersHelper"}`: Claude Code runs the helper (ours:
`dbx-fmapi token … --mcp-headers`, which prints `{"Authorization": "Bearer …"}`) on every
connection and again when a call gets a 401/403, so no token is ever written to the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from ...core.errors import UserError
from ..mcpfiles import HEADERS_FLAG

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MARK = HEADERS_FLAG  # a headersHelper holding this and our token command is ours


class NotJson(UserError):
    def __init__(self, path: str) -> None:
        super().__init__(
            f"{path} is not a JSON object (Claude Code's own file); nothing was changed",
            f"start claude once so it rewrites the file, or repair it: python3 -m json.tool {path}",
        )


def scope_folder(cfg: Mapping[str, Any], home: str) -> str | None:
    """None for the home configuration (user scope), else the project folder (local scope)."""
    settings_file = str(cfg.get("settings_file") or "")
    folder = os.path.dirname(os.path.dirname(os.path.expanduser(settings_file)))
    if not settings_file or os.path.normpath(folder) == os.path.normpath(home):
        return None
    return os.path.abspath(folder)


def member(url: str, helper: str) -> dict[str, Any]:
    return {"type": "http", "url": url, "headersHelper": helper}


def is_ours(value: Any) -> bool:
    helper = value.get("headersHelper") if isinstance(value, dict) else None
    return isinstance(helper, str) and helper.endswith(" " + MARK) and " token" in helper


def load(raw: bytes | None, path: str) -> dict[str, Any]:
    if raw is None or not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise NotJson(path) from None
    if not isinstance(data, dict):
        raise NotJson(path)
    return data


def dump(data: dict[str, Any], raw: bytes | None) -> bytes:
    """As Claude Code writes it (two-space indent); a final newline when the file had one."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if raw is None or raw.endswith(b"\n"):
        text += "\n"
    return text.encode("utf-8")


def servers(data: dict[str, Any], folder: str | None) -> dict[str, Any]:
    """The `mcpServers` object of the scope ({} when there is none)."""
    holder: Any = data
    if folder is not None:
        projects = data.get("projects")
        holder = projects.get(folder) if isinstance(projects, dict) else None
    found = holder.get("mcpServers") if isinstance(holder, dict) else None
    return found if isinstance(found, dict) else {}


def with_server(
    raw: bytes | None, path: str, folder: str | None, name: str, value: dict[str, Any]
) -> bytes:
    data = load(raw, path)
    holder = data
    if folder is not None:
        projects = data.setdefault("projects", {})
        if not isinstance(projects, dict):
            raise NotJson(path)
        holder = projects.setdefault(folder, {})
        if not isinstance(holder, dict):
            raise NotJson(path)
    found = holder.get("mcpServers")
    if not isinstance(found, dict):
        found = holder["mcpServers"] = {}
    found[name] = value
    return dump(data, raw)


def without_servers(
    raw: bytes | None, path: str, folder: str | None, names: list[str]
) -> bytes | None:
    """The file without those of `names` that are ours in that scope (a server the user has
    since replaced by their own stays); an `mcpServers`, or a project entry, left empty by that
    goes too. None when the file does not exist."""
    if raw is None:
        return None
    try:
        data = load(raw, path)
    except NotJson:
        return raw  # Claude Code's business; the note is the caller's
    holder: Any = data
    projects = data.get("projects")
    if folder is not None:
        holder = projects.get(folder) if isinstance(projects, dict) else None
    found = holder.get("mcpServers") if isinstance(holder, dict) else None
    if not isinstance(found, dict):
        return raw
    gone = [n for n in names if is_ours(found.get(n))]
    if not gone:
        return raw
    for n in gone:
        del found[n]
    if not found:
        del holder["mcpServers"]
        if folder is not None and not holder and isinstance(projects, dict):
            del projects[folder]
            if not projects:
                del data["projects"]
    return dump(data, raw)


def same_json(a: bytes | None, b: bytes | None) -> bool:
    if a is None or b is None:
        return a is b
    try:
        return bool(json.loads(a.decode("utf-8")) == json.loads(b.decode("utf-8")))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
