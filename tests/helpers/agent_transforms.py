"""An AgentSetup over a tmp HOME, its plan applied for real, and the user's own file for
each agent: for the agent transform and uninstall tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbx_fmapi_claude.agents.base import AgentSetup
from dbx_fmapi_claude.changes import engine
from dbx_fmapi_claude.core.paths import Paths
from dbx_fmapi_claude.workspace.routes import GATEWAY_NAME as GATEWAY

HELPER = "/home/u s/.local/bin/dbx-fmapi"


def _setup(tmp_path: Path, name: str, state: dict[str, Any] | None = None, **kw: Any) -> AgentSetup:
    paths = Paths(home=tmp_path, config_dir=tmp_path / ".config" / "dbx-fmapi-claude")
    return AgentSetup(
        paths=paths,
        env={},
        host="https://x.cloud.databricks.com",
        profile="DEFAULT",
        helper=HELPER,
        model=kw.get("model", "databricks-gpt-5"),
        route=GATEWAY,
        base_url=f"https://x.cloud.databricks.com{kw.get('path', '/ai-gateway/codex/v1')}",
        ttl_seconds=900,
        state=state or {},
    )


def _apply(s: AgentSetup, plan: engine.Plan) -> None:
    engine.apply(plan, paths=s.paths, say=lambda line: None, name="setup", again="setup")


CASES = {
    "codex": (".codex/config.toml", b'# mine\nmodel = "o3"\n\n[profiles.x]\nmodel = "gpt-5"\n'),
    "gemini": (
        ".gemini/settings.json",
        b'{\n    "theme": "Dracula",\n'
        b'    "security": {"auth": {"selectedType": "oauth-personal"}}\n}',
    ),
    "opencode": (
        ".config/opencode/opencode.json",
        b'{"$schema": "https://opencode.ai/config.json", "provider": {"ollama": {"npm": "x"}}}\n',
    ),
}
