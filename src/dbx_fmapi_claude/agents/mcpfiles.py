"""How an agent's own config file gets the workspace's MCP servers that `dbx-fmapi mcp add` adds
(`Agent.mcp`, None for an agent without): mcp/agentfiles.py loops over the registry and asks each
agent's writer for its change. Two kinds: most writers get the configuration's whole list each
time (`change`); a writer `by_name` (Claude Code's, agents/claude/mcp.py: ~/.claude.json, which
every configuration has and the user edits too) adds and removes one server at a time, refuses a
name the user holds there, and says which servers it still holds (`servers_in`).

JSON members (Gemini CLI, OpenCode) point at the loopback proxy `dbx-fmapi run NAME` starts for
the workspace (agents/proxy.py), so each request gets a fresh token although neither agent can
refresh a header itself. The URL and the proxy's per-launch secret come from the environment
`run` sets: Gemini CLI expands `$VAR` in its settings when it loads them (measured, 0.61.0),
OpenCode `{env:VAR}`. A member is ours when its URL starts with that variable."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..changes import engine, undo
from ..core.fileio import read_bytes
from ..core.paths import Paths
from . import jsonfile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

HEADERS_FLAG = "--mcp-headers"  # the token command printing an MCP server's headers
ENV_URL = "DBX_FMAPI_MCP_URL"
ENV_KEY = "DBX_FMAPI_MCP_KEY"
EMPTY = b"{}\n"  # an agent's JSON config with nothing in it


@dataclass(frozen=True)
class McpServer:
    """One of the configuration's MCP servers: its name, its URL on the workspace and that
    URL's path (what the loopback proxy forwards)."""

    name: str
    url: str
    path: str


def headers_command(cfg: Mapping[str, Any], fallback_exe: str) -> str:
    """The command an agent runs for an MCP server's headers: the configuration's apiKeyHelper
    command with --mcp-headers (so the same profile and configuration give the token), else
    `fallback_exe token …`."""
    base = str(cfg.get("api_key_helper") or "")
    if " token" not in base:
        import shlex

        base = f"{shlex.quote(fallback_exe)} token" + (
            f" --profile {shlex.quote(str(cfg['profile']))}" if cfg.get("profile") else ""
        )
    return f"{base} {HEADERS_FLAG}"


class McpWriter:
    """An agent's part of `dbx-fmapi mcp add|remove` and of uninstall, in its file (`path`: the
    one setup recorded for it, which exists, unless `file` says another)."""

    # Adds and removes one server at a time in a file beside the user's own servers (`added`,
    # `removed`, `servers_in`, `plan_uninstall_every`); False: gets the whole list (`change`).
    by_name = False
    shown = ""  # how `mcp list` names its file (by_name writers)

    def file(self, paths: Paths, recorded: Path | None) -> Path | None:
        """The file it writes for a configuration that recorded `recorded` as the agent's file
        (None: that configuration did not set the agent up)."""
        return recorded

    def change(
        self, path: Path, raw: bytes, servers: list[McpServer], helper: str
    ) -> engine.Change:
        """The change that leaves exactly `servers` as ours in `path` (`helper`: the command
        printing the headers, for an agent that runs one)."""
        raise NotImplementedError

    def said(self, paths: Paths, cfg: Mapping[str, Any], path: Path, changed: bool) -> str | None:
        """`mcp add`'s line(s) about this agent (`changed`: its file is in the plan)."""
        return None

    # --- by_name writers ---------------------------------------------------------------------

    def servers_in(
        self, paths: Paths, cfg: Mapping[str, Any], path: Path, raw: bytes | None
    ) -> dict[str, bool]:
        """The servers `raw` holds for `cfg`, by name: True for ours (UserError: unreadable)."""
        return {}

    def added(
        self,
        paths: Paths,
        cfg: Mapping[str, Any],
        path: Path,
        raw: bytes | None,
        server: McpServer,
        helper: str,
    ) -> engine.Change:
        """The change that puts `server` into `path` as ours."""
        raise NotImplementedError

    def removed(
        self, paths: Paths, cfg: Mapping[str, Any], path: Path, raw: bytes | None, name: str
    ) -> engine.Change:
        """The change that takes our server `name` out of `path`."""
        raise NotImplementedError

    def lost(self, path: Path) -> str:
        """Doctor's line when ours is gone from `path`."""
        return f"not in {path} any more"

    def plan_uninstall_every(
        self, paths: Paths, gone: Sequence[tuple[Mapping[str, Any], list[str]]], plan: engine.Plan
    ) -> None:
        """Uninstall: our servers out of its file, for every configuration that goes (each
        with the names of its servers), in one change."""

    def plan_uninstall(
        self, paths: Paths, path: Path, state: Mapping[str, Any], plan: engine.Plan
    ) -> None:
        """Take our servers back out of `path` (nothing: the agent's own uninstall does)."""


