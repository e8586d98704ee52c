"""Where a team file comes from, and where an admin publishes it.

- a local path;
- an `https://` URL, optionally pinned: `https://…/team.json#sha256=<64 hex>`;
- a workspace file, `/Workspace/...`: `GET /api/2.0/workspace/export` (read with the developer's
  own credential; CAN READ on the file or its folder);
- a Unity Catalog volume file, `/Volumes/<catalog>/<schema>/<volume>/...`: the Files API
  (`GET /api/2.0/fs/files/Volumes/...`; USE CATALOG, USE SCHEMA and READ VOLUME).

Every failure is one line with the reason and the fix: not found, no permission (which one),
network, a pinned hash that does not match.
"""

from __future__ import annotations

import base64
import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import ExitCode, UserError
from ..workspace.client import Workspace, WorkspaceError, diagnose, http_timeout, ssl_context

_PIN = re.compile(r"#sha256=([0-9a-fA-F]{64})$")
MAX_BYTES = 1 << 20  # a team file is small; a megabyte is already suspicious


def kind_of(source: str) -> str:
    """ "workspace", "volume", "url" or "path"."""
    if source.startswith("/Workspace/"):
        return "workspace"
    if source.startswith("/Volumes/"):
        return "volume"
    if source.lower().startswith(("https://", "http://")):
        return "url"
    return "path"


def needs_workspace(source: str) -> bool:
    return kind_of(source) in ("workspace", "volume")


@dataclass
class Fetched:
    source: str
    data: bytes


def read(source: str, *, env: Mapping[str, str], cwd: Path, ws: Workspace | None) -> Fetched:
    """The bytes of the team file at `source`. `ws` (host + token) is needed for /Workspace and
    /Volumes sources only."""
    kind = kind_of(source)
    if kind == "path":
        return Fetched(source, _read_path(source, cwd))
    if kind == "url":
        return Fetched(source, _read_url(source, env))
    if ws is None:
        raise UserError(
            f"team file {source} is in a Databricks workspace: which one?",
            f"pass the workspace: --host https://… --team {source}",
            ExitCode.USAGE,
        )
    path = _checked_workspace_path(source)
    try:
        if kind == "workspace":
            query = urllib.parse.urlencode({"path": path, "format": "AUTO"})
            _, body = ws.request("GET", f"{ws.host}/api/2.0/workspace/export?{query}")
            content = body.get("content") if isinstance(body, dict) else None
            if not isinstance(content, str):
                raise UserError(
                    f"team file {source}: the workspace answered without the file's content",
                    f"check that {path} is a file (not a folder or notebook) in {ws.host}",
                )
            data = base64.b64decode(content, validate=False)
        else:
            url = f"{ws.host}/api/2.0/fs/files{urllib.parse.quote(path)}"
            _, data = ws.request_bytes("GET", url)
    except WorkspaceError as exc:
        raise _workspace_error(exc, source, ws.host, kind, "read") from None
    return Fetched(source, _limit(data, source))


def publish(source: str, data: bytes, *, ws: Workspace) -> None:
    """Upload `data` to /Workspace/... (workspace import, overwrite) or /Volumes/... (Files PUT)."""
    kind = kind_of(source)
    path = _checked_workspace_path(source)
    try:
        if kind == "workspace":
            ws.request(
                "POST",
                f"{ws.host}/api/2.0/workspace/import",
                body={
                    "path": path,
                    "format": "AUTO",
                    "overwrite": True,
                    "content": base64.b64encode(data).decode(),
                },
            )
        elif kind == "volume":
            url = f"{ws.host}/api/2.0/fs/files{urllib.parse.quote(path)}?overwrite=true"
            ws.request_bytes("PUT", url, data)
        else:
            raise UserError(
                f"cannot publish to {source}: not a workspace or volume path",
                "dbx-fmapi team publish FILE --to /Workspace/Shared/… (or /Volumes/…)",
                ExitCode.USAGE,
            )
    except WorkspaceError as exc:
        raise _workspace_error(exc, source, ws.host, kind, "write") from None


# --- each kind -------------------------------------------------------------------------------


def _limit(data: bytes, source: str) -> bytes:
    if len(data) > MAX_BYTES:
        raise UserError(
            f"team file {source} is {len(data)} bytes: too large for a team file",
            "point --team at the team's JSON file (a few kilobytes)",
            ExitCode.USAGE,
        )
    return data


