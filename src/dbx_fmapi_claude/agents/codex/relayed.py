"""`dbx-fmapi run codex` behind the loopback relay (agents/relay.py): Codex 0.171.0 retries a
403 five times with the same token and takes the AI Gateway's `400 Invalid Token` as final, so
a token the workspace rejects mid-session fails the turn until its command runs again (the
TTL). Behind the relay the refused request is sent once more with a new token before Codex
sees it. Codex is pointed at the relay by `-c` overrides of setup's provider (base URL, and a
token command printing the per-launch key from the environment: never in argv).
"""

from __future__ import annotations

from collections.abc import Mapping

from . import configtoml

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ENV_KEY = "DBX_FMAPI_RELAY_KEY"
ENV_SWITCH = "DBX_FMAPI_CODEX_RELAY"
# Codex commands that make no model request: run as they are.
_NO_MODEL = frozenset(
    {
        "login",
        "logout",
        "mcp",
        "mcp-server",
        "app-server",
        "completion",
        "sandbox",
        "debug",
        "apply",
        "a",
        "features",
        "cloud",
        "help",
        "--version",
        "-V",
        "--help",
        "-h",
    }
)


def wanted(args: list[str], env: Mapping[str, str]) -> bool:
    if env.get(ENV_SWITCH, "").strip().lower() in ("0", "no", "off", "false"):
        return False
    return not any(a in _NO_MODEL for a in args[:1]) and "--version" not in args


def overrides(state: Mapping[str, Any], url: str) -> list[str]:
    """Codex's `-c` arguments: setup's provider at the relay's `url`, its key from ENV_KEY."""
    provider = str(state.get("provider") or "") or "databricks"
    table = f"model_providers.{provider}"
    return [
        "-c",
        f"{table}.base_url={configtoml.string(url)}",
        "-c",
        f'{table}.auth.command="sh"',
        "-c",
        f'{table}.auth.args=["-c", "printf %s ${ENV_KEY}"]',
    ]
