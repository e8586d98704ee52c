"""The fake workspace's serving-endpoint catalogue: one endpoint entry as
`GET /api/2.0/serving-endpoints` shows it, the 2025 catalogue (default_endpoints) and today's
(current_endpoints), display names, Unity Catalog names and the listing APIs' page tokens."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from tests.rig.records import DEFAULT_USER

_FAMILY_DISPLAY = {"opus": "Opus", "sonnet": "Sonnet", "haiku": "Haiku", "fable": "Fable"}
# What each Claude foundation model answers on (serving-endpoints:foundation-models `api_types`).
_CLAUDE_API_TYPES = [
    "mlflow/v1/chat/completions",
    "anthropic/v1/messages",
    "cursor/v1/chat/completions",
]


def _api_types(name: str) -> list[str]:
    """The APIs a foundation model endpoint answers on, by its name."""
    from tests.rig.agent_routes import GEMINI_API_TYPES, GPT_API_TYPES

    if "claude" in name:
        return list(_CLAUDE_API_TYPES)
    if "gpt" in name:
        return list(GPT_API_TYPES)
    if "gemini" in name:
        return list(GEMINI_API_TYPES)
    return ["mlflow/v1/chat/completions"]


def _display_name(name: str) -> str:
    """databricks-claude-sonnet-4-5 -> Claude Sonnet 4.5; databricks-claude-3-7-sonnet -> ..."""
    parts = name.removeprefix("databricks-").split("-")
    if parts and parts[0] == "claude":
        words = ["Claude"]
        nums: list[str] = []
        for p in parts[1:]:
            if p.isdigit():
                nums.append(p)
            else:
                if nums:
                    words.append(".".join(nums))
                    nums = []
                words.append(_FAMILY_DISPLAY.get(p, p.capitalize()))
        if nums:
            words.append(".".join(nums))
        return " ".join(words)
    return " ".join(p.capitalize() for p in parts)


def endpoint(
    name: str, ready: bool = True, kind: str = "fmapi", long_context: bool = False
) -> dict[str, Any]:
    """One entry of `GET /api/2.0/serving-endpoints`.

    kind: "fmapi" (FOUNDATION_MODEL_API), "external" (EXTERNAL_MODEL, provider anthropic) or
    "custom" (CUSTOM_MODEL). long_context: the model also has a 1M-token variant, which the AI
    Gateway's model listing shows as `<name>[1m]` (kept under the rig's own key `_long_context`,
    which no listing shows).
    """
    now_ms = 1_730_000_000_000
    entry: dict[str, Any] = {
        "name": name,
        "id": uuid.uuid5(uuid.NAMESPACE_DNS, name).hex,
        "creator": "system" if kind == "fmapi" else DEFAULT_USER,
        "creation_timestamp": now_ms,
        "last_updated_timestamp": now_ms,
        "state": {
            "ready": "READY" if ready else "NOT_READY",
            "config_update": "NOT_UPDATING" if ready else "IN_PROGRESS",
        },
        "permission_level": "CAN_QUERY",
        "route_optimized": False,
    }
    if kind == "fmapi":
        entry["endpoint_type"] = "FOUNDATION_MODEL_API"
        entry["task"] = "llm/v1/chat"
        model = name.removeprefix("databricks-")
        entry["config"] = {
            "served_entities": [
                {
                    "name": model,
                    "entity_name": f"system.ai.{model.replace('-', '_')}",
                    "foundation_model": {
                        "name": f"system.ai.{model.replace('-', '_')}",
                        "display_name": _display_name(name),
                        "docs": "https://docs.databricks.com/",
                        "description": f"{_display_name(name)} (pay-per-token)",
                    },
                }
            ]
        }
    elif kind == "external":
        entry["endpoint_type"] = "EXTERNAL_MODEL"
        entry["task"] = "llm/v1/chat"
        entry["config"] = {
            "served_entities": [
                {
                    "name": f"{name}-entity",
                    "external_model": {
                        "provider": "anthropic",
                        "name": "claude-sonnet-4-5",
                        "task": "llm/v1/chat",
                    },
                }
            ]
        }
    elif kind == "custom":
        entry["endpoint_type"] = "CUSTOM_MODEL"
        entry["config"] = {
            "served_entities": [
                {
                    "name": f"{name}-1",
                    "entity_name": f"main.default.{name.replace('-', '_')}",
                    "entity_version": "1",
                    "workload_size": "Small",
                    "scale_to_zero_enabled": True,
                }
            ]
        }
    else:
        raise ValueError(f"unknown endpoint kind {kind!r}")
    if long_context:
        entry["_long_context"] = True
    return entry


def default_endpoints() -> list[dict[str, Any]]:
    """The 2025 catalogue: Claude families, a NOT_READY preview, an external and a custom model,
    a Llama model, and GPT and Gemini models for Codex, Gemini CLI and OpenCode."""
    return [
        endpoint("databricks-claude-opus-4-6"),
        endpoint("databricks-claude-opus-4-5"),
        endpoint("databricks-claude-opus-4-1"),
        endpoint("databricks-claude-sonnet-4-5"),
        endpoint("databricks-claude-sonnet-4"),
        endpoint("databricks-claude-haiku-4-5"),
        endpoint("databricks-claude-3-7-sonnet"),
        endpoint("databricks-claude-sonnet-4-6-preview", ready=False),
        endpoint("anthropic-external-claude", kind="external"),
        endpoint("my-custom-model", kind="custom"),
        endpoint("databricks-meta-llama-3-3-70b-instruct"),
        endpoint("databricks-gpt-5"),
        endpoint("databricks-gpt-5-mini"),
        endpoint("databricks-gemini-2-5-pro"),
        endpoint("databricks-gemini-2-5-flash"),
    ]


def current_endpoints() -> list[dict[str, Any]]:
    """The catalogue of late 2026 (../shared/notes/databricks.md): opus-4-8 and sonnet-4-6 with
    1M-token variants, opus-4-7, haiku-4-5, a fable family (5-2 READY, 5-3 still coming), opus-4-5
    (retires 2027-01-22) and sonnet-4-5 (retires 2026-11-30), plus the external and custom kinds,
    and GPT and Gemini models for the other agents (one GPT model still coming)."""
    return [
        endpoint("databricks-claude-opus-4-8", long_context=True),
        endpoint("databricks-claude-opus-4-7"),
        endpoint("databricks-claude-opus-4-5"),
        endpoint("databricks-claude-sonnet-4-6", long_context=True),
        endpoint("databricks-claude-sonnet-4-5"),
        endpoint("databricks-claude-haiku-4-5"),
        endpoint("databricks-claude-fable-5-2"),
        endpoint("databricks-claude-fable-5-3", ready=False),
        endpoint("anthropic-external-claude", kind="external"),
        endpoint("my-custom-model", kind="custom"),
        endpoint("databricks-meta-llama-3-3-70b-instruct"),
        endpoint("databricks-gpt-5-5"),
        endpoint("databricks-gpt-5-2"),
        endpoint("databricks-gpt-5-1-codex-max", ready=False),
        endpoint("databricks-gemini-3-1-pro"),
        endpoint("databricks-gemini-2-5-flash"),
    ]


def _page_token(offset: int) -> str:
    """An opaque page token as standard base64: always holds `+`, `/` and `=` (from the bytes
    0xfb 0xef 0xff and the padding), like the real tokens a caller must URL-encode."""
    return base64.b64encode(b"\xfb\xef\xff" + offset.to_bytes(4, "big")).decode("ascii")


def _page_offset(token: str) -> int | None:
    """The offset in a token from _page_token; None for anything else (a mangled token)."""
    try:
        raw = base64.b64decode(token.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        return None
    if len(raw) != 7 or raw[:3] != b"\xfb\xef\xff":
        return None
    return int.from_bytes(raw[3:], "big")


def _service_config(endpoint_name: str) -> dict[str, Any]:
    """A system model service's `config` in the FULL view: one pay-per-token destination
    (databricks-sdk-go catalog ModelServiceConfig, 0.175)."""
    return {
        "routing": {
            "destinations": [
                {
                    "name": endpoint_name,
                    "destination_type": "DESTINATION_TYPE_PAY_PER_TOKEN_FOUNDATION_MODEL",
                    "pay_per_token_config": {"model": f"models/{uc_name(endpoint_name)}"},
                }
            ]
        }
    }


def uc_name(endpoint_name: str) -> str:
    """databricks-claude-opus-4-8 -> system.ai.claude-opus-4-8 (the Unity Catalog model service
    Databricks provides for each pay-per-token foundation model)."""
    return "system.ai." + endpoint_name.removeprefix("databricks-")


def is_claude_endpoint(entry: dict[str, Any]) -> bool:
    """Can the Anthropic Messages route serve this endpoint?"""
    if entry.get("endpoint_type") == "FOUNDATION_MODEL_API":
        return "claude" in entry["name"]
    if entry.get("endpoint_type") == "EXTERNAL_MODEL":
        entities = entry.get("config", {}).get("served_entities", [])
        return any(e.get("external_model", {}).get("provider") == "anthropic" for e in entities)
    return False
