"""The outside world, passed in: streams, environment, working directory, paths."""

from __future__ import annotations

import os
import sys

from .paths import Paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import IO


class Context:
    """Plain class (no dataclass): `dbx-fmapi token` builds one on every call."""

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        stdin: IO[str],
        stdout: IO[str],
        stderr: IO[str],
        cwd: str | os.PathLike[str],
        paths: Paths,
    ) -> None:
        self.env = env
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self._cwd = os.fspath(cwd)
        self.paths = paths

    @property
    def cwd_path(self) -> str:
        """The working directory as a string (the `*_path` convention of paths.py): no pathlib."""
        return self._cwd

    @property
    def cwd(self) -> Path:
        from pathlib import Path  # not at import: the token helper never needs it

        return Path(self._cwd)

    @classmethod
    def from_process(cls) -> Context:
        env = dict(os.environ)
        return cls(
            env=env,
            stdin=sys.stdin,
            stdout=sys.stdout,
            stderr=sys.stderr,
            cwd=os.getcwd(),
            paths=Paths.from_env(env),
        )

    def stdin_is_tty(self) -> bool:
        try:
            return self.stdin.isatty()
        except (ValueError, OSError, AttributeError):
            return False

    def stdout_is_tty(self) -> bool:
        try:
            return self.stdout.isatty()
        except (ValueError, OSError, AttributeError):
            return False

    def color(self) -> bool:
        if "NO_COLOR" in self.env or self.env.get("TERM") == "dumb":
            return False
        return self.stdout_is_tty()

    def err(self, line: str) -> None:
        self.stderr.write(line + "\n")
        self.stderr.flush()

    def out(self, line: str = "") -> None:
        self.stdout.write(line + "\n")
