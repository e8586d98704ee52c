"""`setup --dry-run --agents codex,gemini,opencode`: the diff of each agent's own file (merged
into what the user has), no secret in it (ours or the user's), and nothing written, installed
or logged in. The agents themselves need not be installed for this."""

from __future__ import annotations

import json

from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

CODEX_USER = """\
model = "o3"

[model_providers.mine]
name = "Mine"
base_url = "https://llm.example/v1"
experimental_bearer_token = "users-own-bearer-0123456789"
"""
OPENCODE_KEY = "sk-proj-users-own-openai-key-0123456789"


def test_dry_run_shows_each_agents_diff_without_secrets_and_writes_nothing(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    codex = sandbox.home / ".codex" / "config.toml"
    gemini = sandbox.home / ".gemini" / "settings.json"
    opencode = sandbox.home / ".config" / "opencode" / "opencode.json"
    for path in (codex, gemini, opencode):
        path.parent.mkdir(parents=True)
    codex.write_text(CODEX_USER)
    gemini.write_text(
        json.dumps({"security": {"auth": {"selectedType": "oauth-personal"}}}, indent=2)
    )
    opencode.write_text(
        json.dumps({"provider": {"openai": {"options": {"apiKey": OPENCODE_KEY}}}}, indent=2)
    )
    before = sandbox.snapshot()
    calls = len(sandbox.databricks_calls())

    result = sandbox.run(
        ["setup-fmapi-claudecode", "--host", workspace.url, "--shell", "none", "--dry-run"]
        + ["--agents", "codex,gemini,opencode"],
        timeout=120,
    )
    assert result.code == 0, result
    out = result.stdout
    assert sandbox.snapshot() == before  # nothing written
    for path in (codex, gemini, opencode):
        assert f"--- {path}\n+++ {path}\n" in out
    # What each agent gets, as the user will see it in the file.
    assert '+model_provider = "databricks"' in out and "+[model_providers.databricks.auth]" in out
    assert '+args = ["token", "--profile", "DEFAULT"]' in out
    assert '-      "selectedType": "oauth-personal"' in out
    assert '+      "selectedType": "gemini-api-key"' in out
    assert '"apiKey": "{env:DBX_FMAPI_OPENCODE_API_KEY}"' in out
    # No secret: not the workspace token, not the user's own credentials in their files.
    assert sandbox.cached_token() not in result.output
    assert "users-own-bearer" not in result.output and OPENCODE_KEY not in result.output
    assert 'experimental_bearer_token = "<redacted>"' in out
    assert "nothing was written" in out
    new_calls = sandbox.databricks_calls()[calls:]
    assert not any(c["argv"][:2] == ["auth", "login"] for c in new_calls)
