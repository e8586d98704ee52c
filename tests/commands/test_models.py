"""`dbx-fmapi models [--json] [--validate]`: the workspace's Claude endpoints, configured ones
marked; --validate exits 1 when a configured one is missing or not READY."""

from __future__ import annotations

import json

from tests.helpers.json_shapes import MODELS_SHAPE, assert_shape
from tests.helpers.mgmt import ANSI, set_up
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace, endpoint


def test_lists_claude_endpoints_with_state_and_configured_marks(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    set_up(sandbox, workspace)
    result = sandbox.run_here(["dbx-fmapi", "models"])
    assert result.code == 0, result
    lines = ANSI.sub("", result.stdout).splitlines()
    by_name = {
        line.split()[1] if line.startswith("*") else line.split()[0]: line for line in lines[1:]
    }
    assert by_name["databricks-claude-opus-4-6"].startswith("* ")
    assert "READY" in by_name["databricks-claude-opus-4-6"]
    assert by_name["databricks-claude-opus-4-6"].rstrip().endswith("model, opus")
    assert by_name["databricks-claude-haiku-4-5"].rstrip().endswith("haiku")
    assert by_name["databricks-claude-opus-4-5"].startswith("  ")
    assert "NOT_READY" in by_name["databricks-claude-sonnet-4-6-preview"]
    assert "external model" in by_name["anthropic-external-claude"]
    # Not Claude: left out.
    assert "databricks-meta-llama-3-3-70b-instruct" not in result.stdout
    assert "my-custom-model" not in result.stdout
    # Grouped by family, newest READY first.
    names = [n for n in by_name if n.startswith("databricks-claude-")]
    assert names.index("databricks-claude-opus-4-1") < names.index("databricks-claude-sonnet-4-5")
    assert names.index("databricks-claude-sonnet-4-5") < names.index("databricks-claude-haiku-4-5")
    assert sandbox.cached_token() not in result.output


def test_json_matches_the_documented_shape(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    set_up(sandbox, workspace)
    result = sandbox.run_here(["dbx-fmapi", "models", "--json"])
    assert result.code == 0
    data = json.loads(result.stdout)
    assert_shape(data, MODELS_SHAPE)
    rows = {r["name"]: r for r in data["endpoints"]}
    assert rows["databricks-claude-opus-4-6"]["configured_as"] == ["model", "opus"]
    assert rows["databricks-claude-sonnet-4-6-preview"]["state"] == "NOT_READY"
    assert rows["anthropic-external-claude"]["kind"] == "external"
    assert data["valid"] is True
    assert [c["role"] for c in data["configured"]] == ["model", "opus", "sonnet", "haiku"]


def test_validate_passes_when_all_configured_are_ready(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    set_up(sandbox, workspace)
    result = sandbox.run_here(["dbx-fmapi", "models", "--validate"])
    assert result.code == 0, result
    assert "All configured models are READY." in result.stdout


def test_validate_fails_on_a_missing_model(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    set_up(sandbox, workspace)
    workspace.set_endpoints(
        [e for e in workspace.endpoints if e["name"] != "databricks-claude-haiku-4-5"]
    )
    result = sandbox.run_here(["dbx-fmapi", "models", "--validate"])
    assert result.code == 1, result
    assert "haiku model databricks-claude-haiku-4-5 does not exist" in result.stderr
    assert "fix: setup-fmapi-claudecode --haiku NAME" in result.stderr
    assert "MISSING" in result.stdout
    out = sandbox.run_here(["dbx-fmapi", "models", "--validate", "--json"])
    assert out.code == 1
    data = json.loads(out.stdout)
    assert_shape(data, MODELS_SHAPE)
    assert data["valid"] is False
    assert {"role": "haiku", "name": "databricks-claude-haiku-4-5", "state": "MISSING"} in data[
        "configured"
    ]
    # Without --validate, listing is not a failure.
    assert sandbox.run_here(["dbx-fmapi", "models"]).code == 0


def test_validate_fails_on_a_not_ready_model(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    set_up(sandbox, workspace)
    workspace.set_endpoints(
        [e for e in workspace.endpoints if e["name"] != "databricks-claude-sonnet-4-5"]
        + [endpoint("databricks-claude-sonnet-4-5", ready=False)]
    )
    result = sandbox.run_here(["dbx-fmapi", "models", "--validate"])
    assert result.code == 1
    assert "sonnet model databricks-claude-sonnet-4-5 is NOT_READY" in result.stderr
    assert "--sonnet NAME" in result.stderr


def test_not_set_up(sandbox: Sandbox) -> None:
    result = sandbox.run_here(["dbx-fmapi", "models"])
    assert result.code == 1
    assert "not set up" in result.stderr and "fix: setup-fmapi-claudecode" in result.stderr


def test_workspace_down(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    set_up(sandbox, workspace)
    workspace.stop()
    result = sandbox.run_here(["dbx-fmapi", "models"])
    assert result.code == 1
    assert "cannot list the models" in result.stderr and "fix: check your network" in result.stderr


def test_login_needed_without_a_terminal_exits_4(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    set_up(sandbox, workspace)
    workspace.revoke_refresh_tokens()
    sandbox.set_token_expiry(-5)
    result = sandbox.run_here(["dbx-fmapi", "models"], env={"BROWSER": None})
    assert result.code == 4, result
    assert f"databricks auth login --host {workspace.url} --profile DEFAULT" in result.stderr


# --------------------------------------------------------------------------- the other agents

GPT = "databricks-gpt-5"
GEMINI = "databricks-gemini-2-5-pro"
EVERY_AGENT = ("--agents", "claude,codex,gemini,opencode", "--codex-model", GPT)


def test_lists_gpt_and_gemini_endpoints_for_the_agents_set_up(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """Codex, Gemini CLI and OpenCode set up: their families are listed too, each in its own
    part, each agent's model marked with the agent's name (OpenCode's defaults to Claude's)."""
    set_up(sandbox, workspace, *EVERY_AGENT, "--gemini-model", GEMINI)
    result = sandbox.run_here(["dbx-fmapi", "models"])
    assert result.code == 0, result
    out = ANSI.sub("", result.stdout)
    lines = out.splitlines()
    gpt_at = lines.index("GPT endpoints (for Codex and OpenCode):")
    gemini_at = lines.index("Gemini endpoints (for Gemini CLI and OpenCode):")
    assert 0 < gpt_at < gemini_at
    gpt_part, gemini_part = lines[gpt_at + 1 : gemini_at], lines[gemini_at + 1 :]
    assert any(line.startswith(f"* {GPT} ") and line.endswith("codex") for line in gpt_part)
    assert any(line.lstrip().startswith("databricks-gpt-5-mini") for line in gpt_part)
    assert any(line.startswith(f"* {GEMINI} ") and line.endswith("gemini") for line in gemini_part)
    [opus] = [line for line in lines[:gpt_at] if "databricks-claude-opus-4-6 " in line]
    assert opus.rstrip().endswith("model, opus, opencode")
    assert sandbox.cached_token() not in result.output

    data = json.loads(sandbox.run_here(["dbx-fmapi", "models", "--json"]).stdout)
    assert_shape(data, MODELS_SHAPE)
    rows = {r["name"]: r for r in data["endpoints"]}
    assert rows[GPT]["family"] == "gpt" and rows[GPT]["configured_as"] == ["codex"]
    assert rows[GEMINI]["family"] == "gemini" and rows[GEMINI]["configured_as"] == ["gemini"]
    assert rows["databricks-claude-opus-4-6"]["configured_as"] == ["model", "opus", "opencode"]
    roles = [(c["role"], c["name"], c["state"]) for c in data["configured"]]
    assert roles[-3:] == [
        ("codex", GPT, "READY"),
        ("gemini", GEMINI, "READY"),
        ("opencode", "databricks-claude-opus-4-6", "READY"),
    ]
    assert data["valid"] is True
    validate = sandbox.run_here(["dbx-fmapi", "models", "--validate"])
    assert validate.code == 0 and "All configured models are READY." in validate.stdout


def test_lists_only_the_families_the_agents_set_up_use(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    set_up(sandbox, workspace, "--agents", "claude,codex", "--codex-model", GPT)
    out = ANSI.sub("", sandbox.run_here(["dbx-fmapi", "models"]).stdout)
    assert "GPT endpoints (for Codex):" in out
    assert "Gemini endpoints" not in out and "databricks-gemini-" not in out


def test_claude_alone_lists_no_gpt_or_gemini_endpoint(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    set_up(sandbox, workspace)
    result = sandbox.run_here(["dbx-fmapi", "models", "--json"])
    data = json.loads(result.stdout)
    assert_shape(data, MODELS_SHAPE)
    assert not [r for r in data["endpoints"] if r["family"] in ("gpt", "gemini")]
    assert "databricks-gpt-" not in sandbox.run_here(["dbx-fmapi", "models"]).stdout


def test_validate_covers_each_agents_model(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    """An agent's model gone from the workspace, another's not READY: --validate names each
    agent, says what is wrong, and gives the flag that picks another model."""
    set_up(sandbox, workspace, *EVERY_AGENT, "--gemini-model", GEMINI)
    workspace.set_endpoints(
        [e for e in workspace.endpoints if e["name"] not in (GPT, GEMINI)]
        + [endpoint(GEMINI, ready=False)]
    )
    result = sandbox.run_here(["dbx-fmapi", "models", "--validate"])
    assert result.code == 1, result
    assert f"Codex's model {GPT} does not exist" in result.stderr
    assert f"Gemini CLI's model {GEMINI} is NOT_READY" in result.stderr
    assert "fix: setup-fmapi-claudecode --codex-model NAME --gemini-model NAME" in result.stderr
    assert "OpenCode" not in result.stderr  # its model is still there
    out = ANSI.sub("", result.stdout)
    assert f"! {GPT}" in out and "MISSING" in out
    as_json = sandbox.run_here(["dbx-fmapi", "models", "--validate", "--json"])
    assert as_json.code == 1
    data = json.loads(as_json.stdout)
    assert_shape(data, MODELS_SHAPE)
    assert data["valid"] is False
    assert {"role": "codex", "name": GPT, "state": "MISSING"} in data["configured"]
    assert {"role": "gemini", "name": GEMINI, "state": "NOT_READY"} in data["configured"]
