"""Self-tests of the sandbox and the home guard (tests/rig/sandbox.py, tests/conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import conftest
from tests.rig.sandbox import RunTimeout, Sandbox


def test_environment_is_private(sandbox: Sandbox) -> None:
    assert os.environ["HOME"] == str(sandbox.home)
    assert Path("~").expanduser() == sandbox.home
    env = sandbox.env
    assert env["HOME"] == str(sandbox.home)
    assert env["PATH"].split(":")[0] == str(sandbox.bin)
    assert env["DISABLE_AUTOUPDATER"] == "1"
    assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    assert "CLAUDE_CODE_MAX_RETRIES" not in env
    assert not {k for k in env if k.startswith(("SSH_", "XDG_"))}
    assert "DISPLAY" not in env and "WAYLAND_DISPLAY" not in env
    assert (env["LANG"], env["TERM"]) == ("C.UTF-8", "dumb")
    result = sandbox.run(
        ["sh", "-c", 'echo "$HOME"; command -v databricks; [ -t 0 ] || echo no-tty']
    )
    assert result.stdout.splitlines() == [
        str(sandbox.home),
        str(sandbox.bin / "databricks"),
        "no-tty",
    ]
    if sandbox.claude_bin:
        assert sandbox.which("claude") == str(sandbox.bin / "claude")


def test_run_env_merge_input_cwd_timeout(sandbox: Sandbox, tmp_path: Path) -> None:
    r = sandbox.run(
        ["sh", "-c", 'echo "${EXTRA-unset} ${LANG-unset}"; cat; pwd'],
        input="from stdin\n",
        env={"EXTRA": "yes", "LANG": None},
        cwd=tmp_path,
    )
    assert r.stdout.splitlines() == ["yes unset", "from stdin", str(tmp_path)]
    assert sandbox.run(["sh", "-c", "echo err >&2; exit 3"]).stderr == "err\n"
    assert sandbox.run(["no-such-program"]).code == 127
    with pytest.raises(RunTimeout):
        sandbox.run(["sleep", "5"], timeout=0.3)


def test_fake_program_calls_and_remove(sandbox: Sandbox) -> None:
    sandbox.fake_program("brew", 'echo "brewing $1"')
    r = sandbox.run(["brew", "install", "a b", "it's"])
    assert r.stdout == "brewing install\n"
    sandbox.run(["brew"])
    assert sandbox.calls("brew") == [["install", "a b", "it's"], []]
    assert sandbox.calls("never") == []

    sandbox.remove("brew")
    assert sandbox.which("brew") is None
    assert sandbox.which("curl") is not None or sandbox.which("ls") is not None
    sandbox.remove("ls")  # a system program
    assert sandbox.which("ls") is None
    assert sandbox.run(["ls"]).code == 127
    assert sandbox.which("sh") is not None
    assert sandbox.run(["sh", "-c", "command -v ls || echo gone"]).stdout == "gone\n"
    sandbox.remove("databricks")
    assert sandbox.which("databricks") is None


def test_snapshot(sandbox: Sandbox) -> None:
    (sandbox.home / ".zshrc").write_text("export A=1\n")
    (sandbox.home / ".claude").mkdir()
    (sandbox.home / ".claude" / "settings.json").write_text("{}")
    (sandbox.home / "link.json").symlink_to(".claude/settings.json")
    snap = sandbox.snapshot()
    assert snap == {
        ".claude/settings.json": b"{}",
        ".zshrc": b"export A=1\n",
        "link.json": b"symlink -> .claude/settings.json",
    }
    assert set(sandbox.snapshot(exclude=[".claude/*"])) == {".zshrc", "link.json"}


def test_home_guard_notices_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_home = tmp_path / "realhome"
    (fake_home / ".claude").mkdir(parents=True)
    monkeypatch.setattr(conftest, "_REAL_HOMES", [str(fake_home)])
    before = conftest._real_home_state()
    (fake_home / ".databrickscfg").write_text("[x]\n")
    (fake_home / ".claude" / "settings.json").write_text("{}")
    after = conftest._real_home_state()
    changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
    assert changed == {
        str(fake_home / ".databrickscfg"),
        str(fake_home / ".claude"),
        str(fake_home / ".claude" / "settings.json"),
    }
