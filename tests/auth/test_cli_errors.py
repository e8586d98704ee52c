"""What the real Databricks CLI's failures mean, and what we do about each (issue 10).

The CLI ends nearly every `auth token` error with "Try logging in again with `databricks auth
login …`", network errors and 5xx included, so only a few errors mean a login is needed. A
network failure never opens a login, never exits 4, and never hangs for the CLI's minutes of
retries; a profile that holds a PAT or a client secret is never logged into (a login rewrites
it) and `~/.databrickscfg` stays byte-identical.
"""

from __future__ import annotations

import pytest

from dbx_fmapi_claude.auth import databrickscfg, dbcli
from tests.helpers.cli_versions import CLI_VERSIONS, cli  # noqa: F401 - the fixture
from tests.rig.sandbox import Result, Sandbox
from tests.rig.workspace import FakeWorkspace

TRAILER = (
    "Try logging in again with `databricks auth login --profile dev` before retrying. If this "
    "fails, please report this issue to the Databricks CLI maintainers at "
    "https://github.com/databricks/cli/issues/new"
)

# (what the real CLI v0.298.0 printed on stderr, the kind we must read from it)
REAL_ERRORS = [
    (
        "Error: cache: databricks OAuth is not configured for this host. " + TRAILER,
        "login",
    ),
    (
        "Error: A new access token could not be retrieved because the refresh token is invalid. "
        "To reauthenticate, run the following command:\n  $ databricks auth login --profile dev",
        "login",
    ),
    (
        "Error: token refresh: Refresh token expired (error code: invalid_grant). " + TRAILER,
        "login",
    ),
    ("Error: token refresh: cached token has no refresh token. " + TRAILER, "login"),
    (
        "Error: forced token refresh: Injected 500 error (error code: temporarily_unavailable). "
        + TRAILER,
        "network",
    ),
    (
        "Error: token refresh: fetching OAuth endpoints: failed to get OAuth endpoints: Get "
        '"http://127.0.0.1:8765/oidc/.well-known/oauth-authorization-server": dial tcp '
        "127.0.0.1:8765: connect: connection refused. " + TRAILER,
        "network",
    ),
    (
        'Error: token refresh: Post "https://x.cloud.databricks.com/oidc/v1/token": dial tcp: '
        "lookup x.cloud.databricks.com: no such host. " + TRAILER,
        "network",
    ),
    (
        'Error: profile "m2m" uses M2M authentication (client_id/client_secret). `databricks '
        "auth token` only supports U2M (user-to-machine) authentication tokens. To authenticate "
        "as a service principal, use the Databricks SDK directly",
        "nonoauth",
    ),
    (
        "Error: the command is being run in a non-interactive environment, please specify a "
        "host using --host",
        "profile",
    ),
    ("Error: unknown flag: --force-refresh\n\nUsage:\n  databricks auth token [HOST]", "old_cli"),
    # the token store failing (the macOS Keychain when two refreshes race, cli#6051)
    ("Error: cache update: exit status 45. " + TRAILER, "storage"),
    ("Error: token refresh: something new. " + TRAILER, "failed"),
]


@pytest.mark.parametrize(("stderr", "kind"), REAL_ERRORS)
def test_the_cli_error_is_read_for_what_it_is(stderr: str, kind: str) -> None:
    assert dbcli.classify(dbcli.last_error(stderr)) == kind


def test_only_the_last_error_counts_not_hints_or_usage() -> None:
    stderr = (
        "Databricks skills are not installed. Run `databricks aitools install` to add them.\n"
        "Warn: [hostmetadata] failed to fetch host metadata for https://x, will skip for 1m0s\n"
        "Error: unknown flag: --force-refresh\n\nUsage:\n  databricks auth token [HOST] [flags]\n"
    )
    assert dbcli.last_error(stderr) == "Error: unknown flag: --force-refresh"


