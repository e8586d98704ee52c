"""The fake workspace's injected faults and latency: FakeWorkspace.fail() and set_latency() fill
them in, every request passes through delay() and check_fault() before its route."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from tests.rig.routing import Response, databricks_error

if TYPE_CHECKING:
    from tests.rig.workspace import FakeWorkspace


def delay(ws: FakeWorkspace, path: str) -> None:
    with ws._lock:
        delay = ws.latency + sum(s for p, s in ws.path_latency.items() if path.startswith(p))
    if delay > 0:
        time.sleep(delay)


def check_fault(ws: FakeWorkspace, path: str, body: bytes = b"") -> None:
    with ws._lock:
        for fault in ws.faults:
            if not path.startswith(fault.path_prefix):
                continue
            if fault.times is not None and fault.hits >= fault.times:
                continue
            fault.hits += 1
            break
        else:
            return
        if path == "/oidc/v1/token":
            form = parse_qs(body.decode("utf-8", "replace"))
            ws.token_requests.append((form.get("grant_type", [""])[-1], False))
    headers = {}
    if fault.retry_after is not None:
        ra = fault.retry_after
        headers["Retry-After"] = str(int(ra)) if float(ra).is_integer() else str(ra)
    payload = fault.body
    if payload is None:
        if path.startswith("/oidc/"):
            err = "invalid_request" if fault.status == 400 else "temporarily_unavailable"
            payload = {"error": err, "error_description": f"Injected {fault.status} error"}
        else:
            payload = databricks_error(fault.status)
    if fault.status == 401 and not path.startswith("/oidc/"):
        headers.setdefault("WWW-Authenticate", 'Bearer realm="DatabricksRealm"')
    raise Response(fault.status, payload, headers)
