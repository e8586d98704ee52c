"""Secrets: every journey a user takes (setup in both token modes, the wrapper, the helper, real
Claude Code sessions, status, doctor, models, login, dry runs, uninstall, and the failures), run
with tokens that carry a recognisable marker. Afterwards every file under the sandbox (HOME,
TMPDIR, the logs of the fake programs with their argv) and every captured output is scanned for
it. Only the Databricks CLI's own cache and a static-mode settings file, both 0600, may hold a
token; `dbx-fmapi token`'s stdout is the one place one is printed.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest

from tests.catalogue.helpers import SECRETS, case, seed_user_files
from tests.helpers.journey import Journey
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

HEADLESS = {"DISPLAY": None, "WAYLAND_DISPLAY": None, "SSH_CONNECTION": None}


def _everyday(j: Journey, mode: str) -> None:
    """What a user does on a normal day, in one token mode."""
    ws, host = j.ws, j.ws.url
    j.setup("--host", host, "--shell", "bash", "--token-mode", mode)  # logs in (browser)
    j.run("dbx-fmapi", "token")
    j.run("dbx-fmapi-claude", "-p", "hi", env={"CLAUDE_CODE_MAX_RETRIES": "0"})
    j.run("claude", "-p", "hi", env={"CLAUDE_CODE_MAX_RETRIES": "0"})
    for argv in (
        ["dbx-fmapi", "status"],
        ["dbx-fmapi", "status", "--json"],
        ["dbx-fmapi", "status", "--check"],
        ["dbx-fmapi", "doctor"],
        ["dbx-fmapi", "doctor", "--json"],
        ["dbx-fmapi", "models"],
        ["dbx-fmapi", "models", "--json", "--validate"],
        ["dbx-fmapi", "--debug", "models"],
    ):
        j.run(*argv)
    j.expire()  # a refresh through the helper and the wrapper
    j.run("dbx-fmapi", "token")
    j.expire()
    j.run("dbx-fmapi-claude", "--version")
    j.run("dbx-fmapi", "login")
    j.setup("--host", host, "--dry-run")
    other = "helper" if mode == "static" else "static"
    j.setup("--host", host, "--dry-run", "--token-mode", other)  # the diff of a mode switch
    j.setup("--host", host)  # already configured
    j.run("dbx-fmapi", "uninstall", "--dry-run")
    j.run("dbx-fmapi", "uninstall", "--yes")
    j.setup("--host", host, "--token-mode", mode, "--shell", "zsh")
    assert ws.messages_requests()


def _switching(j: Journey) -> None:
    """Static -> corrupted by an editor crash -> repaired -> helper -> static -> uninstall."""
    host = j.ws.url
    j.setup("--host", host, "--token-mode", "static", "--shell", "bash")
    settings = j.sandbox.home / ".claude/settings.json"
    raw = settings.read_bytes()
    cut = raw.index(j.ws.token_marker.encode()) + len(j.ws.token_marker) + 20
    settings.write_bytes(raw[:cut])  # an editor crashed: half a file, half a token in it
    j.setup("--host", host)  # backs the broken file up, repairs it
    j.setup("--host", host, "--token-mode", "helper")
    j.setup("--host", host, "--token-mode", "static")
    j.run("dbx-fmapi-claude", "--version")
    j.run("dbx-fmapi", "uninstall", "--yes")


def _project(j: Journey) -> None:
    """Static mode in a git project whose settings.json is tracked: the token goes to the
    untracked settings.local.json (0600), never into the tracked file."""
    project = j.sandbox.home / "work" / "repo"
    (project / ".claude").mkdir(parents=True)
    (project / ".claude" / "settings.json").write_text('{"permissions": {"allow": []}}\n')
    for args in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@e"]):
        if args[0] == "-c":
            args = [*args, "commit", "-qm", "settings"]
        subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)
    args = ["--host", j.ws.url, "--settings-location", "cwd", "--token-mode", "static"]
    j.setup(*args, code=2, cwd=project)  # refused without --yes
    j.setup(*args, "--yes", cwd=project)
    j.run("dbx-fmapi-claude", "-p", "hi", cwd=project, env={"CLAUDE_CODE_MAX_RETRIES": "0"})
    j.run("dbx-fmapi", "doctor", cwd=project)
    j.run("dbx-fmapi", "status", "--json", cwd=project)
    j.run("git", "status", "--porcelain", cwd=project)
    j.run("dbx-fmapi", "uninstall", "--yes", cwd=project)


def _failures(j: Journey) -> None:
    """Every failure path that has a token in hand when it fails."""
    ws, host = j.ws, j.ws.url
    j.setup("--host", host, "--token-mode", "static", "--shell", "bash")
    ws.fail("/serving-endpoints/anthropic", 403, times=None)
    j.setup("--host", host, code=1)  # the workspace rejects the token
    j.run("dbx-fmapi", "doctor", code=1)
    j.run("dbx-fmapi", "--debug", "doctor", code=1)
    j.run("dbx-fmapi", "models", "--validate", code=None)
    ws.clear_faults()
    ws.fail("/api/2.0/serving-endpoints", 401, times=None)
    j.run("dbx-fmapi", "models", code=1)
    j.run("dbx-fmapi", "--debug", "models", code=1)
    ws.clear_faults()
    ws.fail("/serving-endpoints/anthropic", 500, times=None, body={"message": "boom"})
    j.setup("--host", host, "--no-verify")
    j.setup("--host", host, code=1)
    ws.clear_faults()
    j.sandbox.use_fake_cli()  # the real CLI cannot hang or print garbage
    for env in ({"FAKE_DATABRICKS_GARBAGE": "1"}, {"FAKE_DATABRICKS_HANG": "5"}):
        env = {**env, "DBX_FMAPI_CLI_TIMEOUT_SECONDS": "1"}
        j.expire()
        j.run("dbx-fmapi", "token", code=1, env=env)
        j.run("dbx-fmapi", "status", "--check", code=None, env=env)
        j.setup("--host", host, code=1, env=env)
    j.sandbox.use_real_cli()
    j.run("dbx-fmapi", "token", "--profile", "nope", code=1)
    j.run("dbx-fmapi", "login", "--profile", "nope", code=2)
    # Login needed, and no terminal or browser: exit 4 with the command.
    ws.expire_access_tokens()
    ws.revoke_refresh_tokens()
    j.expire()
    settings = j.sandbox.home / ".claude/settings.json"
    data = json.loads(settings.read_text())
    data["env"]["ANTHROPIC_AUTH_TOKEN"] = ws.issue_token(lifetime=10)
    settings.write_text(json.dumps(data))
    settings.chmod(0o600)
    j.run("dbx-fmapi", "token", code=4, env=HEADLESS)
    j.run("dbx-fmapi-claude", "-p", "hi", code=4, env=HEADLESS)
    j.setup("--host", host, code=4, env={**HEADLESS, "BROWSER": None})
    j.run("dbx-fmapi", "doctor", code=1, env=HEADLESS)
    j.run("claude", "-p", "hi", code=None, env={"CLAUDE_CODE_MAX_RETRIES": "0"})
    j.run("dbx-fmapi", "login")  # the browser flow repairs it
    j.run("dbx-fmapi", "token")


def _interactive(j: Journey) -> None:
    """The prompts, through a terminal, in static mode: its whole transcript is scanned."""
    child = pexpect.spawn(
        str(j.sandbox.bin / "setup-fmapi-claudecode"),
        ["--skip-install", "--token-mode", "static"],
        env=dict(j.sandbox.env, TERM="xterm-256color"),
        cwd=str(j.sandbox.home),
        encoding="utf-8",
        codec_errors="replace",
        timeout=60,
    )
    log: list[str] = []
    try:
        child.expect_exact("Workspace URL")
        child.sendline(j.ws.url)
        child.expect_exact("Databricks CLI profile name")
        child.sendline("")
        for _ in range(5):  # the four models and the location
            child.expect_exact("(up/down, Enter)")
            child.send("\r")
        child.expect(pexpect.EOF)
        log.append(child.before or "")
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, log
    j.outputs.append(("interactive setup transcript", "".join(log)))
    j.run("dbx-fmapi-claude", "--version")


JOURNEYS: dict[str, Callable[[Journey], None]] = {
    "helper mode, a normal day": lambda j: _everyday(j, "helper"),
    "static mode, a normal day": lambda j: _everyday(j, "static"),
    "mode switches and a corrupted static file": _switching,
    "static mode in a git project": _project,
    "failures with a token in hand": _failures,
    "interactive setup": _interactive,
}


def _readable(data: bytes) -> list[bytes]:
    """The file's bytes, plus anything base64-encoded inside a JSON record of ours."""
    out = [data]
    try:
        record = json.loads(data)
    except ValueError:
        return out
    if isinstance(record, dict) and isinstance(record.get("data"), str):
        with contextlib.suppress(ValueError):
            out.append(base64.b64decode(record["data"]))
    return out


