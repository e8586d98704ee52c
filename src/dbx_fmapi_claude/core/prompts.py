"""Interactive prompts for setup, stdlib only: a line with a default, a single choice with the
arrow keys (a numbered list where the terminal cannot do that), yes/no.

Only used when stdin is a terminal, so nothing here can hang a script. Ctrl-C raises
KeyboardInterrupt (the caller exits 130 having changed nothing); end of input (Ctrl-D) is a
cancel with the flags to pass instead.
"""

from __future__ import annotations

import contextlib
import os
import select
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from .errors import ExitCode, UserError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

UP = ("\x1b[A", "\x1bOA", "k")
DOWN = ("\x1b[B", "\x1bOB", "j")
ENTER = ("\r", "\n")
CTRL_C = "\x03"
CTRL_D = "\x04"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


class Cancelled(UserError):
    def __init__(self) -> None:
        super().__init__(
            "no answer (end of input); nothing was changed",
            "answer with flags instead, e.g.: setup-fmapi-claudecode --host "
            "https://my-workspace.cloud.databricks.com",
            ExitCode.USAGE,
        )


def ctrl_c_cancels() -> None:
    """Ctrl-C raises KeyboardInterrupt from here on, even in a program started with SIGINT
    ignored: a background job of a non-interactive shell (`cmd &` in a script, some CI runners
    and test harnesses) inherits SIG_IGN, and Python then leaves it so - the terminal echoes ^C
    and nothing happens, at a prompt that waits for ever. Whoever answers our prompts is at the
    terminal, and Ctrl-C there means cancel. Set before the first prompt is shown, so a ^C typed
    as soon as it appears is never lost."""
    import signal

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        with contextlib.suppress(ValueError):  # not the main thread: leave it as it is
            signal.signal(signal.SIGINT, signal.default_int_handler)