def test_a_5xx_is_reported_as_a_service_problem_without_the_login_trailer() -> None:
    error = dbcli.last_error(REAL_ERRORS[4][0])
    exc = dbcli.token_error(
        dbcli.classify(error), dbcli.scrub(error), "dev", "https://x.example.com", error
    )
    assert exc.kind == "network"
    assert exc.code == 1
    assert "not a login problem" in exc.message
    assert "temporarily_unavailable" in exc.message
    assert "Try logging in" not in exc.message
    assert exc.fix is not None and "auth login" not in exc.fix
    assert exc.fix.startswith("check your network or VPN")


def test_other_failures_point_at_auth_describe_not_the_deprecated_auth_env() -> None:
    error = dbcli.last_error(REAL_ERRORS[-1][0])
    exc = dbcli.token_error("failed", dbcli.scrub(error), "dev", None, error)
    assert exc.fix == "databricks auth describe --profile dev"


# --- ~/.databrickscfg read like go-ini --------------------------------------------------------

GO_INI_FILE = """\ufeff; written by hand
[DEFAULT]
host = https://default.example.com
token = dapi-default

[dev]
host = dev.cloud.databricks.com/   # a comment after a space is cut
password = pa#ss;word
auth_type = databricks-cli

[dev]
host = "https://dev2.cloud.databricks.com"

[pat]
host : https://pat.example.com
token = dapi0123

[m2m]
host = https://m2m.example.com
client_id = abc
client_secret = s3cr#t

[azure]
host = https://adb-1.azuredatabricks.net
azure_client_secret = x

[plain]
host = https://plain.example.com

[__settings__]
default_profile = dev
"""


def test_the_file_is_parsed_like_the_cli_parses_it() -> None:
    sections = databrickscfg.parse(GO_INI_FILE)
    # a repeated section merges, the last value wins; quotes come off
    assert sections["dev"]["host"] == "https://dev2.cloud.databricks.com"
    # `#` and `;` with no space before them are part of the value (passwords)
    assert sections["dev"]["password"] == "pa#ss;word"
    assert sections["m2m"]["client_secret"] == "s3cr#t"
    # `:` is a delimiter too
    assert sections["pat"]["host"] == "https://pat.example.com"
    # [DEFAULT] does not leak into profiles
    assert "token" not in sections["plain"]
    assert databrickscfg.credential_kind(sections["plain"]) == databrickscfg.OAUTH
    profiles = databrickscfg.profiles(sections)
    assert "__settings__" not in profiles and "DEFAULT" in profiles


def test_inline_comment_and_scheme_less_host() -> None:
    sections = databrickscfg.parse("[a]\nhost = a.cloud.databricks.com/   # mine\n")
    assert sections["a"]["host"] == "a.cloud.databricks.com/"
    assert databrickscfg.host_of(sections["a"]) == "https://a.cloud.databricks.com"


@pytest.mark.parametrize(
    ("profile", "kind"),
    [("dev", "oauth"), ("pat", "pat"), ("m2m", "m2m"), ("azure", "other"), ("plain", "oauth")],
)
def test_the_credential_kind_of_each_profile(profile: str, kind: str) -> None:
    assert databrickscfg.credential_kind(databrickscfg.parse(GO_INI_FILE)[profile]) == kind


def test_a_file_the_cli_cannot_read_either_is_an_error() -> None:
    with pytest.raises(databrickscfg.ParseError):
        databrickscfg.parse("[dev\nhost = x\n")
    with pytest.raises(databrickscfg.ParseError):
        databrickscfg.parse("[dev]\njust words\n")


# --- journeys on the rig ------------------------------------------------------------------------


def _helper(sandbox: Sandbox, profile: str = "dev", timeout: float = 90, **env: str) -> Result:
    return sandbox.run(["dbx-fmapi", "token", "--profile", profile], env=env, timeout=timeout)


# A desktop session: a login, if we wrongly decided on one, would open the (test) browser.
DESKTOP = {"DISPLAY": ":0"}


