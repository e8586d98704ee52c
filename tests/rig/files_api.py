"""The fake workspace's files: workspace files (`/api/2.0/workspace/export|get-status|import`) and
Unity Catalog volume files (the Files API, `/api/2.0/fs/files/Volumes/...`), as
../shared/notes/databricks.md ("Team files in the workspace") and the public API docs describe
them. `handle` answers one request as (status, body, content type), or None for a path that is
not one of these APIs.

What the fake assumes: the 404 and 403 messages' wording; one permission switch per path
(`denied`) standing for folder ACLs and Unity Catalog grants.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any

from tests.rig.routing import Request, Response, Route


@dataclass
class Files:
    workspace: dict[str, bytes] = field(default_factory=dict)  # "/Workspace/..." -> bytes
    volumes: dict[str, bytes] = field(default_factory=dict)  # "/Volumes/..." -> bytes
    denied: set[str] = field(default_factory=set)  # paths (or prefixes) the caller may not touch
    modified: dict[str, float] = field(default_factory=dict)

    def _denied(self, path: str) -> bool:
        return any(path == d or path.startswith(d.rstrip("/") + "/") for d in self.denied)


def _ws_path(raw: str) -> str:
    """The API takes /Workspace/Shared/x and /Shared/x alike."""
    return raw if raw.startswith("/Workspace/") else "/Workspace" + raw


def _error(status: int, code: str, message: str) -> tuple[int, Any, str]:
    return status, {"error_code": code, "message": message, "details": []}, "application/json"


def handle(
    files: Files, method: str, path: str, query: dict[str, str], body: bytes, parsed: Any
) -> tuple[int, Any, str] | None:
    if path in ("/api/2.0/workspace/export", "/api/2.0/workspace/get-status") and method == "GET":
        target = _ws_path(query.get("path", ""))
        if files._denied(target):
            return _error(
                403, "PERMISSION_DENIED", f"User does not have Read permission on {target}"
            )
        if target not in files.workspace:
            return _error(404, "RESOURCE_DOES_NOT_EXIST", f"Path ({target}) doesn't exist.")
        data = files.workspace[target]
        if path.endswith("get-status"):
            return (
                200,
                {
                    "object_type": "FILE",
                    "path": target,
                    "object_id": abs(hash(target)) % 10**15,
                    "size": len(data),
                    "modified_at": int(files.modified.get(target, 0) * 1000),
                },
                "application/json",
            )
        if query.get("direct_download") == "true":
            return 200, data, "application/octet-stream"
        return (
            200,
            {"content": base64.b64encode(data).decode(), "file_type": "json"},
            "application/json",
        )
    if path == "/api/2.0/workspace/import" and method == "POST":
        if not isinstance(parsed, dict) or not isinstance(parsed.get("path"), str):
            return _error(400, "INVALID_PARAMETER_VALUE", "Missing required field: path")
        target = _ws_path(parsed["path"])
        if files._denied(target):
            return _error(
                403, "PERMISSION_DENIED", f"User does not have Edit permission on {target}"
            )
        if target in files.workspace and not parsed.get("overwrite"):
            return _error(400, "RESOURCE_ALREADY_EXISTS", f"{target} already exists.")
        files.workspace[target] = base64.b64decode(parsed.get("content") or "")
        files.modified[target] = time.time()
        return 200, {}, "application/json"
    prefix = "/api/2.0/fs/files"
    if path.startswith(prefix + "/Volumes/"):
        target = path[len(prefix) :]
        if files._denied(target):
            return _error(403, "PERMISSION_DENIED", f"User does not have READ VOLUME on {target}")
        if method in ("GET", "HEAD"):
            if target not in files.volumes:
                return _error(404, "NOT_FOUND", f"The file {target} does not exist.")
            return (
                200,
                files.volumes[target] if method == "GET" else b"",
                "application/octet-stream",
            )
        if method == "PUT":
            if target in files.volumes and query.get("overwrite") != "true":
                return _error(409, "ALREADY_EXISTS", f"The file {target} already exists.")
            files.volumes[target] = body
            files.modified[target] = time.time()
            return 204, None, "application/json"
    return None


def _serve(req: Request) -> None:
    answer = handle(req.ws.files, req.method, req.path, req.query, req.body, req.parsed)
    if answer is not None:
        raise Response(answer[0], answer[1], content_type=answer[2])


ROUTES = [
    Route("GET", "/api/2.0/workspace/export", _serve),
    Route("GET", "/api/2.0/workspace/get-status", _serve),
    Route("POST", "/api/2.0/workspace/import", _serve),
    Route("*", "/api/2.0/fs/files/Volumes/*", _serve),
]
