"""The interactive setup through a real pseudo-terminal (pexpect): the seed's prompts, the model
picks from the workspace's live list with the arrow keys, defaults from the previous run, and
Ctrl-C at any prompt exiting 130 with nothing changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dbx_fmapi_claude.workspace.client import claude_endpoints
from tests.helpers.mgmt import VOLATILE
from tests.helpers.pty import DOWN, UP
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace


def order(workspace: FakeWorkspace, fam: str | None = None) -> list[str]:
    """The model list as setup offers it: Claude endpoints, READY first, newest first."""
    names = [str(e["name"]) for e in claude_endpoints(workspace.endpoints)]
    if fam:
        names = [n for n in names if f"-{fam}" in n.removeprefix("databricks-claude")]
    return names


def test_prompts_arrow_picks_and_location(
    sandbox: Sandbox, workspace: FakeWorkspace, spawn: Any, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    s = spawn(cwd=project)
    # A URL without https is refused at the prompt, which asks again.
    s.answer("Workspace URL", "my-workspace.cloud.databricks.com")
    s.expect("Workspace URL must start with https://")
    s.answer("Workspace URL", workspace.url + "/?o=123")
    s.answer("Databricks CLI profile name [DEFAULT]", "")  # Enter: the default
    # Setup signs in (the rig's browser approves), then offers the live list.
    s.pick("Model (ANTHROPIC_MODEL)", DOWN)
    s.pick("Opus model")  # Enter: the newest READY opus
    s.pick("Sonnet model", DOWN, DOWN, UP, UP)  # [1] is sonnet-4, retired: not the next default
    s.pick("Haiku model")
    s.pick("Settings location", DOWN)  # the current directory
    assert s.finish() == 0, s.transcript

    env = json.loads((project / ".claude" / "settings.json").read_text())["env"]
    assert env["ANTHROPIC_MODEL"] == order(workspace)[1]
    assert env["ANTHROPIC_DEFAULT_OPUS_MODEL"] == order(workspace, "opus")[0]
    assert env["ANTHROPIC_DEFAULT_SONNET_MODEL"] == order(workspace, "sonnet")[0]
    assert env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == order(workspace, "haiku")[0]
    assert env["ANTHROPIC_BASE_URL"] == f"{workspace.url}/serving-endpoints/anthropic"
    assert not (sandbox.home / ".claude" / "settings.json").exists()
    assert any(c["argv"][:2] == ["auth", "login"] for c in sandbox.databricks_calls())

    # The next run offers the previous answers as defaults: Enter everywhere changes nothing.
    before = sandbox.snapshot(exclude=VOLATILE)
    s = spawn(cwd=project)
    s.answer(f"Workspace URL [{workspace.url}]", "")
    s.answer("Databricks CLI profile name [DEFAULT]", "")
    for prompt in ("Model (ANTHROPIC_MODEL)", "Opus model", "Sonnet model", "Haiku model"):
        s.pick(prompt)
    s.pick("Settings location")
    s.expect("already configured")
    assert s.finish() == 0, s.transcript
    assert sandbox.snapshot(exclude=VOLATILE) == before


def test_the_list_marks_the_default_and_collapses_to_the_answer(
    sandbox: Sandbox, workspace: FakeWorkspace, spawn: Any
) -> None:
    sandbox.signed_in(workspace)
    s = spawn("--profile", "DEFAULT", "--opus", "databricks-claude-opus-4-5")
    s.answer("Workspace URL", workspace.url)
    s.expect("Model (ANTHROPIC_MODEL)")
    s.expect("> databricks-claude-opus-4-5")  # the default follows the opus pick
    s.expect("other (type an endpoint name)")
    s.child.send("\r")
    s.expect("Model (ANTHROPIC_MODEL): databricks-claude-opus-4-5")
    # Only the flags' gaps are asked: no Opus prompt.
    s.expect("Sonnet model")
    s.child.send("\r")
    s.pick("Haiku model")
    s.pick("Settings location")
    assert s.finish() == 0, s.transcript
    assert "Opus model" not in s.transcript


def test_other_lets_you_type_an_endpoint_name_checked_against_the_workspace(
    sandbox: Sandbox, workspace: FakeWorkspace, spawn: Any
) -> None:
    sandbox.signed_in(workspace)
    s = spawn("--opus", "databricks-claude-opus-4-6", "--sonnet", "databricks-claude-sonnet-4-5")
    s.answer("Workspace URL", workspace.url)
    s.answer("Databricks CLI profile name", "")
    s.pick("Model (ANTHROPIC_MODEL)", UP)  # wraps to the last entry: "other"
    s.answer("Endpoint name", "databricks-claude-nope-1")
    s.expect("the workspace has no model endpoint 'databricks-claude-nope-1'")
    s.answer("Endpoint name", "databricks-claude-3-7-sonnet")
    s.pick("Haiku model")
    s.pick("Settings location")
    assert s.finish() == 0, s.transcript
    env = json.loads((sandbox.home / ".claude" / "settings.json").read_text())["env"]
    assert env["ANTHROPIC_MODEL"] == "databricks-claude-3-7-sonnet"


def test_numbered_fallback_on_a_dumb_terminal(
    sandbox: Sandbox, workspace: FakeWorkspace, spawn: Any
) -> None:
    sandbox.signed_in(workspace)
    s = spawn("--profile", "DEFAULT", term="dumb")
    s.answer("Workspace URL", workspace.url)
    s.expect("Model (ANTHROPIC_MODEL)")
    s.answer("Choose 1-", "2")
    for _ in ("Opus", "Sonnet", "Haiku"):
        s.answer("Choose 1-", "")
    s.expect("Settings location")
    s.answer("Choose 1-3 [1]", "9")  # out of range: asked again
    s.expect("choose a number from 1 to 3")
    s.answer("Choose 1-3 [1]", "1")
    assert s.finish() == 0, s.transcript
    env = json.loads((sandbox.home / ".claude" / "settings.json").read_text())["env"]
    assert env["ANTHROPIC_MODEL"] == order(workspace)[1]


@pytest.mark.parametrize("where", ["url", "profile", "model list", "location", "custom path"])
def test_ctrl_c_at_any_prompt_exits_130_with_nothing_changed(
    sandbox: Sandbox, workspace: FakeWorkspace, spawn: Any, where: str
) -> None:
    sandbox.signed_in(workspace)
    (sandbox.home / ".bashrc").write_text("export A=1\n")
    sandbox.write_claude_settings({"permissions": {"allow": []}})
    before = sandbox.snapshot(exclude=VOLATILE)
    s = spawn()
    if where != "url":
        s.answer("Workspace URL", workspace.url)
    if where not in ("url", "profile"):
        s.answer("Databricks CLI profile name", "")
    if where in ("location", "custom path"):
        for prompt in ("Model (ANTHROPIC_MODEL)", "Opus model", "Sonnet model", "Haiku model"):
            s.pick(prompt)
    if where == "custom path":
        s.pick("Settings location", DOWN, DOWN)
        s.expect("Folder for .claude/settings.json")
    else:
        s.expect(
            {
                "url": "Workspace URL",
                "profile": "Databricks CLI profile name",
                "model list": "(up/down, Enter)",
                "location": "(up/down, Enter)",
            }[where]
        )
    s.child.sendintr()
    assert s.finish() == 130, s.transcript
    assert "nothing was changed" in s.transcript
    assert sandbox.snapshot(exclude=VOLATILE) == before


@pytest.mark.parametrize("where", ["url", "model list"])
def test_ctrl_c_cancels_even_when_setup_started_with_sigint_ignored(
    sandbox: Sandbox, workspace: FakeWorkspace, spawn: Any, where: str
) -> None:
    """A program started with SIGINT ignored keeps it ignored: the terminal echoed ^C and the
    prompt waited for ever (seen as a flaky timeout when the suite ran in the background)."""
    sandbox.signed_in(workspace)
    before = sandbox.snapshot(exclude=VOLATILE)
    s = spawn(sigint_ignored=True)
    if where == "url":
        s.expect("Workspace URL")
    else:
        s.answer("Workspace URL", workspace.url)
        s.answer("Databricks CLI profile name", "")
        s.expect("(up/down, Enter)")
    s.child.sendintr()
    assert s.finish() == 130, s.transcript
    assert "interrupted; nothing was changed" in s.transcript
    assert sandbox.snapshot(exclude=VOLATILE) == before


def test_end_of_input_at_a_prompt_is_a_cancel_naming_the_flags(
    sandbox: Sandbox, spawn: Any
) -> None:
    s = spawn()
    s.expect("Workspace URL")
    s.child.sendeof()
    assert s.finish() == 2, s.transcript
    assert "--host" in s.transcript
    assert sandbox.snapshot() == {}


def test_static_mode_on_a_tracked_file_offers_the_local_file(
    sandbox: Sandbox, workspace: FakeWorkspace, spawn: Any, tmp_path: Path
) -> None:
    import subprocess

    sandbox.signed_in(workspace)
    project = tmp_path / "p"
    (project / ".claude").mkdir(parents=True)
    (project / ".claude" / "settings.json").write_text("{}\n")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "add", ".claude/settings.json"], cwd=project, check=True)
    s = spawn("--token-mode", "static", "--settings-location", "cwd", cwd=project)
    s.answer("Workspace URL", workspace.url)
    s.answer("Databricks CLI profile name", "")
    for prompt in ("Model (ANTHROPIC_MODEL)", "Opus model", "Sonnet model", "Haiku model"):
        s.pick(prompt)
    s.answer("instead? [Y/n]", "")
    assert s.finish() == 0, s.transcript
    local = json.loads((project / ".claude" / "settings.local.json").read_text())
    assert local["env"]["ANTHROPIC_AUTH_TOKEN"] == sandbox.cached_token()
    assert (project / ".claude" / "settings.json").read_text() == "{}\n"


def test_a_family_the_workspace_lacks_offers_setups_choice_from_another_family_first(
    sandbox: Sandbox, workspace: FakeWorkspace, spawn: Any
) -> None:
    from tests.rig.workspace import endpoint

    workspace.set_endpoints(
        [endpoint("databricks-claude-sonnet-4-5"), endpoint("databricks-claude-haiku-4-5")]
    )
    sandbox.signed_in(workspace)
    s = spawn("--model", "databricks-claude-sonnet-4-5")
    s.answer("Workspace URL", workspace.url)
    s.answer("Databricks CLI profile name", "")
    s.expect("Opus model")
    s.expect("> databricks-claude-sonnet-4-5")  # what setup chose (and said), highlighted
    s.expect("other (type an endpoint name)")
    s.child.send("\r")
    s.pick("Sonnet model")
    s.pick("Haiku model")
    s.pick("Settings location")
    assert s.finish() == 0, s.transcript
    env = json.loads((sandbox.home / ".claude" / "settings.json").read_text())["env"]
    assert env["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "databricks-claude-sonnet-4-5"


def test_a_profile_of_another_workspace_is_asked_again(
    sandbox: Sandbox, workspace: FakeWorkspace, spawn: Any
) -> None:
    (sandbox.home / ".databrickscfg").write_text("[work]\nhost = https://other.example.com\n")
    s = spawn()
    s.answer("Workspace URL", workspace.url)
    s.answer("Databricks CLI profile name [DEFAULT]", "work")
    s.expect("profile 'work' in ~/.databrickscfg is for https://other.example.com")
    s.answer("Databricks CLI profile name [DEFAULT]", "mine")
    for prompt in ("Model (ANTHROPIC_MODEL)", "Opus model", "Sonnet model", "Haiku model"):
        s.pick(prompt)
    s.pick("Settings location")
    assert s.finish() == 0, s.transcript
    assert "[mine]" in (sandbox.home / ".databrickscfg").read_text()


def test_ctrl_c_after_the_login_says_the_cli_saved_the_profile(
    sandbox: Sandbox, workspace: FakeWorkspace, spawn: Any
) -> None:
    """The browser login writes ~/.databrickscfg (the CLI does): stopped after it, setup must
    not claim that nothing changed."""
    s = spawn()
    s.answer("Workspace URL", workspace.url)
    s.answer("Databricks CLI profile name", "")
    s.expect("(up/down, Enter)")  # past the login: the model list
    s.child.sendintr()
    assert s.finish() == 130, s.transcript
    assert "the Databricks login had saved profile 'DEFAULT'" in " ".join(s.transcript.split())
    assert "nothing else was changed" in " ".join(s.transcript.split())
    assert (sandbox.home / ".databrickscfg").exists()
    assert not (sandbox.home / ".claude").exists()
