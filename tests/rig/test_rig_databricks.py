"""The real `databricks` CLI (DBX_TEST_DATABRICKS_BIN) against the fake workspace, through the
sandbox's logging shim: what the rest of the suite relies on (login, token, refresh, errors, TLS).
Last, the knobs of the fake CLI (use_fake_cli), kept for the faults the real one cannot show."""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import time

import pytest

from tests.rig.sandbox import RunTimeout, Sandbox, databricks_version, go_time
from tests.rig.sandbox import parse_go_time as parse_expiry
from tests.rig.workspace import FakeWorkspace

# Go's RFC 3339 with nanoseconds, trailing zeros trimmed; the sandbox's zone is CET/CEST.
EXPIRY = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")
LOCAL_OFFSET = re.compile(r"\+0[12]:00$")

pytestmark = pytest.mark.usefixtures("databricks_bin")


def token_json(sandbox: Sandbox, *args: str, env: dict | None = None) -> dict:
    result = sandbox.run(["databricks", "auth", "token", *args], env=env)
    assert result.code == 0, result
    assert not result.stdout.endswith("\n")
    assert result.stdout.startswith('{\n  "access_token": ')
    return dict(json.loads(result.stdout))


def test_version_and_shim(sandbox: Sandbox) -> None:
    assert sandbox.real_cli
    result = sandbox.run(["databricks", "--version"])
    assert (result.code, result.stdout) == (0, f"Databricks CLI v{databricks_version()}\n")
    assert re.fullmatch(r"\d+\.\d+\.\d+", databricks_version())
    calls = sandbox.databricks_calls()
    assert [c["argv"] for c in calls] == [["--version"]]
    assert abs(calls[0]["time"] - time.time()) < 30 and calls[0]["pid"] > 1


