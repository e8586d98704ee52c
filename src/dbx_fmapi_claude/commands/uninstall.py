"""`dbx-fmapi uninstall [--settings-location home|cwd|PATH | --all] [--yes] [--dry-run]`: remove
exactly what setup added, for the configuration in effect here (or the one named, or all).

Works from setup's record (config.json: `replaced`, `env_existed`, `settings_created`,
`onboarding_added`, `rc_file`, `api_key_helper`) and the originals it saved: our settings keys
and our apiKeyHelper leave the settings file and the values setup replaced come back; when the
result equals the saved original semantically, the original bytes are written back (so a file
nobody touched since is byte-identical). The shell block, the fish function file, the onboarding
flag (if we added it) and our own state go too. The Databricks CLI profile and its login stay.
Everything is planned first; nothing is written unless the whole plan could be made. Planning
is this module's (Claude Code's own files: agents/claude/undo.py; the other agents': their
modules); the diffs and the all-or-nothing writes are the change engine's (changes/engine.py),
shared with setup.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..agents.claude.undo import change as _change
from ..agents.claude.undo import plan_onboarding, recomputed
from ..changes import engine, undo
from ..core.context import Context
from ..core.errors import ExitCode, UserError
from ..core.fileio import q, read_bytes
from ..core.paths import tilde
from ..mcp import undo as mcp_undo
from ..record import config, originals, setupstate
from ..shell import rcblock

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PROG = "dbx-fmapi uninstall"


@dataclass
class UninstallPlan(engine.Plan):
    """Uninstall's plan: the change engine's file changes, and our own files and records to
    remove after them."""

    state: list[Path] = field(default_factory=list)  # our own files to delete
    state_dirs: list[Path] = field(default_factory=list)  # ours, removed when left empty
    forget: list[Path] = field(default_factory=list)  # settings files of configurations removed
    agent_files: list[Path] = field(default_factory=list)  # their agents' files (originals go)
    staying: int = 0  # configurations left after a partial uninstall

    def empty(self) -> bool:
        return not self.changes and not self.state


# --- shell blocks ------------------------------------------------------------------------------


def plan_rc(
    ctx: Context, cfgs: Sequence[Mapping[str, Any]], plan: UninstallPlan, *, rc: bool = True
) -> None:
    """Our block out of the rc files (`rc`: the shell block is one for every configuration) and
    out of the git exclude files static mode wrote for `cfgs`."""
    recorded = setupstate.rc_file(cfgs[-1]) if cfgs and rc else None
    candidates = ([recorded] if recorded else []) + (ctx.paths.rc_candidates(ctx.env) if rc else [])
    for cfg in cfgs:
        if cfg.get("git_exclude"):  # static mode's block in the repository's exclude file
            candidates.append(Path(str(cfg["git_exclude"])))
    seen: set[str] = set()
    for path in candidates:
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        raw = read_bytes(path)
        if raw is None:
            continue
        text = raw.decode("utf-8", "surrogateescape")
        try:
            if not rcblock.has_block(text):
                continue
            rcblock.remove_block(text)  # a half block shows here
        except rcblock.HalfBlock as exc:
            if recorded is not None and real == os.path.realpath(recorded):
                raise _half_block(path, exc) from None
            plan.notes.append(f"{path} has {exc}; left as it is")
            continue
        found = recomputed(path, raw, functools.partial(_rc_edit, ctx, path))
        if found is not None:
            plan.changes.append(found)


def _rc_edit(ctx: Context, path: Path, raw: bytes | None) -> tuple[bytes | None, str, int | None]:
    """The rc file holding `raw` without our block: redone on what it holds when uninstall
    writes (a line the user added meanwhile stays)."""
    if raw is None:
        return None, "gone", None
    try:
        left = undo.rc_left_behind(ctx.paths, path, raw)
    except rcblock.HalfBlock as exc:
        raise _half_block(path, exc) from None
    if left is None:
        return raw, "", None
    new, how, mode = left
    what = {
        undo.ORIGINAL: "remove the dbx-fmapi-claude block (as it was before setup)",
        undo.DELETE: "delete (setup created it)",
    }.get(how, "remove the dbx-fmapi-claude block")
    return new, what, mode


def _half_block(path: Path, exc: Exception) -> UserError:
    return UserError(
        f"{path} has {exc}: cannot tell where the dbx-fmapi-claude block ends; nothing was changed",
        "remove the stray marker line, then run dbx-fmapi uninstall again: "
        f"grep -n 'dbx-fmapi-claude <<<\\|dbx-fmapi-claude >>>' {q(path)}",
    )


# --- our state ---------------------------------------------------------------------------------


def plan_state(ctx: Context, plan: UninstallPlan) -> None:
    paths = ctx.paths
    files = [paths.config_file, paths.token_state_file, Path(paths.error_log_path)]
    files.append(paths.config_dir / "team-prices.json")  # usage/prices.py TEAM_FILE_NAME
    for folder, pattern in ((paths.lock_dir, "*.lock"), (paths.config_dir / "originals", "*.json")):
        with contextlib.suppress(OSError):
            files.extend(sorted(folder.glob(pattern)))
            plan.state_dirs.append(folder)
    plan.state = [f for f in files if os.path.lexists(f)]
    plan.state_dirs.append(paths.config_dir)


# --- output ------------------------------------------------------------------------------------


def show_plan(ctx: Context, plan: UninstallPlan) -> None:
    home = ctx.paths.home
    ctx.out("dbx-fmapi uninstall will:")
    for ch in plan.changes:
        ctx.out(f"  {tilde(ch.path, home)}: {ch.what}")
    if plan.state:
        ctx.out(f"  {tilde(ctx.paths.config_dir, home)}: delete our setup record and token state")
    for note in plan.notes:
        ctx.out(f"  note: {note}")
    ctx.out("Your Databricks CLI profile and its login stay.")


def show_diffs(ctx: Context, plan: UninstallPlan) -> None:
    engine.show(plan, ctx.stdout)
    for path in plan.state:
        ctx.out(f"delete {path}")
    for note in plan.notes:
        ctx.out(f"note: {note}")


def confirm(ctx: Context) -> bool:
    from ..core.prompts import ctrl_c_cancels

    ctrl_c_cancels()  # a user at the terminal: Ctrl-C cancels, however we were started
    ctx.stdout.write("Proceed? [y/N] ")
    ctx.stdout.flush()
    answer = ctx.stdin.readline()
    if not answer:
        ctx.out()
    return answer.strip().lower() in ("y", "yes")


# --- apply -------------------------------------------------------------------------------------


def apply(ctx: Context, plan: UninstallPlan) -> None:
    engine.preflight(plan.changes, name="uninstall")
    engine.apply(plan, paths=ctx.paths, say=ctx.out, name="uninstall", again=PROG)
    for ch in plan.changes:
        if ch.new is None and ch.path.parent.name == ".claude":
            with contextlib.suppress(OSError):
                ch.path.parent.rmdir()  # only when empty
    for path in plan.state:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    for folder in plan.state_dirs:
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when empty: anything else in there is not ours


def _listing(views: list[config.Configuration]) -> str:
    return "; ".join(f"{v.settings_file} ({v.host})" for v in views)


def choose(
    ctx: Context, record: dict[str, Any] | None, location: str | None, every: bool
) -> list[config.Configuration]:
    """The configurations to remove: `--all`, the one for `--settings-location`, else the one in
    effect here (or the only one there is)."""
    views = config.views(record)
    if every or not views:
        return views
    if location is not None:
        target = ctx.paths.settings_file_for(location, ctx.cwd)
        found = config.view_for(record, target) or config.view_for(
            record, target.with_name("settings.local.json")
        )
        if found is None:
            raise UserError(
                f"nothing is set up for {target}; set up: {_listing(views)}; nothing was changed",
                "dbx-fmapi uninstall --settings-location FOLDER   (or --all; dbx-fmapi status "
                "lists them)",
                ExitCode.USAGE,
            )
        return [found]
    here = config.in_effect(record, ctx.paths, ctx.cwd)
    if here is not None:
        return [here]
    if len(views) == 1:
        return views
    raise UserError(
        f"several configurations are set up and none applies in {ctx.cwd}: {_listing(views)}; "
        "nothing was changed",
        "dbx-fmapi uninstall --settings-location FOLDER   (or --all for every one)",
        ExitCode.USAGE,
    )


def plan_record(
    ctx: Context, record: dict[str, Any], gone: list[config.Configuration], plan: UninstallPlan
) -> None:
    """The record without the configurations that go; the others stay as they are."""
    files = [str(g.settings_file) for g in gone]
    rest = [c for c in record.get("configs") or [] if str(c.get("settings_file")) not in files]
    raw = read_bytes(ctx.paths.config_file) or b""
    new = (json.dumps({**record, "configs": rest}, indent=2, sort_keys=True) + "\n").encode()
    what = "setup record: " + ", ".join(f"the configuration for {f} leaves" for f in files)
    plan.changes.append(_change(ctx.paths.config_file, raw, new, what))
    plan.forget = [Path(f) for f in files]
    plan.staying = len(rest)


def plan_agents(ctx: Context, cfg: config.Configuration, plan: UninstallPlan) -> None:
    """Each agent the configuration set up, Claude Code first: setup's part out of its config
    file (the agent's own plan_uninstall)."""
    from .. import agents

    for name in cfg.agents:
        state = cfg.state(name)
        if state is None or not state.get("file"):
            continue
        agents.get(name).plan_uninstall(ctx.paths, ctx.env, state, plan)
        plan.agent_files.append(Path(str(state["file"])))


def build(ctx: Context, *, location: str | None = None, every: bool = False) -> UninstallPlan:
    plan = UninstallPlan()
    try:
        record, dropped = config.salvage(ctx.paths)  # a damaged key costs only what it records
    except config.RecordTooNew:
        raise  # a newer release's record: removing it could lose what that release restores
    except UserError as exc:
        record, dropped = None, []
        plan.notes.append(f"{exc.message}; only the shell block and our state can be removed")
    plan.notes.extend(dropped)
    views = config.views(record)
    gone = choose(ctx, record, location, every)
    if record is not None and gone and len(gone) < len(views):
        # One configuration of several: its settings and its git exclude block leave; the
        # shell block, the onboarding flag and our state serve the others.
        for cfg in gone:
            plan_agents(ctx, cfg, plan)
        mcp_undo.plan_uninstall(ctx, gone, plan)
        mcp_undo.plan_agent_files(ctx, gone, plan)
        plan_rc(ctx, gone, plan, rc=False)
        plan_record(ctx, record, gone, plan)
        return plan
    shared = {k: record[k] for k in config.SHARED if k in record} if record else {}
    for cfg in views:
        plan_agents(ctx, cfg, plan)
    if record is not None:
        plan_onboarding(ctx, views[-1] if views else shared, plan)
        mcp_undo.plan_uninstall(ctx, views, plan)
        mcp_undo.plan_agent_files(ctx, views, plan)
    plan_rc(ctx, views or ([shared] if shared else []), plan)
    plan_state(ctx, plan)
    return plan


def run(
    *,
    ctx: Context,
    yes: bool = False,
    dry_run: bool = False,
    settings_location: str | None = None,
    all: bool = False,
) -> int:
    plan = build(ctx, location=settings_location, every=all)
    if plan.empty():
        ctx.out("Nothing to remove: dbx-fmapi-claude is not set up here.")
        for note in plan.notes:
            ctx.out(f"note: {note}")
        return ExitCode.OK
    if dry_run:
        show_diffs(ctx, plan)
        ctx.out("Dry run: nothing was written.")
        return ExitCode.OK
    show_plan(ctx, plan)
    if not yes:
        if not ctx.stdin_is_tty():
            raise UserError(
                "uninstall needs confirmation and there is no terminal to ask on; nothing was "
                "changed",
                "dbx-fmapi uninstall --yes   (preview first: dbx-fmapi uninstall --dry-run)",
                ExitCode.USAGE,
            )
        if not confirm(ctx):
            ctx.out("Cancelled: nothing was changed.")
            return ExitCode.USAGE
    apply(ctx, plan)
    for path in [*plan.forget, *plan.agent_files]:
        originals.drop_original(ctx.paths, path)
    if plan.forget:
        files = ", ".join(str(p) for p in plan.forget)
        ctx.out(
            f"Done: the configuration for {files} is removed; {plan.staying} other"
            f"{'s' if plan.staying != 1 else ''} stay (dbx-fmapi status lists them)."
        )
        return ExitCode.OK
    ctx.out("Done: dbx-fmapi-claude's changes are removed. Open a new terminal so the shell")
    ctx.out("function is gone there too. The dbx-fmapi programs themselves stay installed.")
    return ExitCode.OK
