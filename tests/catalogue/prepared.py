"""A module's cases in one sandbox folder, and a prepared HOME restored instead of prepared again.

Many catalogue cases start from the same state (signed in, the user's files, a full setup) before
the one thing they try. That state holds its HOME's absolute path (setup's record, Claude Code's
settings, our backups of the originals, named by a hash of their path), so it is restored at the
same path: every case of a module runs in the module's one sandbox folder (`sandbox_in`), emptied
before each case, with every process a case left running killed after it. `prepare` runs the
preparation once per module and key (per xdist worker), keeps a copy of what it wrote (HOME, the
Databricks CLI's cache, the rig's log of CLI calls), and restores that copy byte for byte (modes
and times too) for the next case with the same key.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.rig.sandbox import Sandbox

# A prepared HOME holds the CLI's access token (issued for an hour) and our record of its expiry;
# past this age it is prepared again, so a restored token always has the life a fresh one would
# need for the helper's TTL and our margin (20 minutes): no case sees a token near its expiry.
MAX_AGE = 600.0

_FIXED: set[Path] = set()  # sandbox roots every case of a module shares (sandbox_in)
_SAVED: dict[tuple[Path, tuple[str, ...]], tuple[Path, float]] = {}


def _wipe(path: Path) -> None:
    """Remove a tree, also where a failed case left a folder read-only."""

    def retry(func: Callable[..., Any], name: str, _exc: object) -> None:
        for folder in (os.path.dirname(name), name):
            with contextlib.suppress(OSError):
                if not os.path.islink(folder):
                    os.chmod(folder, stat.S_IRWXU)
        func(name)

    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path, onerror=retry)


def fresh_home(root: Path) -> Path:
    """The module's sandbox folder emptied (nothing of the last case left); its HOME."""
    _wipe(root)
    home = root / "home"
    home.mkdir(parents=True)
    return home


def end_processes(home: Path) -> list[int]:
    """Kill every process whose HOME is `home` (what a case started and left running: a hung
    CLI, a detached browser), so none writes into the next case's files at the same path."""
    want = b"HOME=" + os.fsencode(str(home))
    killed = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read().split(b"\0")
        except OSError:
            continue
        if want in environ:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry), signal.SIGKILL)
                killed.append(int(entry))
    return killed


def sandbox_in(root: Path, home: Path, claude_bin: str | None) -> Iterator[Sandbox]:
    """The `sandbox` fixture's body for a module whose cases share the folder `root` (home:
    fresh_home(root))."""
    _FIXED.add(root)
    box = Sandbox(root, claude_bin=claude_bin, home=home)
    try:
        yield box
    finally:
        box.end_logins()
        end_processes(home)


def _copy(src: Path, dest: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dest, symlinks=True, dirs_exist_ok=True)
    elif src.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)


def _kept(sandbox: Sandbox) -> list[Path]:
    """What a preparation writes: HOME, the CLI's cache, the rig's log of CLI calls."""
    return [sandbox.home, sandbox.databricks_cache, sandbox.databricks_log]


def prepare(
    sandbox: Sandbox, workspace: Any, key: tuple[str, ...], make: Callable[[], None]
) -> None:
    """Bring a fresh sandbox to the state `make()` brings it to: by running it, or (in a module
    whose cases share their folder) by restoring what it wrote the last time it ran for `key`
    (which names the workspace and everything else the state depends on)."""
    root = sandbox.root
    saved = _SAVED.get((root, key))
    if root in _FIXED and saved is not None and time.monotonic() - saved[1] < MAX_AGE:
        for path in _kept(sandbox):
            _copy(saved[0] / path.relative_to(root), path)
        sandbox.trust(workspace)  # the environment a sign-in leaves (a TLS workspace's CA)
        return
    make()
    if root in _FIXED:
        store = root.parent / f"{root.name}-prepared" / str(len(_SAVED))
        _wipe(store)
        for path in _kept(sandbox):
            _copy(path, store / path.relative_to(root))
        _SAVED[(root, key)] = (store, time.monotonic())
