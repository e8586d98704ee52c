"""The interactive setup in a real pseudo-terminal (pexpect): the `spawn` fixture and the
session it returns."""

from __future__ import annotations

import io
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect
import pytest

from tests.rig.sandbox import Sandbox, foreground_job

DOWN = "\x1b[B"


UP = "\x1b[A"


class Session:
    def __init__(self, child: pexpect.spawn) -> None:
        self.child = child
        self.log = io.StringIO()
        child.logfile_read = self.log

    def expect(self, pattern: str, timeout: float = 30) -> None:
        self.child.expect_exact(pattern, timeout=timeout)

    def answer(self, prompt: str, text: str) -> None:
        self.expect(prompt)
        self.child.sendline(text)

    def pick(self, prompt: str, *keys: str) -> None:
        self.expect(prompt)
        self.expect("(up/down, Enter)")
        for key in keys:
            self.child.send(key)
        self.child.send("\r")

    def finish(self, timeout: float = 60) -> int:
        self.child.expect(pexpect.EOF, timeout=timeout)
        self.child.close()
        return int(self.child.exitstatus if self.child.exitstatus is not None else -1)

    @property
    def transcript(self) -> str:
        return self.log.getvalue()


@pytest.fixture
def spawn(sandbox: Sandbox) -> Iterator[Any]:
    children: list[pexpect.spawn] = []

    def start(
        *args: str,
        cwd: Path | None = None,
        term: str = "xterm-256color",
        sigint_ignored: bool = False,
    ) -> Session:
        env = dict(sandbox.env, TERM=term, NO_COLOR="1")
        child = pexpect.spawn(
            str(sandbox.bin / "setup-fmapi-claudecode"),
            ["--skip-install", *args],
            env=env,
            cwd=str(cwd or sandbox.home),
            encoding="utf-8",
            codec_errors="replace",
            dimensions=(50, 200),
            timeout=30,
            preexec_fn=inherits_sigint_ignored if sigint_ignored else foreground_job,
        )
        children.append(child)
        return Session(child)

    yield start
    for child in children:
        if child.isalive():
            child.terminate(force=True)


def inherits_sigint_ignored() -> None:
    """As a background job of a script (`setup-fmapi-claudecode … &`) starts: SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
