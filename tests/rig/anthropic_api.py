"""The fake workspace's Anthropic Messages routes, on serving endpoints
(`/serving-endpoints/anthropic`) and on the AI Gateway (`/ai-gateway/anthropic`): messages
(JSON or streamed, text or one tool_use), count_tokens, and the gateway's model listing."""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

from tests.rig.endpoints import _display_name, is_claude_endpoint, uc_name
from tests.rig.routing import Request, Response, Route, sse
from tests.rig.serving_api import find_endpoint, no_endpoint

if TYPE_CHECKING:
    from tests.rig.workspace import FakeWorkspace

BASES = ("/serving-endpoints/anthropic", "/ai-gateway/anthropic")


def _models_route(req: Request) -> None:
    raise Response(200, gateway_models(req.ws, req.query))


def _messages_route(req: Request) -> None:
    messages(req.ws, req.parsed, req.gateway)


def _count_tokens_route(req: Request) -> None:
    count_tokens(req.ws, req.parsed, req.gateway)


ROUTES = [Route("GET", "/ai-gateway/anthropic/v1/models", _models_route)] + [
    route
    for base in BASES
    for route in (
        Route("POST", f"{base}/v1/messages", _messages_route),
        Route("POST", f"{base}/v1/messages/count_tokens", _count_tokens_route),
    )
]


def gateway_models(ws: FakeWorkspace, query: dict[str, str]) -> dict[str, Any]:
    """`GET /ai-gateway/anthropic/v1/models`: Anthropic's model-list shape, the Claude models
    the gateway serves (READY), a 1M-token variant as `<name>[1m]`, each under the id forms
    in gateway_model_ids. Paged by `limit` and `after_id`; like the real gateway (ug#680) it
    leaves `last_id` null, so a caller pages on the last id it got."""
    with ws._lock:
        entries = [
            e
            for e in ws.endpoints
            if e.get("endpoint_type") == "FOUNDATION_MODEL_API"
            and "claude" in str(e["name"])
            and e["state"]["ready"] == "READY"
        ]
        forms = ws.gateway_model_ids
    data: list[dict[str, Any]] = []
    created = "2026-06-01T00:00:00Z"
    for e in entries:
        name, shown = str(e["name"]), _display_name(str(e["name"]))
        ids = {
            "endpoint": name,
            "system.ai": uc_name(name),
            "anthropic": f"{name}-anthropic",
        }
        for form in forms:
            data.append({"type": "model", "id": ids[form], "display_name": shown})
            if e.get("_long_context") and form != "anthropic":
                data.append(
                    {
                        "type": "model",
                        "id": f"{ids[form]}[1m]",
                        "display_name": f"{shown} (1M context)",
                    }
                )
    for d in data:
        d["created_at"] = created
    after = query.get("after_id")
    if after:
        ids_seen = [d["id"] for d in data]
        data = data[ids_seen.index(after) + 1 :] if after in ids_seen else []
    try:
        limit = max(1, min(1000, int(query.get("limit") or 20)))
    except ValueError:
        limit = 20
    page = data[:limit]
    return {
        "data": page,
        "has_more": len(data) > limit,
        "first_id": page[0]["id"] if page else None,
        "last_id": None,
    }


def model_endpoint(ws: FakeWorkspace, parsed: Any, gateway: bool = False) -> str:
    if not isinstance(parsed, dict):
        raise Response(
            400, {"error_code": "BAD_REQUEST", "message": "Request body is not valid JSON."}
        )
    model = parsed.get("model")
    if not isinstance(model, str) or not model:
        raise Response(
            400, {"error_code": "BAD_REQUEST", "message": "Missing required field 'model'."}
        )
    entry = find_endpoint(ws, model)
    if entry is None and gateway and model.startswith("system.ai."):
        # The gateway also takes a Unity Catalog model service name for a foundation model.
        short = model.removeprefix("system.ai.").removeprefix("databricks-")
        entry = find_endpoint(ws, f"databricks-{short}")
        if entry is not None and entry.get("endpoint_type") != "FOUNDATION_MODEL_API":
            entry = None
    if entry is None:
        raise Response(404, no_endpoint(model))
    if not is_claude_endpoint(entry):
        raise Response(
            404,
            {
                "error_code": "RESOURCE_DOES_NOT_EXIST",
                "message": f"Endpoint '{model}' does not serve an Anthropic model.",
            },
        )
    if entry["state"]["ready"] != "READY":
        raise Response(
            404,
            {
                "error_code": "RESOURCE_DOES_NOT_EXIST",
                "message": f"Endpoint '{model}' is not ready.",
            },
        )
    if gateway and entry["name"] in ws.traffic_split:
        # Body assumed (the reports give only the status): see docs/databricks-shapes.md.
        raise Response(
            400,
            {
                "error_code": "BAD_REQUEST",
                "message": f"Endpoint '{entry['name']}' splits traffic between served "
                "entities; the AI Gateway's Anthropic route needs a single served entity.",
            },
        )
    return model


def messages(ws: FakeWorkspace, parsed: Any, gateway: bool = False) -> None:
    model = model_endpoint(ws, parsed, gateway)
    answer = ws.reply(parsed) if ws.reply is not None else ws.reply_text
    if isinstance(answer, dict):
        tool_use(model, parsed, answer["tool_use"])
    text = str(answer)
    msg_id = "msg_" + secrets.token_hex(12)
    in_tokens = max(1, len(json.dumps(parsed.get("messages", []))) // 4)
    out_tokens = max(1, len(text) // 4)
    if not parsed.get("stream"):
        raise Response(
            200,
            {
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": in_tokens, "output_tokens": out_tokens} | ws.usage_extra,
            },
        )
    events: list[tuple[str | None, dict[str, Any]]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": msg_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": in_tokens, "output_tokens": 1} | ws.usage_extra,
                },
            },
        ),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        ("ping", {"type": "ping"}),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": text},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": out_tokens},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    raise sse(events)


def tool_use(model: str, parsed: Any, tool: dict[str, Any]) -> None:
    """Answer with one tool_use block (stop_reason tool_use), streamed or not."""
    msg_id = "msg_" + secrets.token_hex(12)
    block = {"type": "tool_use", "id": "toolu_" + secrets.token_hex(12), "name": tool["name"]}
    usage = {"input_tokens": 10, "output_tokens": 10}
    if not parsed.get("stream"):
        raise Response(
            200,
            {
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [dict(block, input=tool["input"])],
                "stop_reason": "tool_use",
                "stop_sequence": None,
                "usage": usage,
            },
        )
    start_msg = {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": dict(usage, output_tokens=1),
    }
    events: list[tuple[str | None, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": start_msg}),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": dict(block, input={})},
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {
                    "type": "input_json_delta",
                    "partial_json": json.dumps(tool["input"]),
                },
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                "usage": {"output_tokens": 10},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    raise sse(events)


def count_tokens(ws: FakeWorkspace, parsed: Any, gateway: bool = False) -> None:
    model_endpoint(ws, parsed, gateway)
    raise Response(200, {"input_tokens": max(1, len(json.dumps(parsed)) // 4)})
