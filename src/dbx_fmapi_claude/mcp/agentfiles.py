"""Gemini CLI's and OpenCode's MCP servers: members of their JSON config that point at the
loopback proxy `dbx-fmapi run gemini|opencode` starts for the workspace (agents/proxy.py), so each
request gets a fresh token although neither agent can refresh a header itself.

The URL and the proxy's per-launch secret come from the environment `run` sets: Gemini CLI
expands `$VAR` in its settings when it loads them (measured, 0.61.0), OpenCode `{env:VAR}`.
A member is ours when its URL starts with that variable."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ..agents import jsonfile
from ..core.fileio import read_bytes
from ..record import config

ENV_URL = "DBX_FMAPI_MCP_URL"
ENV_KEY = "DBX_FMAPI_MCP_KEY"
AGENTS = {"gemini": ("Gemini CLI", "mcpServers"), "opencode": ("OpenCode", "mcp")}
_PREFIXES = (f"${ENV_URL}", f"{{env:{ENV_URL}}}")


def member(agent: str, path: str) -> dict[str, Any]:
    if agent == "gemini":
        return {
            "type": "http",
            "url": f"${ENV_URL}{path}",
            "headers": {"Authorization": f"Bearer ${ENV_KEY}"},
        }
    return {
        "type": "remote",
        "url": f"{{env:{ENV_URL}}}{path}",
        "headers": {"Authorization": f"Bearer {{env:{ENV_KEY}}}"},
    }


def is_ours(value: Any) -> bool:
    url = value.get("url") if isinstance(value, dict) else None
    return isinstance(url, str) and url.startswith(_PREFIXES)


def edited(data: dict[str, Any], agent: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """`data` with exactly `entries` as our servers (a user's server of the same name stays)."""
    key = AGENTS[agent][1]
    out = copy.deepcopy(data)
    found = out.get(key)
    holder: dict[str, Any] = found if isinstance(found, dict) else {}
    for name in [n for n, v in holder.items() if is_ours(v)]:
        del holder[name]
    for e in entries:
        if str(e["name"]) not in holder:
            holder[str(e["name"])] = member(agent, str(e["path"]))
    if holder:
        out[key] = holder
    else:
        out.pop(key, None)
    return out


def state_file(cfg: dict[str, Any], agent: str) -> Path | None:
    state = cfg.get(agent)
    if agent not in config.agents_of(cfg) or not isinstance(state, dict):
        return None
    return Path(str(state["file"])) if state.get("file") else None


def put(raw: bytes | None, path: Path, agent: str, entries: list[dict[str, Any]]) -> bytes | None:
    data = jsonfile.parse(raw, path, AGENTS[agent][0])
    return jsonfile.edit(raw, data, edited(data, agent, entries))


def current(path: Path) -> bytes | None:
    return read_bytes(path)
