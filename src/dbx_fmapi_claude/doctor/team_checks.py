"""The team file a configuration was set up from: can it still be read, and does the
configuration still hold what it says?"""

from __future__ import annotations

from ..core import ui
from ..core.errors import UserError
from .report import SETUP, Run, need


def has_team(r: Run) -> bool:
    return bool(need(r.cfg).get("team"))


def team(r: Run) -> None:
    from ..team import reading

    cfg = need(r.cfg)
    source = str(cfg.team)
    host = cfg.host
    profile = cfg.profile
    try:
        loaded, _ = reading.load(r.ctx, source, host=host, profile=profile)
    except UserError as exc:
        r.add(
            ui.WARN,
            f"cannot read {source}: {exc.message}; the configuration keeps its last reading",
            exc.fix,
        )
        return
    changed = reading.what_changed(cfg, loaded)
    if changed:
        r.add(
            ui.WARN,
            f"{source} now says: {'; '.join(changed)}",
            f"apply it: {SETUP} --yes",
        )
        return
    r.add(ui.PASS, f"the configuration matches {source}")
