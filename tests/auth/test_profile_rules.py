"""The Databricks SDKs' own configuration rules (issue 19 item 3), in process.

Each case states the verdict of the official Python SDK (databricks-sdk 0.167, `Config()` with
its network probe and token request switched off, run on the same file and environment; the
script is in docs/profiles.md) and, where we follow it, holds our resolver to it. Where we differ
on purpose the comment says so: hosts follow our one host rule (the Go SDK and the CLI strip
`?o=…`; http:// only for a local test server), DATABRICKS_HOST naming another workspace than the
profile is refused, and the file is parsed as go-ini does (the Go SDK and the CLI), not as
Python's configparser does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dbx_fmapi_claude.auth import credentials, databrickscfg
from dbx_fmapi_claude.core.errors import UserError
from dbx_fmapi_claude.workspace import hosts

A, B = "https://a.example.com", "https://b.example.com"
TWO = f"[a]\nhost = {A}\ntoken = dapiA\n[DEFAULT]\nhost = https://d.example.com\ntoken = dapiD\n"
BOTH = f"[p]\nhost = {A}\ntoken = dapiA\nclient_id = cid\nclient_secret = sec\n"
M2M_PROFILE = f"[p]\nhost = {A}\nclient_id = cid\nclient_secret = sec\n"


def verdict(
    home: Path, cfg: str | None, env: dict[str, str] | None = None, profile: str | None = None
) -> dict[str, str | None]:
    path = home / ".databrickscfg"
    if cfg is not None:
        path.write_text(cfg)
    before = path.read_bytes() if cfg is not None else None
    try:
        s = credentials.resolve(profile, env or {}, str(home))
        got: dict[str, str | None] = {"kind": s.kind, "host": s.host, "profile": s.profile}
        got["secret"] = s._secret
        if s.client_id:
            got["client_id"] = s.client_id
    except UserError as exc:
        got = {"error": exc.message, "fix": exc.fix, "code": str(exc.code)}
    assert (path.read_bytes() if cfg is not None else None) == before  # never changed
    return got


# --- which profile -------------------------------------------------------------------------


def test_databricks_config_profile_names_the_profile(tmp_path: Path) -> None:
    # SDK: profile a, token dapiA, host a (not DEFAULT).
    got = verdict(tmp_path, TWO, {"DATABRICKS_CONFIG_PROFILE": "a"})
    assert got == {"kind": "pat", "host": A, "profile": "a", "secret": "dapiA"}


def test_settings_default_profile_names_the_profile(tmp_path: Path) -> None:
    # SDK: `databricks auth switch` wrote default_profile = a: profile a, not DEFAULT.
    cfg = "[__settings__]\ndefault_profile = a\n" + TWO
    got = verdict(tmp_path, cfg)
    assert got == {"kind": "pat", "host": A, "profile": "a", "secret": "dapiA"}


def test_without_settings_default_is_the_default_section(tmp_path: Path) -> None:
    # SDK (Go fixture default_profile_empty): an empty [__settings__] leaves [DEFAULT].
    cfg = "[__settings__]\n\n[DEFAULT]\nhost = https://d.example.com\ntoken = dapiD\n"
    got = verdict(tmp_path, cfg)
    assert got["profile"] == "DEFAULT" and got["secret"] == "dapiD"


def test_settings_default_profile_that_is_gone_is_an_error(tmp_path: Path) -> None:
    # SDK: "resolve: …/.databrickscfg has no gone profile configured".
    got = verdict(tmp_path, "[__settings__]\ndefault_profile = gone\n" + TWO)
    assert got["code"] == "1"
    assert f"{tmp_path / '.databrickscfg'} has no profile 'gone'" in str(got["error"])
    assert "[__settings__] default_profile" in str(got["error"])


def test_settings_section_is_no_profile(tmp_path: Path) -> None:
    # SDK (Go fixture default_profile_self_ref): "__settings__ is a reserved section name".
    cfg = (
        "[__settings__]\ndefault_profile = __settings__\n[DEFAULT]\nhost = https://d.x\ntoken = t\n"
    )
    got = verdict(tmp_path, cfg)
    assert "is the CLI's settings, not a profile" in str(got["error"])


def test_credential_variables_without_a_profile_skip_the_file(tmp_path: Path) -> None:
    # SDK: with a credential in the environment and no profile named, the file is not read.
    cfg = "[DEFAULT]\nhost = https://d.example.com\nclient_id = cid\nclient_secret = sec\n"
    got = verdict(tmp_path, cfg, {"DATABRICKS_TOKEN": "dapiE", "DATABRICKS_HOST": B})
    assert got == {"kind": "pat", "host": B, "profile": None, "secret": "dapiE"}


# --- DATABRICKS_AUTH_TYPE and two credentials at once -----------------------------------------


def test_two_credentials_in_the_environment_are_refused_naming_both(tmp_path: Path) -> None:
    # SDK: "validate: more than one authorization method configured: oauth and pat".
    env = {"DATABRICKS_HOST": A, "DATABRICKS_TOKEN": "dapiE"}
    env.update(DATABRICKS_CLIENT_ID="cid", DATABRICKS_CLIENT_SECRET="sec")
    got = verdict(tmp_path, None, env)
    assert got["code"] == "1"
    message = str(got["error"])
    assert message.startswith("more than one authorization method configured: ")
    assert "a personal access token (DATABRICKS_TOKEN)" in message
    assert "(DATABRICKS_CLIENT_ID, DATABRICKS_CLIENT_SECRET)" in message
    assert "DATABRICKS_AUTH_TYPE=" in str(got["fix"])
    assert "dapiE" not in message + str(got["fix"]) and "sec)" not in message


def test_databricks_auth_type_chooses(tmp_path: Path) -> None:
    # SDK: auth_type pat with both in the environment: pat, token dapiE.
    env = {"DATABRICKS_HOST": A, "DATABRICKS_TOKEN": "dapiE", "DATABRICKS_AUTH_TYPE": "pat"}
    env.update(DATABRICKS_CLIENT_ID="cid", DATABRICKS_CLIENT_SECRET="sec")
    assert verdict(tmp_path, None, env) == {
        "kind": "pat",
        "host": A,
        "profile": None,
        "secret": "dapiE",
    }
    env["DATABRICKS_AUTH_TYPE"] = "oauth-m2m"
    assert verdict(tmp_path, None, env)["kind"] == "m2m"


def test_an_auth_type_we_do_not_use_is_refused(tmp_path: Path) -> None:
    # SDK: resolution accepts "nonsense" and fails later finding no such auth; we say it first.
    env = {"DATABRICKS_HOST": A, "DATABRICKS_TOKEN": "dapiE", "DATABRICKS_AUTH_TYPE": "nonsense"}
    got = verdict(tmp_path, None, env)
    assert got["code"] == "1" and "DATABRICKS_AUTH_TYPE=nonsense" in str(got["error"])


@pytest.mark.parametrize(
    "keys, named",
    [
        ("client_id = cid\nclient_secret = sec\n", "client_id/client_secret"),
        ("client_id = cid\n", "client_id"),
    ],
)
def test_two_credentials_in_one_profile_are_refused_naming_both(
    tmp_path: Path, keys: str, named: str
) -> None:
    # SDK: "more than one authorization method configured: oauth and pat" (a client id alone
    # counts too).
    got = verdict(tmp_path, f"[p]\nhost = {A}\ntoken = dapiA\n{keys}", profile="p")
    message = str(got["error"])
    assert "more than one authorization method configured" in message
    assert "(token in profile 'p')" in message
    assert f"({named} in profile 'p')" in message
    assert "add `auth_type = pat` (or oauth-m2m) to profile 'p'" in str(got["fix"])
    # Never a login over it (a login would rewrite the profile):
    section = databrickscfg.parse(f"[p]\ntoken = t\n{keys}")["p"]
    assert databrickscfg.credential_kind(section) == databrickscfg.OTHER


def test_a_profile_auth_type_chooses(tmp_path: Path) -> None:
    # SDK: auth_type = pat in the profile: pat, whatever else it holds.
    got = verdict(tmp_path, BOTH.replace("[p]\n", "[p]\nauth_type = pat\n"), profile="p")
    assert got["kind"] == "pat" and got["secret"] == "dapiA"


# --- DATABRICKS_* beside a named profile ------------------------------------------------------


def test_a_token_variable_replaces_a_pat_profiles_token(tmp_path: Path) -> None:
    # SDK: the environment is read first; DATABRICKS_TOKEN wins over the profile's token.
    got = verdict(tmp_path, f"[p]\nhost = {A}\ntoken = dapiA\n", {"DATABRICKS_TOKEN": "dapiE"}, "p")
    assert got == {"kind": "pat", "host": A, "profile": "p", "secret": "dapiE"}


@pytest.mark.parametrize("how", ["--profile", "DATABRICKS_CONFIG_PROFILE"])
def test_a_token_variable_beside_a_service_principal_profile_is_refused(
    tmp_path: Path, how: str
) -> None:
    # SDK: "more than one authorization method configured: oauth and pat".
    env = {"DATABRICKS_TOKEN": "dapiE"}
    if how != "--profile":
        env[how] = "p"
    got = verdict(tmp_path, M2M_PROFILE, env, "p" if how == "--profile" else None)
    message = str(got["error"])
    assert "a personal access token (DATABRICKS_TOKEN)" in message
    assert "(client_id/client_secret in profile 'p')" in message


def test_a_token_variable_beside_a_cli_login_profile_is_ignored(tmp_path: Path) -> None:
    # SDK: auth_type = databricks-cli (what `databricks auth login` writes) decides.
    cfg = f"[p]\nhost = {A}\nauth_type = databricks-cli\n"
    got = verdict(tmp_path, cfg, {"DATABRICKS_TOKEN": "dapiE"}, "p")
    assert got["kind"] == "oauth" and got["host"] == A


def test_databricks_auth_type_beside_a_profile_chooses(tmp_path: Path) -> None:
    # SDK: DATABRICKS_AUTH_TYPE=oauth-m2m over a profile holding both: oauth-m2m.
    got = verdict(tmp_path, BOTH, {"DATABRICKS_AUTH_TYPE": "oauth-m2m"}, "p")
    assert got["kind"] == "m2m" and got["client_id"] == "cid" and got["secret"] == "sec"


def test_databricks_host_naming_another_workspace_is_refused(tmp_path: Path) -> None:
    # SDK: uses DATABRICKS_HOST (b) with the profile's token. We differ on purpose: the
    # profile's secret never goes to a workspace the profile does not name.
    got = verdict(tmp_path, f"[p]\nhost = {A}\ntoken = dapiA\n", {"DATABRICKS_HOST": B}, "p")
    assert got["code"] == "1"
    assert f"DATABRICKS_HOST is {B}, but profile 'p' is for {A}" in str(got["error"])
    same = verdict(tmp_path, None, {"DATABRICKS_HOST": A + "/?o=1"}, "p")
    assert same["host"] == A  # the same workspace written another way is fine


# --- the file ---------------------------------------------------------------------------------


def test_an_unparseable_file_is_an_error_naming_its_line(tmp_path: Path) -> None:
    # SDK: "Source contains parsing errors: …/.databrickscfg [line 3]: 'garbage line'".
    cfg = f"[p]\nhost = {A}\ndapi-pasted-secret\n"
    got = verdict(tmp_path, cfg, profile="p")
    path = tmp_path / ".databrickscfg"
    assert got["error"] == (
        f"{path} cannot be read: line 3: no `=` (lines are `key = value`, `[section]` or a "
        "comment) (the Databricks CLI refuses it too)"
    )
    assert got["fix"] == f'fix line 3 of it in an editor: "${{EDITOR:-vi}}" {path}'
    assert got["code"] == "1"
    assert "dapi-pasted-secret" not in str(got)  # the line may be a secret: never quoted


def test_go_ini_choices_stay(tmp_path: Path) -> None:
    # The Python SDK (configparser) refuses a repeated section and keeps ` #` comments in
    # values; the Go SDK and the CLI (go-ini) merge the section and cut the comment: we read
    # the file as the CLI that writes it does.
    cfg = f"[p]\nhost = {A}\n[p]\ntoken = dapi#A # comment\n"
    assert verdict(tmp_path, cfg, profile="p")["secret"] == "dapi#A"


# --- one host rule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, host",
    [
        (f"{A}/?o=1234", A),  # Go SDK and CLI: query dropped (Python SDK keeps it)
        (f"{A}/", A),
        ("a.example.com", A),  # no scheme: https:// (both SDKs)
        ("HTTPS://A.example.com/browse#x", A),
    ],
)
def test_a_profile_host_follows_the_host_rule(tmp_path: Path, raw: str, host: str) -> None:
    got = verdict(tmp_path, f"[p]\nhost = {raw}\ntoken = dapiA\n", profile="p")
    assert got["host"] == host
    assert databrickscfg.host_of({"host": raw}) == host


def test_a_plain_http_profile_host_is_refused(tmp_path: Path) -> None:
    # Both SDKs accept http:// for any host; our rule (the product's): only for 127.0.0.1.
    got = verdict(tmp_path, "[p]\nhost = http://a.example.com\ntoken = dapiA\n", profile="p")
    path = tmp_path / ".databrickscfg"
    assert str(got["error"]).startswith(f"the host of profile 'p' in {path}: workspace URL must")
    assert got["code"] == "1" and str(got["fix"]).endswith(str(path))
    loop = verdict(tmp_path, "[p]\nhost = http://127.0.0.1:8080\ntoken = dapiA\n", profile="p")
    assert loop["host"] == "http://127.0.0.1:8080"


def test_a_plain_http_databricks_host_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError) as exc:
        credentials.from_env({"DATABRICKS_HOST": "http://a.example.com", "DATABRICKS_TOKEN": "t"})
    assert exc.value.message.startswith("DATABRICKS_HOST: workspace URL must start with https://")
    assert exc.value.code == 1 and "export DATABRICKS_HOST=https://" in str(exc.value.fix)
    ok = credentials.from_env({"DATABRICKS_HOST": "a.example.com/?o=1", "DATABRICKS_TOKEN": "t"})
    assert ok is not None and ok.host == A


@pytest.mark.parametrize(
    "text",
    [
        A,
        "https://A.example.com",
        "https://a.example.com:443",
        "https://a.example.com:0443",
        "https://a.example.com/",
        "https://1.2.3.4",
        "https://a..b",
        "https://-a.b",
        "https://a_b.com",
        "https://x.com:99999",
        "http://127.0.0.1:8080",
        "http://localhost:8080",
        "http://a.example.com",
        "https://[::1]:8080",
    ],
)
def test_the_helpers_quick_host_check_agrees_with_the_full_rule(text: str) -> None:
    # The token helper recognises a canonical host without urllib: never one the rule changes.
    if hosts.is_canonical(text):
        assert hosts.normalize_host(text) == text


def test_databricks_host_beside_a_cli_login_profile_keeps_the_profiles_host(
    tmp_path: Path,
) -> None:
    # No secret of ours goes anywhere: the Databricks CLI gets the token for the profile.
    cfg = f"[p]\nhost = {A}\nauth_type = databricks-cli\n"
    got = verdict(tmp_path, cfg, {"DATABRICKS_HOST": B}, "p")
    assert got["kind"] == "oauth" and got["host"] == A


def test_a_username_alone_in_the_environment_is_no_credential(tmp_path: Path) -> None:
    # Basic auth is not one we use: the variables hold no credential for us (as before).
    env = {"DATABRICKS_HOST": A, "DATABRICKS_USERNAME": "u", "DATABRICKS_PASSWORD": "p"}
    assert credentials.from_env(env) is None
    env["DATABRICKS_TOKEN"] = "dapiE"  # SDK: "more than one authorization method: basic and pat"
    assert "a username/password (DATABRICKS_USERNAME, DATABRICKS_PASSWORD)" in str(
        verdict(tmp_path, None, env)["error"]
    )


def test_a_databrickscfg_that_is_a_folder_says_so(tmp_path: Path) -> None:
    (tmp_path / ".databrickscfg").mkdir()
    with pytest.raises(UserError) as exc:
        credentials.resolve("p", {}, str(tmp_path))
    assert exc.value.message.startswith(f"{tmp_path / '.databrickscfg'} cannot be read: ")
    assert exc.value.fix == f"check it: ls -l {tmp_path / '.databrickscfg'}"