@CLI_VERSIONS
def test_a_5xx_from_the_token_endpoint_never_opens_a_login(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace, profile="dev")
    visits, logins = len(sandbox.browser_visits()), sandbox.logins()
    cfg_before = (sandbox.home / ".databrickscfg").read_bytes()
    sandbox.set_token_expiry(-10, profile="dev")  # expired: the CLI must refresh
    workspace.fail("/oidc/v1/token", 500, times=None)
    out = sandbox.run_here(["dbx-fmapi", "token", "--profile", "dev"], env=DESKTOP)
    assert out.code == 1, out
    assert out.stdout == ""
    assert "not a login problem" in out.stderr
    assert "fix: check your network or VPN" in out.stderr
    assert "auth login" not in out.stderr
    assert (len(sandbox.browser_visits(wait=0.3)), sandbox.logins()) == (visits, logins)
    assert (sandbox.home / ".databrickscfg").read_bytes() == cfg_before


@CLI_VERSIONS
def test_a_failed_forced_refresh_hands_out_the_still_valid_token_with_a_warning(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace, profile="dev")
    cached = sandbox.cached_token("dev")
    workspace.fail("/oidc/v1/token", 500, times=None)
    # 20 minutes left: more than the CLI's own 5-minute refresh window, less than TTL + margin
    sandbox.set_token_expiry(1200, profile="dev")
    out = _helper(sandbox, DBX_FMAPI_TOKEN_MARGIN_SECONDS="600")
    assert out.code == 0, out
    assert out.stdout == cached + "\n"
    warning = [line for line in out.stderr.splitlines() if "warning" in line]
    assert len(warning) == 1, out
    assert "using the current token, which lives" in warning[0]


