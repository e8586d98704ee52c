"""Doctor's checks for the agents beside Claude Code, in process: each check's verdict for every
input it judges, with its message and fix: the programs, Codex's config, the one-token request
(Gemini CLI's and OpenCode's files: test_doctor_agent_files.py; the world they run in:
agent_world.py). The real agents and CLI: test_rig_agent_doctor.py."""

from __future__ import annotations

import pytest

from dbx_fmapi_claude import agents
from dbx_fmapi_claude.agents.codex import configtoml
from dbx_fmapi_claude.doctor import agent_checks, checks
from dbx_fmapi_claude.doctor.graph import validate
from dbx_fmapi_claude.workspace.client import WorkspaceError
from tests.helpers.agent_world import AGAIN, ALL, HOST, World, by_id, one, world

__all__ = ["world"]  # the fixture


# --- all well -------------------------------------------------------------------------------


def test_every_agent_passes_and_each_request_goes_through_its_route(world: World) -> None:
    lines = world.doctor()
    assert [i for i, *_ in lines] == [
        f"agent:{n}:{c}" for n in ALL[1:] for c in ("binary", "config", "request")
    ]
    assert all(s == "PASS" for _, s, _, _ in lines), lines
    assert by_id(lines)["agent:codex:binary"][1] == "0.171.0 at /opt/bin/codex"
    assert "model databricks-gpt-5" in by_id(lines)["agent:codex:config"][1]
    urls = [url for _, url, _ in world.ws.sent]
    assert urls == [
        f"{HOST}/serving-endpoints/openai/v1/responses",
        f"{HOST}/serving-endpoints/gemini/v1beta/models/databricks-gemini-2-5-pro:generateContent",
        f"{HOST}/serving-endpoints/chat/completions",
    ]
    assert world.ws.sent[0][2]["model"] == "databricks-gpt-5"


def test_a_configuration_with_claude_alone_has_no_agent_lines(world: World) -> None:
    world.cfg["agents"] = ["claude"]
    assert world.doctor() == []
    del world.cfg["agents"]  # a record from before agents existed: Claude Code alone
    assert world.doctor() == []


def test_only_the_agents_set_up_are_checked(world: World) -> None:
    world.cfg["agents"] = ["claude", "gemini"]
    assert {i.split(":")[1] for i, *_ in world.doctor()} == {"gemini"}


def test_the_registry_declares_them_after_claudes_checks() -> None:
    ids = [s.id for s in checks.CHECKS]
    assert ids[-9:] == [f"agent:{n}:{c}" for n in ALL[1:] for c in ("binary", "config", "request")]
    validate(checks.CHECKS)


# --- the program ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "said", "status", "detail", "fix"),
    [
        ("codex", "codex-cli 0.171.0", "PASS", "0.171.0 at /opt/bin/codex", None),
        (
            "codex",
            "codex-cli 0.200.1",
            "PASS",
            "0.200.1 at /opt/bin/codex (newer than 0.171.0, the release tested)",
            None,
        ),
        (
            "codex",
            "codex-cli 0.100.0",
            "FAIL",
            "0.100.0 at /opt/bin/codex is older than 0.118.0, the oldest that works with this "
            "setup",
            "upgrade: npm install -g @openai/codex@0.171.0",
        ),
        (
            "gemini",
            "0.60.9",
            "FAIL",
            "0.60.9 at /opt/bin/gemini is older than 0.61.0, the oldest that works with this setup",
            "upgrade: npm install -g @google/gemini-cli@0.61.0",
        ),
        (
            "opencode",
            "1.17.0",
            "FAIL",
            "1.17.0 at /opt/bin/opencode is older than 1.18.0, the oldest that works with this "
            "setup",
            "upgrade: npm install -g opencode-ai@1.18.33",
        ),
        (
            "opencode",
            "dev build",
            "WARN",
            "/opt/bin/opencode says 'dev build', not a version this check can compare",
            "npm install -g opencode-ai@1.18.33",
        ),
    ],
)
def test_versions(
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    said: str,
    status: str,
    detail: str,
    fix: str | None,
) -> None:
    monkeypatch.setattr(agent_checks, "version_of", lambda exe, env: (said, None))
    assert one(world, f"agent:{name}:binary") == (status, detail, fix)


def test_a_missing_program_fails_with_the_install_command_and_skips_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agents.get("gemini"), "find", lambda env, home: None)
    found = by_id(world.doctor())
    assert found["agent:gemini:binary"] == (
        "FAIL",
        "not installed (no `gemini` on PATH)",
        "npm install -g @google/gemini-cli@0.61.0",
    )
    assert found["agent:gemini:request"][0] == "PASS"  # the workspace side is told apart


def test_a_program_that_does_not_run(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        agent_checks, "version_of", lambda exe, env: (None, f"`{exe} --version` failed: boom")
    )
    assert one(world, "agent:codex:binary") == (
        "FAIL",
        "/opt/bin/codex does not run: `/opt/bin/codex --version` failed: boom",
        "npm install -g @openai/codex@0.171.0",
    )


