"""Secrets beyond OAuth (issue 14): journeys with a personal access token and a service
principal's client secret, from a profile and from DATABRICKS_* variables (CI), each run with
the PAT, the client secret and every access token marked. Afterwards every file under the
sandbox (HOME, TMPDIR, the logs of the fake programs with their argv) and every output is
scanned. The PAT and the secret may be only where the user put them (~/.databrickscfg, or the
environment); a service principal's access token only in our 0600 m2m-tokens.json; `dbx-fmapi
token`'s stdout is the one place a token is printed.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.catalogue.helpers import SECRETS, case, seed_user_files
from tests.helpers.journey import Journey
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

QUICK = {"CLAUDE_CODE_MAX_RETRIES": "0"}
HEADLESS = {"DISPLAY": None, "WAYLAND_DISPLAY": None, "SSH_CONNECTION": "10.0.0.1 5 10.0.0.2 22"}


def _marked(prefix: str) -> str:
    return prefix + "LEAKy" + "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(10))


def _everyday(j: Journey, env: dict[str, str | None], profile: list[str]) -> None:
    """A normal day: setup, the helper, both ways to run Claude Code, every read command, the
    dry runs, the browserless login, uninstall, and setup again."""
    host = j.ws.url
    j.setup("--host", host, "--shell", "bash", *profile, env=env)
    j.run("dbx-fmapi", "token", env=env)
    j.run("dbx-fmapi-claude", "-p", "hi", env={**QUICK, **env})
    j.run("claude", "-p", "hi", env={**QUICK, **env})
    for argv in (
        ["dbx-fmapi", "status"],
        ["dbx-fmapi", "status", "--json"],
        ["dbx-fmapi", "status", "--check"],
        ["dbx-fmapi", "doctor"],
        ["dbx-fmapi", "doctor", "--json"],
        ["dbx-fmapi", "models"],
        ["dbx-fmapi", "--debug", "models", "--json", "--validate"],
        ["dbx-fmapi", "login"],
    ):
        j.run(*argv, env=env)
    j.setup("--host", host, "--dry-run", *profile, env=env)
    j.setup("--host", host, *profile, env=env)  # already configured
    j.run("dbx-fmapi", "uninstall", "--dry-run", env=env)
    j.run("dbx-fmapi", "uninstall", "--yes", env=env)
    j.setup("--host", host, "--shell", "zsh", *profile, env=env)
    assert j.ws.messages_requests()


def _pat_failures(j: Journey, pat: str) -> None:
    host = j.ws.url
    j.setup("--host", host, "--profile", "pat", "--token-mode", "static", code=2)
    j.setup("--host", host, "--profile", "pat", "--shell", "none")
    j.ws.revoke_pat(pat)
    for env in ({}, HEADLESS):
        j.run("dbx-fmapi", "login", code=1, env=env)
        j.run("dbx-fmapi", "doctor", code=1, env=env)
        j.run("dbx-fmapi", "--debug", "doctor", "--json", code=1, env=env)
        j.run("claude", "-p", "hi", code=None, env=QUICK)
        j.setup("--host", host, "--profile", "pat", code=1, env=env)


def _m2m_failures(j: Journey) -> None:
    host = j.ws.url
    j.setup("--host", host, "--profile", "sp", "--shell", "none")
    j.ws.service_principals["test-sp"] = "rotated"  # the profile's secret no longer works
    cache = j.sandbox.home / ".config/dbx-fmapi-claude/m2m-tokens.json"
    cache.unlink()
    for env in ({}, HEADLESS):
        j.run("dbx-fmapi", "token", code=1, env=env)
        j.run("dbx-fmapi", "--debug", "login", code=1, env=env)
        j.run("dbx-fmapi", "doctor", code=1, env=env)
        j.run("dbx-fmapi-claude", "-p", "hi", code=1, env=env)
        j.setup("--host", host, "--profile", "sp", code=1, env=env)


Setup = Callable[[Journey, str, str], dict[str, str | None]]


def _profile_pat(j: Journey, pat: str, secret: str) -> dict[str, str | None]:
    _write_cfg(j.sandbox, f"[pat]\nhost = {j.ws.url}\ntoken = {pat}\n")
    _everyday(j, {}, ["--profile", "pat"])
    _pat_failures(j, pat)
    return {}


def _profile_m2m(j: Journey, pat: str, secret: str) -> dict[str, str | None]:
    j.ws.service_principals["test-sp"] = secret
    _write_cfg(
        j.sandbox, f"[sp]\nhost = {j.ws.url}\nclient_id = test-sp\nclient_secret = {secret}\n"
    )
    _everyday(j, {}, ["--profile", "sp"])
    _m2m_failures(j)
    return {}


def _env_pat(j: Journey, pat: str, secret: str) -> dict[str, str | None]:
    env: dict[str, str | None] = {"DATABRICKS_HOST": j.ws.url, "DATABRICKS_TOKEN": pat}
    _everyday(j, env, [])
    return env


def _env_m2m(j: Journey, pat: str, secret: str) -> dict[str, str | None]:
    j.ws.service_principals["test-sp"] = secret
    env: dict[str, str | None] = {
        "DATABRICKS_HOST": j.ws.url,
        "DATABRICKS_CLIENT_ID": "test-sp",
        "DATABRICKS_CLIENT_SECRET": secret,
    }
    _everyday(j, env, [])
    return env


def _write_cfg(sandbox: Sandbox, text: str) -> None:
    path = sandbox.home / ".databrickscfg"
    path.write_text(text)
    path.chmod(0o600)


JOURNEYS: dict[str, Setup] = {
    "PAT profile: a normal day, then revoked": _profile_pat,
    "service principal profile: a normal day, then a rotated secret": _profile_m2m,
    "CI: DATABRICKS_TOKEN only": _env_pat,
    "CI: DATABRICKS_CLIENT_ID/SECRET only": _env_m2m,
}


@case(SECRETS, "PAT and client-secret journeys scanned")
@pytest.mark.parametrize("journey", list(JOURNEYS))
def test_no_pat_secret_or_token_anywhere_it_was_not_put(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str, journey: str
) -> None:
    workspace.token_marker = _marked("")
    pat = workspace.issue_pat()  # issued by the workspace, carrying its own marker
    token_marker = workspace.token_marker = _marked("")  # every access token from here on
    secret = _marked("sec")
    seed_user_files(sandbox)
    sandbox.fake_program("git", 'exec /usr/bin/git "$@"\n')
    j = Journey(sandbox, workspace)
    env = JOURNEYS[journey](j, pat, secret)
    home = sandbox.home
    cfg = home / ".databrickscfg"
    for label, value, allowed in (
        ("the PAT", pat, {cfg}),
        ("the client secret", secret, {cfg}),
        ("an access token", token_marker, {home / ".config/dbx-fmapi-claude/m2m-tokens.json"}),
    ):
        leaks = []
        for dirpath, _dirs, files in os.walk(sandbox.root):
            for name in files:
                path = Path(dirpath) / name
                if path.is_symlink() or not path.is_file():
                    continue
                if value.encode() not in path.read_bytes():
                    continue
                if path in allowed:
                    assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
                else:
                    leaks.append(str(path.relative_to(sandbox.root)))
        leaks += [where for where, text in j.outputs if value in text]
        assert not leaks, (label, leaks)
    assert env is not None
