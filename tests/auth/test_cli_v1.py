"""The Databricks CLI users run, v1.x (issue 19, item 5): tests can build only v0.298.0, so the
fake CLI plays v1.13.0 from its source (tests/rig/fake_databricks.py, "v1.x"). Each of v1's new
messages is read for what it is - a login needed, the network, or its token store (the OS
keyring) - each with its own fix; and "we never change ~/.databrickscfg" stays true when the CLI
itself pins `[__settings__] auth_storage` there: our commands leave the file as the CLI left it.
"""

from __future__ import annotations

import pytest

from dbx_fmapi_claude.auth import cli_errors, databrickscfg, dbcli
from tests.helpers import mgmt
from tests.rig.sandbox import V1_VERSION, Result, Sandbox
from tests.rig.workspace import FakeWorkspace

TRAILER = (
    "Try logging in again with `databricks auth login --profile dev` before retrying. If this "
    "fails, please report this issue to the Databricks CLI maintainers at "
    "https://github.com/databricks/cli/issues/new"
)
HINT = (
    "Databricks skills are not installed. To work with Databricks reliably, first run: "
    "databricks aitools install"
)
NO_SECRET_SERVICE = "The name org.freedesktop.secrets was not provided by any .service files"
PLAINTEXT_HINT = (
    "(set DATABRICKS_AUTH_STORAGE=plaintext or run `databricks auth login` to use file-based "
    "token storage)"
)

# What v1.13.0 prints (cmd/auth/token.go, libs/auth/storage), and what it is.
V1_ERRORS = [
    (
        "Error: cache: databricks OAuth is not configured for this host. no cached credentials; "
        "run `databricks auth login` to sign in",
        "login",
    ),
    (
        "Error: cache: databricks OAuth is not configured for this host. stored credentials from "
        "older CLI versions are no longer used; run `databricks auth login` to sign in again, or "
        "set DATABRICKS_AUTH_STORAGE=plaintext to keep using the file cache",
        "login",
    ),
    (
        f"Error: cache: OS keyring unreachable: {NO_SECRET_SERVICE} {PLAINTEXT_HINT}. {TRAILER}",
        "storage",
    ),
    (
        f"Error: cache: OS keyring unreachable: keyring get timed out {PLAINTEXT_HINT}. {TRAILER}",
        "storage",
    ),
    ("Error: forced token refresh: cache update: keyring set timed out. " + TRAILER, "storage"),
    (
        "Error: secure storage was requested but the OS keyring is not reachable: write: "
        + NO_SECRET_SERVICE,
        "storage",
    ),
    (
        'Error: DATABRICKS_AUTH_STORAGE: unknown storage mode "vault" (want plaintext or secure)',
        "storage",
    ),
    (
        f'{HINT}\nError: token refresh: Post "https://adb-4291.1.azuredatabricks.net/oidc/v1/'
        'token": dial tcp 10.0.0.1:443: connect: connection refused. ' + TRAILER,
        "network",
    ),
]


@pytest.mark.parametrize(("stderr", "kind"), V1_ERRORS)
def test_each_v1_message_is_read_for_what_it_is(stderr: str, kind: str) -> None:
    error = dbcli.last_error(stderr)
    assert dbcli.classify(error) == kind
    exc = dbcli.token_error(kind, dbcli.scrub(error), "dev", "https://x.example.com", error)
    assert HINT not in exc.message
    assert exc.fix is not None
    if kind == "login":
        assert exc.code == 4
        assert exc.fix == "databricks auth login --host https://x.example.com --profile dev"
    elif kind == "storage":
        assert exc.code == 1
        assert "token store" in exc.message and "not a login or network problem" in exc.message
        assert exc.fix == cli_errors.STORAGE_FIX
        assert "export DATABRICKS_AUTH_STORAGE=plaintext" in exc.fix
        assert "auth login" not in exc.fix and "auth login" not in exc.message
    else:
        assert exc.code == 1
        assert exc.fix.startswith("check the URL https://x.example.com (or your network")
        assert "auth login" not in exc.fix


# --- journeys with the v1 fake ------------------------------------------------------------------

DESKTOP = {"DISPLAY": ":0"}  # a login, if we wrongly decided on one, would open the browser


@pytest.fixture
def v1(sandbox: Sandbox) -> Sandbox:
    """The v1 fake with its default storage (the OS keyring): no DATABRICKS_AUTH_STORAGE."""
    sandbox.use_fake_cli(version=V1_VERSION)
    del sandbox.env["DATABRICKS_AUTH_STORAGE"]
    mgmt.fake_claude(sandbox)
    return sandbox


def _setup(sandbox: Sandbox, workspace: FakeWorkspace, *args: str) -> Result:
    argv = ["setup-fmapi-claudecode", "--host", workspace.url, "--profile", "dev"]
    argv += ["--skip-install", "--shell", "bash", *args]
    return sandbox.run_here(argv, env=DESKTOP, timeout=120)