class Prompter:
    """Questions on a terminal: `stdin` must be a TTY (the caller checks)."""

    def __init__(self, stdin: IO[str], stdout: IO[str], env: Mapping[str, str]) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.env = env
        self.color = "NO_COLOR" not in env and env.get("TERM") != "dumb"
        ctrl_c_cancels()

    # --- output -------------------------------------------------------------------------------

    def _write(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def _style(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def say(self, line: str = "") -> None:
        self._write(line + "\n")

    # --- input --------------------------------------------------------------------------------

    def _fd(self) -> int:
        return self.stdin.fileno()

    def _readline(self) -> str:
        """One line from the terminal (canonical mode: the tty hands over whole lines)."""
        buf = b""
        fd = self._fd()
        while not buf.endswith(b"\n"):
            chunk = os.read(fd, 1024)
            if not chunk:
                if buf:
                    break
                raise Cancelled()
            buf += chunk
        return buf.decode("utf-8", "replace").rstrip("\r\n")

    def text(
        self,
        label: str,
        default: str | None = None,
        validate: Callable[[str], str] | None = None,
        hint: str | None = None,
    ) -> str:
        """A line; Enter takes `default`. `validate` returns the cleaned value or raises
        UserError, whose message is shown before asking again."""
        while True:
            shown = f" [{default}]" if default else ""
            extra = f" {self._style(hint, '2')}" if hint else ""
            self._write(f"{self._style('?', '36')} {label}{shown}{extra}: ")
            value = self._readline().strip() or (default or "")
            if not value:
                self.say("  please enter a value")
                continue
            if validate is None:
                return value
            try:
                return validate(value)
            except UserError as exc:
                self.say(f"  {exc.message}")

    def confirm(self, label: str, default: bool = True) -> bool:
        shown = "Y/n" if default else "y/N"
        while True:
            self._write(f"{self._style('?', '36')} {label} [{shown}]: ")
            answer = self._readline().strip().lower()
            if not answer:
                return default
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no"):
                return False
            self.say("  please answer y or n")

    def choose(self, label: str, choices: Sequence[Choice], default: int = 0) -> str:
        """One of `choices` (its value). Arrow keys on a capable terminal, else a number."""
        if not choices:
            raise ValueError("nothing to choose from")
        default = min(max(default, 0), len(choices) - 1)
        if self._arrow_capable():
            return self._choose_arrows(label, choices, default)
        return self._choose_numbered(label, choices, default)

    def choose_many(self, label: str, choices: Sequence[Choice], chosen: set[str]) -> set[str]:
        """Several of `choices` (their values): a numbered list with the preselected ones
        marked; Enter keeps them, numbers separated by commas or spaces pick others."""
        self.say(f"{self._style('?', '36')} {label}")
        for i, c in enumerate(choices, 1):
            mark = "[x]" if c.value in chosen else "[ ]"
            self.say(f"  {i:>2}) {mark} {c.label}")
        default = ",".join(str(i) for i, c in enumerate(choices, 1) if c.value in chosen)

        def pick(answer: str) -> str:
            words = [w for w in answer.replace(",", " ").split() if w]
            if not words or not all(w.isdigit() and 1 <= int(w) <= len(choices) for w in words):
                raise UserError(f"numbers from 1 to {len(choices)}, e.g. 1,2")
            return ",".join(words)

        answer = self.text("Choose (numbers, e.g. 1,2)", default or "1", pick)
        return {choices[int(w) - 1].value for w in answer.split(",")}

    # --- single choice ------------------------------------------------------------------------

    def _arrow_capable(self) -> bool:
        if self.env.get("TERM", "dumb") == "dumb":
            return False
        try:
            import termios  # noqa: F401 - only checking it exists

            return os.isatty(self._fd()) and self.stdout.isatty()
        except (ImportError, ValueError, OSError, AttributeError):
            return False

    def _choose_numbered(self, label: str, choices: Sequence[Choice], default: int) -> str:
        self.say(f"{self._style('?', '36')} {label}")
        for i, c in enumerate(choices, 1):
            self.say(f"  {i:>2}) {c.label}")

        def pick(answer: str) -> str:
            if answer.isdigit() and 1 <= int(answer) <= len(choices):
                return choices[int(answer) - 1].value
            for c in choices:
                if answer == c.value:
                    return c.value
            raise UserError(f"choose a number from 1 to {len(choices)}")

        return self.text(f"Choose 1-{len(choices)}", str(default + 1), pick)

    @contextlib.contextmanager
    def _cbreak(self) -> Iterator[None]:
        import termios
        import tty

        fd = self._fd()
        saved = termios.tcgetattr(fd)
        try:
            tty.setcbreak(fd)  # keys one by one, no echo; Ctrl-C still raises SIGINT
            self._write("\x1b[?25l")  # hide the cursor while the list is shown
            yield
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
            self._write("\x1b[?25h")

    def _key(self) -> str:
        fd = self._fd()
        first = os.read(fd, 1)
        if not first:
            raise Cancelled()
        if first != b"\x1b":
            return first.decode("utf-8", "replace")
        seq = first
        while len(seq) < 3:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                break
            seq += os.read(fd, 1)
        return seq.decode("utf-8", "replace")

    def _render(self, choices: Sequence[Choice], current: int) -> str:
        lines = []
        for i, c in enumerate(choices):
            if i == current:
                lines.append(self._style(f"  > {c.label}", "36;1"))
            else:
                lines.append(f"    {c.label}")
        return "".join(f"\r\x1b[2K{line}\n" for line in lines)

    def _choose_arrows(self, label: str, choices: Sequence[Choice], default: int) -> str:
        current = default
        head = f"{self._style('?', '36')} {label} {self._style('(up/down, Enter)', '2')}"
        n = len(choices)
        with self._cbreak():
            self._write(head + "\n" + self._render(choices, current))
            while True:
                key = self._key()
                if key == CTRL_C:
                    raise KeyboardInterrupt
                if key == CTRL_D:
                    raise Cancelled()
                if key in ENTER:
                    break
                if key in UP:
                    current = (current - 1) % n
                elif key in DOWN:
                    current = (current + 1) % n
                elif key.isdigit() and 1 <= int(key) <= n:
                    current = int(key) - 1
                else:
                    continue
                self._write(f"\x1b[{n}A" + self._render(choices, current))
            # Collapse the list into the answer line.
            self._write(f"\x1b[{n + 1}A\r\x1b[J")
        value = choices[current].value
        self.say(f"{self._style('?', '36')} {label}: {self._style(value, '36')}")
        return value