class JsonMembers(McpWriter):
    """Members of a JSON config under `key`, each pointing at the loopback proxy: of `type`,
    `var` being how the agent's config names an environment variable."""

    def __init__(
        self, name: str, label: str, key: str, type_: str, var: Callable[[str], str]
    ) -> None:
        self.name, self.label, self.key, self.type, self.var = name, label, key, type_, var

    def member(self, path: str) -> dict[str, Any]:
        """The value for a server at `path` on the workspace."""
        return {
            "type": self.type,
            "url": f"{self.var(ENV_URL)}{path}",
            "headers": {"Authorization": f"Bearer {self.var(ENV_KEY)}"},
        }

    def edited(self, data: dict[str, Any], servers: list[McpServer]) -> dict[str, Any]:
        """`data` with exactly `servers` as ours (a user's server of the same name stays)."""
        out = copy.deepcopy(data)
        found = out.get(self.key)
        holder: dict[str, Any] = found if isinstance(found, dict) else {}
        for name in [n for n, v in holder.items() if is_ours(v)]:
            del holder[name]
        for s in servers:
            if s.name not in holder:
                holder[s.name] = self.member(s.path)
        if holder:
            out[self.key] = holder
        else:
            out.pop(self.key, None)
        return out

    def put(self, raw: bytes | None, path: Path, servers: list[McpServer]) -> bytes | None:
        data = jsonfile.parse(raw, path, self.label)
        return jsonfile.edit(raw, data, self.edited(data, servers))

    def change(
        self, path: Path, raw: bytes, servers: list[McpServer], helper: str
    ) -> engine.Change:
        def put(now: bytes | None) -> bytes | None:
            return self.put(now, path, servers)

        return engine.Change(path, raw, put(raw), f"{self.label}: MCP servers", redo=put)

    def said(self, paths: Paths, cfg: Mapping[str, Any], path: Path, changed: bool) -> str | None:
        return f"  {self.label}: {path}, when started with: dbx-fmapi run {self.name}"

    def plan_uninstall(
        self, paths: Paths, path: Path, state: Mapping[str, Any], plan: engine.Plan
    ) -> None:
        """Our members out (composed with the agent's own uninstall change of the same file,
        when it made one)."""
        created = state.get("created") is True

        def take(now: bytes | None) -> bytes | None:
            if now is None:
                return None
            try:
                new = self.put(now, path, [])
            except Exception:  # noqa: BLE001 - not JSON: the agent's own uninstall says so
                return now
            left = new if new is None or json.loads(new or b"{}") else None
            result, _, _ = undo.left_behind(
                paths,
                path,
                left,
                created=created,
                same=lambda original: jsonfile.same_document(
                    original, jsonfile.parse(left, path, "")
                ),
                empty=EMPTY,
            )
            return result

        if plan.then(path, take):
            return
        raw = read_bytes(path)
        new = take(raw)
        if new != raw:
            plan.changes.append(engine.Change(path, raw, new, "remove the MCP servers", redo=take))


_PREFIXES = (f"${ENV_URL}", f"{{env:{ENV_URL}}}")


def is_ours(value: Any) -> bool:
    url = value.get("url") if isinstance(value, dict) else None
    return isinstance(url, str) and url.startswith(_PREFIXES)
