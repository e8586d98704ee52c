"""OpenCode: `$XDG_CONFIG_HOME/opencode/opencode.json` (default `~/.config/opencode/opencode.json`)
gets a provider on the workspace's chat-completions route whose `baseURL` and `apiKey` are
`{env:…}` references: `dbx-fmapi run opencode` fills them with the loopback proxy's URL and
per-launch secret, and picks the model (OPENCODE_CONFIG_CONTENT, which OpenCode merges over its
files). OpenCode reads its config once per process (measured with 1.18.33: docs/agents.md), so
a token written into the file would go stale; the proxy puts a fresh one on each request.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...core.paths import Paths
from ..base import AgentSetup, Wire
from ..jsonagent import JsonAgent

PROVIDER = "databricks"
BASE_ENV = "DBX_FMAPI_OPENCODE_BASE_URL"
KEY_ENV = "DBX_FMAPI_OPENCODE_API_KEY"


class OpenCode(JsonAgent):
    name = "opencode"
    label = "OpenCode"
    program = "opencode"
    package = "opencode-ai"
    min_version = (1, 18, 0)
    tested = "1.18.33"
    wire = Wire("chat", gateway=("/ai-gateway/mlflow/v1",), serving=("/serving-endpoints",))
    model_prefix = None  # any chat model: Claude's main model by default
    model_flag = "--opencode-model"
    launch = "dbx-fmapi run opencode"

    def config_file(self, paths: Paths, env: Mapping[str, str]) -> Path:
        xdg = env.get("XDG_CONFIG_HOME")
        base = Path(xdg) if xdg and os.path.isabs(xdg) else paths.home / ".config"
        return base / "opencode" / "opencode.json"

    def provider_id(self, data: dict[str, Any], state: Mapping[str, Any]) -> str:
        return str(state.get("provider") or PROVIDER)

    def members(self, s: AgentSetup, provider: str) -> dict[tuple[str, ...], Any]:
        return {
            ("provider", provider): {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Databricks (dbx-fmapi run opencode)",
                "options": {"baseURL": f"{{env:{BASE_ENV}}}", "apiKey": f"{{env:{KEY_ENV}}}"},
                "models": {s.model: {"name": s.model}},
            }
        }

    def owned(self, state: Mapping[str, Any]) -> list[tuple[str, ...]]:
        return [("provider", str(state.get("provider") or PROVIDER))]

    def launch_env(self, state: Mapping[str, Any], url: str, secret: str) -> dict[str, str]:
        ref = f"{state.get('provider') or PROVIDER}/{state.get('model')}"
        return {
            BASE_ENV: url,
            KEY_ENV: secret,
            "OPENCODE_CONFIG_CONTENT": json.dumps({"model": ref, "small_model": ref}),
        }

    def ping(self, ws: Any, base_url: str, model: str) -> None:
        ws.request(
            "POST",
            f"{base_url}/chat/completions",
            body={
                "model": model,
                "messages": [{"role": "user", "content": "ping"}],
                "max_tokens": 1,
            },
        )


AGENT = OpenCode()
