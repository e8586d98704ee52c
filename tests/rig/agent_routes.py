"""The fake workspace's routes for the other coding agents: OpenAI Responses (Codex), Gemini
generateContent (Gemini CLI) and OpenAI chat completions (OpenCode's openai-compatible
provider). Same token checks and Databricks error shapes as the Anthropic route (the workspace
authenticates every /serving-endpoints/ and /ai-gateway/ request before it gets here), same
request log, same `reply` / `reply_text` knobs.

docs/agents.md says where each route and shape comes from, and which parts are assumed.

A `reply` callable may answer {"tool_use": {"name": ..., "input": {...}}} on every API: a
Responses `function_call` item, a Gemini `functionCall` part, a chat `tool_calls` entry.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import TYPE_CHECKING, Any

from tests.rig.routing import Request, Response, Route, sse
from tests.rig.serving_api import find_endpoint, no_endpoint

if TYPE_CHECKING:
    from tests.rig.workspace import FakeWorkspace, RequestRecord

# Route prefixes, each with the API it speaks.
RESPONSES_BASES = (
    "/serving-endpoints/openai/v1",
    "/ai-gateway/openai/v1",
    "/ai-gateway/codex/v1",
)
GEMINI_BASES = ("/serving-endpoints/gemini/v1beta", "/ai-gateway/gemini/v1beta")
CHAT_PATHS = ("/serving-endpoints/chat/completions", "/ai-gateway/mlflow/v1/chat/completions")

RESPONSES, GEMINI, CHAT = "responses", "gemini", "chat"
# Which model endpoints each API serves (by endpoint name): the Responses routes serve the GPT
# models, the Gemini routes the Gemini models, chat completions every foundation model.
_FAMILY = {RESPONSES: ("gpt",), GEMINI: ("gemini",), CHAT: ("",)}
# serving-endpoints:foundation-models `api_types` of the non-Claude models (assumed by analogy
# with the Claude ones the workspace already lists: docs/agents.md).
GPT_API_TYPES = [
    "mlflow/v1/chat/completions",
    "openai/v1/responses",
    "codex/v1/responses",
]
GEMINI_API_TYPES = ["mlflow/v1/chat/completions", "gemini/v1beta/generateContent"]


def api_of(path: str) -> str | None:
    """Which agent API a request path belongs to (None: not one of these routes)."""
    if path in CHAT_PATHS:
        return CHAT
    if any(path.startswith(b + "/") for b in RESPONSES_BASES):
        return RESPONSES
    if any(path.startswith(b + "/") for b in GEMINI_BASES):
        return GEMINI
    return None


def gemini_model(path: str) -> str | None:
    """The model of a Gemini path: .../v1beta/models/{model}:{method}."""
    for base in GEMINI_BASES:
        rest = path.removeprefix(base + "/models/")
        if rest != path and ":" in rest:
            return rest.split(":", 1)[0]
    return None


def route(
    ws: FakeWorkspace,
    method: str,
    path: str,
    query: dict[str, str],
    parsed: Any,
    record: RequestRecord,
) -> None:
    """Answer (by raising the workspace's response) when `path` is one of these routes."""
    api = api_of(path)
    if api is None:
        return
    if api == RESPONSES:
        base = next(b for b in RESPONSES_BASES if path.startswith(b + "/"))
        if path == f"{base}/responses" and method == "POST":
            model = _model(ws, _body_model(parsed), RESPONSES)
            raise _responses(model, parsed, _answer(ws, parsed))
        if path == f"{base}/models" and method == "GET":
            raise Response(200, codex_models(ws))
    elif api == GEMINI:
        model_name = gemini_model(path)
        if model_name is not None and method == "POST":
            record.model = model_name
            verb = path.rsplit(":", 1)[1]
            if verb == "countTokens":
                _model(ws, model_name, GEMINI)
                raise Response(200, {"totalTokens": max(1, len(json.dumps(parsed)) // 4)})
            if verb in ("streamGenerateContent", "generateContent"):
                model = _model(ws, model_name, GEMINI)
                stream = verb == "streamGenerateContent"
                raise _gemini(model, parsed, _answer(ws, parsed), stream, query.get("alt"))
    elif method == "POST":
        model = _model(ws, _body_model(parsed), CHAT)
        raise _chat(model, parsed, _answer(ws, parsed))


def _serve(req: Request) -> None:
    route(req.ws, req.method, req.path, req.query, req.parsed, req.record)


ROUTES = [Route("*", f"{base}/*", _serve) for base in RESPONSES_BASES + GEMINI_BASES] + [
    Route("*", path, _serve) for path in CHAT_PATHS
]


# --------------------------------------------------------------------------- models


def _body_model(parsed: Any) -> Any:
    if not isinstance(parsed, dict):
        raise Response(
            400, {"error_code": "BAD_REQUEST", "message": "Request body is not valid JSON."}
        )
    return parsed.get("model")


def _model(ws: FakeWorkspace, model: Any, api: str) -> str:
    """The endpoint a request names, checked as the Anthropic route checks its model: unknown,
    not served on this API, or not READY: 404 RESOURCE_DOES_NOT_EXIST."""
    if not isinstance(model, str) or not model:
        raise Response(
            400, {"error_code": "BAD_REQUEST", "message": "Missing required field 'model'."}
        )
    entry = find_endpoint(ws, model)
    if entry is None:
        raise Response(404, no_endpoint(model))
    families = _FAMILY[api]
    served = entry.get("endpoint_type") == "FOUNDATION_MODEL_API" and any(
        f in str(entry["name"]) for f in families
    )
    if not served:
        raise Response(
            404,
            {
                "error_code": "RESOURCE_DOES_NOT_EXIST",
                "message": f"Endpoint '{model}' is not served on this API.",
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
    return model


def codex_models(ws: FakeWorkspace) -> dict[str, Any]:
    """`GET {base}/models?client_version=…` on the Responses routes: the READY GPT endpoints in
    Codex's own catalogue shape ({"models": [ModelInfo…]}, codex-rs ModelsResponse; the shape a
    Databricks gateway answers here is assumed: docs/agents.md)."""
    with ws._lock:
        names = [
            str(e["name"])
            for e in ws.endpoints
            if e.get("endpoint_type") == "FOUNDATION_MODEL_API"
            and "gpt" in str(e["name"])
            and e["state"]["ready"] == "READY"
        ]
    levels = [{"effort": e, "description": e.capitalize()} for e in ("low", "medium", "high")]
    # The fields Codex 0.171.0 requires (each one's absence fails the decode, measured) plus
    # description, default effort, context window and input kinds.
    models = [
        {
            "slug": name,
            "display_name": name,
            "description": f"{name}, served by Databricks",
            "default_reasoning_level": "medium",
            "supported_reasoning_levels": levels,
            "shell_type": "shell_command",
            "visibility": "list",
            "supported_in_api": True,
            "priority": i,
            "support_verbosity": False,
            "truncation_policy": {"mode": "bytes", "limit": 10000},
            "context_window": 272000,
            "experimental_supported_tools": [],
            "input_modalities": ["text"],
            "base_instructions": "You are a coding agent.",
        }
        for i, name in enumerate(names)
    ]
    return {"models": models}


def _answer(ws: FakeWorkspace, parsed: Any) -> str | dict[str, Any]:
    return ws.reply(parsed) if ws.reply is not None else ws.reply_text


def _tokens(parsed: Any) -> int:
    return max(1, len(json.dumps(parsed)) // 4)


# --------------------------------------------------------------------------- Responses


def _responses(model: str, parsed: dict[str, Any], answer: str | dict[str, Any]) -> Any:
    """POST {base}/responses: one output item (an assistant message, or a function_call when
    the answer is a tool_use), streamed as the Responses API streams it, or whole."""
    resp_id = "resp_" + secrets.token_hex(12)
    item_id = ("fc_" if isinstance(answer, dict) else "msg_") + secrets.token_hex(12)
    usage = {
        "input_tokens": _tokens(parsed.get("input")),
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 1,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 0,
    }
    if isinstance(answer, dict):
        tool = answer["tool_use"]
        args = json.dumps(tool["input"])
        item: dict[str, Any] = {
            "type": "function_call",
            "id": item_id,
            "call_id": "call_" + secrets.token_hex(12),
            "name": tool["name"],
            "arguments": args,
            "status": "completed",
        }
        if tool.get("namespace"):  # a tool inside a `namespace` tool (Codex's MCP servers)
            item["namespace"] = tool["namespace"]
    else:
        text = str(answer)
        item = {
            "type": "message",
            "id": item_id,
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }
    usage["output_tokens"] = max(1, len(json.dumps(item)) // 4)
    usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    created = int(time.time())

    def response(status: str, output: list[dict[str, Any]], done: bool) -> dict[str, Any]:
        return {
            "id": resp_id,
            "object": "response",
            "created_at": created,
            "status": status,
            "model": model,
            "output": output,
            "usage": usage if done else None,
        }

    if not parsed.get("stream"):
        raise Response(200, response("completed", [item], True))
    seq = iter(range(1_000_000))
    events: list[tuple[str | None, dict[str, Any]]] = []

    def add(kind: str, **fields: Any) -> None:
        events.append((kind, {"type": kind, "sequence_number": next(seq), **fields}))

    add("response.created", response=response("in_progress", [], False))
    add("response.in_progress", response=response("in_progress", [], False))
    if item["type"] == "function_call":
        add(
            "response.output_item.added",
            output_index=0,
            item=dict(item, arguments="", status="in_progress"),
        )
        add(
            "response.function_call_arguments.delta",
            item_id=item_id,
            output_index=0,
            delta=item["arguments"],
        )
        add(
            "response.function_call_arguments.done",
            item_id=item_id,
            output_index=0,
            arguments=item["arguments"],
        )
    else:
        text = item["content"][0]["text"]
        part = {"type": "output_text", "text": "", "annotations": []}
        add(
            "response.output_item.added",
            output_index=0,
            item=dict(item, content=[], status="in_progress"),
        )
        add(
            "response.content_part.added",
            item_id=item_id,
            output_index=0,
            content_index=0,
            part=part,
        )
        add(
            "response.output_text.delta",
            item_id=item_id,
            output_index=0,
            content_index=0,
            delta=text,
        )
        add(
            "response.output_text.done",
            item_id=item_id,
            output_index=0,
            content_index=0,
            text=text,
        )
        add(
            "response.content_part.done",
            item_id=item_id,
            output_index=0,
            content_index=0,
            part=dict(part, text=text),
        )
    add("response.output_item.done", output_index=0, item=item)
    add("response.completed", response=response("completed", [item], True))
    raise sse(events)


# --------------------------------------------------------------------------- Gemini


def _gemini(
    model: str,
    parsed: Any,
    answer: str | dict[str, Any],
    stream: bool,
    alt: str | None,
) -> Any:
    """:generateContent / :streamGenerateContent?alt=sse: one candidate with a text part, or a
    functionCall part when the answer is a tool_use."""
    if isinstance(answer, dict):
        tool = answer["tool_use"]
        part: dict[str, Any] = {"functionCall": {"name": tool["name"], "args": tool["input"]}}
    else:
        part = {"text": str(answer)}
    prompt = _tokens(parsed.get("contents") if isinstance(parsed, dict) else parsed)
    out = max(1, len(json.dumps(part)) // 4)
    chunk = {
        "candidates": [
            {
                "content": {"parts": [part], "role": "model"},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": prompt,
            "candidatesTokenCount": out,
            "totalTokenCount": prompt + out,
        },
        "modelVersion": model,
        "responseId": secrets.token_urlsafe(16),
    }
    if not stream:
        raise Response(200, chunk)
    if alt != "sse":
        # Without alt=sse the stream is one JSON array of chunks.
        raise Response(200, [chunk])
    raise sse([(None, chunk)])


# --------------------------------------------------------------------------- chat completions


def _chat(model: str, parsed: dict[str, Any], answer: str | dict[str, Any]) -> Any:
    """POST chat/completions: one assistant message (or one tool call), streamed as
    chat.completion.chunk events ending in `data: [DONE]`, or whole."""
    chat_id = "chatcmpl-" + secrets.token_hex(12)
    created = int(time.time())
    prompt = _tokens(parsed.get("messages"))
    if isinstance(answer, dict):
        tool = answer["tool_use"]
        call = {
            "id": "call_" + secrets.token_hex(12),
            "type": "function",
            "function": {"name": tool["name"], "arguments": json.dumps(tool["input"])},
        }
        message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [call]}
        finish = "tool_calls"
    else:
        message = {"role": "assistant", "content": str(answer)}
        finish = "stop"
    out = max(1, len(json.dumps(message)) // 4)
    usage = {"prompt_tokens": prompt, "completion_tokens": out, "total_tokens": prompt + out}
    base = {"id": chat_id, "created": created, "model": model}
    if not parsed.get("stream"):
        raise Response(
            200,
            dict(
                base,
                object="chat.completion",
                choices=[{"index": 0, "message": message, "finish_reason": finish}],
                usage=usage,
            ),
        )

    def chunk(delta: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
        return dict(
            base,
            object="chat.completion.chunk",
            choices=[{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        )

    if "tool_calls" in message:
        delta: dict[str, Any] = {
            "role": "assistant",
            "content": None,
            "tool_calls": [dict(message["tool_calls"][0], index=0)],
        }
    else:
        delta = {"role": "assistant", "content": message["content"]}
    events: list[tuple[str | None, dict[str, Any]]] = [
        (None, chunk(delta, None)),
        (None, chunk({}, finish)),
    ]
    options = parsed.get("stream_options") or {}
    if options.get("include_usage"):
        events.append((None, dict(base, object="chat.completion.chunk", choices=[], usage=usage)))
    raise sse(events, done=True)
