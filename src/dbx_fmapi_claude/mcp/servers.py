"""The kinds of managed MCP server and what each argument may be: pure, no I/O.

`parse` turns `mcp add KIND [ARG] [--name NAME]` into a `Server` (its name and its path on the
workspace), or raises BadInput before anything is read or written. The paths are the documented
ones (../shared/notes/databricks.md, "Managed MCP servers"):

    genie [SPACE_ID]              /api/2.0/mcp/genie[/{space_id}]
    sql                           /api/2.0/mcp/sql
    functions CATALOG.SCHEMA[.FN] /api/2.0/mcp/functions/{catalog}/{schema}[/{fn}]
    ai-search CATALOG.SCHEMA.IDX  /api/2.0/mcp/ai-search/{catalog}/{schema}/{index}
    external CONNECTION           /api/2.0/mcp/external/{connection}
    url URL                       any MCP path on the configured workspace's own host

A record entry is {"name", "kind", "target", "path"}; the URL is the configuration's host plus
`path`, so it always points at the workspace our token is for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Claude Code's rule for server names (tools become mcp__NAME__tool); Codex's TOML keys and
# the other agents' JSON keys take the same.
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SPACE_RE = re.compile(r"^[0-9a-fA-F]{32}$")
# A Unity Catalog name as it goes into a URL path unquoted: letters, digits, _ and -.
UC_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,254}$")
MCP_PREFIXES = ("/api/2.0/mcp/", "/ai-gateway/mcp-services/")

KINDS = ("genie", "sql", "functions", "ai-search", "external", "url")
USAGE = (
    "dbx-fmapi mcp add genie SPACE_ID | sql | functions CATALOG.SCHEMA | "
    "ai-search CATALOG.SCHEMA.INDEX | external CONNECTION | url URL  [--name NAME]"
)
# What each kind needs on the workspace, for docs, doctor and the 403 message.
PERMISSIONS = {
    "genie": "CAN RUN on the Genie space, and SELECT on its tables",
    "sql": "CAN USE on a SQL warehouse, and SELECT on what the queries read",
    "functions": "USE CATALOG, USE SCHEMA and EXECUTE on the functions",
    "ai-search": "USE CATALOG, USE SCHEMA and SELECT on the index",
    "external": "USE CONNECTION on the Unity Catalog connection",
    "url": "access to the service behind the URL",
}


class BadInput(ValueError):
    """A kind, name, id or path `mcp add` cannot take: the message and the fix."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


@dataclass(frozen=True)
class Server:
    name: str
    kind: str
    target: str  # what the user gave: the space id, CATALOG.SCHEMA, the URL, ...
    path: str  # on the workspace, e.g. /api/2.0/mcp/genie/01f0...

    def entry(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "target": self.target, "path": self.path}


def _uc(kind: str, arg: str | None, parts: tuple[int, ...], form: str) -> list[str]:
    if not arg:
        raise BadInput(f"mcp add {kind} needs {form}", f"dbx-fmapi mcp add {kind} {form}")
    pieces = arg.split(".")
    if len(pieces) not in parts or not all(UC_RE.match(p) for p in pieces):
        raise BadInput(
            f"{arg!r} is not {form} (Unity Catalog names of letters, digits, _ and -, joined "
            "by dots); nothing was changed",
            f"dbx-fmapi mcp add {kind} {form}",
        )
    return pieces


def _default_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:64]
    return name or "mcp"


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise BadInput(
            f"{name!r} is not a server name: use 1 to 64 letters, digits, _ or -; nothing was "
            "changed",
            "dbx-fmapi mcp add KIND ARG --name NAME   (e.g. --name sales-genie)",
        )
    return name


def same_origin(url: str, host: str) -> bool:
    a, b = urlsplit(url), urlsplit(host)
    return (a.scheme.lower(), (a.hostname or "").lower(), a.port) == (
        b.scheme.lower(),
        (b.hostname or "").lower(),
        b.port,
    )