def scan(j: Journey, marker: str) -> tuple[list[str], list[str]]:
    """(where the marker is but must not be, where it is allowed); the allowed are 0600."""
    home = j.sandbox.home
    allowed = {home / ".databricks" / "token-cache.json"}
    cfg_path = home / ".config/dbx-fmapi-claude/config.json"
    if cfg_path.exists():
        for cfg in json.loads(cfg_path.read_text()).get("configs", []):
            # record v3: Claude Code's token mode under "claude" (flat in a v2 record)
            if (cfg.get("claude") or {}).get("token_mode", cfg.get("token_mode")) == "static":
                allowed.add(Path(cfg["settings_file"]))
    leaks, hits = [], []
    for dirpath, _dirs, files in os.walk(j.sandbox.root):
        for name in files:
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            if not any(marker.encode() in b for b in _readable(path.read_bytes())):
                continue
            if path in allowed:
                mode = stat.S_IMODE(path.stat().st_mode)
                assert mode == 0o600, f"{path} holds a token with mode {mode:o}"
                hits.append(str(path.relative_to(home)))
            else:
                leaks.append(str(path.relative_to(j.sandbox.root)))
    leaks += [label for label, text in j.outputs if marker in text]
    return leaks, hits


@case(SECRETS, "journeys scanned for tokens")
@pytest.mark.parametrize("journey", list(JOURNEYS))
def test_no_token_anywhere_but_the_cli_cache_and_a_static_settings_file(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str, journey: str
) -> None:
    marker = "LEAKx" + "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(10))
    workspace.token_marker = marker
    seed_user_files(sandbox)
    # git records its argv too: setup asks it whether a settings file is tracked.
    sandbox.fake_program("git", 'exec /usr/bin/git "$@"\n')
    j = Journey(sandbox, workspace)
    JOURNEYS[journey](j)
    leaks, hits = scan(j, marker)
    assert ".databricks/token-cache.json" in hits  # the scan finds what is there
    assert not leaks, leaks
    # Our own files: 0600, in a 0700 lock folder; no token, only expiries and fingerprints.
    ours = sandbox.home / ".config/dbx-fmapi-claude"
    for path in ours.rglob("*"):
        if path.is_file() and path.suffix == ".json":
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    if (ours / "locks").exists():
        assert stat.S_IMODE((ours / "locks").stat().st_mode) == 0o700
