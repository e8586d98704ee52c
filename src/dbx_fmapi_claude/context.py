"""The outside world, passed in: streams, environment, working directory, paths."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .paths import Paths


@dataclass
class Context:
    env: Mapping[str, str]
    stdin: IO[str]
    stdout: IO[str]
    stderr: IO[str]
    cwd: Path
    paths: Paths

    @classmethod
    def from_process(cls) -> Context:
        env = dict(os.environ)
        return cls(
            env=env,
            stdin=sys.stdin,
            stdout=sys.stdout,
            stderr=sys.stderr,
            cwd=Path.cwd(),
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
