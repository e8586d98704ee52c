"""`git` run in a folder, bounded: the one way setup and `dbx-fmapi run` ask git."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .paths import which


def run(args: list[str], cwd: Path, env: Mapping[str, str]) -> tuple[int, bytes] | None:
    """(exit status, stdout) of `git args` in `cwd`; None when git is missing or hangs."""
    git = which("git", env)
    if git is None:
        return None
    import subprocess  # only when git is asked

    try:
        proc = subprocess.run(
            [git, *args],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.returncode, proc.stdout
