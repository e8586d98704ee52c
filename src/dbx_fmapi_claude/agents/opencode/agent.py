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
import sys
from collections.abc import Mapping
from pathlib import Path

from ...core.paths import Paths
from ...workspace import routes
from ..base import GEMINI, GPT, AgentSetup
from ..jsonagent import JsonAgent
from ..mcpfiles import JsonMembers

PROVIDER = "databricks"
BASE_ENV = "DBX_FMAPI_OPENCODE_BASE_URL"
KEY_ENV = "DBX_FMAPI_OPENCODE_API_KEY"
NPM = "@ai-sdk/openai-compatible"
# Where an administrator's config lives; OpenCode's own OPENCODE_TEST_MANAGED_CONFIG_DIR moves it.
MANAGED_ENV = "OPENCODE_TEST_MANAGED_CONFIG_DIR"
MANAGED = {
    "darwin": Path("/Library/Application Support/opencode"),
    "linux": Path("/etc/opencode"),
}
NAMES = ("opencode.json", "opencode.jsonc")


def _project_files(cwd: Path) -> list[Path]:
    """The project configs OpenCode finds from `cwd` up to the repository's root (it stops at
    the git work tree; without one, at the file system's root)."""
    out: list[Path] = []
    folder = cwd
    while True:
        for sub in ("", ".opencode"):
            out += [folder / sub / name for name in NAMES]
        if (folder / ".git").exists() or folder.parent == folder:
            return out
        folder = folder.parent


TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..usagelog import Reader


class OpenCode(JsonAgent):
    name = "opencode"
    label = "OpenCode"
    mcp = JsonMembers("opencode", "OpenCode", "mcp", "remote", lambda var: f"{{env:{var}}}")
    program = "opencode"
    package = "opencode-ai"
    min_version = (1, 18, 0)
    tested = "1.18.33"
    api = routes.CHAT
    model_prefix = None  # any chat model: Claude's main model by default
    model_flag = "--opencode-model"
    model_default = "the main model"
    families = (GPT, GEMINI)  # it speaks chat completions to any model
    user_env = ("OPENCODE_CONFIG_CONTENT",)  # the user's own choice of model wins
    launch = "dbx-fmapi run opencode"
    home_env = "XDG_CONFIG_HOME"

    @property
    def usage_source(self) -> Reader:
        from .usage import read

        return read

    def config_file(self, paths: Paths, env: Mapping[str, str]) -> Path:
        xdg = env.get("XDG_CONFIG_HOME")
        base = Path(xdg) if xdg and os.path.isabs(xdg) else paths.home / ".config"
        return base / "opencode" / "opencode.json"

    def provider_id(self, data: dict[str, Any], state: Mapping[str, Any]) -> str:
        return str(state.get("provider") or PROVIDER)

    def members(self, s: AgentSetup, provider: str) -> dict[tuple[str, ...], Any]:
        return {
            ("provider", provider): {
                "npm": NPM,
                "name": "Databricks (dbx-fmapi run opencode)",
                "options": {"baseURL": f"{{env:{BASE_ENV}}}", "apiKey": f"{{env:{KEY_ENV}}}"},
                "models": {s.model: {"name": s.model}},
            }
        }

    def expected(self, state: Mapping[str, Any]) -> dict[tuple[str, ...], Any]:
        from ..jsonagent import ANY

        ours = ("provider", str(state.get("provider") or PROVIDER))
        return {
            (*ours, "npm"): NPM,
            (*ours, "options", "baseURL"): f"{{env:{BASE_ENV}}}",
            (*ours, "options", "apiKey"): f"{{env:{KEY_ENV}}}",
            (*ours, "models", str(state.get("model") or "")): ANY,
        }

    def layers_after(
        self, state: Mapping[str, Any], paths: Paths, env: Mapping[str, str], cwd: Path
    ) -> list[tuple[Path, str]]:
        """What OpenCode merges over the global opencode.json, in its order."""
        out = [(self.config_file(paths, env).with_name(NAMES[1]), "your global config")]
        if env.get("OPENCODE_CONFIG"):
            out.append((Path(env["OPENCODE_CONFIG"]), "the file OPENCODE_CONFIG names"))
        out += [(p, "this project's config") for p in reversed(_project_files(cwd))]
        managed = env.get(MANAGED_ENV)
        folder = Path(managed) if managed else MANAGED.get(sys.platform, MANAGED["linux"])
        out += [(folder / name, "an administrator's config") for name in NAMES]
        return out

    def refusals(self, data: dict[str, Any], state: Mapping[str, Any]) -> list[str]:
        ours = str(state.get("provider") or PROVIDER)
        off, only = data.get("disabled_providers"), data.get("enabled_providers")
        if isinstance(off, list) and ours in off:
            return [f"disables the provider {ours!r} (disabled_providers)"]
        if isinstance(only, list) and ours not in only:
            return [
                f"enables only {', '.join(map(str, only)) or 'no provider'} "
                f"(enabled_providers), not {ours!r}"
            ]
        return []

    def owned(self, state: Mapping[str, Any]) -> list[tuple[str, ...]]:
        return [("provider", str(state.get("provider") or PROVIDER))]

    def launch_env(self, state: Mapping[str, Any], url: str, secret: str) -> dict[str, str]:
        ref = f"{state.get('provider') or PROVIDER}/{state.get('model')}"
        return {
            BASE_ENV: url,
            KEY_ENV: secret,
            "OPENCODE_CONFIG_CONTENT": json.dumps({"model": ref, "small_model": ref}),
        }

    def otel_launch(
        self, env: Mapping[str, str], url: str, secret: str, *, spans: bool = True
    ) -> tuple[dict[str, str], list[str]]:
        """OpenCode exports its spans and logs (OTLP/HTTP JSON) where OTEL_EXPORTER_OTLP_ENDPOINT
        says, with OTEL_EXPORTER_OTLP_HEADERS (measured, 1.18.33); `experimental.openTelemetry`
        adds the model calls' spans (tokens per call), set here for this run only, with spans.
        Its own spans have no switch: without spans the proxy drops them."""
        out = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": url,
            "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer {secret}",
        }
        if not spans:
            return out, []
        try:
            content = json.loads(env.get("OPENCODE_CONFIG_CONTENT") or "{}")
        except ValueError:
            content = None  # the user's own, unreadable: left as it is
        if isinstance(content, dict):
            experimental = content.get("experimental")
            if not isinstance(experimental, dict):
                experimental = {}
            content["experimental"] = {**experimental, "openTelemetry": True}
            out["OPENCODE_CONFIG_CONTENT"] = json.dumps(content)
        return out, []

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
