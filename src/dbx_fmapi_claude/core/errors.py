"""One user-facing error type and the exit codes every command uses."""

from __future__ import annotations


class ExitCode:
    """Plain ints, not an IntEnum: importing enum would cost the token helper on every call."""

    OK = 0
    ERROR = 1
    USAGE = 2
    UNEXPECTED = 3  # a bug of ours: see errorhandler.py
    AUTH_NEEDED = 4
    INTERRUPTED = 130


class UserError(Exception):
    """A failure the user can act on: a one-line reason and the command that fixes it."""

    def __init__(self, message: str, fix: str | None = None, code: int = ExitCode.ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.code = int(code)

    def render(self, prog: str) -> str:
        text = f"{prog}: error: {self.message}"
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


def usage_error(message: str, fix: str) -> UserError:
    """A bad flag or answer: exit 2 (usage)."""
    return UserError(message, fix, ExitCode.USAGE)
