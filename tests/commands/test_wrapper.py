"""`dbx-fmapi-claude`: a drop-in `claude` that makes sure a valid token is there first."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers.mgmt import config_of
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

HEADLESS_SSH = {
    "SSH_CONNECTION": "10.0.0.1 50000 10.0.0.2 22",
    "SSH_CLIENT": "10.0.0.1 50000 22",
    "DISPLAY": None,
    "WAYLAND_DISPLAY": None,
}


def configure(sandbox: Sandbox, ws: FakeWorkspace, *extra: str, cwd: Path | None = None) -> Path:
    """Log in, then run the real setup non-interactively; returns the settings file."""
    sandbox.signed_in(ws)
    result = sandbox.run_here(
        [
            "setup-fmapi-claudecode",
            "--host",
            ws.url,
            "--skip-install",
            "--no-verify",
            "--shell",
            "none",
            *extra,
        ],
        cwd=cwd,
        timeout=120,
    )
    assert result.code == 0, result
    folder = cwd or sandbox.home
    return folder / ".claude" / "settings.json"


def settings_env(path: Path) -> dict[str, str]:
    return dict(json.loads(path.read_text())["env"])


def test_valid_token_launch_makes_no_cli_or_network_call(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    configure(sandbox, workspace)
    sandbox.run_here(["dbx-fmapi", "token"])  # the helper records the token's expiry
    calls_before = len(sandbox.databricks_calls())
    log_before = len(workspace.log)
    out = sandbox.run(["dbx-fmapi-claude", "--version"])
    assert out.code == 0, out
    assert out.stdout == sandbox.run(["claude", "--version"]).stdout
    assert len(sandbox.databricks_calls()) == calls_before
    assert len(workspace.log) == log_before


def test_passes_argv_stdin_and_exit_status_through_untouched(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    configure(sandbox, workspace)
    sandbox.fake_program("claude", 'cat > "$HOME/stdin-seen"\nexit 7\n')
    args = ["-p", "two words", "", "ünï", "--", "--flag=$(touch pwned)", "*"]
    out = sandbox.run(["dbx-fmapi-claude", *args], input="piped input\n")
    assert out.code == 7, out
    # the user's arguments, after the relay's `--settings` (agents/claude/relayed.py)
    [call] = sandbox.calls("claude")
    assert call[0] == "--settings" and call[2:] == args, call
    assert "127.0.0.1" in call[1] and "DBX_FMAPI_RELAY_KEY" in call[1]
    direct = sandbox.run(
        ["dbx-fmapi-claude", *args], input="piped input\n", env={"DBX_FMAPI_CLAUDE_RELAY": "0"}
    )
    assert direct.code == 7, direct
    assert sandbox.calls("claude")[-1] == args
    assert (sandbox.home / "stdin-seen").read_text() == "piped input\n"
    assert not (sandbox.home / "pwned").exists()


def test_real_claude_answers_through_the_wrapper_with_a_valid_token(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    configure(sandbox, workspace)
    out = sandbox.run(["dbx-fmapi-claude", "-p", "hello"], timeout=120)
    assert out.code == 0, out
    assert "pong" in out.stdout
    msgs = workspace.messages_requests()
    assert msgs and all(r.token is not None and r.token.state == "valid" for r in msgs)
    assert all(r.headers.get("x-databricks-use-coding-agent-mode") == "true" for r in msgs)


def test_claude_missing_names_the_install_command(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    configure(sandbox, workspace)
    sandbox.remove("claude")
    out = sandbox.run(["dbx-fmapi-claude", "-p", "hi"])
    assert out.code == 1
    assert "Claude Code (`claude`) is not installed" in out.stderr
    assert "curl -fsSL https://claude.ai/install.sh | bash" in out.stderr


def test_not_set_up_says_how_to_set_up(sandbox: Sandbox) -> None:
    before = sandbox.snapshot()
    out = sandbox.run(["dbx-fmapi-claude", "-p", "hi"])
    assert out.code == 1
    assert "not set up" in out.stderr and "setup-fmapi-claudecode" in out.stderr
    assert sandbox.snapshot() == before


def test_revoked_login_headless_exits_4_with_the_command(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.access_token_lifetime = 2
    configure(sandbox, workspace)
    time.sleep(2.2)
    workspace.revoke_refresh_tokens()

    def logins() -> int:
        return sum(c["argv"][:2] == ["auth", "login"] for c in sandbox.databricks_calls())

    visits, before = len(sandbox.browser_visits(wait=0)), logins()
    out = sandbox.run(["dbx-fmapi-claude", "-p", "hi"], env=HEADLESS_SSH)
    assert out.code == 4, out
    assert f"databricks auth login --host {workspace.url} --profile DEFAULT" in out.stderr
    # At once: no login was started, so nothing waits for a browser.
    assert (len(sandbox.browser_visits(wait=0)), logins()) == (visits, before)
    assert not workspace.messages_requests()


def test_revoked_login_on_a_terminal_runs_the_browser_login_then_claude(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    pexpect = pytest.importorskip("pexpect")
    workspace.access_token_lifetime = 2
    configure(sandbox, workspace)
    time.sleep(2.2)
    workspace.revoke_refresh_tokens()
    workspace.access_token_lifetime = 3600
    visits = len(sandbox.browser_visits(wait=0))  # counted before the wrapper can log in
    child = pexpect.spawn(
        str(sandbox.bin / "dbx-fmapi-claude"),
        ["-p", "hello"],
        env=sandbox._env({}),
        cwd=str(sandbox.home),
        encoding="utf-8",
        timeout=120,
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "pong" in (child.before or "")
    assert len(sandbox.browser_visits()) == visits + 1
    msgs = workspace.messages_requests()
    assert msgs and all(r.token is not None and r.token.state == "valid" for r in msgs)


# --- static mode (the seed's design: the token in the settings file) -------------------------


def test_static_mode_plain_claude_works_then_wrapper_refreshes_the_file(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.access_token_lifetime = 40
    project = sandbox.home / "project"
    project.mkdir()
    settings = configure(
        sandbox, workspace, "--token-mode", "static", "--settings-location", "cwd", cwd=project
    )
    assert os.stat(settings).st_mode & 0o777 == 0o600
    first = settings_env(settings)["ANTHROPIC_AUTH_TOKEN"]
    assert workspace.token_state(first) == "valid"

    ok = sandbox.claude(["-p", "hi"], cwd=project, env={"CLAUDE_CODE_MAX_RETRIES": "0"})
    assert ok.code == 0 and "pong" in ok.stdout, ok  # plain claude works until expiry

    workspace.access_token_lifetime = 3600
    time.sleep(1)
    # 40 s tokens are inside the default 20 min need: the wrapper refreshes before launching.
    out = sandbox.run(["dbx-fmapi-claude", "-p", "hi"], cwd=project, timeout=120)
    assert out.code == 0 and "pong" in out.stdout, out
    refreshed = settings_env(settings)["ANTHROPIC_AUTH_TOKEN"]
    assert refreshed != first
    ref = workspace.token_ref(refreshed)
    assert ref is not None and ref.state == "valid" and ref.seconds_left > 3000
    assert os.stat(settings).st_mode & 0o777 == 0o600
    assert workspace.messages_requests()[-1].token.matches(refreshed)  # type: ignore[union-attr]


def test_static_mode_twenty_concurrent_wrappers_keep_the_file_whole(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.access_token_lifetime = 1
    settings = configure(sandbox, workspace, "--token-mode", "static")
    data = json.loads(settings.read_text())
    data["permissions"] = {"allow": ["Bash(ls)"]}
    data["env"]["MY_OWN"] = "kept"
    settings.write_text(json.dumps(data, indent=2))
    time.sleep(1.2)
    workspace.access_token_lifetime = 3600
    sandbox.fake_program("claude", "exit 0\n")  # launches only; claude itself is not the point
    refreshes_before = workspace.refresh_count()
    env = sandbox._env({})
    procs = [
        subprocess.Popen(
            [str(sandbox.bin / "dbx-fmapi-claude"), "--version"],
            env=env,
            cwd=sandbox.home,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(20)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 20, errors
    after = json.loads(settings.read_text())
    assert after["permissions"] == {"allow": ["Bash(ls)"]}
    assert after["env"]["MY_OWN"] == "kept"
    assert workspace.token_state(after["env"]["ANTHROPIC_AUTH_TOKEN"]) == "valid"
    assert workspace.refresh_count() - refreshes_before == 1
    assert os.stat(settings).st_mode & 0o777 == 0o600


# --- the onboarding flag: a claude running during setup may drop it; the next launch puts it back

# ~/.claude.json as Claude Code writes it (two-space JSON, no final newline), without the flag.
CLAUDE_STATE = {"numStartups": 12, "theme": "dark", "projects": {"/work/a": {"allowedTools": []}}}


def _claude_json(sandbox: Sandbox) -> Path:
    return sandbox.home / ".claude.json"


def _claude_rewrites_its_file(sandbox: Sandbox, state: dict[str, object]) -> bytes:
    raw = json.dumps(state, indent=2).encode()
    _claude_json(sandbox).write_bytes(raw)
    return raw


def _claude_that_reports_the_flag(sandbox: Sandbox) -> Path:
    """A fake claude that saves ~/.claude.json as it finds it when it starts."""
    seen = sandbox.root / "claude-saw.json"
    sandbox.fake_program("claude", f'cp "$HOME/.claude.json" "{seen}" 2>/dev/null || true\n')
    return seen


def test_an_onboarding_flag_a_running_claude_dropped_is_back_before_claude_starts(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    _claude_rewrites_its_file(sandbox, CLAUDE_STATE)
    configure(sandbox, workspace)
    assert json.loads(_claude_json(sandbox).read_text())["hasCompletedOnboarding"] is True
    # A claude that read the file before setup wrote it saves its own state over it.
    state = {**CLAUDE_STATE, "numStartups": 13}
    dropped = _claude_rewrites_its_file(sandbox, state)
    _claude_json(sandbox).chmod(0o600)
    seen = _claude_that_reports_the_flag(sandbox)
    out = sandbox.run(["dbx-fmapi-claude", "--version"])
    assert out.code == 0 and out.stderr == "", out
    fixed = _claude_json(sandbox).read_bytes()
    assert fixed == b'{\n  "hasCompletedOnboarding": true,' + dropped[1:]  # nothing else moved
    assert json.loads(fixed) == {"hasCompletedOnboarding": True, **state}
    assert seen.read_bytes() == fixed  # claude found it there when it started
    assert os.stat(_claude_json(sandbox)).st_mode & 0o777 == 0o600
    # Once it is back, launches do not touch the file.
    before = os.stat(_claude_json(sandbox)).st_mtime_ns
    assert sandbox.run(["dbx-fmapi-claude", "--version"]).code == 0
    assert _claude_json(sandbox).read_bytes() == fixed
    assert os.stat(_claude_json(sandbox)).st_mtime_ns == before


def test_the_onboarding_flag_is_put_back_through_a_symlink(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    configure(sandbox, workspace)
    real = sandbox.home / "dotfiles" / "claude.json"
    real.parent.mkdir()
    link = _claude_json(sandbox)
    link.unlink()
    link.symlink_to(real)
    dropped = json.dumps(CLAUDE_STATE, indent=2).encode()
    real.write_bytes(dropped)
    _claude_that_reports_the_flag(sandbox)
    assert sandbox.run(["dbx-fmapi-claude", "--version"]).code == 0
    assert link.is_symlink()
    assert json.loads(real.read_bytes()) == {"hasCompletedOnboarding": True, **CLAUDE_STATE}


@pytest.mark.parametrize(
    "case",
    ["setup did not add it", "not JSON", "the user set it false", "the file is gone"],
)
def test_an_onboarding_flag_that_is_not_ours_to_restore_is_left_alone(
    sandbox: Sandbox, workspace: FakeWorkspace, case: str
) -> None:
    if case == "setup did not add it":  # it was there before setup: the user's, not ours
        _claude_rewrites_its_file(sandbox, {**CLAUDE_STATE, "hasCompletedOnboarding": True})
    configure(sandbox, workspace)
    cfg = config_of(sandbox)
    assert cfg["onboarding_added"] is (case != "setup did not add it")
    path = _claude_json(sandbox)
    contents = {
        "setup did not add it": json.dumps(CLAUDE_STATE, indent=2).encode(),
        "not JSON": b'{"numStartups": 12,',
        "the user set it false": b'{"hasCompletedOnboarding": false, "numStartups": 3}',
        "the file is gone": None,
    }[case]
    if contents is None:
        path.unlink()
    else:
        path.write_bytes(contents)
    seen = _claude_that_reports_the_flag(sandbox)
    out = sandbox.run(["dbx-fmapi-claude", "--version"])
    assert out.code == 0 and out.stderr == "", out
    if contents is None:
        assert not path.exists() and not seen.exists()
    else:
        assert path.read_bytes() == contents == seen.read_bytes()


def test_help_says_what_the_wrapper_is_then_shows_claudes_help(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    fresh = sandbox.run(["dbx-fmapi-claude", "--help"])
    assert fresh.code == 0, fresh
    assert "not set up yet: setup-fmapi-claudecode" in fresh.stderr
    assert fresh.stdout == sandbox.run(["claude", "--help"]).stdout
    configure(sandbox, workspace)
    calls = len(sandbox.databricks_calls())
    out = sandbox.run(["dbx-fmapi-claude", "-h"])
    assert out.code == 0, out
    assert f"set up for {workspace.url} (profile DEFAULT)" in out.stderr
    assert "dbx-fmapi doctor" in out.stderr
    assert out.stdout == sandbox.run(["claude", "-h"]).stdout
    assert len(sandbox.databricks_calls()) == calls  # help needs no token


def test_a_refresh_shows_progress_on_a_terminal_only(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    import pexpect

    configure(sandbox, workspace)
    sandbox.set_token_expiry(-10)
    (sandbox.home / ".config/dbx-fmapi-claude/token-state.json").unlink(missing_ok=True)
    quiet = sandbox.run(["dbx-fmapi-claude", "--version"])
    assert quiet.code == 0 and "fresh Databricks token" not in quiet.stderr, quiet
    sandbox.set_token_expiry(-10)
    (sandbox.home / ".config/dbx-fmapi-claude/token-state.json").unlink(missing_ok=True)
    child = pexpect.spawn(
        str(sandbox.bin / "dbx-fmapi-claude"),
        ["--version"],
        env=dict(sandbox.env),
        cwd=str(sandbox.home),
        encoding="utf-8",
        timeout=60,
    )
    child.expect_exact("dbx-fmapi-claude: getting a fresh Databricks token...")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_the_relay_leaves_the_terminal_to_claude_and_ends_with_it(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """claude still replaces the wrapper (same process: exit status, signals, terminal); the
    relay it forked before is in a session of its own (no Ctrl-C, no hang-up), holds none of
    claude's stdio, answers only with the launch's key, and ends once claude has ended."""
    configure(sandbox, workspace)
    sandbox.fake_program(
        "claude",
        'echo "$$ $(ps -o sid= -p $$) $(ps -o pid=,sid= --ppid $$ | head -n 1)" > "$HOME/procs"\n'
        '[ -n "$DBX_FMAPI_RELAY_KEY" ] && echo keyed >> "$HOME/procs"\n'
        "kill -TERM $$\n",
    )
    out = sandbox.run(["dbx-fmapi-claude", "-p", "hi"], input="")
    assert out.code == -15, out  # the signal that ended claude, as the shell sees it
    claude, claude_sid, relay, relay_sid = (sandbox.home / "procs").read_text().split()[:4]
    assert (sandbox.home / "procs").read_text().split()[4:] == ["keyed"]
    assert relay_sid == relay and relay_sid != claude_sid and claude != relay
    for _ in range(200):  # it looks every half second whether claude is still there
        try:
            os.kill(int(relay), 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the relay outlived claude")