# --- Codex's config -------------------------------------------------------------------------


def codex_text(world: World) -> str:
    return world.codex.read_text()


def test_codex_config_as_setup_wrote_it_passes(world: World) -> None:
    status, detail, _ = one(world, "agent:codex:config")
    assert status == "PASS" and detail.startswith(str(world.codex))


def test_codex_file_gone(world: World) -> None:
    world.codex.unlink()
    assert one(world, "agent:codex:config") == ("FAIL", f"{world.codex} is gone", AGAIN)


def test_codex_state_missing(world: World) -> None:
    del world.cfg["codex"]
    assert one(world, "agent:codex:config") == ("FAIL", "setup recorded nothing for Codex", AGAIN)
    world.cfg["codex"] = {}
    assert one(world, "agent:codex:config")[1] == "setup recorded no Codex config file"


def test_codex_home_elsewhere(world: World) -> None:
    other = world.home / "other-codex"
    world.env["CODEX_HOME"] = str(other)
    status, detail, fix = one(world, "agent:codex:config")
    assert status == "FAIL"
    assert detail == (
        f"Codex started here (CODEX_HOME={other}) reads {other / 'config.toml'}, but setup "
        f"configured {world.codex}"
    )
    assert fix == f"{AGAIN}   (with CODEX_HOME as you run Codex, so it writes that file)"


def test_codex_not_utf8(world: World) -> None:
    world.write(world.codex, b'model = "\xff"\n')
    status, detail, fix = one(world, "agent:codex:config")
    assert (status, detail) == ("FAIL", f"{world.codex} is not UTF-8 text, so Codex cannot read it")
    assert fix == f'repair it, then re-run setup: "${{EDITOR:-vi}}" {world.codex}'


def test_codex_invalid_toml(world: World) -> None:
    world.write(world.codex, codex_text(world) + "\nmodel = [\n")
    status, detail, fix = one(world, "agent:codex:config")
    assert status == "FAIL" and detail.startswith(f"{world.codex} is not valid TOML (")
    assert detail.endswith("); Codex refuses to start") and fix is not None and "EDITOR" in fix


def test_codex_ours_removed_by_hand(world: World) -> None:
    world.write(world.codex, configtoml.unmerge(codex_text(world)))
    assert one(world, "agent:codex:config") == (
        "FAIL",
        f"{world.codex} no longer holds setup's Databricks provider",
        AGAIN,
    )


def test_codex_provider_table_removed_fails_and_skips_the_request(world: World) -> None:
    text = codex_text(world).replace(world.codex_provider(), "")
    world.write(world.codex, text)
    found = by_id(world.doctor())
    assert found["agent:codex:config"] == (
        "FAIL",
        f"{world.codex} has no [model_providers.databricks] table",
        AGAIN,
    )
    assert found["agent:codex:request"] == ("SKIP", "needs a valid Codex config", None)
    assert found["agent:gemini:request"][0] == "PASS"


def test_codex_model_provider_changed_by_hand(world: World) -> None:
    text = codex_text(world).replace('model_provider = "databricks"', 'model_provider = "azure"')
    world.write(world.codex, text)
    assert one(world, "agent:codex:config") == (
        "FAIL",
        f'{world.codex} has model_provider = "azure", not setup\'s "databricks": plain `codex` '
        "does not use the workspace",
        AGAIN,
    )


def test_codex_default_profile_with_its_own_provider(world: World) -> None:
    # Setup parks a user's top-level `profile`; one put back by hand is in effect again.
    user = 'profile = "home"\n' + configtoml.unmerge(codex_text(world))
    merged = configtoml.merge(user, world.codex_top(), world.codex_provider())
    world.write(world.codex, merged.replace(configtoml.PARKED, ""))
    assert one(world, "agent:codex:config") == (
        "FAIL",
        f'{world.codex} sets profile = "home", whose model_provider "azure" wins over setup\'s',
        AGAIN,
    )


def test_codex_base_url_and_token_command_changed(world: World) -> None:
    text = codex_text(world).replace(
        world.codex_provider(), world.codex_provider("https://elsewhere.example.com/v1")
    )
    world.write(world.codex, text)
    world.helper.unlink()
    lines = world.doctor()
    found = by_id(lines)
    want = world.cfg["codex"]["base_url"]
    assert found["agent:codex:config"] == (
        "FAIL",
        f"[model_providers.databricks] base_url in {world.codex} is "
        f'"https://elsewhere.example.com/v1", not the workspace\'s {want}',
        AGAIN,
    )
    assert found["agent:codex:config:2"] == (
        "FAIL",
        f"Codex's token command {world.helper} (in {world.codex}) is missing or not executable",
        AGAIN,
    )
    assert found["agent:codex:request"][0] == "SKIP"