def test_login_creates_profile_and_token_cache(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    result = sandbox.login(workspace, profile="dev")
    assert result.stderr == "Profile dev was successfully saved\n"  # no host-metadata warning
    cfg = (sandbox.home / ".databrickscfg").read_text()
    section = cfg.split("[dev]\n", 1)[1].split("\n\n", 1)[0]
    assert dict(re.findall(r"^(\w+)\s*= (.*)$", section, re.M)) == {
        "host": workspace.url,
        "account_id": workspace.account_id,
        "workspace_id": workspace.workspace_id,
        "auth_type": "databricks-cli",
    }
    assert "[__settings__]\ndefault_profile = dev\n" in cfg
    assert stat.S_IMODE((sandbox.home / ".databrickscfg").stat().st_mode) == 0o600
    cache_file = sandbox.token_cache_path
    assert stat.S_IMODE(cache_file.stat().st_mode) == 0o600
    cache = json.loads(cache_file.read_text())
    assert cache["version"] == 1
    assert set(cache["tokens"]) == {"dev", workspace.url}
    entry = cache["tokens"]["dev"]
    assert set(entry) == {"access_token", "token_type", "refresh_token", "expiry", "expires_in"}
    assert EXPIRY.match(entry["expiry"]) and LOCAL_OFFSET.search(entry["expiry"]), entry["expiry"]
    assert 3500 < parse_expiry(entry["expiry"]) - time.time() <= 3600
    assert workspace.token_state(entry["access_token"]) == "valid"
    # the CLI read the host metadata and the OIDC discovery, the browser did the visit, the CLI
    # the PKCE exchange; nothing else
    assert [(r.method, r.path, r.status) for r in workspace.log] == [
        ("GET", "/.well-known/databricks-config", 200),
        ("GET", "/oidc/.well-known/oauth-authorization-server", 200),
        ("GET", "/oidc/v1/authorize", 302),
        ("POST", "/oidc/v1/token", 200),
    ]
    assert [v["status"] for v in sandbox.browser_visits()] == [200]
    assert workspace.token_requests == [("authorization_code", True)]
    assert [c["argv"][:2] for c in sandbox.databricks_calls()] == [["auth", "login"]]
    assert list(sandbox.databricks_cache.rglob("host-metadata/*.json"))  # DATABRICKS_CACHE_DIR

    # a second profile keeps the first and the default
    sandbox.login(workspace, profile="other")
    cfg2 = (sandbox.home / ".databrickscfg").read_text()
    assert cfg2.startswith(cfg.split("[__settings__]")[0])
    assert "[other]" in cfg2 and cfg2.count("default_profile") == 1
    assert set(sandbox.token_cache()["tokens"]) == {"dev", "other", workspace.url}
    profiles = sandbox.run(["databricks", "auth", "profiles", "-o", "json"])
    rows = {p["name"]: p for p in json.loads(profiles.stdout)["profiles"]}
    assert rows["dev"]["host"] == workspace.url and rows["dev"]["valid"] is True, profiles


def test_login_keeps_other_profiles_and_backs_up(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    original = "[prod]\nhost = https://prod.cloud.databricks.com\ntoken = dapi123\n"
    (sandbox.home / ".databrickscfg").write_text(original)
    sandbox.login(workspace, profile="dev")
    text = (sandbox.home / ".databrickscfg").read_text()
    # go-ini rewrites the file: keys aligned, a commented empty [DEFAULT] on top
    assert "[prod]\nhost  = https://prod.cloud.databricks.com\ntoken = dapi123\n" in text
    assert "[dev]" in text
    assert "default_profile" not in text  # not the first profile
    assert (sandbox.home / ".databrickscfg.bak").read_text() == original


def test_login_errors(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    bad = sandbox.run(["databricks", "auth", "login", "--host", "http://example.com"])
    assert bad.code == 1
    assert (
        bad.stderr.splitlines()[-1] == "Error: host must start with 'https://': http://example.com"
    )
    workspace.deny_login = True
    denied = sandbox.run(
        ["databricks", "auth", "login", "--host", workspace.url, "--profile", "x"], timeout=30
    )
    assert (denied.code, denied.stderr) == (
        1,
        "Error: authorize: access_denied: The user denied the request\n",
    )
    assert not (sandbox.home / ".databrickscfg").exists()


def test_login_without_browser_prints_url_and_waits(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """With BROWSER=none the CLI prints the URL and waits for the callback. In v0.298
    `--timeout` does not bound that wait (the login's context is made after the OAuth flow
    captured its own): only the caller can."""
    argv = ["databricks", "auth", "login", "--host", workspace.url, "--profile", "p"]
    with pytest.raises(RunTimeout) as info:
        sandbox.run([*argv, "--timeout", "1s"], env={"BROWSER": "none"}, timeout=4)
    err = info.value.stderr
    assert "Please complete authentication by opening this link in your browser:" in err
    assert f"{workspace.url}/oidc/v1/authorize?" in err
    assert re.search(r"redirect_uri=http%3A%2F%2Flocalhost%3A80[2-4]\d", err)
    assert not (sandbox.home / ".databrickscfg").exists()


def test_token_valid_is_served_from_cache(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox.login(workspace)
    workspace.clear_log()
    tok = token_json(sandbox, "--profile", "DEFAULT")
    # expires_in: stored at login, so printed on every read
    assert list(tok) == ["access_token", "token_type", "expiry", "expires_in"]
    assert tok["token_type"] == "Bearer" and EXPIRY.match(tok["expiry"])
    assert tok["access_token"] == sandbox.cached_token()
    assert 3500 < parse_expiry(tok["expiry"]) - time.time() <= 3600
    # no --profile: an error, even with [__settings__] default_profile
    assert "default_profile = DEFAULT" in (sandbox.home / ".databrickscfg").read_text()
    none = sandbox.run(["databricks", "auth", "token"])
    assert (none.code, none.stderr) == (
        1,
        "Error: no profile specified. Use --profile <name> to specify which profile to use\n",
    )
    # --host: the host key; -o json
    assert (
        token_json(sandbox, "--host", workspace.url, "-o", "json")["access_token"]
        == tok["access_token"]
    )
    # the host metadata is cached (DATABRICKS_CACHE_DIR): no request at all
    assert workspace.log == []


def test_expired_token_is_refreshed_once(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox.login(workspace)
    old = sandbox.cached_token()
    workspace.expire_access_tokens()  # server side
    sandbox.set_token_expiry(-10)  # client side
    tok = token_json(sandbox, "--profile", "DEFAULT")
    assert tok["access_token"] != old and tok["expires_in"] == 3600
    assert list(tok) == ["access_token", "token_type", "expiry", "expires_in"]
    assert workspace.token_state(tok["access_token"]) == "valid"
    assert workspace.refresh_count() == 1
    assert sandbox.cached_token() == tok["access_token"]
    # now fresh: no second refresh (the cache keeps expires_in, so it is printed again)
    again = token_json(sandbox, "--profile", "DEFAULT")
    assert again["access_token"] == tok["access_token"]
    assert workspace.refresh_count() == 1


def test_refresh_window_and_force_refresh(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    """The CLI refreshes by itself when less than 5 minutes are left, and always with
    --force-refresh."""
    sandbox.login(workspace)
    first = sandbox.cached_token()
    sandbox.set_token_expiry(320)
    assert token_json(sandbox, "--profile", "DEFAULT")["access_token"] == first
    assert workspace.refresh_count() == 0
    sandbox.set_token_expiry(280)
    second = token_json(sandbox, "--profile", "DEFAULT")["access_token"]
    assert second != first and workspace.refresh_count() == 1
    forced = token_json(sandbox, "--profile", "DEFAULT", "--force-refresh")
    assert forced["access_token"] != second and "expires_in" in forced
    assert workspace.refresh_count() == 2
    # tokens shorter than the window: every call refreshes
    with FakeWorkspace(access_token_lifetime=200) as short:
        sandbox.login(short, profile="short")
        for n in (1, 2):
            token_json(sandbox, "--profile", "short")
            assert short.refresh_count() == n


def test_revoked_refresh_token_needs_login(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox.login(workspace, profile="dev")
    workspace.revoke_refresh_tokens()
    result = sandbox.run(["databricks", "auth", "token", "--profile", "dev", "--force-refresh"])
    assert result.code == 1 and result.stdout == ""
    assert result.stderr == (
        "Error: A new access token could not be retrieved because the refresh token is invalid. "
        "To reauthenticate, run the following command:\n"
        "  $ databricks auth login --profile dev\n"
    )
    assert workspace.token_requests[-1] == ("refresh_token", False)


def test_token_endpoint_error_is_not_a_login_error(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """A 5xx from the token endpoint: the CLI's message still ends in "Try logging in again"."""
    sandbox.login(workspace, profile="dev")
    workspace.fail("/oidc/v1/token", 500, times=None)
    result = sandbox.run(["databricks", "auth", "token", "--profile", "dev", "--force-refresh"])
    assert result.code == 1 and result.stdout == ""
    assert "temporarily_unavailable" in result.stderr and "Injected 500 error" in result.stderr
    assert "Try logging in again with `databricks auth login --profile dev`" in result.stderr


def test_not_logged_in_and_unknown_profile(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    (sandbox.home / ".databrickscfg").write_text(
        f"[dev]\nhost = {workspace.url}\nauth_type = databricks-cli\n"
    )
    result = sandbox.run(["databricks", "auth", "token", "--profile", "dev"])
    assert result.code == 1 and result.stdout == ""
    assert result.stderr.startswith(
        "Error: cache: databricks OAuth is not configured for this host. "
    ), result
    assert "databricks auth login --profile dev" in result.stderr
    unknown = sandbox.run(["databricks", "auth", "token", "--profile", "nope"])
    assert (unknown.code, unknown.stderr) == (
        1,
        "Error: the command is being run in a non-interactive environment, please specify a "
        "host using --host\n",
    )


def test_m2m_profile_is_refused(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    (sandbox.home / ".databrickscfg").write_text(
        f"[m2m]\nhost = {workspace.url}\nclient_id = test-sp\nclient_secret = test-sp-secret\n"
    )
    result = sandbox.run(["databricks", "auth", "token", "--profile", "m2m"])
    assert result.code == 1
    assert result.stderr.startswith(
        'Error: profile "m2m" uses M2M authentication (client_id/client_secret).'
    )


def test_profile_falls_back_to_host_key(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    """v0.298 reads a token stored under the host URL when the profile has none."""
    sandbox.login(workspace, profile="dev")
    path = sandbox.token_cache_path
    cache = json.loads(path.read_text())
    del cache["tokens"]["dev"]
    path.write_text(json.dumps(cache))
    assert (
        token_json(sandbox, "-p", "dev")["access_token"]
        == cache["tokens"][workspace.url]["access_token"]
    )


def test_tls_login_and_refresh(sandbox: Sandbox, tls_workspace: FakeWorkspace) -> None:
    untrusted = sandbox.run(
        ["databricks", "auth", "login", "--host", tls_workspace.url, "--profile", "t"], timeout=30
    )
    assert untrusted.code == 1
    assert "x509: certificate signed by unknown authority" in untrusted.stderr
    sandbox.login(tls_workspace)  # trusts the CA through SSL_CERT_FILE
    assert sandbox.token_cache()["tokens"][tls_workspace.url]
    tok = token_json(sandbox, "--profile", "DEFAULT", "--force-refresh")
    assert tls_workspace.token_state(tok["access_token"]) == "valid"
    assert tls_workspace.refresh_count() == 1


def test_set_token_expiry_writes_what_the_cli_reads(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.login(workspace)
    sandbox.set_token_expiry(1000.5)
    expiry = sandbox.token_cache()["tokens"]["DEFAULT"]["expiry"]
    assert EXPIRY.match(expiry)
    assert abs(parse_expiry(expiry) - (time.time() + 1000.5)) < 5
    printed = token_json(sandbox, "--profile", "DEFAULT")["expiry"]
    assert abs(parse_expiry(printed) - parse_expiry(expiry)) < 1e-6
    assert stat.S_IMODE(sandbox.token_cache_path.stat().st_mode) == 0o600
    now = time.time()
    assert abs(parse_expiry(go_time(now)) - now) < 1e-6
    assert go_time(1_800_000_000.5).endswith(":00.5Z") or ".5+" in go_time(1_800_000_000.5)


def test_in_process_env_finds_the_shim(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.apply_env(monkeypatch)
    assert shutil.which("databricks") == str(sandbox.bin / "databricks")
    out = subprocess.run(["databricks", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout == f"Databricks CLI v{databricks_version()}\n"


# --------------------------------------------------------------------------- the fake's knobs


def test_fake_only_knobs_are_refused_by_the_real_cli(sandbox: Sandbox) -> None:
    for knob in ("FAKE_DATABRICKS_HANG", "FAKE_DATABRICKS_GARBAGE"):
        result = sandbox.run(["databricks", "--version"], env={knob: "1"})
        assert result.code == 97 and "use_fake_cli()" in result.stderr


def test_fake_cli_knobs_log_hang_garbage(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox.login(workspace)  # the real CLI's login; the fake reads the same files
    sandbox.use_fake_cli()
    assert not sandbox.real_cli
    fine = token_json(sandbox, "--profile", "DEFAULT")
    assert fine["access_token"] == sandbox.cached_token()
    garbage = sandbox.run(
        ["databricks", "auth", "token", "--profile", "DEFAULT"],
        env={"FAKE_DATABRICKS_GARBAGE": "1"},
    )
    assert garbage.code == 0
    with pytest.raises(ValueError):
        json.loads(garbage.stdout)
    start = time.monotonic()
    sandbox.run(["databricks", "--version"], env={"FAKE_DATABRICKS_HANG": "0.5"})
    assert time.monotonic() - start >= 0.5
    calls = sandbox.databricks_calls()
    assert [c["argv"] for c in calls[1:]] == [
        ["auth", "token", "--profile", "DEFAULT"],
        ["auth", "token", "--profile", "DEFAULT"],
        ["--version"],
    ]
    token = sandbox.cached_token()
    assert all(token not in json.dumps(c) for c in calls)
    sandbox.use_real_cli()
    assert sandbox.run(["databricks", "--version"]).stdout.endswith(f"v{databricks_version()}\n")


def test_fake_cli_playing_an_old_version(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox.login(workspace)
    sandbox.use_fake_cli(version="0.295.0")
    assert sandbox.run(["databricks", "--version"]).stdout == "Databricks CLI v0.295.0\n"
    old = sandbox.run(["databricks", "auth", "token", "--profile", "DEFAULT", "--force-refresh"])
    assert old.code == 1
    assert old.stderr.startswith("Error: unknown flag: --force-refresh\n")
    assert token_json(sandbox, "--profile", "DEFAULT")["access_token"] == sandbox.cached_token()
