"""The lines doctor prints, and what one run of the checks hands on from check to check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ..core import ui
from ..core.context import Context

if TYPE_CHECKING:
    from ..auth.dbcli import Token
    from ..record.view import Configuration
    from ..workspace.client import Workspace
    from .workspace_checks import Suggest

T = TypeVar("T")

# The commands most fix lines name.
SETUP = "setup-fmapi-claudecode"
LOGIN = "dbx-fmapi login"


@dataclass
class Check:
    """One line of the report; `--json` prints exactly these fields."""

    id: str
    title: str
    status: str
    detail: str
    fix: str | None = None


class Report:
    def __init__(self, ctx: Context, live: bool) -> None:
        self.ctx = ctx
        self.checks: list[Check] = []
        self.live = live  # print each check as it completes (people), not for --json
        self.paint = ui.painter(ctx)
        self.progress = ui.Progress(ctx)

    def add(self, id: str, title: str, status: str, detail: str, fix: str | None = None) -> Check:
        check = Check(id, title, status, detail, fix if status in (ui.WARN, ui.FAIL) else None)
        self.checks.append(check)
        if self.live:
            self.progress.clear()
            self._print(check)
        return check

    def _print(self, check: Check) -> None:
        p = self.paint
        self.ctx.out(f"{p.status(check.status)}  {p(check.title, 'bold')}: {check.detail}")
        if check.fix:
            self.ctx.out(f"      fix: {check.fix}")
        self.ctx.stdout.flush()

    def counts(self) -> dict[str, int]:
        return {s.lower(): sum(1 for c in self.checks if c.status == s) for s in ui.STATUSES}


class Run:
    """What a check sees: the outside world, the report, the check being run, and the values
    earlier checks found. A value is set only by the check that vouches for it, so a check that
    requires that one may read it (through `need`)."""

    def __init__(self, ctx: Context, report: Report) -> None:
        self.ctx = ctx
        self.report = report
        self.progress = report.progress
        # Set by graph.walk before each check runs.
        self.id = ""
        self.title = ""
        self.item = ""  # the model a per-model check is about
        # Found by the checks, for the ones after them.
        self.cfg: Configuration | None = None  # "config": our setup record
        # What the required agent's aspects found, by check id (Agent.examine's values).
        self.found: dict[str, Any] = {}
        self.token: Token | None = None  # "token"
        self.ws: Workspace | None = None  # "workspace": a client that reached it
        self.suggest: Suggest | None = None  # replacement models, shared by the model checks

    def add(
        self,
        status: str,
        detail: str,
        fix: str | None = None,
        *,
        id: str | None = None,
        title: str | None = None,
    ) -> None:
        """One line for the check being run (a check that reports several problems names each
        line's id; a check may show another title for what it found)."""
        self.report.add(id or self.id, title or self.title, status, detail, fix)


def need(value: T | None) -> T:
    """A value a required check set: it is there whenever the graph lets a check run."""
    if value is None:
        raise RuntimeError("a doctor check ran before the check it requires")
    return value
