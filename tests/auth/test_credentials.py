"""Credentials beyond the browser (issue 14): a service principal (M2M), a personal access
token, and CI with only DATABRICKS_* variables. Each journey runs the real setup, the real
Claude Code through the apiKeyHelper and the wrapper, against the fake workspace; never a
browser, never a change to ~/.databrickscfg, never a secret in argv, files or output."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.helpers.credentials import (
    DESKTOP,
    SP_ID,
    SP_SECRET,
    no_login_happened,
    setup,
    write_profile,
)
from tests.helpers.mgmt import config_of
from tests.helpers.replies import sleep_turns
from tests.rig.sandbox import Result, Sandbox
from tests.rig.workspace import FakeWorkspace

HEADLESS = {"DISPLAY": None, "WAYLAND_DISPLAY": None, "SSH_CONNECTION": "10.0.0.1 5 10.0.0.2 22"}
QUICK = {"CLAUDE_CODE_MAX_RETRIES": "0"}


def request_tokens(workspace: FakeWorkspace) -> list[str]:
    return [str(r.token) for r in workspace.messages_requests()]


def assert_answers(sandbox: Sandbox, env: dict[str, str | None] | None = None) -> None:
    for argv in (["claude", "-p", "hi"], ["dbx-fmapi-claude", "-p", "hi"]):
        out = sandbox.run(argv, env={**QUICK, **(env or {})}, timeout=120)
        assert out.code == 0 and "pong" in out.stdout, out


@pytest.mark.e2e
def test_a_service_principal_profile_works_end_to_end_without_the_cli(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    cfg = write_profile(sandbox, "sp", host=workspace.url, client_id=SP_ID, client_secret=SP_SECRET)
    result = setup(sandbox, "--host", workspace.url, "--profile", "sp")
    assert result.code == 0, result
    assert "credential: service principal from profile 'sp'" in result.stdout
    data = json.loads((sandbox.home / ".claude/settings.json").read_text())
    assert data["apiKeyHelper"].endswith("token --profile 'sp'")
    assert SP_SECRET not in json.dumps(data)
    assert_answers(sandbox)
    for rec in workspace.messages_requests():
        assert rec.token is not None and rec.token.valid
    # The tokens are the principal's, not a person's; the CLI was never asked for one.
    grants = [g for g, ok in workspace.token_requests if ok]
    assert set(grants) == {"client_credentials"}
    assert [c for c in sandbox.databricks_calls() if c["argv"][:2] == ["auth", "token"]] == []
    no_login_happened(sandbox)
    assert (sandbox.home / ".databrickscfg").read_bytes() == cfg
    record = config_of(sandbox)
    assert record["auth"] == "m2m" and SP_SECRET not in json.dumps(record)
    cache = sandbox.home / ".config/dbx-fmapi-claude/m2m-tokens.json"
    assert (cache.stat().st_mode & 0o777) == 0o600


@pytest.mark.e2e
def test_a_pat_profile_works_and_the_pat_is_never_copied(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    pat = workspace.issue_pat()
    cfg = write_profile(sandbox, "pat", host=workspace.url, token=pat)
    result = setup(sandbox, "--host", workspace.url, "--profile", "pat")
    assert result.code == 0, result
    assert "personal access token from profile 'pat' (no expiry known)" in result.stdout
    assert_answers(sandbox)
    assert workspace.messages_requests() and all(
        r.token is not None and r.token.matches(pat) for r in workspace.messages_requests()
    )
    no_login_happened(sandbox)
    assert (sandbox.home / ".databrickscfg").read_bytes() == cfg
    for path in sandbox.home.rglob("*"):
        if path.is_file() and path.name != ".databrickscfg":
            assert pat.encode() not in path.read_bytes(), path
    status = sandbox.run_here(["dbx-fmapi", "status"])
    assert status.code == 0 and "personal access token" in status.stdout, status
    assert pat not in status.output


def test_static_mode_refuses_to_copy_a_pat(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    cfg = write_profile(sandbox, "pat", host=workspace.url, token=workspace.issue_pat())
    result = setup(sandbox, "--host", workspace.url, "--profile", "pat", "--token-mode", "static")
    assert result.code == 2, result
    assert "static mode would copy your personal access token" in result.stderr
    assert "fix: setup-fmapi-claudecode --token-mode helper" in result.stderr
    assert not (sandbox.home / ".claude").exists()
    assert (sandbox.home / ".databrickscfg").read_bytes() == cfg


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["pat", "m2m"])
def test_ci_with_only_environment_variables(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str, kind: str
) -> None:
    env: dict[str, str | None] = {"DATABRICKS_HOST": workspace.url}
    if kind == "pat":
        env["DATABRICKS_TOKEN"] = workspace.issue_pat()
    else:
        env.update(DATABRICKS_CLIENT_ID=SP_ID, DATABRICKS_CLIENT_SECRET=SP_SECRET)
    result = setup(sandbox, "--no-verify", env=env)  # no --host: DATABRICKS_HOST names it
    assert result.code == 0, result
    assert "credential: DATABRICKS_* variables" in result.stdout
    assert not (sandbox.home / ".databrickscfg").exists()
    data = json.loads((sandbox.home / ".claude/settings.json").read_text())
    assert data["apiKeyHelper"].endswith("' token")  # no profile: the variables
    assert_answers(sandbox, env)
    assert all(r.token is not None and r.token.valid for r in workspace.messages_requests())
    no_login_happened(sandbox)
    secret = env.get("DATABRICKS_TOKEN") or SP_SECRET
    for path in sandbox.home.rglob("*"):
        if path.is_file() and path.name != "m2m-tokens.json":
            assert str(secret).encode() not in path.read_bytes(), path


@pytest.mark.parametrize("where", ["desktop", "headless"])
def test_a_bad_client_secret_fails_at_once_with_the_fix(
    sandbox: Sandbox, workspace: FakeWorkspace, where: str
) -> None:
    cfg = write_profile(sandbox, "sp", host=workspace.url, client_id=SP_ID, client_secret="wrong")
    env = DESKTOP if where == "desktop" else HEADLESS
    out = sandbox.run_here(["dbx-fmapi", "token", "--profile", "sp"], env=env)
    assert out.code == 1, out
    assert out.stdout == ""
    assert "the workspace rejected the service principal 'test-sp'" in out.stderr
    assert "invalid_client" in out.stderr
    assert "fix: check the client_id/client_secret of profile 'sp'" in out.stderr
    assert "wrong" not in out.stderr.replace("may be wrong", "")
    assert len([g for g, ok in workspace.token_requests if not ok]) == 1  # no retry storm
    no_login_happened(sandbox)
    assert (sandbox.home / ".databrickscfg").read_bytes() == cfg
    # setup says the same and writes nothing
    result = setup(sandbox, "--host", workspace.url, "--profile", "sp", env=env)
    assert result.code == 1 and "rejected the service principal" in result.stderr, result
    assert not (sandbox.home / ".claude").exists()


def test_a_disabled_principal_is_named(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    write_profile(sandbox, "sp", host=workspace.url, client_id=SP_ID, client_secret=SP_SECRET)
    workspace.disabled_principals.add(SP_ID)
    out = sandbox.run_here(["dbx-fmapi", "token", "--profile", "sp"], env=HEADLESS)
    assert out.code == 1, out
    assert "Service principal is disabled" in out.stderr
    no_login_happened(sandbox)


@pytest.mark.parametrize("where", ["desktop", "headless"])
def test_a_revoked_pat_is_reported_by_login_and_doctor_with_the_fix(
    sandbox: Sandbox, workspace: FakeWorkspace, where: str
) -> None:
    pat = workspace.issue_pat()
    cfg = write_profile(sandbox, "pat", host=workspace.url, token=pat)
    result = setup(sandbox, "--host", workspace.url, "--profile", "pat", "--no-verify")
    assert result.code == 0, result
    workspace.revoke_pat(pat)
    env = DESKTOP if where == "desktop" else HEADLESS
    out = sandbox.run_here(["dbx-fmapi", "login"], env=env)
    assert out.code == 1, out
    assert "there is no browser login for it" in out.stdout
    assert "the workspace rejected the personal access token (HTTP 403" in out.stderr
    assert "fix: create a new token" in out.stderr
    doctor = sandbox.run_here(["dbx-fmapi", "doctor", "--json"], env=env, timeout=120)
    assert doctor.code == 1, doctor
    checks = {c["id"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["workspace"]["status"] == "FAIL"
    assert "rejected the personal access token" in checks["workspace"]["detail"]
    assert pat not in doctor.output and pat not in out.output
    no_login_happened(sandbox)
    assert (sandbox.home / ".databrickscfg").read_bytes() == cfg


def test_login_on_a_service_principal_checks_it_and_says_how_its_tokens_are_renewed(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """No browser login for a service principal: `dbx-fmapi login` says so, gets a token with
    the client credentials and says how long it lasts; the profile stays as it was."""
    cfg = write_profile(sandbox, "sp", host=workspace.url, client_id=SP_ID, client_secret=SP_SECRET)
    result = setup(sandbox, "--host", workspace.url, "--profile", "sp", "--no-verify")
    assert result.code == 0, result
    out = sandbox.run_here(["dbx-fmapi", "login"], env=HEADLESS)
    assert out.code == 0, out
    assert out.stdout.startswith(
        "Profile 'sp' uses a service principal: there is no browser login for it, and dbx-fmapi "
        "never runs one (on a profile it would replace the credential in ~/.databrickscfg).\n"
        f"The service principal got a token from {workspace.url}, valid for "
    ), out
    assert out.stdout.endswith("; new ones are fetched automatically.\n"), out
    assert SP_SECRET not in out.output
    no_login_happened(sandbox)
    assert (sandbox.home / ".databrickscfg").read_bytes() == cfg


def test_twenty_concurrent_helpers_on_a_service_principal_make_one_token_request(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    write_profile(sandbox, "sp", host=workspace.url, client_id=SP_ID, client_secret=SP_SECRET)
    env = {**sandbox.env, "HOME": str(sandbox.home)}

    def twenty_helpers() -> list[tuple[str, str]]:
        """Twenty `dbx-fmapi token` at once; each must succeed."""
        argv = ["dbx-fmapi", "token", "--profile", "sp"]
        procs = [
            subprocess.Popen(
                argv,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=str(sandbox.home),
            )
            for _ in range(20)
        ]
        outs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), outs
        return outs

    outs = twenty_helpers()
    tokens = {o.strip() for o, _ in outs}
    assert len(tokens) == 1
    assert workspace.token_requests == [("client_credentials", True)]
    # a second expiry: the cached token no longer outlives TTL + margin -> exactly one more
    cache = sandbox.home / ".config/dbx-fmapi-claude/m2m-tokens.json"
    data = json.loads(cache.read_text())
    for entry in data.values():
        entry["expiry"] = entry["expiry"] - 3600 + 60
    cache.write_text(json.dumps(data))
    os.chmod(cache, 0o600)
    outs = twenty_helpers()
    assert len({o.strip() for o, _ in outs}) == 1
    assert workspace.token_requests == [("client_credentials", True)] * 2


def test_an_other_credential_profile_is_refused_clearly(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    cfg = write_profile(sandbox, "az", host=workspace.url, azure_client_secret="x" * 12)
    result = setup(sandbox, "--host", workspace.url, "--profile", "az", env=DESKTOP)
    assert result.code == 1, result
    assert "profile 'az' uses a non-OAuth credential" in result.stderr
    assert (sandbox.home / ".databrickscfg").read_bytes() == cfg
    no_login_happened(sandbox)


def test_auth_flag_mismatch_names_what_the_profile_holds(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    write_profile(sandbox, "pat", host=workspace.url, token=workspace.issue_pat())
    result = setup(sandbox, "--host", workspace.url, "--profile", "pat", "--auth", "m2m")
    assert result.code == 2, result
    assert "profile 'pat' holds a personal access token, not the --auth m2m" in result.stderr
    assert "--auth pat" in result.stderr
    assert not (sandbox.home / ".claude").exists()


M2M_LIFETIME = 60  # seconds: no CLI refresh window to stay out of, so tokens can be short
M2M_TURNS, M2M_SLEEP = 8, 10  # 80 s per session: our refresh starts below 40 s left, every 20 s


@pytest.mark.slow
@pytest.mark.e2e
def test_m2m_sessions_across_several_expiries_only_send_fresh_tokens(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    """The long-session proof for a service principal: plain `claude` (apiKeyHelper) and the
    wrapper at once, tokens living 60 s, TTL 10 s + margin 30 s: every request carries a token
    with 40 s or more, and each expiry costs exactly one token request for both sessions."""
    import threading

    workspace.access_token_lifetime = M2M_LIFETIME
    write_profile(sandbox, "sp", host=workspace.url, client_id=SP_ID, client_secret=SP_SECRET)
    result = setup(
        sandbox,
        "--host",
        workspace.url,
        "--profile",
        "sp",
        "--no-verify",
        "--ttl",
        "10s",
        "--margin",
        "30s",
    )
    assert result.code == 0, result
    workspace.reply = sleep_turns(M2M_TURNS, M2M_SLEEP)
    (sandbox.home / "plain").mkdir()
    (sandbox.home / "wrapped").mkdir()
    args = ["-p", "wait a while", "--allowedTools", "Bash"]
    results: dict[str, Result] = {}

    def plain() -> None:
        results["plain"] = sandbox.claude(args, cwd=sandbox.home / "plain", timeout=600)

    def wrapped() -> None:
        results["wrapped"] = sandbox.run(
            ["dbx-fmapi-claude", *args], cwd=sandbox.home / "wrapped", timeout=600
        )

    threads = [threading.Thread(target=plain), threading.Thread(target=wrapped)]
    sandbox.seed_onboarding()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name, res in results.items():
        assert res.code == 0 and "all done" in res.stdout, (name, res)
    refs = [r.token for r in workspace.messages_requests()]
    assert len(refs) >= 2 * (M2M_TURNS + 1)
    assert {ref.state for ref in refs if ref is not None} == {"valid"}, refs
    assert all(ref is not None for ref in refs)
    least = min(ref.seconds_left or 0 for ref in refs if ref is not None)
    assert least >= 25, f"a request went out with only {least:.1f}s of token life left"
    distinct = {ref.id for ref in refs if ref is not None}
    assert len(distinct) >= 3  # several expiries crossed
    fetched = [g for g, ok in workspace.token_requests if ok]
    assert set(fetched) == {"client_credentials"}
    assert len(fetched) <= len(distinct) + 1  # one request per expiry (+ setup's own check)
    no_login_happened(sandbox)
