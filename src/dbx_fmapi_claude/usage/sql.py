"""SQL on the workspace: the warehouses (`GET /api/2.0/sql/warehouses`) and the Statement
Execution API (`POST /api/2.0/sql/statements`, polled with `GET .../statements/{id}`), as
../shared/notes/databricks.md ("SQL Statement Execution") describes them.

A statement that fails comes back as HTTP 200 with `status.state: FAILED`; a refused read is a
PERMISSION_DENIED / INSUFFICIENT_PERMISSIONS error (as the HTTP error code, the statement's
`error_code`, or the `[INSUFFICIENT_PERMISSIONS]` class at the start of its message).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from ..workspace.client import Workspace, WorkspaceError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DONE = ("SUCCEEDED", "FAILED", "CANCELED", "CLOSED")
REFUSED = ("PERMISSION_DENIED", "INSUFFICIENT_PERMISSIONS")
POLL_SECONDS = 1.0
MAX_WAIT = 120.0  # a statement still running after this is cancelled


@dataclass(frozen=True)
class Warehouse:
    id: str
    name: str
    state: str
    serverless: bool


class SqlError(Exception):
    """A statement that did not succeed: `code` (the error code), `refused` (a permission)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def refused(self) -> bool:
        return self.code in REFUSED or any(f"[{c}]" in self.message for c in REFUSED)


def warehouses(ws: Workspace) -> list[Warehouse]:
    body = ws.get("/api/2.0/sql/warehouses") or {}
    out = []
    for w in body.get("warehouses") or []:
        if isinstance(w, dict) and isinstance(w.get("id"), str):
            out.append(
                Warehouse(
                    w["id"],
                    str(w.get("name") or w["id"]),
                    str(w.get("state") or "UNKNOWN"),
                    bool(w.get("enable_serverless_compute")),
                )
            )
    return out


def pick(found: Sequence[Warehouse]) -> Warehouse | None:
    """A warehouse that runs (or is starting) without our starting it: we never start one (it
    costs money and minutes); serverless first, then by name."""
    usable = [w for w in found if w.state in ("RUNNING", "STARTING")]
    usable.sort(key=lambda w: (w.state != "RUNNING", not w.serverless, w.name))
    return usable[0] if usable else None


def _error(body: Mapping[str, Any]) -> SqlError:
    status = body.get("status") if isinstance(body.get("status"), dict) else {}
    err = status.get("error") if isinstance(status, dict) else None
    err = err if isinstance(err, dict) else {}
    state = str(status.get("state") or "FAILED") if isinstance(status, dict) else "FAILED"
    return SqlError(str(err.get("error_code") or state), str(err.get("message") or state))


def execute(
    ws: Workspace,
    warehouse: str,
    statement: str,
    parameters: Sequence[Mapping[str, str]] = (),
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[str], list[list[str | None]]]:
    """Run one statement: (column names, rows of strings or None)."""
    request = {
        "statement": statement,
        "warehouse_id": warehouse,
        "wait_timeout": "30s",
        "on_wait_timeout": "CONTINUE",
        "format": "JSON_ARRAY",
        "disposition": "INLINE",
        "parameters": [dict(p) for p in parameters],
    }
    try:
        _, body = ws.request("POST", f"{ws.host}/api/2.0/sql/statements", request)
        waited = 0.0
        while isinstance(body, dict) and _state(body) not in DONE:
            if waited >= MAX_WAIT:
                sid = quote(str(body.get("statement_id")), safe="")
                ws.request("POST", f"{ws.host}/api/2.0/sql/statements/{sid}/cancel")
                raise SqlError("TIMEOUT", f"the statement was still running after {MAX_WAIT:g}s")
            sleep(POLL_SECONDS)
            waited += POLL_SECONDS
            sid = quote(str(body.get("statement_id")), safe="")
            body = ws.get(f"/api/2.0/sql/statements/{sid}")
    except WorkspaceError as exc:
        if exc.kind == "http":
            raise SqlError(exc.code or f"HTTP {exc.status}", str(exc)) from None
        raise
    if not isinstance(body, dict) or _state(body) != "SUCCEEDED":
        raise _error(body if isinstance(body, dict) else {})
    manifest = body.get("manifest") or {}
    columns = [str(c.get("name")) for c in (manifest.get("schema") or {}).get("columns") or []]
    rows = (body.get("result") or {}).get("data_array") or []
    return columns, [list(r) for r in rows if isinstance(r, list)]


def _state(body: Mapping[str, Any]) -> str:
    status = body.get("status")
    return str(status.get("state")) if isinstance(status, dict) else "FAILED"
