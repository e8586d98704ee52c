"""Programs the tests run: a Python without the test dependencies, a token command that
hands out tokens in turn, git without a user config."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


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


def token_command(root: Path, tokens: list[str]) -> Path:
    """An executable that hands out tokens[0], tokens[1], ... one per run, padded with spaces
    and blank lines, and logs each run's argv (NUL-separated) and its parent's name."""
    (root / "tokens").write_text("\n".join(tokens) + "\n")
    (root / "count").write_text("0")
    log = root / "token-command.log"
    script = root / "token-command"
    q = shlex.quote
    script.write_text(
        "#!/bin/sh\n"
        f"n=$(cat {q(str(root / 'count'))}); n=$((n + 1)); echo $n > {q(str(root / 'count'))}\n"
        f'{{ printf "parent=%s" "$(cat /proc/$PPID/comm)"; for a in "$@"; do printf "\\0%s" "$a"; '
        f'done; printf "\\n"; }} >> {q(str(log))}\n'
        f'tok=$(sed -n "${{n}}p" {q(str(root / "tokens"))})\n'
        "printf '  %s  \\n\\n' \"$tok\"\n"
    )
    script.chmod(0o755)
    return script


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )
