"""What every setup step is given besides the results it needs: the command's context (streams,
environment, paths), the frozen options, the prompter (interactive runs only), the progress line,
today's date; and setup's output. Frozen: no step's answer lives here."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass

from ..core import ui
from ..core.context import Context
from ..core.paths import Paths
from ..core.prompts import Prompter
from ..workspace import catalogue
from .answers import _STATUS_COLOURS, PROG
from .options import SetupOptions


def interactive(ctx: Context, opts: SetupOptions) -> bool:
    """Setup asks (a terminal, no --host, no --yes), else takes flags and defaults."""
    return opts.host is None and not opts.yes and ctx.stdin_is_tty()


@dataclass(frozen=True)
class SetupContext:
    ctx: Context
    opts: SetupOptions
    prompter: Prompter | None  # None: no questions (flags and defaults)
    progress: ui.Progress  # a transient line on stderr while we wait, TTY only
    today: _dt.date

    @classmethod
    def of(cls, ctx: Context, opts: SetupOptions) -> SetupContext:
        asks = interactive(ctx, opts)
        return cls(
            ctx,
            opts,
            Prompter(ctx.stdin, ctx.stdout, ctx.env) if asks else None,
            ui.Progress(ctx),
            catalogue.today(ctx.env),
        )

    @property
    def paths(self) -> Paths:
        return self.ctx.paths

    @property
    def env(self) -> Mapping[str, str]:
        """The user's environment (the Env result: with the installers' folders on PATH)."""
        return self.ctx.env

    @property
    def dry_run(self) -> bool:
        return self.opts.dry_run

    # output
    def out(self, line: str = "") -> None:
        for word, colour in _STATUS_COLOURS:  # as the other commands: on a terminal only
            if line.startswith(f"  {word} "):
                line = "  " + ui.painter(self.ctx)(word, colour) + line[2 + len(word) :]
                break
        self.ctx.out(line)
        self.ctx.stdout.flush()

    def warn(self, line: str) -> None:
        label = ui.Painter(ui.stderr_color(self.ctx))("warning", "yellow")
        self.ctx.err(f"{PROG}: {label}: {line}")

    def info(self, line: str) -> None:
        self.ctx.err(line)

    def may_install(self, what: str, command: str) -> bool:
        """A global install (npm -g, a vendor's curl | bash installer) needs the user's yes:
        --install, or Yes at a prompt on a terminal; --skip-install, --yes or no terminal: no."""
        if self.opts.skip_install:
            return False
        if self.opts.install:
            return True
        if self.dry_run or self.opts.yes or not self.ctx.stdin_is_tty():
            return False
        # Only this question: with --host the other answers still come from flags and defaults.
        p = self.prompter or Prompter(self.ctx.stdin, self.ctx.stdout, self.env)
        return p.confirm(f"{what} is not installed. Install it now ({command})?", True)

    def not_installed(self, what: str, command: str) -> None:
        """The one thing setup says about a tool it did not install."""
        self.warn(
            f"{what} is not installed; setup configures it anyway. Install it: {command}   "
            f"(or let setup do it: {PROG} --install)"
        )
