"""The user's own agent files before setup (Codex's config.toml, Gemini CLI's settings), with
the switches that keep each agent off the network, and Gemini CLI's environment as `run` sees it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.rig.agents import Agents, gemini_settings
from tests.rig.sandbox import Sandbox

GPT = "databricks-gpt-5"


CODEX_USER = """\
# my Codex settings
model = "o3"  # what I use at home
approval_policy = "never"
check_for_update_on_startup = false

[analytics]
enabled = false

[feedback]
enabled = false

[features]
plugins = false  # else it reaches github.com at start

[model_providers.azure]
name = "Azure"
base_url = "https://azure.example/openai"
env_key = "AZURE_OPENAI_API_KEY"
wire_api = "responses"

[profiles.home]
model = "o3"
model_provider = "azure"
"""


def link(sandbox: Sandbox, name: str, exe: str) -> None:
    """`name` on the sandbox's PATH runs `exe` (sandbox.link_program)."""
    sandbox.link_program(name, exe)


def gemini_env(agents: Agents) -> dict[str, str | None]:
    """Gemini CLI isolated as the rig runs it, but without a base URL or key: `run` sets them."""
    env = agents.gemini_env(None, "")
    for key in ("GOOGLE_GEMINI_BASE_URL", "GEMINI_API_KEY", "GEMINI_API_KEY_AUTH_MECHANISM"):
        env[key] = None
    return env


def users_gemini_settings(agents: Agents) -> Path:
    """The user's own settings: the rig's switches (no update check, no telemetry), a theme,
    and a Google login that setup replaces and uninstall puts back."""
    settings = gemini_settings()
    settings["security"]["auth"]["selectedType"] = "oauth-personal"
    settings["ui"] = {"theme": "Dracula"}
    path = agents.gemini_home / ".gemini" / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=4))
    return path
