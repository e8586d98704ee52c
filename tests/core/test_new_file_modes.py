"""A file we create gets the mode the user's umask gives any new file; a file that exists keeps
its mode; a file that holds a secret is 0600 whatever the umask (security review, issue 25:
under umask 077, setup's new ~/.claude.json, settings file and ~/.bashrc came out 0644, readable
by every user of the machine)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from dbx_fmapi_claude.core.fileio import atomic_write
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("mask, want", [(0o077, 0o600), (0o027, 0o640), (0o002, 0o664)])
def test_a_new_file_follows_the_umask(tmp_path: Path, umask: None, mask: int, want: int) -> None:
    os.umask(mask)
    atomic_write(tmp_path / "new.json", b"{}\n")
    assert _mode(tmp_path / "new.json") == want


def test_an_existing_file_keeps_its_mode_whatever_the_umask(tmp_path: Path, umask: None) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(b"{}")
    path.chmod(0o604)
    os.umask(0o077)
    atomic_write(path, b'{"a": 1}\n')
    assert _mode(path) == 0o604


def test_a_secret_is_0600_whatever_the_umask(tmp_path: Path, umask: None) -> None:
    os.umask(0o000)
    atomic_write(tmp_path / "new", b"token\n", secret=True)
    existing = tmp_path / "old"
    existing.write_bytes(b"x")
    existing.chmod(0o666)
    atomic_write(existing, b"token\n", secret=True)
    assert (_mode(tmp_path / "new"), _mode(existing)) == (0o600, 0o600)


def test_setup_under_umask_077_leaves_nothing_readable_by_others(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)
    sh = sandbox.which("sh")
    assert sh
    argv = [
        "setup-fmapi-claudecode",
        "--skip-install",
        "--host",
        workspace.url,
        "--shell",
        "bash",
    ]
    result = sandbox.run([sh, "-c", 'umask 077 && exec "$@"', "sh", *argv], timeout=120)
    assert result.code == 0, result
    for rel in (".claude.json", ".claude/settings.json", ".bashrc"):
        assert _mode(sandbox.home / rel) == 0o600, rel


def test_a_str_path_writes_the_same_way(tmp_path: Path, umask: None) -> None:
    """The token helper writes its record through a str path (no pathlib on its hot path): through
    the symlink, a secret's mode, the temp files of a writer that was killed swept, no temp file
    of its own left behind."""
    real = tmp_path / "real" / "token-state.json"
    real.parent.mkdir()
    real.write_bytes(b"{}")
    real.chmod(0o644)
    link = tmp_path / "token-state.json"
    link.symlink_to(real)
    dead = real.parent / ".token-state.json.999999999.abc123.tmp"  # no such process
    dead.write_bytes(b"half")
    written = atomic_write(str(link), b'{"a": 1}\n', secret=True)
    assert written == str(real) and isinstance(written, str)
    assert link.is_symlink() and real.read_bytes() == b'{"a": 1}\n'
    assert _mode(real) == 0o600
    assert sorted(p.name for p in real.parent.iterdir()) == ["token-state.json"]
    new = atomic_write(str(tmp_path / "sub" / "new.json"), b"{}\n")
    assert new == str(tmp_path / "sub" / "new.json") and _mode(new) == 0o644
