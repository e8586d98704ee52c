"""`dbx-fmapi token`: the apiKeyHelper Claude Code runs. One line, a token that outlives the
helper TTL plus the margin, one refresh however many callers, and a fast, exact failure when a
login is needed where nobody can do it."""

from __future__ import annotations

import subprocess
import time

from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

# TTL 10 min + margin 5 min = 15 min of life needed. The real CLI refreshes by itself only
# within 5 minutes of expiry, so a token with 5 to 15 minutes left is ours to refresh.
NEEDED = 900
SHORT = {
    "CLAUDE_CODE_API_KEY_HELPER_TTL_MS": "600000",
    "DBX_FMAPI_TOKEN_MARGIN_SECONDS": "300",
}
HEADLESS_SSH = {
    "SSH_CONNECTION": "10.0.0.1 50000 10.0.0.2 22",
    "SSH_CLIENT": "10.0.0.1 50000 22",
    "DISPLAY": None,
    "WAYLAND_DISPLAY": None,
}


def token(sandbox: Sandbox, **env: str | None) -> subprocess.CompletedProcess[str]:
    result = sandbox.run(["dbx-fmapi", "token", "--profile", "DEFAULT"], env=env, timeout=60)
    return subprocess.CompletedProcess(result.argv, result.code, result.stdout, result.stderr)


def test_prints_exactly_one_line_the_valid_cached_token(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    cached = sandbox.cached_token()
    out = token(sandbox)
    assert out.returncode == 0, out
    assert out.stdout == cached + "\n"
    assert out.stderr == ""
    assert workspace.token_state(cached) == "valid"
    assert workspace.refresh_count() == 0  # a valid token costs no network call


def test_forces_a_refresh_when_the_token_would_not_outlive_ttl_plus_margin(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.access_token_lifetime = 600  # outside the CLI's own window, short of NEEDED
    sandbox.signed_in(workspace)
    stale = sandbox.cached_token()
    workspace.access_token_lifetime = 3600
    out = token(sandbox, **SHORT)
    assert out.returncode == 0, out
    printed = out.stdout.strip()
    assert printed != stale
    ref = workspace.token_ref(printed)
    assert ref is not None and ref.state == "valid" and ref.seconds_left > 3500
    assert workspace.refresh_count() == 1
    argvs = [c["argv"] for c in sandbox.databricks_calls() if "token" in c["argv"]]
    assert any("--force-refresh" in a for a in argvs)


def test_a_token_with_enough_life_left_is_not_refreshed(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.access_token_lifetime = NEEDED + 100
    sandbox.signed_in(workspace)
    out = token(sandbox, **SHORT)
    assert out.returncode == 0, out
    assert out.stdout.strip() == sandbox.cached_token()
    assert workspace.refresh_count() == 0


def test_twenty_concurrent_helpers_with_an_expired_token_cause_one_refresh(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.access_token_lifetime = 1
    sandbox.signed_in(workspace)
    time.sleep(1.5)
    workspace.access_token_lifetime = 3600
    env = sandbox._env({})
    procs = [
        subprocess.Popen(
            [str(sandbox.bin / "dbx-fmapi"), "token", "--profile", "DEFAULT"],
            env=env,
            cwd=sandbox.home,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(20)
    ]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    for p in procs:
        p.stdout.close()  # type: ignore[union-attr]
        p.stderr.close()  # type: ignore[union-attr]
    assert [r[0] for r in results] == [0] * 20, [r[2] for r in results]
    printed = {r[1] for r in results}
    assert len(printed) == 1
    (line,) = printed
    assert workspace.token_state(line.strip()) == "valid"
    assert workspace.refresh_count() == 1


def test_headless_over_ssh_login_needed_fails_fast_with_the_exact_command(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.access_token_lifetime = 1
    sandbox.signed_in(workspace)
    time.sleep(1.2)
    workspace.revoke_refresh_tokens()
    ours = [".config/dbx-fmapi-claude/locks/*"]  # the lock file is our own, not the user's
    before = sandbox.snapshot(exclude=ours)
    visits = len(sandbox.browser_visits())
    out = token(sandbox, **HEADLESS_SSH)
    assert out.returncode == 4, out
    assert out.stdout == ""
    assert f"databricks auth login --host {workspace.url} --profile DEFAULT" in out.stderr
    assert len(out.stderr.strip().splitlines()) <= 2  # the reason and the fix
    # At once: no login was attempted (nothing waits for a browser), one refresh only.
    assert len(sandbox.browser_visits()) == visits
    assert [c["argv"][:2] for c in sandbox.databricks_calls()][-1:] == [["auth", "token"]]
    assert sandbox.snapshot(exclude=ours) == before


def test_cli_that_hangs_is_bounded(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox.signed_in(workspace)
    sandbox.use_fake_cli()  # the real one cannot be made to hang
    out = token(sandbox, FAKE_DATABRICKS_HANG="30", DBX_FMAPI_CLI_TIMEOUT_SECONDS="2")
    assert out.returncode == 1, out
    assert "did not answer within 2s" in out.stderr
    assert out.stdout == ""


def test_cli_garbage_is_a_clear_error(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox.signed_in(workspace)
    sandbox.use_fake_cli()  # the real one cannot be made to print garbage
    out = token(sandbox, FAKE_DATABRICKS_GARBAGE="1")
    assert out.returncode == 1, out
    assert "not a token" in out.stderr
    assert out.stdout == ""


def test_cli_missing_names_the_install_command(sandbox: Sandbox) -> None:
    sandbox.remove("databricks")
    out = token(sandbox)
    assert out.returncode == 1, out
    assert "Databricks CLI" in out.stderr and "install" in out.stderr
    assert out.stdout == ""
