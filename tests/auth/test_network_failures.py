"""A workspace no one can reach (issue 19, item 2): a typo in the host, a refused port, a TLS
certificate not trusted here. With the real Databricks CLI v0.298.0: setup, `dbx-fmapi login`,
`dbx-fmapi token` and the wrapper say what it is ("cannot resolve", "cannot connect",
"certificate"), exit 1 with "check the URL (or network, VPN, CA bundle)", never offer a login,
never start one, and write nothing.

The CLI alone would say "log in" (exit 4, the typo repeated in the fix), or retry for minutes:
a refused connection always, and any error whose text holds "429" (an Azure host or a port can).
Our own bound ends those calls, which the tests show by the words: the probe's, not the CLI's.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import mgmt
from tests.helpers.cli_versions import CLI_VERSIONS, cli  # noqa: F401 - the fixture
from tests.rig.sandbox import Result, Sandbox
from tests.rig.workspace import FakeWorkspace

VOLATILE = (".databricks/*", ".config/dbx-fmapi-claude/locks/*", "*/token-state.json")
# A desktop session: a login, if we wrongly decided on one, would open the (test) browser.
DESKTOP = {"DISPLAY": ":0"}
# Our own bound far beyond the test's: only the reachability probe can end a CLI call in time.
NO_OWN_TIMEOUT = {"DBX_FMAPI_CLI_TIMEOUT_SECONDS": "600"}


def _expire(sandbox: Sandbox) -> None:
    """The token expired, in the CLI's cache and in our record of it (the wrapper trusts that)."""
    sandbox.set_token_expiry(-10)
    for state in sandbox.home.rglob("token-state.json"):
        state.unlink()


def _unchanged(sandbox: Sandbox, before: dict[str, bytes]) -> bool:
    keep = {k: v for k, v in before.items() if not any(Path(k).match(p) for p in VOLATILE)}
    return sandbox.snapshot(exclude=VOLATILE) == keep


def assert_network_error(result: Result, *, says: str) -> None:
    """Exit 1, one error line saying `says`, the fix checks the URL, nothing about a login."""
    assert result.code == 1, result
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, result
    assert says.lower() in errors[0].lower(), result  # the OS's "Connection refused", Go's "c…"
    fixes = [line.strip() for line in result.stderr.splitlines() if line.strip().startswith("fix:")]
    assert len(fixes) == 1 and fixes[0].startswith("fix: check the URL "), result
    assert "network, VPN, CA bundle" in fixes[0], result
    assert "auth login" not in result.output, result
    assert "log in" not in result.output.lower(), result