def test_the_clis_auth_storage_pin_is_the_clis_and_our_commands_leave_it(
    v1: Sandbox, workspace: FakeWorkspace
) -> None:
    result = _setup(v1, workspace)
    assert result.code == 0, result
    assert v1.logins() == 1  # setup ran the CLI's login, which pinned its storage mode
    cfg_path = v1.home / ".databrickscfg"
    sections = databrickscfg.parse(cfg_path.read_text())
    assert sections["__settings__"]["auth_storage"] == "secure"
    assert "dev" in v1.keyring() and not v1.token_cache().get("tokens")
    pinned = cfg_path.read_bytes()

    token = v1.run_here(["dbx-fmapi", "token"], env=DESKTOP)
    assert token.code == 0 and token.stdout == v1.keyring()["dev"]["access_token"] + "\n", token
    assert _setup(v1, workspace).code == 0  # a re-run: no login, no write of the file
    code, report = mgmt.doctor_json(v1)
    cli = mgmt.checks_by_id(report)["databricks-cli"]
    assert cli["status"] == "PASS" and "v1.13.0" in cli["detail"], cli
    assert "OS keyring (secure)" in cli["detail"], cli
    assert v1.run_here(["dbx-fmapi", "status"]).code == 0
    assert v1.run_here(["dbx-fmapi", "uninstall", "--yes"]).code == 0
    assert cfg_path.read_bytes() == pinned  # the CLI's pin and profile stay, byte for byte
    assert v1.logins() == 1


@pytest.mark.parametrize("fault", ["unreachable", "timeout"])
@pytest.mark.parametrize(
    "command", [["dbx-fmapi", "token"], ["dbx-fmapi-claude", "-p", "hi"]], ids=["token", "wrapper"]
)
def test_a_keyring_that_fails_is_a_storage_problem_never_a_login(
    v1: Sandbox, workspace: FakeWorkspace, fault: str, command: list[str]
) -> None:
    assert _setup(v1, workspace).code == 0
    for state in v1.home.rglob("token-state.json"):
        state.unlink()  # the wrapper must ask the CLI
    cfg = (v1.home / ".databrickscfg").read_bytes()
    logins, visits = v1.logins(), len(v1.browser_visits(wait=0))
    result = v1.run(command, env={**DESKTOP, "FAKE_DATABRICKS_KEYRING_FAIL": fault})
    assert result.code == 1, result
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and "cannot use its token store" in errors[0], result
    assert ("timed out" if fault == "timeout" else "org.freedesktop.secrets") in errors[0]
    assert f"fix: {cli_errors.STORAGE_FIX}" in result.stderr
    assert "auth login" not in result.stderr
    assert (v1.logins(), len(v1.browser_visits(wait=0.3))) == (logins, visits)
    assert (v1.home / ".databrickscfg").read_bytes() == cfg
    assert not any(c[-2:] == ["-p", "hi"] for c in v1.calls("claude"))


def test_nothing_cached_under_the_profile_is_a_login_even_with_the_hosts_token_cached(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """v1.x has no host-key fallback: a second profile of the same workspace needs its own
    login ("no cached credentials"), never the first one's token."""
    sandbox.use_fake_cli(version=V1_VERSION)
    sandbox.signed_in(workspace, profile="dev")  # plaintext (the rig's default): host key written
    cfg = sandbox.home / ".databrickscfg"
    cfg.write_text(cfg.read_text() + f"\n[other]\nhost = {workspace.url}\n")
    result = sandbox.run_here(["dbx-fmapi", "token", "--profile", "other"])
    assert result.code == 4, result
    assert result.stdout == ""
    assert "Databricks login needed for profile 'other'" in result.stderr
    assert f"fix: databricks auth login --host {workspace.url} --profile other" in result.stderr


def test_the_aitools_hint_inside_claude_code_stays_off_stdout_and_out_of_errors(
    v1: Sandbox, workspace: FakeWorkspace
) -> None:
    assert _setup(v1, workspace).code == 0
    for state in v1.home.rglob("token-state.json"):
        state.unlink()
    inside = {"CLAUDECODE": "1", "CLAUDE_CODE_SESSION_ID": "session-1"}
    ok = v1.run_here(["dbx-fmapi", "token"], env=inside)
    assert ok.code == 0 and ok.stdout == v1.keyring()["dev"]["access_token"] + "\n", ok
    inside["CLAUDE_CODE_SESSION_ID"] = "session-2"  # a new session: the hint again
    failed = v1.run(
        ["dbx-fmapi", "token"], env={**inside, "FAKE_DATABRICKS_KEYRING_FAIL": "timeout"}
    )
    assert failed.code == 1 and "cannot use its token store" in failed.stderr, failed
    assert "aitools" not in failed.output
