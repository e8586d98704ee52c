"""Self-tests of the fake `databricks` CLI (tests/rig/fake_databricks.py) through the sandbox."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import stat
import subprocess
import time

import pytest

from tests.rig.fake_databricks import format_expiry, parse_expiry
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

EXPIRY = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d)$")


def token_json(sandbox: Sandbox, *args: str, env: dict | None = None) -> dict:
    result = sandbox.run(["databricks", "auth", "token", *args], env=env)
    assert result.code == 0, result
    assert not result.stdout.endswith("\n")
    assert result.stdout.startswith('{\n  "access_token": ')
    return dict(json.loads(result.stdout))


def test_version(sandbox: Sandbox) -> None:
    result = sandbox.run(["databricks", "--version"])
    assert (result.code, result.stdout) == (0, "Databricks CLI v1.13.0\n")


def test_login_creates_profile_and_token_cache(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    result = sandbox.login(workspace, profile="dev")
    assert result.stderr.rstrip("\n").endswith("Profile dev was successfully saved")
    cfg = (sandbox.home / ".databrickscfg").read_text()
    assert f"[dev]\nhost         = {workspace.url}\n" in cfg
    assert "auth_type    = databricks-cli\n" in cfg
    assert f"workspace_id = {workspace.workspace_id}\n" in cfg
    assert "[__settings__]\ndefault_profile = dev\n" in cfg
    cache_file = sandbox.home / ".databricks" / "token-cache.json"
    assert stat.S_IMODE(cache_file.stat().st_mode) == 0o600
    cache = json.loads(cache_file.read_text())
    assert cache["version"] == 1
    assert set(cache["tokens"]) == {"dev", workspace.url}
    entry = cache["tokens"]["dev"]
    assert set(entry) == {"access_token", "token_type", "refresh_token", "expiry"}
    assert EXPIRY.match(entry["expiry"])
    assert workspace.token_state(entry["access_token"]) == "valid"
    # the browser did the visit, the CLI the PKCE exchange and one SCIM call
    assert [v["status"] for v in sandbox.browser_visits()] == [200]
    assert workspace.token_requests == [("authorization_code", True)]
    calls = sandbox.databricks_calls()
    assert [c["argv"][:2] for c in calls] == [["auth", "login"]]

    # a second profile keeps the first and the default
    sandbox.login(workspace, profile="other")
    cfg2 = (sandbox.home / ".databrickscfg").read_text()
    assert cfg2.startswith(cfg.split("[__settings__]")[0])
    assert "[other]" in cfg2 and cfg2.count("default_profile") == 1
    assert set(sandbox.token_cache()["tokens"]) == {"dev", "other", workspace.url}
    profiles = sandbox.run(["databricks", "auth", "profiles"])
    assert re.search(r"^dev\s+http://127\.0\.0\.1:\d+\s+YES$", profiles.stdout, re.M), profiles
    env = sandbox.run(["databricks", "auth", "env", "--profile", "other"])
    assert json.loads(env.stdout)["env"]["DATABRICKS_HOST"] == workspace.url


def test_login_default_profile_file_layout(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox.login(workspace)
    text = (sandbox.home / ".databrickscfg").read_text()
    assert text.startswith("; The profile defined in the DEFAULT section")
    assert f"[DEFAULT]\nhost         = {workspace.url}\n" in text
    assert stat.S_IMODE((sandbox.home / ".databrickscfg").stat().st_mode) == 0o600


def test_login_keeps_other_profiles_and_backs_up(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    original = "[prod]\nhost = https://prod.cloud.databricks.com\ntoken = dapi123\n"
    (sandbox.home / ".databrickscfg").write_text(original)
    sandbox.login(workspace, profile="dev")
    text = (sandbox.home / ".databrickscfg").read_text()
    assert text.startswith(original)
    assert "default_profile" not in text  # not the first profile
    assert (sandbox.home / ".databrickscfg.bak").read_text() == original


def test_login_errors(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    bad = sandbox.run(["databricks", "auth", "login", "--host", "http://example.com"])
    assert bad.code == 1 and bad.stderr.startswith("Error: ")
    workspace.deny_login = True
    denied = sandbox.run(
        [
            "databricks",
            "auth",
            "login",
            "--host",
            workspace.url,
            "--profile",
            "x",
            "--timeout",
            "20s",
        ]
    )
    assert denied.code == 1 and "access_denied" in denied.stderr, denied
    assert not (sandbox.home / ".databrickscfg").exists()


def test_login_without_browser_prints_url_and_waits(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    result = sandbox.run(
        [
            "databricks",
            "auth",
            "login",
            "--host",
            workspace.url,
            "--profile",
            "p",
            "--timeout",
            "1s",
        ],
        env={"BROWSER": "none"},
    )
    assert result.code == 1
    assert f"{workspace.url}/oidc/v1/authorize?" in result.stderr
    assert "redirect_uri=http%3A%2F%2Flocalhost%3A80" in result.stderr
    assert "deadline exceeded" in result.stderr


def test_token_valid_is_served_from_cache(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox.login(workspace)
    tok = token_json(sandbox, "--profile", "DEFAULT")
    assert list(tok) == ["access_token", "token_type", "expiry"]
    assert tok["token_type"] == "Bearer" and EXPIRY.match(tok["expiry"])
    assert tok["access_token"] == sandbox.cached_token()
    assert 3500 < parse_expiry(tok["expiry"]) - time.time() <= 3600
    # no profile: [__settings__] default_profile; --host: the host key; -o json
    assert token_json(sandbox)["access_token"] == tok["access_token"]
    assert (
        token_json(sandbox, "--host", workspace.url, "-o", "json")["access_token"]
        == (tok["access_token"])
    )
    assert workspace.refresh_count() == 0


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
    assert "expires_in" not in sandbox.token_cache()["tokens"]["DEFAULT"]
    # now fresh: no second refresh
    again = token_json(sandbox, "--profile", "DEFAULT")
    assert again["access_token"] == tok["access_token"] and "expires_in" not in again
    assert workspace.refresh_count() == 1


def test_refresh_window_and_force_refresh(sandbox: Sandbox) -> None:
    with FakeWorkspace(access_token_lifetime=200) as ws:
        sandbox.login(ws)
        first = sandbox.cached_token()
        # 200 s left is inside the default 5-minute window: refresh every time
        assert token_json(sandbox, "--profile", "DEFAULT")["access_token"] != first
        assert ws.refresh_count() == 1
        small = {"FAKE_DATABRICKS_REFRESH_WINDOW": "10"}
        cached = token_json(sandbox, "--profile", "DEFAULT", env=small)
        assert ws.refresh_count() == 1
        forced = token_json(sandbox, "--profile", "DEFAULT", "--force-refresh", env=small)
        assert forced["access_token"] != cached["access_token"] and "expires_in" in forced
        assert ws.refresh_count() == 2


def test_revoked_refresh_token_needs_login(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox.login(workspace, profile="dev")
    workspace.revoke_refresh_tokens()
    result = sandbox.run(["databricks", "auth", "token", "--profile", "dev", "--force-refresh"])
    assert result.code == 1 and result.stdout == ""
    assert result.stderr.startswith(
        "Error: A new access token could not be retrieved because the refresh token is invalid."
    )
    assert "databricks auth login --profile dev" in result.stderr
    assert workspace.token_requests[-1] == ("refresh_token", False)


def test_not_logged_in_and_unknown_profile(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    (sandbox.home / ".databrickscfg").write_text(
        f"[dev]\nhost = {workspace.url}\nauth_type = databricks-cli\n"
    )
    result = sandbox.run(["databricks", "auth", "token", "--profile", "dev"])
    assert result.code == 1
    assert result.stderr.startswith(
        "Error: cache: databricks OAuth is not configured for this host. "
        "Try logging in again with `databricks auth login --profile dev` before retrying."
    )
    unknown = sandbox.run(["databricks", "auth", "token", "--profile", "nope"])
    assert unknown.code == 1 and "has no nope profile configured" in unknown.stderr


def test_knobs_log_hang_garbage(sandbox: Sandbox, workspace: FakeWorkspace) -> None:
    sandbox.login(workspace)
    garbage = sandbox.run(
        ["databricks", "auth", "token", "--profile", "DEFAULT"],
        env={"FAKE_DATABRICKS_GARBAGE": "1"},
    )
    assert garbage.code == 0
    try:
        json.loads(garbage.stdout)
        raise AssertionError("expected garbage")
    except ValueError:
        pass
    start = time.monotonic()
    sandbox.run(["databricks", "--version"], env={"FAKE_DATABRICKS_HANG": "0.5"})
    assert time.monotonic() - start >= 0.5
    calls = sandbox.databricks_calls()
    assert [c["argv"] for c in calls[1:]] == [
        ["auth", "token", "--profile", "DEFAULT"],
        ["--version"],
    ]
    token = sandbox.cached_token()
    assert all(token not in json.dumps(c) for c in calls)


def test_tls_login_and_refresh(sandbox: Sandbox, tls_workspace: FakeWorkspace) -> None:
    untrusted = sandbox.run(
        ["databricks", "auth", "login", "--host", tls_workspace.url, "--timeout", "5s"]
    )
    assert untrusted.code == 1 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
    sandbox.login(tls_workspace)  # trusts the CA through SSL_CERT_FILE
    assert sandbox.token_cache()["tokens"][tls_workspace.url]
    tok = token_json(sandbox, "--force-refresh")
    assert tls_workspace.token_state(tok["access_token"]) == "valid"


def test_expiry_format_round_trip() -> None:
    now = time.time()
    text = format_expiry(now)
    assert EXPIRY.match(text)
    assert abs(parse_expiry(text) - now) < 1e-6
    # what the notes tell product code to do: trim nanoseconds, then fromisoformat
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00")
    assert abs(dt.datetime.fromisoformat(trimmed).timestamp() - now) < 1e-5


def test_profile_falls_back_to_host_key_and_in_process_env(
    sandbox: Sandbox, workspace: FakeWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.login(workspace, profile="dev")
    path = sandbox.home / ".databricks" / "token-cache.json"
    cache = json.loads(path.read_text())
    del cache["tokens"]["dev"]
    path.write_text(json.dumps(cache))
    assert (
        token_json(sandbox, "-p", "dev")["access_token"]
        == cache["tokens"][workspace.url]["access_token"]
    )
    sandbox.apply_env(monkeypatch)
    assert shutil.which("databricks") == str(sandbox.bin / "databricks")
    out = subprocess.run(["databricks", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout == "Databricks CLI v1.13.0\n"