def _closed_port() -> int:
    """A port nothing listens on (and without "429" in it, which the CLI would retry)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if "429" not in str(port):
            return int(port)


@pytest.fixture
def tls_workspace_429() -> Iterator[FakeWorkspace]:
    """An HTTPS workspace whose port holds "429": every failure the real CLI meets there is
    retried for minutes by its SDK."""
    ws = FakeWorkspace(tls=True)
    for port in range(42900, 43000):
        try:
            ws.start(port=port)
        except OSError:
            continue
        break
    else:
        pytest.skip("no free port in 42900-42999")
    try:
        yield ws
    finally:
        ws.stop()


def _setup(sandbox: Sandbox, host: str, *args: str, **kw: object) -> Result:
    argv = ["setup-fmapi-claudecode", "--host", host, "--profile", "typo", "--skip-install"]
    return sandbox.run([*argv, "--shell", "bash", *args], timeout=120, **kw)  # type: ignore[arg-type]


# --- setup ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "https://adb-1234.11.azuredatabricks.invalid",
        "https://adb-4290123.11.azuredatabricks.invalid",  # "429": the CLI would retry it
    ],
)
@CLI_VERSIONS
def test_setup_with_a_host_that_does_not_resolve_says_so_and_writes_nothing(
    sandbox: Sandbox, host: str
) -> None:
    mgmt.fake_claude(sandbox)
    before = sandbox.snapshot()
    result = _setup(sandbox, host, env=DESKTOP)
    assert_network_error(result, says="cannot resolve adb-")
    assert f"fix: check the URL {host} " in result.stderr
    assert sandbox.logins() == 0
    assert sandbox.snapshot() == before


@CLI_VERSIONS
def test_setup_with_a_refused_port_says_cannot_connect_and_writes_nothing(
    sandbox: Sandbox,
) -> None:
    mgmt.fake_claude(sandbox)
    before = sandbox.snapshot()
    port = _closed_port()
    result = _setup(sandbox, f"https://127.0.0.1:{port}", env=DESKTOP)
    assert_network_error(result, says=f"cannot connect to 127.0.0.1:{port} (connection refused)")
    assert sandbox.logins() == 0
    assert sandbox.snapshot() == before


@CLI_VERSIONS
def test_setup_with_an_untrusted_certificate_says_so_and_writes_nothing(
    sandbox: Sandbox, tls_workspace: FakeWorkspace
) -> None:
    mgmt.fake_claude(sandbox)
    before = sandbox.snapshot()
    result = _setup(sandbox, tls_workspace.url, env=DESKTOP)  # its CA is not trusted
    assert_network_error(result, says="TLS certificate of 127.0.0.1 is not trusted here")
    assert "SSL_CERT_FILE" in result.stderr  # where a company CA goes
    assert sandbox.logins() == 0
    assert sandbox.snapshot() == before


@CLI_VERSIONS
def test_the_clis_own_login_error_is_read_for_what_it_is_when_no_probe_can_run(
    sandbox: Sandbox, tls_workspace: FakeWorkspace
) -> None:
    """Behind a proxy we cannot probe the workspace: the real CLI's login runs, fails on the
    certificate (Go does not proxy loopback), and its error is a network error, not "log in"."""
    mgmt.fake_claude(sandbox)
    cfg = sandbox.home / ".databrickscfg"
    result = _setup(
        sandbox, tls_workspace.url, env={**DESKTOP, "HTTPS_PROXY": "http://127.0.0.1:9"}
    )
    assert_network_error(result, says="certificate is not trusted here (x509:")
    assert sandbox.logins() == 1  # the CLI's attempt, shown to the user as it ran
    assert "Error: " in result.stderr
    assert not cfg.exists()


# --- dbx-fmapi login --------------------------------------------------------------------------


@CLI_VERSIONS
def test_login_while_the_workspace_is_down_is_a_network_error(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    mgmt.fake_claude(sandbox)
    mgmt.set_up(sandbox, workspace)
    logins = sandbox.logins()
    before = sandbox.snapshot()
    workspace.down()
    result = sandbox.run(["dbx-fmapi", "login"], env=DESKTOP, timeout=90)
    assert_network_error(result, says=f"cannot connect to 127.0.0.1:{workspace.port}")
    assert "then retry: dbx-fmapi login" in result.stderr
    assert sandbox.logins() == logins
    assert _unchanged(sandbox, before)


@CLI_VERSIONS
def test_login_on_a_429_port_with_an_untrusted_certificate_ends_at_once(
    sandbox: Sandbox, tls_workspace_429: FakeWorkspace
) -> None:
    ws = tls_workspace_429
    mgmt.fake_claude(sandbox)
    mgmt.set_up(sandbox, ws)
    del sandbox.env["SSL_CERT_FILE"]  # the CA is no longer trusted
    logins, before = sandbox.logins(), sandbox.snapshot()
    result = sandbox.run(["dbx-fmapi", "login"], env=DESKTOP, timeout=90)
    assert_network_error(result, says="TLS certificate of 127.0.0.1 is not trusted here")
    assert sandbox.logins() == logins
    assert _unchanged(sandbox, before)


# --- dbx-fmapi token and the wrapper ------------------------------------------------------------


@pytest.mark.parametrize("env", [{}, DESKTOP], ids=["headless", "desktop"])
@CLI_VERSIONS
def test_token_with_nothing_cached_and_the_workspace_down_is_not_a_login(
    sandbox: Sandbox, workspace: FakeWorkspace, env: dict[str, str]
) -> None:
    """The CLI says "OAuth is not configured" (log in); a login cannot reach the workspace."""
    mgmt.fake_claude(sandbox)
    mgmt.set_up(sandbox, workspace)
    sandbox.token_cache_path.unlink()
    workspace.down()
    logins, visits = sandbox.logins(), len(sandbox.browser_visits(wait=0))
    result = sandbox.run(["dbx-fmapi", "token"], env=env, timeout=90)
    assert_network_error(result, says=f"cannot connect to 127.0.0.1:{workspace.port}")
    assert result.stdout == ""
    assert (sandbox.logins(), len(sandbox.browser_visits(wait=0.3))) == (logins, visits)


COMMANDS = pytest.mark.parametrize(
    "command", [["dbx-fmapi", "token"], ["dbx-fmapi-claude", "-p", "hi"]], ids=["token", "wrapper"]
)


@COMMANDS
def test_a_refresh_the_cli_would_retry_for_minutes_is_ended_by_our_bound(
    sandbox: Sandbox, workspace: FakeWorkspace, command: list[str]
) -> None:
    """A token to refresh and the workspace down: the real CLI retries the refused connection
    for about five minutes. Our own time bound is out of reach (600 s); the reachability probe
    ends the call, and the user is told it did."""
    workspace.access_token_lifetime = 200  # inside every refresh window: a refresh is due
    mgmt.fake_claude(sandbox)
    mgmt.set_up(sandbox, workspace)
    _expire(sandbox)
    workspace.down()
    result = sandbox.run(command, env={**NO_OWN_TIMEOUT, **DESKTOP}, timeout=150)
    assert_network_error(
        result, says=f"cannot connect to 127.0.0.1:{workspace.port} (connection refused)"
    )
    assert "stopped `databricks auth token`, which retries for minutes" in result.stderr
    assert "did not answer within" not in result.stderr
    # claude was not started
    assert not any(c[-2:] == ["-p", "hi"] for c in sandbox.calls("claude"))


@COMMANDS
@CLI_VERSIONS
def test_a_refresh_on_a_429_host_with_an_untrusted_certificate_is_a_network_error(
    sandbox: Sandbox, tls_workspace_429: FakeWorkspace, command: list[str]
) -> None:
    """The CLI's trailer says "Try logging in again"; the x509 failure is not a login problem."""
    ws = tls_workspace_429
    ws.access_token_lifetime = 200
    mgmt.fake_claude(sandbox)
    mgmt.set_up(sandbox, ws)
    del sandbox.env["SSL_CERT_FILE"]
    _expire(sandbox)
    logins = sandbox.logins()
    result = sandbox.run(command, env={**NO_OWN_TIMEOUT, **DESKTOP}, timeout=150)
    # The CLI's own x509 error ("the workspace's TLS certificate is not trusted here"), or, when
    # the CLI is still going after 2 s (a busy machine), our reachability probe's ("the TLS
    # certificate of 127.0.0.1 is not trusted here"): the same failure, whichever comes first.
    assert_network_error(result, says="is not trusted here")
    assert "TLS certificate" in result.stderr
    assert "SSL_CERT_FILE" in result.stderr
    assert "report this issue" not in result.stderr
    assert sandbox.logins() == logins
    assert not any(c[-2:] == ["-p", "hi"] for c in sandbox.calls("claude"))


# --- the probe's trust is the CLI's --------------------------------------------------------------


def test_the_probe_trusts_what_go_trusts(
    tls_workspace: FakeWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Linux: the system bundle Go reads, SSL_CERT_FILE replacing it (the folders still count).
    macOS: Go asks the Keychain, which we cannot: an untrusted-looking certificate is left to the
    CLI to judge, so a company CA installed there never blocks a login."""
    from dbx_fmapi_claude.auth import reach

    url = tls_workspace.url
    assert "is not trusted here" in (reach.reachable(url, {}) or "")
    assert reach.reachable(url, {"SSL_CERT_FILE": str(tls_workspace.ca_file)}) is None
    monkeypatch.setattr("sys.platform", "darwin")
    assert reach.reachable(url, {}) is None
    assert "is not trusted here" in (reach.reachable(url, {"SSL_CERT_DIR": "/nonexistent"}) or "")
    assert "cannot connect" in (reach.reachable(f"https://127.0.0.1:{_closed_port()}", {}) or "")
