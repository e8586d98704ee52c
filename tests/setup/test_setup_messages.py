"""Setup's messages name the right thing (issue 12, item 7)."""

from __future__ import annotations

from tests.helpers.mgmt import run_setup
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

NOT_READY = "databricks-claude-sonnet-4-6-preview"


def test_a_not_ready_sonnet_is_named_with_the_sonnet_flag(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    out = run_setup(sandbox, workspace, "--sonnet", NOT_READY)
    assert out.code == 1, out
    assert f"model endpoint {NOT_READY} is not READY (HTTP 404)" in out.stderr
    assert "fix: pick another: setup-fmapi-claudecode --sonnet NAME" in out.stderr
    assert "--model NAME" not in out.stderr
    assert "nothing was written" in out.stderr
    assert not (sandbox.home / ".claude").exists()


def test_an_unreachable_workspace_is_said_once_per_line(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    setup = ["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install", "--shell", "none"]
    assert sandbox.run_here(setup, timeout=120).code == 0
    workspace.stop()
    for argv in (setup, ["dbx-fmapi", "models"], ["dbx-fmapi", "doctor"]):
        out = sandbox.run_here(argv, timeout=120)
        assert out.code == 1, out
        assert "Connection refused" in out.output, out
        for line in out.output.splitlines():
            assert line.count("cannot reach") <= 1, line
            assert line.count("Connection refused") <= 1, line


def test_switching_the_shell_removes_an_rc_file_setup_created(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    base = ["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install", "--no-verify"]
    assert sandbox.run([*base, "--shell", "zsh"], timeout=120).code == 0
    assert (sandbox.home / ".zshrc").exists()  # setup created it for the block
    (sandbox.home / ".bashrc").write_text("export MINE=1\n")
    out = sandbox.run([*base, "--shell", "fish"], timeout=120)
    assert out.code == 0, out
    assert not (sandbox.home / ".zshrc").exists()
    assert (sandbox.home / ".config/fish/functions/dbx-fmapi-claude.fish").exists()
    assert (sandbox.home / ".bashrc").read_text() == "export MINE=1\n"
    # a user's own rc file loses only the block
    (sandbox.home / ".zshrc").write_text("setopt autocd\n")
    assert sandbox.run([*base, "--shell", "zsh"], timeout=120).code == 0
    assert sandbox.run([*base, "--shell", "bash"], timeout=120).code == 0
    assert (sandbox.home / ".zshrc").read_text() == "setopt autocd\n"


def test_setup_colours_its_status_words_on_a_terminal_only(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    import pexpect

    sandbox.signed_in(workspace)
    argv = ["--host", workspace.url, "--skip-install", "--shell", "none"]
    for env, coloured in (({"TERM": "xterm-256color"}, True), ({"NO_COLOR": "1"}, False)):
        child = pexpect.spawn(
            str(sandbox.bin / "setup-fmapi-claudecode"),
            argv,
            env=dict(sandbox.env, **env),
            cwd=str(sandbox.home),
            encoding="utf-8",
            timeout=60,
        )
        child.expect(pexpect.EOF)
        child.close()
        text = child.before or ""
        assert child.exitstatus == 0, text
        assert ("\x1b[32mok\x1b[0m" in text) is coloured, text
    piped = sandbox.run(["setup-fmapi-claudecode", *argv], timeout=120)
    assert piped.code == 0 and "\x1b[" not in piped.output, piped


def test_setup_shows_what_it_waits_for_on_a_terminal_only(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    import pexpect

    sandbox.signed_in(workspace)
    workspace.set_latency("/serving-endpoints/anthropic", 1.0)  # a slow model check
    argv = ["--host", workspace.url, "--skip-install", "--shell", "none"]
    child = pexpect.spawn(
        str(sandbox.bin / "setup-fmapi-claudecode"),
        argv,
        env=dict(sandbox.env, TERM="xterm-256color"),
        cwd=str(sandbox.home),
        encoding="utf-8",
        timeout=60,
    )
    child.expect_exact("one-token request to databricks-claude-")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    piped = sandbox.run(["setup-fmapi-claudecode", *argv], timeout=120)
    assert piped.code == 0 and "one-token request to" not in piped.output, piped


def test_a_500_from_the_token_endpoint_is_a_server_error_not_a_login(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """The CLI ends almost every failure with its login trailer; a 500 while refreshing is the
    workspace's trouble: retry later, no login, and no `databricks auth env` (the old advice)."""
    sandbox.signed_in(workspace)
    out = run_setup(sandbox, workspace, "--no-verify")
    assert out.code == 0, out
    sandbox.set_token_expiry(-10)  # the next token request must refresh
    (sandbox.home / ".config/dbx-fmapi-claude/token-state.json").unlink(missing_ok=True)
    workspace.fail("/oidc", 500, times=None)
    sandbox.fake_program("claude", "echo 2.1.332\n")  # the wrapper stops before it anyway
    before = sandbox.snapshot()
    logins = len(sandbox.databricks_calls())
    headless = {"DISPLAY": None, "WAYLAND_DISPLAY": None, "SSH_CONNECTION": None}
    for argv in (["dbx-fmapi", "token"], ["dbx-fmapi-claude", "--version"]):
        res = sandbox.run_here(argv, env=headless, timeout=120)
        assert res.code == 1, res  # not 4: nobody needs to log in
        assert "500" in res.stderr, res
        assert "retry" in res.stderr, res
        assert "auth env" not in res.output and "auth login" not in res.stderr, res
        assert res.stdout == "", res
    assert not any("login" in c["argv"] for c in sandbox.databricks_calls()[logins:])
    assert sandbox.snapshot() == before