def test_codex_managed_config_overrides(world: World) -> None:
    managed = world.admin / "managed_config.toml"
    managed.write_text(
        'model_provider = "openai"\nmodel = "o3"\n\n[model_providers.databricks]\n'
        'base_url = "https://proxy.example.com"\n'
    )
    found = by_id(world.doctor())
    admin = f"ask your administrator to remove it from {managed} (it wins over your config.toml)"
    assert found["agent:codex:config"] == (
        "FAIL",
        f'{managed} (an administrator\'s) sets model_provider = "openai"',
        f"model_provider: {admin}",
    )
    assert found["agent:codex:config:2"] == (
        "WARN",
        f"{managed} (an administrator's) sets model = \"o3\", which Codex uses instead of setup's",
        f"model: {admin}",
    )
    assert found["agent:codex:config:3"] == (
        "FAIL",
        f"{managed} (an administrator's) changes [model_providers.databricks]",
        f"[model_providers.databricks]: {admin}",
    )
    assert found["agent:codex:request"][0] == "SKIP"


def test_codex_managed_config_that_agrees_or_only_warns(world: World) -> None:
    managed = world.admin / "managed_config.toml"
    managed.write_text('model_provider = "databricks"\n')
    assert one(world, "agent:codex:config")[0] == "PASS"
    managed.write_text('model = "o3"\n')
    found = by_id(world.doctor())
    assert found["agent:codex:config"][0] == "WARN"
    assert found["agent:codex:request"][0] == "PASS"  # a WARN holds
    managed.write_text("model = \n")
    status, detail, fix = one(world, "agent:codex:config")
    assert status == "FAIL" and "(an administrator's) is not valid TOML" in detail
    assert fix == f"ask your administrator to repair {managed}"


# --- the one-token request ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "detail", "fix"),
    [
        (
            WorkspaceError("http", "no permission", 403, {"error_code": "PERMISSION_DENIED"}),
            "FAIL",
            f"the workspace refused the request at {HOST}/serving-endpoints/openai/v1 "
            "(403 PERMISSION_DENIED: no permission): you are not allowed to query databricks-gpt-5",
            "ask a workspace admin for CAN_QUERY on serving endpoint databricks-gpt-5",
        ),
        (
            WorkspaceError("http", "not found", 404, {"error_code": "RESOURCE_DOES_NOT_EXIST"}),
            "FAIL",
            f"the workspace does not serve databricks-gpt-5 at {HOST}/serving-endpoints/openai/v1 "
            "(404 RESOURCE_DOES_NOT_EXIST: not found)",
            "pick another model or route: setup-fmapi-claudecode --agents claude,codex "
            "--codex-model NAME",
        ),
        (
            WorkspaceError("http", "Invalid Token", 400, {"error_code": "400"}),
            "FAIL",
            "the workspace rejected the token (400: Invalid Token)",
            "dbx-fmapi login",
        ),
        (
            WorkspaceError("http", "Invalid access token.", 403, {"error_code": "403"}),
            "FAIL",
            "the workspace rejected the token (403: Invalid access token.)",
            "dbx-fmapi login",
        ),
    ],
)
def test_request_failures(
    world: World, error: WorkspaceError, status: str, detail: str, fix: str
) -> None:
    world.cfg["agents"] = ["claude", "codex"]
    world.ws.error = error
    assert one(world, "agent:codex:request") == (status, detail, fix)


def test_request_rate_limited_is_a_warning_and_unreachable_a_failure(world: World) -> None:
    world.cfg["agents"] = ["claude", "gemini"]
    world.ws.error = WorkspaceError("http", "slow down", 429, {"error_code": "REQUEST_LIMIT"})
    status, detail, fix = one(world, "agent:gemini:request")
    assert status == "WARN" and "429" in detail and fix
    world.ws.error = WorkspaceError("unreachable", "Connection refused")
    status, detail, fix = one(world, "agent:gemini:request")
    assert status == "FAIL" and "Connection refused" in detail
    assert fix == f"check the URL, your network or VPN: curl -sI {HOST}"


def test_request_on_a_gateway_that_is_off_says_setup_picks_another_route(world: World) -> None:
    world.cfg["agents"] = ["claude", "opencode"]
    world.ws.error = WorkspaceError("http", "off", 404, {"error_code": "FEATURE_DISABLED"})
    status, detail, fix = one(world, "agent:opencode:request")
    assert status == "FAIL" and "AI Gateway is not enabled" in detail
    assert fix is not None
    assert fix.startswith(
        "re-run setup, which picks the route that works: setup-fmapi-claudecode --agents "
        "claude,opencode"
    )


def test_request_needs_a_token_and_the_workspace(world: World) -> None:
    found = by_id(world.doctor(token=False))
    assert found["agent:codex:request"] == ("SKIP", "needs a token", None)
    assert found["agent:codex:config"][0] == "PASS"
    found = by_id(world.doctor(workspace=False))
    assert found["agent:opencode:request"] == ("SKIP", "needs the workspace", None)
    assert world.ws.sent == []
