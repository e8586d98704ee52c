"""Gemini CLI: `$GEMINI_CLI_HOME/.gemini/settings.json` (default `~/.gemini/settings.json`) gets
`security.auth.selectedType = "gemini-api-key"`; `dbx-fmapi run gemini` points it at the loopback
proxy (GOOGLE_GEMINI_BASE_URL, the per-launch secret as GEMINI_API_KEY sent as a bearer token)
and picks the model (GEMINI_MODEL, unless `-m` is given). Gemini CLI reads its key once and ends
the run on the first rejected one (measured with 0.61.0: docs/agents.md), so no token of ours
ever reaches it: the proxy puts a fresh one on each request.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from ...core.paths import Paths
from ...workspace import routes
from .. import jsonfile
from ..base import GEMINI, AgentSetup
from ..jsonagent import JsonAgent
from ..mcpfiles import JsonMembers

AUTH = ("security", "auth", "selectedType")
ENFORCED = ("security", "auth", "enforcedType")
API_KEY = "gemini-api-key"
SYSTEM_ENV = "GEMINI_CLI_SYSTEM_SETTINGS_PATH"
SYSTEM = {
    "darwin": Path("/Library/Application Support/GeminiCli/settings.json"),
    "linux": Path("/etc/gemini-cli/settings.json"),
}


TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..usagelog import Reader


class Gemini(JsonAgent):
    name = "gemini"
    label = "Gemini CLI"
    program = "gemini"
    package = "@google/gemini-cli"
    min_version = (0, 61, 0)  # the oldest measured with GEMINI_API_KEY_AUTH_MECHANISM=bearer
    tested = "0.61.0"
    mcp = JsonMembers("gemini", "Gemini CLI", "mcpServers", "http", lambda var: f"${var}")
    api = routes.GEMINI
    model_prefix = GEMINI.prefix
    model_flag = "--gemini-model"
    model_default = "newest Gemini"
    families = (GEMINI,)
    user_env = ("GEMINI_MODEL",)  # the user's own choice of model wins over the configured one
    launch = "dbx-fmapi run gemini"
    home_env = "GEMINI_CLI_HOME"

    # Gemini CLI 0.61.0 runs a prompt (-p, or input that is not a terminal) only in a folder
    # it trusts: else exit 55, "not running in a trusted directory" (measured).
    trust_flag = "--skip-trust"
    UNTRUSTED_EXIT = 55

    @property
    def usage_source(self) -> Reader:
        from .usage import read

        return read

    def may_refuse_folder(self, args: list[str]) -> bool:
        return self.trust_flag not in args

    def refused_folder(self, args: list[str], code: int) -> bool:
        return code == self.UNTRUSTED_EXIT and self.trust_flag not in args

    def config_file(self, paths: Paths, env: Mapping[str, str]) -> Path:
        home = env.get("GEMINI_CLI_HOME")
        base = Path(home) if home and os.path.isabs(home) else paths.home
        return base / ".gemini" / "settings.json"

    def members(self, s: AgentSetup, provider: str) -> dict[tuple[str, ...], Any]:
        return {AUTH: API_KEY}

    def expected(self, state: Mapping[str, Any]) -> dict[tuple[str, ...], Any]:
        return {AUTH: API_KEY}

    def layers_after(
        self, state: Mapping[str, Any], paths: Paths, env: Mapping[str, str], cwd: Path
    ) -> list[tuple[Path, str]]:
        """The project's settings, then the system's: both win over the user's."""
        system = env.get(SYSTEM_ENV)
        return [
            (cwd / ".gemini" / "settings.json", "this project's settings"),
            (
                Path(system) if system else SYSTEM.get(sys.platform, SYSTEM["linux"]),
                "an administrator's system settings",
            ),
        ]

    def refusals(self, data: dict[str, Any], state: Mapping[str, Any]) -> list[str]:
        enforced = jsonfile.get(data, ENFORCED)
        if enforced is jsonfile.MISSING or enforced in (None, API_KEY):
            return []
        return [f"enforces security.auth.enforcedType = {json.dumps(enforced)}: no API key"]

    def owned(self, state: Mapping[str, Any]) -> list[tuple[str, ...]]:
        return [AUTH]

    def launch_env(self, state: Mapping[str, Any], url: str, secret: str) -> dict[str, str]:
        return {
            "GOOGLE_GEMINI_BASE_URL": url,
            "GEMINI_API_KEY": secret,
            "GEMINI_API_KEY_AUTH_MECHANISM": "bearer",
            "GEMINI_MODEL": str(state.get("model") or ""),
        }

    def otel_launch(
        self, env: Mapping[str, str], url: str, secret: str, *, spans: bool = True
    ) -> tuple[dict[str, str], list[str]]:
        """Gemini CLI's telemetry, for this run, through its GEMINI_TELEMETRY_* variables (over
        its settings): OTLP/HTTP (JSON; the proxy makes it protobuf) to `url`/v1/…, prompts not
        logged; the secret through OTEL_EXPORTER_OTLP_HEADERS, which its exporters read. It
        has no switch for spans alone (0.61.0: `telemetry.traces` only adds the prompt and
        answer to them): without spans the proxy drops its /v1/traces exports."""
        return {
            "GEMINI_TELEMETRY_ENABLED": "true",
            "GEMINI_TELEMETRY_TARGET": "local",
            "GEMINI_TELEMETRY_OTLP_ENDPOINT": url,
            "GEMINI_TELEMETRY_OTLP_PROTOCOL": "http",
            "GEMINI_TELEMETRY_LOG_PROMPTS": "false",
            "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer {secret}",
        }, []

    def ping(self, ws: Any, base_url: str, model: str) -> None:
        from urllib.parse import quote

        ws.request(
            "POST",
            f"{base_url}/v1beta/models/{quote(model, safe='')}:generateContent",
            body={
                "contents": [{"role": "user", "parts": [{"text": "ping"}]}],
                "generationConfig": {"maxOutputTokens": 1},
            },
        )


AGENT = Gemini()
