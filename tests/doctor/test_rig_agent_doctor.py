"""`dbx-fmapi doctor` for the agents beside Claude Code, with the real Codex, Gemini CLI and
OpenCode and the real CLI: a configuration with all four passes; a Codex config broken by hand
FAILs with the fix and SKIPs its request; an old or missing program is reported, and does not
stop its config and request checks.

One setup serves every check (each setup and doctor run asks each agent for its --version: a
real Gemini CLI or OpenCode start costs a second or more of CPU). The real programs answer the
first doctor; setup and the later runs check our files and requests, so stand-ins that answer
--version in the real programs' words take their place (tests/helpers/agent_versions.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers.agent_users import CODEX_USER
from tests.helpers.agent_versions import real_after, version_of, version_stand_in
from tests.helpers.json_shapes import DOCTOR_SHAPE, assert_shape
from tests.helpers.mgmt import checks_by_id, doctor, doctor_json, fake_claude, find_check, set_up
from tests.rig.agents import Agents, NetTrap, gemini_settings, seed_opencode_plugin
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

pytestmark = pytest.mark.e2e

ALL = "claude,codex,gemini,opencode"
GPT = "databricks-gpt-5"
OTHERS = ("codex", "gemini", "opencode")


def every_env(agents: Agents) -> dict[str, str | None]:
    """The three agents isolated as the rig runs them, together (the user's shell)."""
    env = {**agents.codex_env(), **agents.opencode_env(), **agents.gemini_env(None, "")}
    for key in ("GOOGLE_GEMINI_BASE_URL", "GEMINI_API_KEY", "GEMINI_API_KEY_AUTH_MECHANISM"):
        env[key] = None
    return env


def set_up_all(
    sandbox: Sandbox, workspace: FakeWorkspace, agents: Agents, bins: dict[str, str], *args: str
) -> dict[str, str | None]:
    """The user's own agent files (network switches off), then setup with every agent; the
    real programs on PATH after it."""
    fake_claude(sandbox)
    agents.write_codex_config(CODEX_USER)
    agents.write_gemini_settings(gemini_settings())
    opencode = agents.xdg["XDG_CONFIG_HOME"] / "opencode" / "opencode.json"
    opencode.parent.mkdir(parents=True, exist_ok=True)
    opencode.write_text('{"autoupdate": false, "share": "disabled"}\n')
    seed_opencode_plugin(opencode.parent, version_of("opencode"))
    env = every_env(agents)
    with real_after(sandbox, **bins):  # setup only asks their --version: doctor's are real
        set_up(sandbox, workspace, "--agents", ALL, "--codex-model", GPT, *args, env=env)
    return env


@pytest.fixture
def bins(codex_bin: str, gemini_bin: str, opencode_bin: str) -> dict[str, str]:
    return {"codex": codex_bin, "gemini": gemini_bin, "opencode": opencode_bin}


def agent_checks(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in checks_by_id(report).items() if k.startswith("agent:")}


def test_every_agent_passes_then_a_codex_provider_removed_by_hand_fails_with_the_fix(
    sandbox: Sandbox,
    workspace: FakeWorkspace,
    agents: Agents,
    net_trap: NetTrap,
    bins: dict[str, str],
) -> None:
    """One setup with every agent (each doctor run sends a real request on each agent's API):
    it passes; a Codex provider removed by hand FAILs with the fix and SKIPs its request; the
    fix works, and the human report passes again; then an old Codex and a missing Gemini CLI
    FAIL with their fixes while their config and request checks still PASS."""
    env = set_up_all(sandbox, workspace, agents, bins)
    workspace.clear_log()
    code, report = doctor_json(sandbox, env=env)
    assert code == 0, report
    assert_shape(report, DOCTOR_SHAPE)
    found = agent_checks(report)
    assert list(found) == [
        f"agent:{n}:{c}" for n in OTHERS for c in ("binary", "config", "request")
    ]
    assert all(c["status"] == "PASS" for c in found.values()), found
    assert version_of("codex") in found["agent:codex:binary"]["detail"]
    assert version_of("gemini") in found["agent:gemini:binary"]["detail"]
    assert version_of("opencode") in found["agent:opencode:binary"]["detail"]
    # One real request per agent, each on its own API, each with a valid token.
    record = json.loads((sandbox.home / ".config/dbx-fmapi-claude/config.json").read_text())
    state = record["configs"][-1]
    sent = {
        "codex": [r for r in workspace.log if r.path.endswith("/responses")],
        "gemini": [r for r in workspace.log if r.path.endswith(":generateContent")],
        "opencode": [r for r in workspace.log if r.path.endswith("/chat/completions")],
    }
    for name in OTHERS:
        [req] = sent[name]
        assert req.status == 200 and req.model == state[name]["model"], name
        assert req.token is not None and req.token.valid, name
        assert (
            state[name]["base_url"].split("://", 1)[1]
            in f"{workspace.url}{req.path}".split("://", 1)[1]
        )
    assert net_trap.hosts() == []

    # The Codex provider removed by hand (from here on, our files and requests: stand-ins).
    for name in OTHERS:
        version_stand_in(sandbox, name)
    toml = agents.codex_home / "config.toml"
    text = toml.read_text()
    begin, end = "# >>> dbx-fmapi-claude provider >>>", "# <<< dbx-fmapi-claude provider <<<"
    toml.write_text(text[: text.index(begin)] + text[text.index(end) + len(end) + 1 :])
    result = doctor(sandbox, env=env)
    assert result.code == 1, result
    status, detail, fix = find_check(result, "Codex config")
    assert status == "FAIL" and "[model_providers.databricks]" in detail and str(toml) in detail
    assert fix == f"setup-fmapi-claudecode --agents {ALL}"
    status, detail, _ = find_check(result, "Codex request")
    assert (status, detail) == ("SKIP", "needs a valid Codex config")
    assert find_check(result, "Gemini CLI request")[0] == "PASS"
    # The fix works: setup puts the provider back, and doctor passes again. The human report
    # lists the agents after Claude Code's checks, and says nothing else failed.
    set_up(sandbox, workspace, "--agents", ALL, env=env)
    result = doctor(sandbox, env=env)
    assert result.code == 0, result
    assert find_check(result, "Codex request")[0] == "PASS"
    assert "0 failed" in result.stdout
    assert net_trap.hosts() == []

    # An old Codex and a missing Gemini CLI are reported, and do not stop their config and
    # request checks.
    sandbox.fake_program("codex", 'echo "codex-cli 0.100.0"\n')
    sandbox.remove("gemini")
    code, report = doctor_json(sandbox, env=env)
    assert code == 1, "an old Codex and a missing Gemini CLI: doctor passed"
    found = agent_checks(report)
    codex = found["agent:codex:binary"]
    assert codex["status"] == "FAIL" and "0.100.0" in codex["detail"]
    assert "older than 0.118.0" in codex["detail"]
    assert codex["fix"] == "upgrade: npm install -g @openai/codex@0.171.0"
    gemini = found["agent:gemini:binary"]
    assert gemini["status"] == "FAIL" and "not installed" in gemini["detail"]
    assert gemini["fix"] == "npm install -g @google/gemini-cli@0.61.0"
    # The workspace side still works for both: their config and request checks ran.
    for name in ("codex", "gemini"):
        assert found[f"agent:{name}:config"]["status"] == "PASS"
        assert found[f"agent:{name}:request"]["status"] == "PASS"
    assert {c["id"] for c in report["checks"] if c["status"] == "FAIL"} == {
        "agent:codex:binary",
        "agent:gemini:binary",
    }
