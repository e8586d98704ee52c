"""The fake workspace's serving-endpoint listings: `GET /api/2.0/serving-endpoints` and one endpoint
by name, `GET /api/2.0/serving-endpoints:foundation-models` and the Unity Catalog model services
(`GET /api/2.1/unity-catalog/model-services`), the newer two switched by `listing_apis`."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from tests.rig.endpoints import (
    _api_types,
    _display_name,
    _page_offset,
    _page_token,
    _service_config,
    uc_name,
)
from tests.rig.routing import Request, Response, Route

if TYPE_CHECKING:
    from tests.rig.workspace import FakeWorkspace


def _list_route(req: Request) -> None:
    with req.ws._lock:
        raise Response(200, {"endpoints": public(req.ws, req.ws.endpoints)})


def _foundation_models_route(req: Request) -> None:
    listing_api(req.ws, "foundation-models", req.method, req.path)
    raise Response(200, {"endpoints": foundation_models(req.ws)})


def _model_services_route(req: Request) -> None:
    listing_api(req.ws, "model-services", req.method, req.path)
    raise Response(200, model_services(req.ws, req.query))


def _get_route(req: Request) -> None:
    name = req.params["name"]
    entry = find_endpoint(req.ws, name)
    if entry is None:
        raise Response(404, no_endpoint(name))
    raise Response(200, public(req.ws, [entry])[0])


ROUTES = [
    Route("GET", "/api/2.0/serving-endpoints", _list_route),
    Route("GET", "/api/2.0/serving-endpoints:foundation-models", _foundation_models_route),
    Route("GET", "/api/2.1/unity-catalog/model-services", _model_services_route),
    Route("GET", "/api/2.0/serving-endpoints/{name}", _get_route),
]


def public(ws: FakeWorkspace, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Endpoint entries as the API shows them: without the rig's own `_` keys (and without
    `endpoint_type` when endpoint_type_field is off)."""
    out = json.loads(json.dumps(entries))
    for e in out:
        for key in [k for k in e if k.startswith("_")]:
            del e[key]
        if not ws.endpoint_type_field:
            e.pop("endpoint_type", None)
    return list(out)


def listing_api(ws: FakeWorkspace, name: str, method: str, path: str) -> None:
    with ws._lock:
        on = ws.listing_apis.get(name, True)
    if not on:
        raise Response(
            404,
            {
                "error_code": "ENDPOINT_NOT_FOUND",
                "message": f"No API found for '{method} {path}'",
            },
        )


def foundation_models(ws: FakeWorkspace) -> list[dict[str, Any]]:
    """`GET /api/2.0/serving-endpoints:foundation-models`: the pay-per-token foundation model
    endpoints, each served entity's foundation_model telling whether the AI Gateway (v2)
    serves it and through which APIs."""
    with ws._lock:
        entries = public(
            ws, [e for e in ws.endpoints if e.get("endpoint_type") == "FOUNDATION_MODEL_API"]
        )
    for e in entries:
        claude = "claude" in e["name"]
        for entity in e.get("config", {}).get("served_entities", []):
            fm = entity.setdefault("foundation_model", {})
            fm["ai_gateway_v2_supported"] = claude
            fm["api_types"] = _api_types(e["name"])
    return entries


def model_services(ws: FakeWorkspace, query: dict[str, str]) -> dict[str, Any]:
    """`GET /api/2.1/unity-catalog/model-services?parent=schemas/system.ai`: one system-provided
    model service per READY pay-per-token foundation model, paged (page_size, page_token) as
    the SDKs define it (databricks-sdk-go ListModelServicesRequest: default and maximum 100).
    A larger page gets an empty HTTP 499; the opaque page tokens are standard base64 (`+ / =`),
    so a caller that does not URL-encode them sends one this refuses."""
    if query.get("parent", "schemas/system.ai") != "schemas/system.ai":
        return {"model_services": []}
    with ws._lock:
        names = [
            str(e["name"])
            for e in ws.endpoints
            if e.get("endpoint_type") == "FOUNDATION_MODEL_API" and e["state"]["ready"] == "READY"
        ]
        empty_first = ws.model_services_empty_first_page
        largest = ws.model_services_max_page_size
    full = query.get("view") == "FULL"  # BASIC (the default) omits the destinations
    services = [
        {
            "name": f"model-services/{uc_name(n)}",
            "owner": "System user",
            "effective_owner": "System user",
            "metastore_id": "19a85dee-54bc-43a2-87ab-023d0ec16013",
            "create_time": "2026-06-01T00:00:00Z",
            "created_by": "System user",
            "update_time": "2026-06-01T00:00:00Z",
            "updated_by": "System user",
            "comment": f"{_display_name(n)}, served by Databricks (pay-per-token)",
            "config": _service_config(n) if full else {},
            "etag": uuid.uuid5(uuid.NAMESPACE_DNS, n).hex[:16],
            "supported_api_types": _api_types(n),
        }
        for n in names
    ]
    try:
        size = int(query.get("page_size") or 0) or 100
    except ValueError:
        size = 100
    if size > largest:
        raise Response(499, b"", content_type="text/plain")
    raw = query.get("page_token")
    start = 0
    if raw:
        start = _page_offset(raw)
        if start is None:
            raise Response(
                400,
                {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid page token."},
            )
    if empty_first and not raw:
        return {"model_services": [], "next_page_token": _page_token(0)}
    page = services[start : start + size]
    out: dict[str, Any] = {"model_services": page}
    if start + size < len(services):
        out["next_page_token"] = _page_token(start + size)
    return out


def find_endpoint(ws: FakeWorkspace, name: str) -> dict[str, Any] | None:
    with ws._lock:
        for e in ws.endpoints:
            if e.get("name") == name:
                return dict(json.loads(json.dumps(e)))
    return None


def no_endpoint(name: str) -> dict[str, Any]:
    return {
        "error_code": "RESOURCE_DOES_NOT_EXIST",
        "message": f"Endpoint with name '{name}' does not exist.",
    }
