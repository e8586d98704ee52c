"""The fake workspace's routes for Codex, Gemini CLI and OpenCode, in-process: the same token
checks and error shapes as the Anthropic route, the shapes each agent reads (docs/agents.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.rig import http
from tests.rig.workspace import FakeWorkspace

GPT, GEMINI = "databricks-gpt-5", "databricks-gemini-2-5-pro"
RESPONSES = {"model": GPT, "input": "say hi", "stream": True}
CHAT = {"model": GPT, "messages": [{"role": "user", "content": "say hi"}], "stream": True}
GEMINI_BODY = {"contents": [{"role": "user", "parts": [{"text": "say hi"}]}]}

# (path, body) of one request per new route.
ROUTES: list[tuple[str, dict[str, Any]]] = [
    ("/serving-endpoints/openai/v1/responses", RESPONSES),
    ("/ai-gateway/openai/v1/responses", RESPONSES),
    ("/ai-gateway/codex/v1/responses", RESPONSES),
    (
        f"/serving-endpoints/gemini/v1beta/models/{GEMINI}:streamGenerateContent?alt=sse",
        GEMINI_BODY,
    ),
    (f"/ai-gateway/gemini/v1beta/models/{GEMINI}:streamGenerateContent?alt=sse", GEMINI_BODY),
    ("/serving-endpoints/chat/completions", CHAT),
    ("/ai-gateway/mlflow/v1/chat/completions", CHAT),
]


def sse(body: bytes) -> list[tuple[str | None, Any]]:
    """(event name, parsed data) of each event of an SSE body; "[DONE]" stays a string."""
    events = []
    for block in body.decode().split("\n\n"):
        if not block.strip():
            continue
        name, data = None, ""
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data += line[6:]
        events.append((name, data if data == "[DONE]" else json.loads(data)))
    return events


@pytest.mark.parametrize(("path", "body"), ROUTES)
def test_token_checks_like_the_anthropic_route(
    workspace: FakeWorkspace, path: str, body: dict[str, Any]
) -> None:
    workspace.ai_gateway = "on"
    url = workspace.url + path
    gateway = path.startswith("/ai-gateway/")
    none = http.post(url, json_body=body)
    assert none.status == 401
    assert none.headers["www-authenticate"] == 'Bearer realm="DatabricksRealm"'
    bogus = http.post(url, json_body=body, token="not-a-token")
    if gateway:
        assert (bogus.status, bogus.json()["message"]) == (400, "Invalid Token")
    else:
        assert (bogus.status, bogus.json()["message"]) == (403, "Invalid access token.")
    token = workspace.issue_token()
    ok = http.post(url, json_body=body, token=token)
    assert ok.status == 200 and ok.headers["content-type"].startswith("text/event-stream")
    rec = workspace.log[-1]
    assert rec.token is not None and rec.token.matches(token) and rec.status == 200
    assert rec.model in (GPT, GEMINI)
    assert token not in repr(workspace.log)

    workspace.ai_gateway = "off"
    if gateway:
        off = http.post(url, json_body=body, token=token)
        assert off.status == 404 and off.json()["error_code"] == "FEATURE_DISABLED"


@pytest.mark.parametrize(
    ("path", "body", "wrong"),
    [
        ("/serving-endpoints/openai/v1/responses", RESPONSES, "databricks-gemini-2-5-pro"),
        ("/serving-endpoints/chat/completions", CHAT, "nope"),
    ],
)
def test_unknown_or_foreign_models_are_404(
    workspace: FakeWorkspace, path: str, body: dict[str, Any], wrong: str
) -> None:
    token = workspace.issue_token()
    resp = http.post(workspace.url + path, json_body={**body, "model": wrong}, token=token)
    assert resp.status == 404 and resp.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    gem = f"{workspace.url}/serving-endpoints/gemini/v1beta/models/{GPT}:generateContent"
    assert http.post(gem, json_body=GEMINI_BODY, token=token).status == 404


def test_responses_stream_events(workspace: FakeWorkspace) -> None:
    token = workspace.issue_token()
    url = workspace.url + "/serving-endpoints/openai/v1/responses"
    events = sse(http.post(url, json_body=RESPONSES, token=token).body)
    names = [n for n, _ in events]
    assert names[0] == "response.created" and names[-1] == "response.completed"
    assert "response.output_text.delta" in names and "response.output_item.done" in names
    assert all(data["type"] == name for name, data in events)
    assert [d["sequence_number"] for _, d in events] == list(range(len(events)))
    done = dict(events)["response.output_item.done"]["item"]
    assert done["type"] == "message" and done["content"][0]["text"] == "pong"
    completed = dict(events)["response.completed"]["response"]
    assert completed["status"] == "completed" and completed["usage"]["total_tokens"] > 0

    whole = http.post(url, json_body={**RESPONSES, "stream": False}, token=token).json()
    assert whole["object"] == "response" and whole["output"][0]["content"][0]["text"] == "pong"

    workspace.reply = lambda body: {"tool_use": {"name": "shell", "input": {"cmd": "ls"}}}
    events = sse(http.post(url, json_body=RESPONSES, token=token).body)
    call = dict(events)["response.output_item.done"]["item"]
    assert call["type"] == "function_call" and call["name"] == "shell"
    assert json.loads(call["arguments"]) == {"cmd": "ls"} and call["call_id"]


def test_codex_models_listing(workspace: FakeWorkspace) -> None:
    token = workspace.issue_token()
    url = workspace.url + "/serving-endpoints/openai/v1/models?client_version=0.171.0"
    models = http.get(url, token=token).json()["models"]
    slugs = [m["slug"] for m in models]
    assert slugs == ["databricks-gpt-5", "databricks-gpt-5-mini"]
    assert all(m["visibility"] == "list" and m["supported_in_api"] for m in models)


def test_gemini_stream_and_whole(workspace: FakeWorkspace) -> None:
    token = workspace.issue_token()
    base = f"{workspace.url}/serving-endpoints/gemini/v1beta/models/{GEMINI}"
    [(name, chunk)] = sse(
        http.post(f"{base}:streamGenerateContent?alt=sse", json_body=GEMINI_BODY, token=token).body
    )
    assert name is None
    assert chunk["candidates"][0]["content"] == {"parts": [{"text": "pong"}], "role": "model"}
    assert chunk["candidates"][0]["finishReason"] == "STOP" and chunk["usageMetadata"]
    whole = http.post(f"{base}:generateContent", json_body=GEMINI_BODY, token=token).json()
    assert whole["candidates"][0]["content"]["parts"][0]["text"] == "pong"
    count = http.post(f"{base}:countTokens", json_body=GEMINI_BODY, token=token).json()
    assert count["totalTokens"] > 0
    # The key as Gemini CLI also sends it: x-goog-api-key, logged as a token reference only.
    http.post(
        f"{base}:generateContent",
        json_body=GEMINI_BODY,
        token=token,
        headers={"x-goog-api-key": token},
    )
    rec = workspace.log[-1]
    assert rec.api_key is not None and rec.api_key.matches(token)
    assert token not in repr(rec.headers)


def test_chat_completions_stream(workspace: FakeWorkspace) -> None:
    token = workspace.issue_token()
    url = workspace.url + "/ai-gateway/mlflow/v1/chat/completions"
    workspace.ai_gateway = "on"
    body = {**CHAT, "stream_options": {"include_usage": True}}
    events = sse(http.post(url, json_body=body, token=token).body)
    assert events[-1] == (None, "[DONE]")
    chunks = [d for _, d in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == GPT for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["content"] == "pong"
    assert chunks[1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["total_tokens"] > 0
    # Chat completions serve every foundation model, Claude's too.
    claude = {**CHAT, "model": "databricks-claude-sonnet-4-5", "stream": False}
    whole = http.post(url, json_body=claude, token=token).json()
    assert whole["choices"][0]["message"]["content"] == "pong"


def test_gpt_and_gemini_endpoints_are_listed(workspace: FakeWorkspace) -> None:
    token = workspace.issue_token()
    eps = http.get(f"{workspace.url}/api/2.0/serving-endpoints", token=token).json()["endpoints"]
    mine = {
        e["name"]: (e["endpoint_type"], e["state"]["ready"])
        for e in eps
        if e["name"].startswith(("databricks-gpt-", "databricks-gemini-"))
    }
    assert mine == {
        name: ("FOUNDATION_MODEL_API", "READY")
        for name in (
            "databricks-gpt-5",
            "databricks-gpt-5-mini",
            GEMINI,
            "databricks-gemini-2-5-flash",
        )
    }