def _read_path(source: str, cwd: Path) -> bytes:
    path = Path(os.path.expanduser(source))
    if not path.is_absolute():
        path = cwd / path
    try:
        with open(path, "rb") as fh:
            return _limit(fh.read(MAX_BYTES + 1), source)
    except FileNotFoundError:
        raise UserError(
            f"team file {source} not found", "check the path: ls -l " + str(path)
        ) from None
    except IsADirectoryError:
        raise UserError(f"team file {source} is a folder", "give the JSON file's path") from None
    except OSError as exc:
        raise UserError(
            f"cannot read team file {source}: {exc.strerror}",
            f"check its permissions: ls -l {path}",
        ) from None


def _read_url(source: str, env: Mapping[str, str]) -> bytes:
    import urllib.error
    import urllib.request  # with http.client and email: only for a team file on a URL

    class _NoDowngrade(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]  # urllib's signature
            if not newurl.lower().startswith("https://"):
                return None
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    pin = _PIN.search(source)
    url = source[: pin.start()] if pin else source
    parts = urllib.parse.urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme.lower() != "https" and not loopback:
        raise UserError(
            f"team file URL {url} is not https://",
            "publish the team file on an https:// address (or in the workspace)",
            ExitCode.USAGE,
        )
    handlers: list[urllib.request.BaseHandler] = [_NoDowngrade()]
    if parts.scheme.lower() == "https":
        handlers.append(urllib.request.HTTPSHandler(context=ssl_context(env)))
    opener = urllib.request.build_opener(*handlers)
    req = urllib.request.Request(url, headers={"User-Agent": "dbx-fmapi-claude"})  # noqa: S310 - https or loopback, checked above
    try:
        with opener.open(req, timeout=http_timeout(env, 20.0)) as resp:
            data = resp.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        what = {404: "not found", 403: "access refused", 401: "needs a login"}.get(
            exc.code, f"HTTP {exc.code}"
        )
        raise UserError(
            f"cannot read team file {url}: {what} (HTTP {exc.code})",
            f"check the address with: curl -sI {url}",
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(
            f"cannot read team file {url}: {reason}",
            f"check the address and your network or VPN: curl -sI {url}",
        ) from None
    data = _limit(data, source)
    if pin:
        import hashlib

        got = hashlib.sha256(data).hexdigest()
        if got != pin.group(1).lower():
            raise UserError(
                f"team file {url} has sha256 {got}, not the pinned {pin.group(1).lower()}",
                "ask your platform team for the current address and hash (the file changed)",
            )
    return data


def _checked_workspace_path(source: str) -> str:
    parts = source.split("/")
    if ".." in parts or "." in parts or "//" in source or any(c in source for c in "\n\r\0?#"):
        raise UserError(
            f"{source} is not a plain workspace path",
            "give the file's full path, e.g. /Workspace/Shared/dbx-fmapi/team.json",
            ExitCode.USAGE,
        )
    if source.startswith("/Volumes/") and len([p for p in parts if p]) < 5:
        raise UserError(
            f"{source} is not a volume file path",
            "/Volumes/<catalog>/<schema>/<volume>/<file>, "
            "e.g. /Volumes/main/tools/config/team.json",
            ExitCode.USAGE,
        )
    return source


def _workspace_error(
    exc: WorkspaceError, source: str, host: str, kind: str, doing: str
) -> UserError:
    if exc.kind == "http" and exc.status == 404:
        return UserError(
            f"team file {source} not found in {host}",
            "check the path with your platform team (the workspace has no such file)",
        )
    if exc.kind == "http" and exc.status == 403:
        need = (
            ("CAN READ" if doing == "read" else "CAN EDIT (or CAN MANAGE)")
            + " on the file's folder"
            if kind == "workspace"
            else "USE CATALOG, USE SCHEMA and "
            + ("READ VOLUME" if doing == "read" else "WRITE VOLUME")
            + " on the volume"
        )
        return UserError(
            f"no permission to {doing} team file {source} in {host} ({exc.message})",
            f"ask the file's owner for {need}",
        )
    message, fix = diagnose(exc, host, f"{doing} team file {source}")
    return UserError(message, fix)
