"""A doctor run over a tmp HOME holding setup's files for Codex, Gemini CLI and OpenCode, with
the programs and versions stubbed (nothing runs) and a stub workspace that records the one-token
request or raises what a workspace answers: for tests/doctor/test_doctor_agent*.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dbx_fmapi_claude import agents
from dbx_fmapi_claude.agents.codex import configtoml
from dbx_fmapi_claude.doctor import agent_checks
from dbx_fmapi_claude.doctor.graph import Spec, validate, walk
from dbx_fmapi_claude.doctor.report import Report, Run
from dbx_fmapi_claude.record import config
from dbx_fmapi_claude.workspace.client import WorkspaceError
from tests.helpers.contexts import quiet_context

HOST = "https://ws.example.com"
ALL = ["claude", "codex", "gemini", "opencode"]
AGAIN = "setup-fmapi-claudecode --agents claude,codex,gemini,opencode"
Line = tuple[str, str, str, "str | None"]


class StubWorkspace:
    """Records each request; raises `error` instead when set."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []
        self.error: WorkspaceError | None = None

    def request(self, method: str, url: str, body: Any = None) -> Any:
        self.sent.append((method, url, body))
        if self.error is not None:
            raise self.error
        return {}


class World:
    """A tmp HOME with setup's files for the three agents, and a doctor run over it."""

    def __init__(self, tmp: Path) -> None:
        self.home = tmp / "user"
        self.project = tmp / "project"
        self.admin = tmp / "admin"
        for folder in (self.home, self.project / ".git", self.admin):
            folder.mkdir(parents=True)
        self.helper = tmp / "bin" / "dbx-fmapi"
        self.helper.parent.mkdir()
        self.helper.write_text("#!/bin/sh\n")
        self.helper.chmod(0o755)
        self.env = {
            "HOME": str(self.home),
            "PATH": str(tmp / "bin"),
            "DBX_FMAPI_CODEX_MANAGED_CONFIG": str(self.admin / "managed_config.toml"),
            "GEMINI_CLI_SYSTEM_SETTINGS_PATH": str(self.admin / "gemini-settings.json"),
            "OPENCODE_TEST_MANAGED_CONFIG_DIR": str(self.admin / "opencode"),
        }
        self.codex = self.home / ".codex" / "config.toml"
        self.gemini = self.home / ".gemini" / "settings.json"
        self.opencode = self.home / ".config" / "opencode" / "opencode.json"
        base = f"{HOST}/serving-endpoints"
        self.cfg: dict[str, Any] = {
            "host": HOST,
            "profile": "DEFAULT",
            "agents": list(ALL),
            "codex": {
                "file": str(self.codex),
                "model": "databricks-gpt-5",
                "route": "serving-endpoints",
                "base_url": f"{base}/openai/v1",
                "provider": "databricks",
            },
            "gemini": {
                "file": str(self.gemini),
                "model": "databricks-gemini-2-5-pro",
                "route": "serving-endpoints",
                "base_url": f"{base}/gemini",
            },
            "opencode": {
                "file": str(self.opencode),
                "model": "databricks-claude-opus-4-6",
                "route": "serving-endpoints",
                "base_url": base,
                "provider": "databricks",
            },
        }
        user = 'approval_policy = "never"\n\n[profiles.home]\nmodel_provider = "azure"\n'
        self.write(self.codex, configtoml.merge(user, self.codex_top(), self.codex_provider()))
        self.write_json(self.gemini, {"security": {"auth": {"selectedType": "gemini-api-key"}}})
        ours = {
            "npm": "@ai-sdk/openai-compatible",
            "options": {
                "baseURL": "{env:DBX_FMAPI_OPENCODE_BASE_URL}",
                "apiKey": "{env:DBX_FMAPI_OPENCODE_API_KEY}",
            },
            "models": {"databricks-claude-opus-4-6": {"name": "databricks-claude-opus-4-6"}},
        }
        self.write_json(self.opencode, {"share": "disabled", "provider": {"databricks": ours}})
        self.ws = StubWorkspace()

    def codex_top(self, provider: str = "databricks") -> str:
        return configtoml.render_top(provider, "databricks-gpt-5")

    def codex_provider(self, base: str | None = None) -> str:
        return configtoml.render_provider(
            "databricks",
            base or self.cfg["codex"]["base_url"],
            [str(self.helper), "token", "--profile", "DEFAULT"],
            timeout_ms=60000,
            refresh_interval_ms=900000,
        )

    @staticmethod
    def write(path: Path, text: str | bytes) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return path

    def write_json(self, path: Path, data: Any) -> Path:
        return self.write(path, json.dumps(data, indent=2) + "\n")

    def doctor(self, *, token: bool = True, workspace: bool = True) -> list[Line]:
        """The agent checks, walked after stand-ins for setup, the token and the workspace."""
        ctx = quiet_context(self.env, self.project)
        run = Run(ctx, Report(ctx, live=False))
        run.cfg = config.Configuration(self.cfg)  # as doctor reads it: the typed view
        run.ws = self.ws  # type: ignore[assignment]  # a stub client

        def stand_in(ok: bool) -> Any:
            return lambda r: r.add("PASS", "ok") if ok else r.add("FAIL", "broken", "fix it")

        specs = [
            Spec("config", "Setup", stand_in(True), needed_as="setup"),
            Spec("token", "Token", stand_in(token), needed_as="a token"),
            Spec("workspace", "Workspace", stand_in(workspace), needed_as="the workspace"),
            *agent_checks.specs(),
        ]
        validate(specs)
        walk(specs, run)
        return [(c.id, c.status, c.detail, c.fix) for c in run.report.checks[3:]]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """Every agent installed at the release the rig tests (stubbed: nothing runs)."""
    for name in ALL[1:]:
        agent = agents.get(name)
        monkeypatch.setattr(agent, "find", lambda env, home, n=name: f"/opt/bin/{n}")
    versions = {f"/opt/bin/{n}": f"{n} {agents.get(n).tested}" for n in ALL[1:]}
    monkeypatch.setattr(agent_checks, "version_of", lambda exe, env: (versions[exe], None))
    return World(tmp_path)


def by_id(lines: list[Line]) -> dict[str, tuple[str, str, str | None]]:
    return {i: (s, d, f) for i, s, d, f in lines}


def one(world: World, check: str) -> tuple[str, str, str | None]:
    return by_id(world.doctor())[check]
