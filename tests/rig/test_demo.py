"""README, "Try it without a Databricks workspace": `scripts/demo` works in a fresh clone where
the test suite never ran (no .venv, no Databricks CLI built: the tests' fake CLI stands in), with
the system's Python and only the pinned agents in .cache, shows all four agents answering, and
leaves nothing behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.rig.agents import BIN_ENV
from tests.rig.sandbox import REPO_ROOT

# The demo's step for each other agent, and the .cache folder scripts/test installs it into.
AGENT_STEPS = {
    "codex": ("codex", 'codex exec --skip-git-repo-check "say hi"'),
    "gemini": ("gemini-cli", 'dbx-fmapi run gemini -p "say hi"'),
    "opencode": ("opencode", 'dbx-fmapi run opencode run "say hi"'),
}


def plain_python() -> str:
    """A Python 3.10+ without the test dependencies (the one this venv was made from)."""
    for cand in (
        shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin"),
        sys._base_executable,
    ):
        if (
            cand
            and subprocess.run(
                [cand, "-c", "import sys; sys.exit(sys.version_info < (3, 10))"]
            ).returncode
            == 0
        ):
            return cand
    pytest.skip("no Python 3.10+ outside the venv")


def fresh_clone(dest: Path) -> Path:
    """The repository's tracked files as a clone has them (the working tree's bytes)."""
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, names):
        src = REPO_ROOT / os.fsdecode(name)
        if not src.exists():
            continue
        target = dest / os.fsdecode(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    return dest


def test_the_demo_runs_in_a_clone_where_the_tests_never_ran(
    tmp_path: Path, _claude_bin_path: str | None
) -> None:
    if not _claude_bin_path:
        pytest.skip("DBX_TEST_CLAUDE_BIN is unset: run the suite through ./scripts/test")
    prefix = Path(_claude_bin_path).parents[4]  # <prefix>/node_modules/@anthropic-ai/...
    if Path(_claude_bin_path).parents[3].name != "node_modules" or not prefix.name[:1].isdigit():
        pytest.skip(f"{_claude_bin_path} is not in scripts/test's .cache layout")
    clone = fresh_clone(tmp_path / "clone")
    assert not (clone / ".venv").exists()
    cached = clone / ".cache" / "claude-code" / prefix.name
    cached.parent.mkdir(parents=True)
    cached.symlink_to(prefix)  # installed once already; the demo's npm step is skipped
    shown = []
    for agent, (folder, _) in AGENT_STEPS.items():
        exe = os.environ.get(BIN_ENV[agent], "")
        parts = Path(exe).parts
        if ".cache" not in parts:
            continue
        at = parts.index(".cache")  # .cache/<folder>/<version>/node_modules/...
        (clone / ".cache" / folder).mkdir()
        (clone / ".cache" / folder / parts[at + 2]).symlink_to(Path(*parts[: at + 3]))
        shown.append(agent)
    if os.environ.get("CI") == "true":
        assert shown == list(AGENT_STEPS)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {
        "HOME": str(tmp_path / "user-home"),  # the demo makes its own throw-away HOME inside TMPDIR
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "TMPDIR": str(scratch),
        "PYTHON": plain_python(),
        "LANG": "C.UTF-8",
    }
    (tmp_path / "user-home").mkdir()
    proc = subprocess.run(
        ["bash", str(clone / "scripts" / "demo")],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,  # a hang guard: about 20 s on a quiet machine, over 300 s at load 30
    )
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    # dbx-fmapi-claude, plain claude, then each other agent that is installed
    assert proc.stdout.count("pong") == 2 + len(shown), (proc.stdout, proc.stderr)
    assert "the tests' fake" in proc.stderr
    for agent, (_, step) in AGENT_STEPS.items():
        assert (f"== {step}" in proc.stderr) == (agent in shown), proc.stderr
    if shown:
        assert f"--agents claude,{','.join(shown)}" in proc.stderr
    assert "Token       valid" in proc.stdout, proc.stdout  # dbx-fmapi status
    # The throw-away HOME and the bootstrap's build folder are gone (Claude Code's own
    # cc-socks and claude-<uid> folders in TMPDIR are not ours to remove).
    assert [p.name for p in scratch.iterdir() if "dbx-fmapi" in p.name] == []
    assert list((tmp_path / "user-home").iterdir()) == []