def test_an_unreachable_workspace_is_reported_in_seconds_not_after_the_cli_retries(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.access_token_lifetime = 200  # inside the CLI's 5-minute window: it must refresh
    sandbox.signed_in(workspace, profile="dev")
    visits, logins = len(sandbox.browser_visits()), sandbox.logins()
    workspace.stop()
    # The CLI alone retries the refused connection for about 5 minutes; the run is cut off at
    # 90 s, and our own bound is set far beyond that, so only the reachability probe can end it.
    out = _helper(sandbox, timeout=90, DBX_FMAPI_CLI_TIMEOUT_SECONDS="600", **DESKTOP)
    assert out.code == 1, out
    assert "cannot be reached" in out.stderr
    assert "connection refused" in out.stderr.lower()
    assert "did not answer within" not in out.stderr
    assert "fix: check the URL " in out.stderr
    assert "auth login" not in out.stderr
    assert (len(sandbox.browser_visits(wait=0.3)), sandbox.logins()) == (visits, logins)


def test_the_wrapper_starts_claude_when_the_workspace_is_down_but_the_token_lives(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    from tests.helpers import mgmt

    workspace.access_token_lifetime = 200
    sandbox.signed_in(workspace, profile="DEFAULT")
    mgmt.fake_claude(sandbox)
    result = mgmt.set_up(
        sandbox, workspace, "--profile", "DEFAULT", "--ttl", "1m", "--margin", "5m"
    )
    assert result.code == 0, result
    workspace.stop()
    out = sandbox.run(
        ["dbx-fmapi-claude", "-p", "hi"], env={"DBX_FMAPI_CLI_TIMEOUT_SECONDS": "600"}, timeout=90
    )
    assert out.code == 0, out
    assert "starting claude with the current token" in out.stderr
    assert sandbox.calls("claude")[-1][-2:] == ["-p", "hi"]


@pytest.fixture
def nonoauth_profiles(sandbox: Sandbox, workspace: FakeWorkspace) -> tuple[bytes, str]:
    """An OAuth login for the workspace (so the CLI holds a host-keyed token that `auth token`
    would hand to any profile of that host), plus a PAT and an M2M profile for the same
    workspace; returns the file's bytes and the OAuth token."""
    sandbox.signed_in(workspace, profile="dev")
    cfg = sandbox.home / ".databrickscfg"
    cfg.write_text(
        cfg.read_text()
        + f"\n[pat]\nhost = {workspace.url}\ntoken = {workspace.issue_pat()}\n"
        + f"\n[m2m]\nhost = {workspace.url}\nclient_id = test-sp\nclient_secret = "
        + "test-sp-secret\n"
    )
    return cfg.read_bytes(), sandbox.cached_token("dev")


@pytest.mark.parametrize("profile", ["pat", "m2m"])
@pytest.mark.parametrize(
    "command",
    [
        ["dbx-fmapi", "token", "--profile", "{p}"],
        ["dbx-fmapi", "login", "--profile", "{p}"],
        [
            "setup-fmapi-claudecode",
            "--host",
            "{url}",
            "--profile",
            "{p}",
            "--skip-install",
            "--no-verify",
            "--shell",
            "none",
        ],
    ],
    ids=["token", "login", "setup"],
)
@CLI_VERSIONS
def test_a_non_oauth_profile_is_never_logged_into_and_never_changed(
    sandbox: Sandbox,
    workspace: FakeWorkspace,
    nonoauth_profiles: tuple[bytes, str],
    profile: str,
    command: list[str],
) -> None:
    """Before issue 14 these profiles were refused; now they work. Either way: no login (it
    would rewrite the profile), the file byte-identical, and the profile's own credential used,
    never the OAuth token the CLI keeps for the same host."""
    cfg, oauth_token = nonoauth_profiles
    visits, logins = len(sandbox.browser_visits()), sandbox.logins()
    argv = [a.format(p=profile, url=workspace.url) for a in command]
    out = sandbox.run(argv, env=DESKTOP)
    assert out.code == 0, out
    if argv[1] == "token":
        token = out.stdout.strip()
        assert token and token != oauth_token
        assert workspace.token_state(token) == "valid"
    if argv[1] == "login":
        assert "there is no browser login for it" in out.stdout
    assert oauth_token not in out.output
    assert (sandbox.home / ".databrickscfg").read_bytes() == cfg
    assert (len(sandbox.browser_visits(wait=0.3)), sandbox.logins()) == (visits, logins)


def test_a_profile_host_without_scheme_is_the_same_workspace() -> None:
    from dbx_fmapi_claude.workspace.hosts import same_host

    assert same_host(
        databrickscfg.host_of({"host": "my-ws.cloud.databricks.com/"}) or "",
        "https://my-ws.cloud.databricks.com",
    )


def test_a_cli_without_force_refresh_still_hands_out_its_token_with_one_warning(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace, profile="dev")
    cached = sandbox.cached_token("dev")
    sandbox.use_fake_cli()  # the fake plays a CLI older than v0.296 (real words, no such flag)
    sandbox.set_token_expiry(1200, profile="dev")  # less than TTL + margin (20 min)
    out = _helper(sandbox, FAKE_DATABRICKS_VERSION="0.295.0")
    assert out.code == 0, out
    assert out.stdout == cached + "\n"
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out
    assert "no `auth token --force-refresh` (needs v0.296.0 or newer)" in lines[0]
    assert "upgrade it: " in lines[0]
    assert "using the current token, which lives" in lines[0]
    forced = [c for c in sandbox.databricks_calls() if "--force-refresh" in c["argv"]]
    assert len(forced) == 1  # tried once, then fell back


def test_setup_names_the_minimum_cli_version_and_the_upgrade_command(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    from tests.helpers import mgmt

    sandbox.signed_in(workspace, profile="DEFAULT")
    sandbox.use_fake_cli()
    mgmt.fake_claude(sandbox)
    result = mgmt.set_up(
        sandbox, workspace, "--profile", "DEFAULT", env={"FAKE_DATABRICKS_VERSION": "0.295.0"}
    )
    assert result.code == 0, result
    assert "Databricks CLI v0.295.0 is older than v0.296.0" in result.stderr
    assert "upgrade it: curl -fsSL" in result.stderr
