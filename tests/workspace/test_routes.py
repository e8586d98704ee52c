"""Issue 13 on the rig: the AI Gateway route next to serving endpoints, today's catalogue, Claude
Code's model settings, and what setup and doctor say when a route or a model does not work.

End to end with the real Claude Code and the real Databricks CLI: setup picks the gateway when it
answers and serving endpoints when it does not, and `claude -p` then gets its answer through the
chosen route; `claude --model fable` answers when the workspace has a fable model; a model that
retires this week (sonnet-4-5 on 2026-11-30) is never a default. The workspaces here are late-2026
ones (FakeWorkspace.modernize) and "today" is ISSUE_13_TODAY (2026-11-29).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.json_shapes import MODELS_SHAPE, STATUS_SHAPE, assert_shape
from tests.helpers.mgmt import config_of as record_of
from tests.helpers.mgmt import doctor, doctor_json, fake_claude, find_check
from tests.rig.sandbox import ISSUE_13_TODAY, Result, Sandbox
from tests.rig.workspace import FakeWorkspace, endpoint

TODAY = {"DBX_FMAPI_TODAY": ISSUE_13_TODAY}
PROG = "setup-fmapi-claudecode"
FAST = {"CLAUDE_CODE_MAX_RETRIES": "0", **TODAY}


def setup(sandbox: Sandbox, workspace: FakeWorkspace, *args: str) -> Result:
    if not (sandbox.home / ".databrickscfg").exists():
        sandbox.signed_in(workspace)
    argv = [PROG, "--skip-install", "--host", workspace.url, "--shell", "none", *args]
    return sandbox.run_here(argv, timeout=120, env=TODAY)


def env_of(sandbox: Sandbox) -> dict[str, str]:
    return dict(json.loads((sandbox.home / ".claude/settings.json").read_text())["env"])


def ask_claude(
    sandbox: Sandbox, workspace: FakeWorkspace, *args: str, reply: str = "through the route"
) -> list[Any]:
    """`claude -p` (plain, as the user runs it): it answers; returns the requests it sent."""
    workspace.reply_text = reply
    before = len(workspace.messages_requests())
    result = sandbox.run(["claude", "-p", "hi", *args], timeout=120, env=FAST)
    assert result.code == 0 and reply in result.stdout, result
    sent = workspace.messages_requests()[before:]
    assert sent and all(r.token is not None and r.token.valid for r in sent), sent
    return sent


# --- routes ----------------------------------------------------------------------------------


def test_setup_picks_the_ai_gateway_when_it_answers_and_claude_goes_through_it(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    workspace.modernize()
    result = setup(sandbox, workspace)
    assert result.code == 0, result
    assert f"route: AI Gateway, {workspace.gateway_base_url}" in result.stdout
    env = env_of(sandbox)
    assert env["ANTHROPIC_BASE_URL"] == workspace.gateway_base_url
    assert env["CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS"] == "1"
    record = record_of(sandbox)
    assert (record["route"], record["route_auto"]) == ("ai-gateway", True)
    # verify went through the gateway, one tiny request per model
    pings = workspace.messages_requests()
    assert pings and all(r.path == "/ai-gateway/anthropic/v1/messages" for r in pings)
    sent = ask_claude(sandbox, workspace)
    assert all(r.path == "/ai-gateway/anthropic/v1/messages" for r in sent)
    wrapped = sandbox.run(["dbx-fmapi-claude", "-p", "hi"], timeout=120, env=FAST)
    assert wrapped.code == 0 and "through the route" in wrapped.stdout, wrapped

    status = sandbox.run_here(["dbx-fmapi", "status"], env=TODAY)
    assert f"AI Gateway, {workspace.gateway_base_url} (chosen by setup)" in status.stdout
    data = json.loads(sandbox.run_here(["dbx-fmapi", "status", "--json"], env=TODAY).stdout)
    assert_shape(data, STATUS_SHAPE)
    assert data["route"] == {
        "name": "ai-gateway",
        "base_url": workspace.gateway_base_url,
        "auto": True,
    }


def test_setup_picks_serving_endpoints_when_the_gateway_is_not_enabled(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    workspace.modernize(gateway=False)
    result = setup(sandbox, workspace)
    assert result.code == 0, result
    assert f"route: serving endpoints, {workspace.anthropic_base_url}" in result.stdout
    assert "AI Gateway: not enabled for this workspace" in result.stdout
    assert env_of(sandbox)["ANTHROPIC_BASE_URL"] == workspace.anthropic_base_url
    assert record_of(sandbox)["route"] == "serving-endpoints"
    sent = ask_claude(sandbox, workspace)
    assert all(r.path == "/serving-endpoints/anthropic/v1/messages" for r in sent)


def test_route_flag_forces_a_route_and_a_rerun_keeps_it(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.modernize()
    result = setup(sandbox, workspace, "--route", "serving-endpoints")
    assert result.code == 0, result
    assert env_of(sandbox)["ANTHROPIC_BASE_URL"] == workspace.anthropic_base_url
    assert (record_of(sandbox)["route"], record_of(sandbox)["route_auto"]) == (
        "serving-endpoints",
        False,
    )
    again = setup(sandbox, workspace)
    assert again.code == 0 and "already configured" in again.stdout, again
    auto = setup(sandbox, workspace, "--route", "auto")
    assert auto.code == 0, auto
    assert env_of(sandbox)["ANTHROPIC_BASE_URL"] == workspace.gateway_base_url


def test_a_rerun_and_doctor_notice_when_the_gateway_stopped_working(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.modernize()
    assert setup(sandbox, workspace).code == 0
    fake_claude(sandbox)
    workspace.ai_gateway = "off"  # the account turned the preview off
    result = doctor(sandbox, env=TODAY)
    assert result.code == 1, result
    status, detail, fix = find_check(result, "Route")
    assert status == "FAIL"
    assert "setup chose the AI Gateway" in detail and "stopped working" in detail
    assert "not enabled for this workspace" in detail
    assert fix is not None and fix.startswith(
        f"re-run setup, which picks the route that works: {PROG}"
    )
    assert find_check(result, "Request to")[0] == "SKIP"

    rerun = setup(sandbox, workspace)
    assert rerun.code == 0, rerun
    assert "the AI Gateway this workspace used stopped working" in rerun.stderr
    assert "switching Claude Code to serving endpoints" in rerun.stderr
    assert env_of(sandbox)["ANTHROPIC_BASE_URL"] == workspace.anthropic_base_url
    assert doctor(sandbox, env=TODAY).code == 0


# --- what setup and doctor say ---------------------------------------------------------------


def _before(sandbox: Sandbox) -> dict[str, bytes]:
    return sandbox.snapshot(
        exclude=(".databricks/*", ".config/dbx-fmapi-claude/locks/*", "*/token-state.json")
    )


def test_setup_forced_onto_a_gateway_that_is_not_enabled_says_so(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.modernize(gateway=False)
    sandbox.signed_in(workspace)
    before = _before(sandbox)
    result = setup(sandbox, workspace, "--route", "ai-gateway")
    assert result.code == 1, result
    assert "the AI Gateway is not enabled for this workspace" in result.stderr
    assert "FEATURE_DISABLED" in result.stderr and "nothing was written" in result.stderr
    assert f"fix: use serving endpoints: {PROG} --route serving-endpoints" in result.stderr
    assert _before(sandbox) == before


def test_setup_on_an_account_level_url_says_it_is_not_a_workspace_url(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.modernize()
    workspace.ai_gateway = "redirect"
    sandbox.signed_in(workspace)
    result = setup(sandbox, workspace, "--route", "ai-gateway")
    assert result.code == 1, result
    assert "answered HTTP 303 (a redirect to" in result.stderr
    assert "as an account-level URL does: it is not a workspace URL" in result.stderr
    assert "use the workspace's own URL" in result.stderr and f"{PROG} --host URL" in result.stderr
    # auto: the redirect is a gateway that does not answer, so serving endpoints
    auto = setup(sandbox, workspace)
    assert auto.code == 0 and "route: serving endpoints" in auto.stdout, auto
    assert "answered HTTP 303" in auto.stdout


def test_doctor_explains_a_gateway_that_redirects_or_is_switched_off(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.modernize()
    assert setup(sandbox, workspace, "--route", "ai-gateway").code == 0
    fake_claude(sandbox)
    workspace.ai_gateway = "redirect"
    report = doctor(sandbox, env=TODAY)
    assert report.code == 1, report
    status, detail, fix = find_check(report, "Route")
    assert status == "FAIL" and "answered HTTP 303" in detail
    assert "it is not a workspace URL" in detail
    assert fix is not None and f"{PROG} --host URL" in fix
    workspace.ai_gateway = "off"
    report = doctor(sandbox, env=TODAY)
    status, detail, fix = find_check(report, "Route")
    assert status == "FAIL" and "the AI Gateway is not enabled for this workspace" in detail
    # the route was asked for: the fix is the other route, not a re-run
    assert fix is not None and fix.startswith(f"use serving endpoints: {PROG} --route serving-")


def test_traffic_splitting_is_explained_by_setup_and_doctor(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.modernize()
    workspace.traffic_split.add("databricks-claude-haiku-4-5")
    sandbox.signed_in(workspace)
    result = setup(sandbox, workspace)
    assert result.code == 1, result
    says = "the endpoint splits traffic between served entities, which the AI Gateway's "
    assert says in result.stderr and "failed: databricks-claude-haiku-4-5" in result.stderr
    assert f"pick an endpoint without traffic splitting ({PROG} --model NAME" in result.stderr
    assert f"or use serving endpoints: {PROG} --route serving-endpoints" in result.stderr

    assert setup(sandbox, workspace, "--no-verify").code == 0
    fake_claude(sandbox)
    report = doctor(sandbox, env=TODAY)
    assert report.code == 1, report
    status, detail, fix = find_check(report, "Request to databricks-claude-haiku-4-5")
    assert status == "FAIL" and says in detail
    assert fix is not None and "--route serving-endpoints" in fix


def test_invalid_token_on_the_gateway_is_explained_by_setup_and_doctor(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.modernize()
    invalid = {"error_code": "400", "message": "Invalid Token"}
    sandbox.signed_in(workspace)
    workspace.fail("/ai-gateway/anthropic/v1/messages", 400, times=None, body=invalid)
    result = setup(sandbox, workspace, "--route", "ai-gateway")
    assert result.code == 1, result
    assert "the AI Gateway rejected the token (400: Invalid Token); Claude Code does not " in (
        result.stderr
    )
    assert "fix: databricks auth login --host" in result.stderr
    workspace.clear_faults()
    assert setup(sandbox, workspace).code == 0
    fake_claude(sandbox)
    workspace.fail("/ai-gateway/anthropic/v1/messages", 400, times=None, body=invalid)
    report = doctor(sandbox, env=TODAY)
    status, detail, fix = find_check(report, "Request to")
    assert status == "FAIL" and "rejected the token (400: Invalid Token)" in detail
    assert fix == "dbx-fmapi login"


def test_a_model_that_is_not_ready_is_explained_by_setup_and_doctor(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.modernize()
    sandbox.signed_in(workspace)
    result = setup(sandbox, workspace, "--fable", "databricks-claude-fable-5-3")
    assert result.code == 1, result
    assert "model endpoint databricks-claude-fable-5-3 is not READY yet" in result.stderr
    assert "model endpoint databricks-claude-fable-5-3 is not READY (HTTP 404)" in result.stderr
    assert f"fix: pick another: {PROG} --fable NAME" in result.stderr

    assert (
        setup(sandbox, workspace, "--fable", "databricks-claude-fable-5-3", "--no-verify").code == 0
    )
    fake_claude(sandbox)
    report = doctor(sandbox, env=TODAY)
    status, detail, fix = find_check(report, "Model databricks-claude-fable-5-3")
    assert status == "FAIL" and "exists but is NOT_READY" in detail
    assert fix is not None and fix.startswith("wait until it is READY (dbx-fmapi models)")
    assert f"{PROG} --fable databricks-claude-fable-5-2" in fix


# --- the catalogue ---------------------------------------------------------------------------


def test_defaults_are_the_newest_ready_models_never_one_retiring_this_week(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.modernize()
    result = setup(sandbox, workspace, "--no-verify")
    assert result.code == 0, result
    env = env_of(sandbox)
    assert (
        env["ANTHROPIC_MODEL"]
        == env["ANTHROPIC_DEFAULT_OPUS_MODEL"]
        == "databricks-claude-opus-4-8"
    )
    assert env["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "databricks-claude-sonnet-4-6"
    assert env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "databricks-claude-haiku-4-5"
    assert env["ANTHROPIC_DEFAULT_FABLE_MODEL"] == "databricks-claude-fable-5-2"  # 5-3 not READY
    assert "CLAUDE_CODE_SUBAGENT_MODEL" not in env and "CLAUDE_CODE_MAX_CONTEXT_TOKENS" not in env


def test_a_retiring_model_is_never_a_default_and_doctor_warns_when_one_is_configured(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    # The newest Sonnet here is sonnet-4-5, retiring tomorrow (2026-11-30).
    workspace.set_endpoints(
        [
            endpoint("databricks-claude-opus-4-7"),
            endpoint("databricks-claude-sonnet-4-5"),
            endpoint("databricks-claude-haiku-4-5"),
        ]
    )
    result = setup(sandbox, workspace, "--no-verify")
    assert result.code == 0, result
    env = env_of(sandbox)
    assert env["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "databricks-claude-opus-4-7"
    assert "has no Sonnet model that is READY and not retiring" in result.stderr
    assert "databricks-claude-sonnet-4-5" not in json.dumps(env)

    chosen = setup(sandbox, workspace, "--sonnet", "databricks-claude-sonnet-4-5", "--no-verify")
    assert chosen.code == 0, chosen
    assert "databricks-claude-sonnet-4-5 retires on 2026-11-30, in 1 day" in chosen.stderr
    fake_claude(sandbox)
    report = doctor(sandbox, env=TODAY)
    assert report.code == 0, report  # a warning, not a failure
    status, detail, fix = find_check(report, "Model databricks-claude-sonnet-4-5")
    assert status == "WARN" and "retires on 2026-11-30" in detail
    assert fix is not None and fix.startswith(f"{PROG} --sonnet ")
    # a re-run keeps the user's own choice, and says again that it retires
    again = setup(sandbox, workspace, "--no-verify")
    assert env_of(sandbox)["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "databricks-claude-sonnet-4-5"
    assert "retires on 2026-11-30" in again.stderr


def test_nothing_readable_falls_back_on_names_that_do_not_retire(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    workspace.fail("/api/", 500, times=None)
    result = setup(sandbox, workspace, "--no-verify")
    assert result.code == 0, result
    assert "cannot list the workspace's models" in result.stderr
    env = env_of(sandbox)
    # the seed's opus-4-6 and haiku-4-5; its sonnet-4-5 retires tomorrow: today's sonnet-4-6
    assert env["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "databricks-claude-opus-4-6"
    assert env["ANTHROPIC_DEFAULT_SONNET_MODEL"] == "databricks-claude-sonnet-4-6"
    assert env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "databricks-claude-haiku-4-5"
    assert "ANTHROPIC_DEFAULT_FABLE_MODEL" not in env


def test_discovery_reads_unity_catalog_names_past_an_empty_first_page(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.modernize(gateway=False)
    workspace.model_services_empty_first_page = True
    # the older listings are down: only Unity Catalog answers
    workspace.fail("/api/2.0/serving-endpoints", 503, times=None)
    result = setup(sandbox, workspace, "--no-verify")
    assert result.code == 0, result
    assert "cannot list" not in result.stderr
    assert env_of(sandbox)["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "databricks-claude-opus-4-8"
    pages = workspace.requests("/api/2.1/unity-catalog/model-services")
    tokens = [r.query.get("page_token") for r in pages]
    assert len(tokens) == 2 and tokens[0] is None and tokens[1]  # the token, back intact
    assert all(r.query["parent"] == "schemas/system.ai" for r in pages)


def test_fable_answers_through_claude_when_the_workspace_has_one(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    workspace.modernize()
    assert setup(sandbox, workspace).code == 0
    sent = ask_claude(sandbox, workspace, "--model", "fable", reply="a fable")
    assert {r.model for r in sent} == {"databricks-claude-fable-5-2"}


def test_without_a_fable_model_no_fable_setting_is_written(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.modernize()
    workspace.set_endpoints([e for e in workspace.endpoints if "fable" not in e["name"]])
    assert setup(sandbox, workspace, "--no-verify").code == 0
    assert "ANTHROPIC_DEFAULT_FABLE_MODEL" not in env_of(sandbox)


def test_long_context_variants_and_unity_catalog_names_on_the_gateway(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    workspace.modernize()
    result = setup(
        sandbox,
        workspace,
        "--model",
        "databricks-claude-opus-4-8[1m]",
        "--haiku",
        "system.ai.claude-haiku-4-5",
    )
    assert result.code == 0, result
    env = env_of(sandbox)
    assert env["ANTHROPIC_MODEL"] == "databricks-claude-opus-4-8[1m]"
    assert env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "system.ai.claude-haiku-4-5"
    assert "CLAUDE_CODE_MAX_CONTEXT_TOKENS" not in env  # Claude Code knows both names
    # Claude Code sends the 1M variant as its base model (recent releases with the 1M beta)
    sent = ask_claude(sandbox, workspace)
    assert {r.model for r in sent} == {"databricks-claude-opus-4-8"}
    sent = ask_claude(sandbox, workspace, "--model", "haiku")
    assert {r.model for r in sent} == {"system.ai.claude-haiku-4-5"}
    # serving endpoints know no Unity Catalog names: asked for, it is refused; kept from the last
    # run, it gives way to the default
    uc = ("--haiku", "system.ai.claude-haiku-4-5")
    other = setup(sandbox, workspace, "--route", "serving-endpoints", *uc, "--no-verify")
    assert other.code == 2 and "no model endpoint 'system.ai.claude-haiku-4-5'" in other.stderr
    assert setup(sandbox, workspace, "--route", "serving-endpoints", "--no-verify").code == 0
    assert env_of(sandbox)["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "databricks-claude-haiku-4-5"


# --- Claude Code's model settings ------------------------------------------------------------


def test_subagent_model_is_set_kept_and_removed(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    workspace.modernize()
    sub = "databricks-claude-haiku-4-5"
    assert setup(sandbox, workspace, "--subagent-model", sub, "--no-verify").code == 0
    assert env_of(sandbox)["CLAUDE_CODE_SUBAGENT_MODEL"] == sub
    assert record_of(sandbox)["subagent"] == sub
    again = setup(sandbox, workspace, "--no-verify")
    assert "already configured" in again.stdout, again
    assert setup(sandbox, workspace, "--subagent-model", "none", "--no-verify").code == 0
    assert "CLAUDE_CODE_SUBAGENT_MODEL" not in env_of(sandbox)
    assert "subagent" not in record_of(sandbox)
    unknown = setup(sandbox, workspace, "--subagent-model", "databricks-claude-nope-1-0")
    assert unknown.code == 2 and f"{PROG} --subagent-model" in unknown.stderr


def test_an_unrecognised_main_model_gets_a_claude_context_window(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    workspace.modernize()
    result = setup(
        sandbox, workspace, "--model", "anthropic-external-claude", "--route", "serving-endpoints"
    )
    assert result.code == 0, result
    env = env_of(sandbox)
    assert env["CLAUDE_CODE_MAX_CONTEXT_TOKENS"] == "200000"
    assert record_of(sandbox)["context_tokens"] == 200000
    # Claude Code takes the window instead of its 1M-token guess for a name it does not know
    workspace.reply_text = "ok"
    out = sandbox.run(["claude", "-p", "hi", "--output-format", "json"], timeout=120, env=FAST)
    assert out.code == 0, out
    windows = {k: v["contextWindow"] for k, v in json.loads(out.stdout)["modelUsage"].items()}
    assert windows == {"anthropic-external-claude": 200000}
    # back to a name Claude Code knows: the setting goes
    assert (
        setup(sandbox, workspace, "--model", "databricks-claude-opus-4-8", "--no-verify").code == 0
    )
    assert "CLAUDE_CODE_MAX_CONTEXT_TOKENS" not in env_of(sandbox)


def test_models_json_lists_fable_and_retirement_dates(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.modernize()
    assert setup(sandbox, workspace, "--no-verify").code == 0
    out = sandbox.run_here(["dbx-fmapi", "models", "--json"], env=TODAY)
    assert out.code == 0, out
    data = json.loads(out.stdout)
    assert_shape(data, MODELS_SHAPE)
    rows = {r["name"]: r for r in data["endpoints"]}
    assert rows["databricks-claude-fable-5-2"]["family"] == "fable"
    assert rows["databricks-claude-fable-5-2"]["configured_as"] == ["fable"]
    assert rows["databricks-claude-sonnet-4-5"]["retires"] == "2026-11-30"
    human = sandbox.run_here(["dbx-fmapi", "models"], env=TODAY)
    line = next(x for x in human.stdout.splitlines() if "databricks-claude-sonnet-4-5" in x)
    assert line.rstrip().endswith("(retires on 2026-11-30)")


# --- managed settings ------------------------------------------------------------------------


def test_managed_settings_show_in_doctor_and_status_with_what_they_override(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.modernize()
    assert setup(sandbox, workspace, "--no-verify").code == 0
    fake_claude(sandbox)
    managed = Path(sandbox.env["DBX_FMAPI_MANAGED_SETTINGS_DIR"])
    (managed / "managed-settings.d").mkdir(parents=True)
    (managed / "managed-settings.json").write_text(
        json.dumps({"env": {"ANTHROPIC_MODEL": "databricks-claude-haiku-4-5"}})
    )
    (managed / "managed-settings.d" / "10-proxy.json").write_text(
        json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://proxy.example.com"}})
    )
    report = doctor(sandbox, env=TODAY)
    assert report.code == 1, report
    lines = [x for x in report.stdout.splitlines() if "administrator" in x]
    model = next(x for x in lines if "ANTHROPIC_MODEL" in x)
    assert model.startswith("WARN")
    assert (
        f"overridden by managed settings, an administrator's ({managed}/managed-settings.json)"
        in model
    )
    assert (
        "Claude Code uses databricks-claude-haiku-4-5, not setup's databricks-claude-opus-4-8"
        in model
    )
    url = next(x for x in lines if "ANTHROPIC_BASE_URL" in x)
    assert url.startswith("FAIL") and "managed-settings.d/10-proxy.json" in url
    assert "ask your administrator" in report.stdout

    data = json.loads(sandbox.run_here(["dbx-fmapi", "status", "--json"], env=TODAY).stdout)
    assert_shape(data, STATUS_SHAPE)
    admin = [f for f in data["settings_files"] if f["level"] == "admin"]
    assert [Path(f["path"]).name for f in admin] == ["managed-settings.json", "10-proxy.json"]
    assert admin[0]["keys"] == ["ANTHROPIC_MODEL"] and admin[1]["keys"] == ["ANTHROPIC_BASE_URL"]
    human = sandbox.run_here(["dbx-fmapi", "status"], env=TODAY).stdout
    assert "admin; also sets ANTHROPIC_MODEL" in human


@pytest.mark.parametrize("route", ["ai-gateway", "serving-endpoints"])
def test_doctor_passes_on_either_route(
    sandbox: Sandbox, workspace: FakeWorkspace, route: str
) -> None:
    workspace.modernize()
    assert setup(sandbox, workspace, "--route", route).code == 0
    fake_claude(sandbox)
    code, report = doctor_json(sandbox, env=TODAY)
    assert code == 0, report
    checks = {c["id"]: c for c in report["checks"]}
    assert (
        checks["route"]["status"] == "PASS"
        and route.split("-")[0] in checks["route"]["detail"].lower()
    )
    requests = [
        r
        for r in workspace.messages_requests()
        if r.headers.get("user-agent") == "dbx-fmapi-claude"
    ]
    assert requests and all(r.path.startswith(f"/{route}/") for r in requests)