def _url_path(url: str | None, host: str) -> str:
    if not url:
        raise BadInput("mcp add url needs the server's URL", "dbx-fmapi mcp add url URL --name N")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise BadInput(
            f"{url!r} is not a URL (https://HOST/PATH); nothing was changed",
            f"dbx-fmapi mcp add url {host}/api/2.0/mcp/... --name NAME",
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise BadInput(
            "the URL must not carry credentials, a query or a fragment; nothing was changed",
            f"dbx-fmapi mcp add url {host}{parts.path} --name NAME",
        )
    if not same_origin(url, host):
        raise BadInput(
            f"{parts.scheme}://{parts.netloc} is not this configuration's workspace ({host}): "
            "the server would get your Databricks token; nothing was changed",
            f"use a URL on {host}, e.g. {host}/ai-gateway/mcp-services/system.ai.dbsql",
        )
    path = parts.path.rstrip("/")
    if not path.startswith(MCP_PREFIXES) or ".." in path.split("/"):
        raise BadInput(
            f"{path or '/'} is not a managed MCP path on the workspace (/api/2.0/mcp/... or "
            "/ai-gateway/mcp-services/...); nothing was changed",
            f"dbx-fmapi mcp add url {host}/ai-gateway/mcp-services/CATALOG.SCHEMA.NAME --name N",
        )
    return path


def parse(kind: str, arg: str | None, name: str | None, host: str) -> Server:
    """The server `mcp add KIND ARG --name NAME` means on the workspace `host`; BadInput for
    anything malformed."""
    if kind not in KINDS:
        raise BadInput(
            f"unknown kind of MCP server {kind!r} (one of: {', '.join(KINDS)}); nothing was "
            "changed",
            USAGE,
        )
    if kind == "genie":
        if arg and not SPACE_RE.match(arg):
            raise BadInput(
                f"{arg!r} is not a Genie space id (32 hex digits, the part after /genie/rooms/ "
                "in the space's URL); nothing was changed",
                "dbx-fmapi mcp add genie SPACE_ID",
            )
        sid = (arg or "").lower()
        path = f"/api/2.0/mcp/genie/{sid}" if sid else "/api/2.0/mcp/genie"
        default = f"genie-{sid[:8]}" if sid else "genie"
    elif kind == "sql":
        if arg:
            raise BadInput(
                f"mcp add sql takes no argument (got {arg!r}); nothing was changed",
                "dbx-fmapi mcp add sql",
            )
        path, default = "/api/2.0/mcp/sql", "databricks-sql"
    elif kind == "functions":
        pieces = _uc(kind, arg, (2, 3), "CATALOG.SCHEMA")
        path, default = "/api/2.0/mcp/functions/" + "/".join(pieces), "uc-" + "-".join(pieces)
    elif kind == "ai-search":
        pieces = _uc(kind, arg, (3,), "CATALOG.SCHEMA.INDEX")
        path, default = "/api/2.0/mcp/ai-search/" + "/".join(pieces), "search-" + pieces[2]
    elif kind == "external":
        [conn] = _uc(kind, arg, (1,), "CONNECTION")
        path, default = f"/api/2.0/mcp/external/{conn}", conn
    else:
        path = _url_path(arg, host)
        default = path.rsplit("/", 1)[-1].split(".")[-1]
    return Server(check_name(name) if name else _default_name(default), kind, arg or "", path)


def entries(cfg: Any) -> list[dict[str, Any]]:
    """The record's MCP servers of a configuration, each with a name and a path."""
    found = (cfg or {}).get("mcp")
    if not isinstance(found, list):
        return []
    return [
        e
        for e in found
        if isinstance(e, dict) and isinstance(e.get("name"), str) and isinstance(e.get("path"), str)
    ]


def url_of(host: str, entry: dict[str, Any]) -> str:
    return host.rstrip("/") + str(entry["path"])
