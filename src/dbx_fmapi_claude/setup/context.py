"""The state every setup step shares, and its output."""

from __future__ import annotations

from typing import Any

from ..core import ui
from ..core.context import Context
from ..core.prompts import Prompter
from ..workspace import catalogue
from .answers import _STATUS_COLOURS, PROG, Answers
from .options import SetupOptions


class SetupBase:
    def __init__(self, ctx: Context, opts: SetupOptions) -> None:
        self.ctx = ctx
        self.opts = opts
        self.env: dict[str, str] = dict(ctx.env)
        self.paths = ctx.paths
        self.dry_run = opts.dry_run
        self.record: dict[str, Any] = {}  # config.json: every configuration (record v3)
        self.prev: dict[str, Any] = {}  # the defaults: the configuration in effect, or the latest
        self.prompter: Prompter | None = None
        self.catalogue = catalogue.Catalogue()
        self.today = catalogue.today(self.env)
        self.a = Answers()
        self.progress = ui.Progress(ctx)  # a transient line on stderr while we wait, TTY only

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

    # --- 1. answers -------------------------------------------------------------------------
