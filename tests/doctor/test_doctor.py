"""`dbx-fmapi doctor` on the rig: a healthy setup passes every check; then each thing doctor checks
is broken, one at a time, and doctor must name it, give the right fix, and exit 1 on a FAIL
(0 when only warnings)."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.helpers.json_shapes import DOCTOR_SHAPE, assert_shape
from tests.helpers.mgmt import (
    CLAUDE_VERSION,
    doctor,
    doctor_json,
    doctor_lines,
    edit_settings,
    fake_claude,
    find_check,
    set_up,
    settings_path,
    statuses,
)
from tests.rig.sandbox import Result, Sandbox, databricks_version
from tests.rig.workspace import FakeWorkspace, endpoint

MODELS = (
    "databricks-claude-opus-4-6",
    "databricks-claude-sonnet-4-5",
    "databricks-claude-haiku-4-5",
)


@pytest.fixture
def ready(sandbox: Sandbox, workspace: FakeWorkspace) -> Sandbox:
    fake_claude(sandbox)
    set_up(sandbox, workspace)
    return sandbox


def only_failures(result: Result) -> dict[str, str]:
    return {t: s for t, s in statuses(result).items() if s in ("FAIL", "WARN")}


def test_a_healthy_setup_passes_every_check_with_real_requests(
    ready: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.clear_log()
    result = doctor(ready)
    assert result.code == 0, result
    lines = doctor_lines(result)
    assert lines and all(status == "PASS" for status, *_ in lines), result.stdout
    titles = {title for _, title, _, _ in lines}
    assert {
        "Claude Code",
        "Databricks CLI",
        "Setup",
        "Settings file",
        "Effective settings",
        "apiKeyHelper",
        "apiKeyHelper run",
        "Shell wrapper",
        "CLI profile",
        "Token",
        "Workspace",
    } <= titles
    for model in MODELS:
        assert f"Model {model}" in titles and f"Request to {model}" in titles
    assert CLAUDE_VERSION.split()[0] in find_check(result, "Claude Code")[1]  # the fake's
    assert f"v{databricks_version()}" in find_check(result, "Databricks CLI")[1]
    # One real one-token request per configured model, with a valid token.
    sent = workspace.messages_requests()
    assert {r.model for r in sent} == set(MODELS)
    assert all(r.token is not None and r.token.valid for r in sent)
    assert all(r.json["max_tokens"] == 1 for r in sent)
    assert "0 failed" in result.stdout
    assert ready.cached_token() not in result.output
    assert result.stderr == ""  # progress lines only on a terminal


def test_json_output_matches_the_documented_shape(ready: Sandbox, workspace: FakeWorkspace) -> None:
    code, report = doctor_json(ready)
    assert code == 0
    assert_shape(report, DOCTOR_SHAPE)
    assert report["ok"] is True and report["summary"]["fail"] == 0
    assert sum(report["summary"].values()) == len(report["checks"])
    ids = [c["id"] for c in report["checks"]]
    assert len(ids) == len(set(ids))
    assert {
        "claude",
        "databricks-cli",
        "config",
        "settings",
        "effective",
        "helper",
        "shell",
    } <= set(ids)
    assert {"profile", "token", "helper-run", "workspace"} <= set(ids)
    assert {f"model:{m}" for m in MODELS} | {f"request:{m}" for m in MODELS} <= set(ids)
    # A failing report has the same shape, ok false, fixes filled in.
    workspace.fail("/serving-endpoints/anthropic", 403, times=None)
    code, report = doctor_json(ready)
    assert code == 1
    assert_shape(report, DOCTOR_SHAPE)
    assert report["ok"] is False and report["summary"]["fail"] == 3
    for check in report["checks"]:
        assert (check["fix"] is not None) == (check["status"] in ("FAIL", "WARN")), check


def test_claude_missing(ready: Sandbox) -> None:
    ready.remove("claude")
    result = doctor(ready)
    assert result.code == 1, result
    status, detail, fix = find_check(result, "Claude Code")
    assert status == "FAIL" and "not installed" in detail
    assert fix is not None and "curl -fsSL https://claude.ai/install.sh | bash" in fix
    assert only_failures(result) == {"Claude Code": "FAIL"}


def test_databricks_cli_missing_skips_what_needs_it(ready: Sandbox) -> None:
    ready.remove("databricks")
    result = doctor(ready)
    assert result.code == 1, result
    status, detail, fix = find_check(result, "Databricks CLI")
    assert status == "FAIL" and "not installed" in detail
    assert fix is not None and "databricks/setup-cli" in fix
    st = statuses(result)
    assert st["Token"] == "SKIP" and st["Workspace"] == "SKIP" and st["apiKeyHelper run"] == "SKIP"
    assert all(st[f"Request to {m}"] == "SKIP" for m in MODELS)
    assert "needs the Databricks CLI" in find_check(result, "Token")[1]
    assert only_failures(result) == {"Databricks CLI": "FAIL"}


def test_legacy_python_databricks_cli_is_named(ready: Sandbox) -> None:
    ready.fake_program("databricks", 'echo "Version 0.18.0"\n')
    result = doctor(ready)
    status, detail, fix = find_check(result, "Databricks CLI")
    assert status == "FAIL" and "legacy" in detail and "0.205" in detail
    assert result.code == 1


def test_settings_file_corrupt(ready: Sandbox) -> None:
    settings_path(ready).write_text('{"env": {"ANTHROPIC_MODEL": ')
    result = doctor(ready)
    assert result.code == 1, result
    status, detail, fix = find_check(result, "Settings file")
    assert status == "FAIL" and "not a valid settings file" in detail
    assert fix is not None and fix.startswith("setup-fmapi-claudecode") and "backup" in fix
    st = statuses(result)
    assert st["Effective settings"] == "SKIP" and st["apiKeyHelper"] == "SKIP"
    assert st["Token"] == "PASS" and st["Workspace"] == "PASS"


def test_settings_file_missing_our_keys(ready: Sandbox) -> None:
    data = json.loads(settings_path(ready).read_text())
    del data["env"]["ANTHROPIC_BASE_URL"]
    settings_path(ready).write_text(json.dumps(data))
    result = doctor(ready)
    assert result.code == 1
    status, detail, fix = find_check(result, "Settings file")
    assert status == "FAIL" and "ANTHROPIC_BASE_URL" in detail and fix
    assert fix.startswith("setup-fmapi-claudecode")


def test_helper_not_executable(ready: Sandbox) -> None:
    # The helper's program, copied where the test may change its mode, without the x bit.
    program = ready.home / "tools" / "dbx-fmapi"
    program.parent.mkdir()
    real = shutil.which("dbx-fmapi", path=ready.env["PATH"])
    assert real
    shutil.copyfile(real, program)
    program.chmod(0o644)
    edit_settings(ready, apiKeyHelper=f"'{program}' token --profile 'DEFAULT'")
    result = doctor(ready)
    assert result.code == 1, result
    status, detail, fix = find_check(result, "apiKeyHelper")
    assert status == "FAIL" and "not executable" in detail and str(program) in detail
    assert fix == f"chmod +x {program}"
    assert statuses(result)["apiKeyHelper run"] == "SKIP"


def test_helper_program_gone(ready: Sandbox) -> None:
    edit_settings(ready, apiKeyHelper="'/nonexistent/bin/dbx-fmapi' token --profile 'DEFAULT'")
    result = doctor(ready)
    status, detail, fix = find_check(result, "apiKeyHelper")
    assert status == "FAIL" and "does not exist" in detail
    assert fix is not None and fix.startswith("setup-fmapi-claudecode")
    assert result.code == 1


def test_profile_missing(ready: Sandbox, workspace: FakeWorkspace) -> None:
    cfg = ready.home / ".databrickscfg"
    cfg.write_text(cfg.read_text().replace("[DEFAULT]", "[other]"))
    result = doctor(ready)
    assert result.code == 1, result
    status, detail, fix = find_check(result, "CLI profile")
    assert status == "FAIL" and "'DEFAULT'" in detail and "not in" in detail
    assert fix is not None and fix.startswith("dbx-fmapi login")
    assert f"databricks auth login --host {workspace.url} --profile DEFAULT" in fix
    st = statuses(result)
    assert st["Token"] == "SKIP" and st["Workspace"] == "SKIP"


def test_refresh_token_revoked(ready: Sandbox, workspace: FakeWorkspace) -> None:
    workspace.revoke_refresh_tokens()
    ready.set_token_expiry(60)  # the CLI has to refresh, and the workspace refuses
    logins = len([c for c in ready.databricks_calls() if c["argv"][:2] == ["auth", "login"]])
    result = doctor(ready)
    assert result.code == 1, result
    status, detail, fix = find_check(result, "Token")
    assert status == "FAIL" and "expired or was revoked" in detail
    assert fix == "dbx-fmapi login"
    st = statuses(result)
    assert st["Workspace"] == "SKIP" and st["apiKeyHelper run"] == "SKIP"
    assert all(st[f"Model {m}"] == "SKIP" for m in MODELS)
    # doctor never starts a login by itself.
    after = [c for c in ready.databricks_calls() if c["argv"][:2] == ["auth", "login"]]
    assert len(after) == logins


def test_workspace_down(ready: Sandbox, workspace: FakeWorkspace) -> None:
    url = workspace.url
    workspace.stop()
    result = doctor(ready)
    assert result.code == 1, result
    status, detail, fix = find_check(result, "Workspace")
    assert status == "FAIL" and "cannot reach" in detail
    assert fix == f"check the URL, your network or VPN: curl -sI {url}"
    st = statuses(result)
    assert st["Token"] == "PASS"  # the cached token is still good
    assert all(st[f"Model {m}"] == "SKIP" and st[f"Request to {m}"] == "SKIP" for m in MODELS)


def test_workspace_too_slow(ready: Sandbox, workspace: FakeWorkspace) -> None:
    workspace.set_latency("/api/2.0/preview/scim", 30)
    result = doctor(ready, env={"DBX_FMAPI_HTTP_TIMEOUT": "1"})
    status, detail, fix = find_check(result, "Workspace")
    assert status == "FAIL" and "did not answer in time" in detail and fix
    assert result.code == 1


def test_gateway_too_slow(ready: Sandbox, workspace: FakeWorkspace) -> None:
    workspace.set_latency("/serving-endpoints/anthropic", 30)
    result = doctor(ready, env={"DBX_FMAPI_HTTP_TIMEOUT": "1"})
    assert result.code == 1, result
    status, detail, fix = find_check(result, f"Request to {MODELS[0]}")
    assert status == "FAIL" and "did not answer in time" in detail
    assert fix is not None and "curl -sI" in fix


def test_model_missing(ready: Sandbox, workspace: FakeWorkspace) -> None:
    workspace.set_endpoints([e for e in workspace.endpoints if e["name"] != MODELS[2]])
    result = doctor(ready)
    assert result.code == 1, result
    status, detail, fix = find_check(result, f"Model {MODELS[2]}")
    assert status == "FAIL" and "does not exist" in detail and "haiku" in detail
    assert fix is not None and "dbx-fmapi models" in fix and "--haiku" in fix
    assert statuses(result)[f"Request to {MODELS[2]}"] == "SKIP"
    assert only_failures(result) == {f"Model {MODELS[2]}": "FAIL"}


def test_model_not_ready(ready: Sandbox, workspace: FakeWorkspace) -> None:
    workspace.set_endpoints(
        [e for e in workspace.endpoints if e["name"] != MODELS[1]]
        + [endpoint(MODELS[1], ready=False)]
    )
    result = doctor(ready)
    assert result.code == 1, result
    status, detail, fix = find_check(result, f"Model {MODELS[1]}")
    assert status == "FAIL" and "NOT_READY" in detail
    assert fix is not None and "READY" in fix
    # the other READY Sonnets (sonnet-4, 3-7-sonnet) are retired: never suggested; the newest
    # model of a neighbouring family is, as setup would choose it
    assert "setup-fmapi-claudecode --sonnet databricks-claude-opus-4-6" in fix
    assert statuses(result)[f"Request to {MODELS[1]}"] == "SKIP"


def test_gateway_403_permission(ready: Sandbox, workspace: FakeWorkspace) -> None:
    workspace.fail("/serving-endpoints/anthropic", 403, times=None)
    result = doctor(ready)
    assert result.code == 1, result
    for model in MODELS:
        status, detail, fix = find_check(result, f"Request to {model}")
        assert status == "FAIL" and "403" in detail and "not allowed to query" in detail
        assert fix is not None and f"CAN_QUERY on serving endpoint {model}" in fix


def test_gateway_403_invalid_token(ready: Sandbox, workspace: FakeWorkspace) -> None:
    body = {"error_code": "403", "message": "Invalid access token."}
    workspace.fail("/serving-endpoints/anthropic", 403, times=None, body=body)
    result = doctor(ready)
    status, detail, fix = find_check(result, f"Request to {MODELS[0]}")
    assert status == "FAIL" and "rejected the token" in detail
    assert fix == "dbx-fmapi login"
    assert result.code == 1


def test_gateway_429_is_a_warning(ready: Sandbox, workspace: FakeWorkspace) -> None:
    workspace.fail("/serving-endpoints/anthropic", 429, times=None, retry_after=30)
    result = doctor(ready)
    assert result.code == 0, result  # a rate limit is not a broken setup
    status, detail, fix = find_check(result, f"Request to {MODELS[0]}")
    assert status == "WARN" and "rate limited" in detail and "429" in detail and "30s" in detail
    assert fix is not None and "rate limit" in fix
    assert "1 passed" not in result.stdout and "0 failed" in result.stdout


def test_gateway_404(ready: Sandbox, workspace: FakeWorkspace) -> None:
    workspace.fail("/serving-endpoints/anthropic", 404, times=None)
    result = doctor(ready)
    status, detail, fix = find_check(result, f"Request to {MODELS[0]}")
    assert status == "FAIL" and "does not serve this model" in detail
    assert fix is not None and "dbx-fmapi models" in fix
    assert result.code == 1


def test_untrusted_tls(sandbox: Sandbox, tls_workspace: FakeWorkspace) -> None:
    fake_claude(sandbox)
    set_up(sandbox, tls_workspace)  # sandbox.login trusts the CA for setup
    result = doctor(sandbox, env={"SSL_CERT_FILE": None, "NODE_EXTRA_CA_CERTS": None})
    assert result.code == 1, result
    status, detail, fix = find_check(result, "Workspace")
    assert status == "FAIL" and "not trusted" in detail
    assert fix is not None and "SSL_CERT_FILE=" in fix and "NODE_EXTRA_CA_CERTS=" in fix
    # With the company CA trusted again, everything passes.
    assert doctor(sandbox).code == 0


def test_conflicting_anthropic_api_key_in_the_environment(ready: Sandbox) -> None:
    secret = "sk-ant-api03-should-never-be-printed"
    result = doctor(ready, env={"ANTHROPIC_API_KEY": secret})
    assert result.code == 1, result
    status, detail, fix = find_check(result, "Effective settings")
    assert status == "FAIL" and "ANTHROPIC_API_KEY" in detail and "shell environment" in detail
    assert fix is not None and fix.startswith("unset ANTHROPIC_API_KEY")
    assert secret not in result.output
    assert only_failures(result) == {"Effective settings": "FAIL"}


def test_conflicting_anthropic_api_key_in_project_settings(ready: Sandbox) -> None:
    project = ready.home / "work" / "repo"
    local = edit_settings(
        ready,
        project / ".claude" / "settings.local.json",
        env={"ANTHROPIC_API_KEY": "sk-ant-secret"},
    )
    result = doctor(ready, cwd=project)
    assert result.code == 1, result
    status, detail, fix = find_check(result, "Effective settings")
    assert status == "FAIL" and "ANTHROPIC_API_KEY" in detail and str(local) in detail
    assert fix is not None and str(local) in fix and '"ANTHROPIC_API_KEY"' in fix
    assert "sk-ant-secret" not in result.output
    # Elsewhere (not in that project) nothing conflicts.
    assert doctor(ready).code == 0


def test_stale_static_token_beside_the_helper(ready: Sandbox, workspace: FakeWorkspace) -> None:
    old = workspace.issue_token(lifetime=-60)
    edit_settings(ready, env={"ANTHROPIC_AUTH_TOKEN": old})
    result = doctor(ready)
    assert result.code == 1
    lines = [x for x in doctor_lines(result) if x[1] == "Effective settings"]
    assert any(s == "FAIL" and "stale ANTHROPIC_AUTH_TOKEN" in d for s, _, d, _ in lines), lines
    assert old not in result.output


def test_other_base_url_in_a_higher_level(ready: Sandbox) -> None:
    project = ready.home / "repo"
    path = edit_settings(
        ready,
        project / ".claude" / "settings.json",
        env={"ANTHROPIC_BASE_URL": "https://api.example.com"},
    )
    result = doctor(ready, cwd=project)
    assert result.code == 1
    status, detail, fix = find_check(result, "Effective settings")
    assert (
        status == "FAIL" and "ANTHROPIC_BASE_URL" in detail and "https://api.example.com" in detail
    )
    assert str(path) in detail and fix is not None and str(path) in fix


def test_a_model_overridden_elsewhere_is_a_warning(ready: Sandbox) -> None:
    project = ready.home / "repo"
    edit_settings(
        ready,
        project / ".claude" / "settings.local.json",
        env={"ANTHROPIC_MODEL": "databricks-claude-sonnet-4"},
    )
    result = doctor(ready, cwd=project)
    assert result.code == 0, result
    status, detail, _fix = find_check(result, "Effective settings")
    assert status == "WARN" and "ANTHROPIC_MODEL is overridden" in detail
    assert "databricks-claude-sonnet-4" in detail


def test_exported_base_url_is_harmless_when_settings_set_it(ready: Sandbox) -> None:
    # Settings `env` beats an exported variable: not a conflict.
    result = doctor(ready, env={"ANTHROPIC_BASE_URL": "https://elsewhere.example.com"})
    assert result.code == 0, result


def test_shell_block_missing_is_a_warning(ready: Sandbox) -> None:
    (ready.home / ".bashrc").write_text("# my bashrc\n")
    result = doctor(ready)
    assert result.code == 0
    status, detail, fix = find_check(result, "Shell wrapper")
    assert status == "WARN" and fix == "setup-fmapi-claudecode --shell bash"


def test_not_set_up(sandbox: Sandbox) -> None:
    fake_claude(sandbox)
    result = doctor(sandbox)
    assert result.code == 1
    status, detail, fix = find_check(result, "Setup")
    assert status == "FAIL" and "not set up" in detail and fix == "setup-fmapi-claudecode"
    assert statuses(result)["Token"] == "SKIP"


def test_static_mode_expired_token_in_settings(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    fake_claude(sandbox)
    set_up(sandbox, workspace, "--token-mode", "static")
    path = settings_path(sandbox)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert doctor(sandbox).code == 0
    edit_settings(sandbox, env={"ANTHROPIC_AUTH_TOKEN": workspace.issue_token(lifetime=-120)})
    path.chmod(0o600)
    result = doctor(sandbox)
    assert result.code == 0, result
    status, detail, fix = find_check(result, "Token in settings")
    assert status == "WARN" and "expired" in detail
    assert fix is not None and fix.startswith("dbx-fmapi-claude")
    # A helper beside the static token is a conflict.
    edit_settings(sandbox, apiKeyHelper="echo x")
    path.chmod(0o600)
    result = doctor(sandbox)
    assert result.code == 1
    assert any(
        s == "FAIL" and "apiKeyHelper" in d
        for s, t, d, _ in doctor_lines(result)
        if t == "Effective settings"
    )


def test_no_color_without_a_tty(ready: Sandbox) -> None:
    result = doctor(ready, env={"TERM": "xterm-256color"})
    assert "\x1b[" not in result.output


def test_color_on_a_tty_unless_no_color(ready: Sandbox) -> None:
    pexpect = pytest.importorskip("pexpect")
    env = dict(ready.env, TERM="xterm-256color")
    child = pexpect.spawn(
        "dbx-fmapi", ["doctor"], env=env, cwd=str(ready.home), encoding="utf-8", timeout=120
    )
    child.expect(pexpect.EOF)
    child.close()
    assert "\x1b[32mPASS" in (child.before or "")
    # Network waits show a transient progress line (on stderr, cleared before each result).
    assert "sending a one-token request to databricks-claude-opus-4-6" in (child.before or "")
    assert "\r\x1b[K" in (child.before or "")
    env["NO_COLOR"] = "1"
    child = pexpect.spawn(
        "dbx-fmapi", ["doctor"], env=env, cwd=str(ready.home), encoding="utf-8", timeout=120
    )
    child.expect(pexpect.EOF)
    child.close()
    text = child.before or ""
    assert "PASS" in text and "\x1b[3" not in text


@pytest.mark.e2e
def test_reports_the_real_claude_version(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    set_up(sandbox, workspace)
    result = doctor(sandbox)
    assert result.code == 0, result
    status, detail, _ = find_check(result, "Claude Code")
    # whichever release scripts/test pins: what that binary itself says
    version = sandbox.run([claude_bin, "--version"]).stdout.strip()
    assert version.endswith("(Claude Code)"), version
    assert status == "PASS" and detail.startswith(f"{version} at ")
