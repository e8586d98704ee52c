"""Codex's `config.toml`, edited as text between our own markers: no TOML library at runtime.

Two blocks of ours, each between stable markers:
- `top`, first in the file (TOML's top-level keys must come before its first table): the
  `model_provider` and `model` that make plain `codex` use the workspace;
- `provider`, last: `[model_providers.<id>]` and its `.auth` table (the token command).

A top-level `model`, `model_provider` or `profile` of the user's would clash with ours (a key
twice is a TOML error; a default profile would override our provider), so each such line is
parked in place: commented out behind PARKED, byte for byte. `unmerge` removes our blocks and
un-parks those lines, which gives back exactly the text `merge` started from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from ...shell import rcblock

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

APP = "dbx-fmapi-claude"
NOTE = "# Added by dbx-fmapi-claude setup; `dbx-fmapi uninstall` removes this block."
PARKED = "#dbx-fmapi-claude-replaced# "  # a user line set aside while ours is in effect
TOP_KEYS = ("model", "model_provider", "profile")
PROVIDER_ID = "databricks"
FALLBACK_ID = "databricks-fmapi"  # when the user has a provider called "databricks" already

HalfBlock = rcblock.HalfBlock


def markers(name: str) -> tuple[str, str]:
    return f"# >>> {APP} {name} >>>", f"# <<< {APP} {name} <<<"


TOP = markers("top")
PROVIDER = markers("provider")
MCP = markers("mcp")  # the workspace's MCP servers (dbx-fmapi mcp add), last


def string(value: str) -> str:
    """A TOML basic string (JSON's escapes are valid in one)."""
    return json.dumps(value, ensure_ascii=False)


def render_top(provider: str, model: str) -> str:
    begin, end = TOP
    return "\n".join(
        [begin, NOTE, f"model_provider = {string(provider)}", f"model = {string(model)}", end]
    )


def render_provider(
    provider: str,
    base_url: str,
    command: Sequence[str],
    *,
    timeout_ms: int,
    refresh_interval_ms: int,
) -> str:
    begin, end = PROVIDER
    exe, *args = command
    return "\n".join(
        [
            begin,
            NOTE,
            f"[model_providers.{provider}]",
            'name = "Databricks"',
            f"base_url = {string(base_url)}",
            'wire_api = "responses"',
            "",
            "# Codex runs this (no shell) for its bearer token, again after refresh_interval_ms.",
            f"[model_providers.{provider}.auth]",
            f"command = {string(exe)}",
            "args = [" + ", ".join(string(a) for a in args) + "]",
            f"timeout_ms = {timeout_ms}",
            f"refresh_interval_ms = {refresh_interval_ms}",
            end,
        ]
    )


_TABLE = re.compile(r"\s*\[")
_KEY = re.compile(r"\s*(?:\"(?P<q>[^\"]*)\"|'(?P<s>[^']*)'|(?P<b>[A-Za-z0-9_-]+))\s*=")


def _outside_ours(lines: list[str]) -> list[bool]:
    """For each line: True when it lies outside every block of ours."""
    out = []
    inside = False
    begins = {TOP[0], PROVIDER[0], MCP[0]}
    ends = {TOP[1], PROVIDER[1], MCP[1]}
    for line in lines:
        stripped = line.strip()
        if stripped in begins:
            inside = True
        out.append(not inside)
        if stripped in ends:
            inside = False
    return out


def _top_key(line: str) -> str | None:
    m = _KEY.match(line)
    if m is None:
        return None
    return m["q"] if m["q"] is not None else m["s"] if m["s"] is not None else m["b"]


def _park(text: str) -> str:
    """Comment out the user's top-level lines for TOP_KEYS (before the first table, outside
    our blocks). A multi-line value's later lines are left alone: none of these keys takes one
    in Codex's schema, and tests validate the result with a TOML parser."""
    lines = text.splitlines(keepends=True)
    mask = _outside_ours(lines)
    out = []
    in_top = True
    for line, outside in zip(lines, mask, strict=True):
        if outside and _TABLE.match(line):
            in_top = False
        if outside and in_top and _top_key(line) in TOP_KEYS:
            line = PARKED + line
        out.append(line)
    return "".join(out)


def _unpark(text: str) -> str:
    return "".join(
        line[len(PARKED) :] if line.startswith(PARKED) else line
        for line in text.splitlines(keepends=True)
    )


def parked(text: str) -> list[str]:
    """The user's lines setup set aside (for status and the record), without line breaks."""
    return [
        line[len(PARKED) :].rstrip("\r\n")
        for line in text.splitlines(keepends=True)
        if line.startswith(PARKED)
    ]


_PROVIDER_RE = re.compile(r"""model_providers\s*\.\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))""")


def users_providers(text: str) -> set[str]:
    """Provider ids the user's own lines name (outside our blocks)."""
    lines = text.splitlines(keepends=True)
    found: set[str] = set()
    for line, outside in zip(lines, _outside_ours(lines), strict=True):
        if outside and not line.lstrip().startswith("#"):
            for m in _PROVIDER_RE.finditer(line):
                found.add(next(g for g in m.groups() if g is not None))
    return found


def provider_id(text: str) -> str:
    """Our provider's id: "databricks", unless the user has a provider of that name."""
    return FALLBACK_ID if PROVIDER_ID in users_providers(text) else PROVIDER_ID


def merge(text: str, top: str, provider: str) -> str:
    """`text` with our two blocks in (updated in place when there), the clashing top-level
    lines parked; every other byte kept."""
    text = _park(text)
    text = rcblock.upsert_block(text, top, *TOP, at_start=True)
    return rcblock.upsert_block(text, provider, *PROVIDER)


def render_mcp(servers: Sequence[tuple[str, str]], helper: str) -> str:
    """`[mcp_servers.NAME]` for each (name, url): streamable HTTP, with `helper` as the
    http_headers_helper (a command printing {"Authorization": "Bearer …"}; measured with Codex
    0.171.0: run at connection, and again when a call gets a 403, then the call is retried)."""
    begin, end = MCP
    lines = [begin, NOTE.replace("setup", "mcp add")]
    for name, url in servers:
        lines += [
            f"[mcp_servers.{name}]",
            f"url = {string(url)}",
            f"http_headers_helper = {string(helper)}",
        ]
    return "\n".join([*lines, end])


def with_mcp(text: str, block: str | None) -> str:
    """`text` with our MCP block in (None: out)."""
    if block is None:
        return rcblock.remove_block(text, *MCP) if rcblock.has_block(text, *MCP) else text
    return rcblock.upsert_block(text, block, *MCP)


def unmerge(text: str) -> str:
    """`text` without our blocks, the parked lines back: the inverse of `merge`."""
    if rcblock.has_block(text, *MCP):
        text = rcblock.remove_block(text, *MCP)
    text = rcblock.remove_block(text, *PROVIDER)
    text = rcblock.remove_block(text, *TOP, at_start=True)
    return _unpark(text)


def has_ours(text: str) -> bool:
    return rcblock.has_block(text, *TOP) or rcblock.has_block(text, *PROVIDER)


def check(text: str) -> str | None:
    """Why `text` is not valid TOML (None: it is, or this Python cannot tell: tomllib is 3.11+
    and read-only, so it only checks what we write)."""
    try:
        tomllib: Any = __import__("tomllib")  # __import__: mypy checks for Python 3.10
    except ImportError:  # Python 3.10
        return None
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return str(exc)
    return None
