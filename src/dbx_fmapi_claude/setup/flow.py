"""`setup-fmapi-claudecode` / `dbx-fmapi setup`: the seed's four steps, and more.

Order of work, so that every failure leaves every file as it was:
  1. answers: flags, then prompts (interactive) or defaults (previous run, then built-in);
  2. dependencies (Claude Code, Databricks CLI), only when missing;
  3. authentication through the `databricks` CLI (login when needed);
  4. models, checked against the workspace's live list of endpoints;
  5. the plan: the new bytes of every file we touch, computed in memory (a half rc block, a token
     headed for a git-tracked file, ... are refused here);
  6. verify: a one-token request per configured model (before writing: a failure changes nothing);
  7. write (or, with --dry-run, print the diffs), with a rollback if a write fails halfway: the
     change engine, changes/engine.py, shared with uninstall.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..auth import tokens
from ..changes import engine
from ..cli.prompts import Prompter
from ..core.context import Context
from ..core.errors import ExitCode, UserError
from ..record import originals
from .answers import HELPER, PROG, STATIC, _duration_text, _sq, _tilde, find_installed
from .plan import Plan, PlanSteps
from .signin import SignIn


class Setup(SignIn, PlanSteps):
    """Setup: every step, in the order `run` takes them."""

    def show_diffs(self, plan: Plan) -> None:
        if not plan.changes:
            self.out("Everything is already configured: nothing would change.")
            return
        secrets = [self.token.access_token] if self.token is not None else []
        engine.show(plan, self.ctx.stdout, secrets)
        self.out("Dry run: nothing was written.")

    def apply(self, plan: Plan) -> None:
        """Write every change, all or nothing (changes.apply)."""
        engine.preflight(plan.changes, name="setup")
        # Under the profile's lock: no static-mode token refresh (wrapper, login) and no other
        # setup for this profile writes in between.
        with tokens.profile_lock(self.paths, self.a.profile):
            engine.apply(plan, paths=self.paths, say=self.out, name="setup", again=PROG)
            for ch in plan.changes:  # a file the location no longer uses: nothing to restore
                if ch.what.startswith("previous Claude settings"):
                    originals.drop_original(self.paths, ch.path)

    # --- the whole thing --------------------------------------------------------------------

    def run(self) -> int:
        self.load_previous()
        self.check_flags()
        self.check_mlflow()
        if self.interactive():
            self.prompter = Prompter(self.ctx.stdin, self.ctx.stdout, self.env)
            self.prompter.say(
                "Set up Claude Code for your Databricks workspace. Enter keeps the [default]; "
                "Ctrl-C cancels (nothing is written until the end)."
            )
        self.ask_host_and_profile()
        self.agent_answers()
        self.ask_agents()
        helper_path = find_installed("dbx-fmapi", self.env, self.paths.home)
        wrapper_path = find_installed("dbx-fmapi-claude", self.env, self.paths.home)
        if helper_path is None or wrapper_path is None:
            raise UserError(
                "cannot find the installed dbx-fmapi / dbx-fmapi-claude executables",
                "reinstall from the clone: bash setup-fmapi-claudecode.sh",
            )
        target: Path | None = None
        if self.prompter is None:  # known now: refuse a git-tracked token file before signing in
            self.ask_location()
            target = self.settings_target()
        if self.a.profile:
            self.out(f"Workspace: {self.a.host}   profile: {self.a.profile}")
        else:
            self.out(f"Workspace: {self.a.host}   credential: DATABRICKS_* variables")
        self.dependencies()
        self.agent_dependencies()
        self.mlflow_dependency()
        self.authenticate()
        self.load_endpoints()
        self.choose_route()
        self.ask_models()
        self.ask_agent_models()
        self.choose_agent_routes()
        if target is None:
            self.ask_location()
            target = self.settings_target()
        helper_cmd = f"{_sq(helper_path)} token" + (
            f" --profile {_sq(self.a.profile)}" if self.a.profile else ""
        )
        plan = self.plan(target, helper_cmd, wrapper_path, helper_path)
        extra = "".join(
            f", {label} {value}"
            for label, value in (("fable", self.a.fable), ("subagents", self.a.subagent))
            if value
        )
        self.out(
            f"Models: main {self.a.model}, opus {self.a.opus}, sonnet {self.a.sonnet}, "
            f"haiku {self.a.haiku}{extra}"
        )
        self.verify()
        if self.dry_run:
            self.show_diffs(plan)
            return ExitCode.OK
        mode = (
            f"token helper, TTL {_duration_text(self.a.ttl_seconds)}"
            if self.a.token_mode == HELPER
            else "static token (refreshed by dbx-fmapi-claude)"
        )
        settings_file = plan.settings_file or target
        if not plan.changes:
            self.out(
                f"Everything is already configured: no file changed ({settings_file}, {mode})."
            )
        else:
            self.apply(plan)
            for ch in plan.changes:
                if ch.path == self.paths.config_file:
                    continue
                verb = "removed" if ch.new is None else "wrote" if ch.old is None else "updated"
                self.out(f"  {verb} {_tilde(ch.path, self.paths.home)} ({ch.what})")
            self.out(f"Settings: {settings_file} ({mode})")
        if self.a.token_mode == STATIC:
            self.out(
                "  note  static mode: a running claude keeps the token it started with, so a "
                "session cannot outlive it (about an hour: then requests fail with 403, and "
                "Claude Code's advice to run /login does not apply); start sessions with "
                "dbx-fmapi-claude, or use the token helper, which refreshes inside a session: "
                f"{PROG} --token-mode helper"
            )
        rc = plan.record.get("rc_file")
        if rc:
            self.out(
                f"Done. Open a new terminal (or run: source {_tilde(Path(rc), self.paths.home)}), "
                "then run: dbx-fmapi-claude"
            )
        else:
            self.out(f"Done. Run: {plan.record['executable']}")
        return ExitCode.OK


def run(*, ctx: Context, **options: Any) -> int:
    from . import team

    def warn(line: str) -> None:
        ctx.err(f"{PROG}: warning: {line}")

    options = team.apply(ctx, options, ctx.out, warn)
    mcp = options.pop("team_mcp", None) or []
    if mcp:
        _check_mcp(mcp, options)
    code = Setup(ctx, options).run()
    if code == ExitCode.OK and mcp and not options.get("dry_run"):
        from ..commands import mcp as mcp_cmd

        cfg = _just_set_up(ctx, options)
        for entry in mcp:  # each as `dbx-fmapi mcp add` would, on the configuration just set up
            kind, target, name = str(entry["kind"]), entry.get("target"), entry.get("name")
            mcp_cmd.add(ctx, kind, target, name, False, cfg=cfg)
            cfg = _just_set_up(ctx, options)  # with the server just added
    return code


def _just_set_up(ctx: Context, options: dict[str, Any]) -> dict[str, Any]:
    from ..record import config

    record = config.load_record(ctx.paths)
    location = options.get("settings_location")
    found = None
    if location:
        found = config.view_for(record, ctx.paths.settings_file_for(str(location), ctx.cwd))
    found = found or config.in_effect(record, ctx.paths, ctx.cwd) or config.latest(record)
    if found is None:
        raise UserError("dbx-fmapi-claude is not set up yet", "setup-fmapi-claudecode")
    return found


def _check_mcp(entries: list[dict[str, Any]], options: dict[str, Any]) -> None:
    """The team file's `mcp` servers ({"kind", "target", "name"}) checked before anything is
    written: a malformed one is refused as `mcp add` refuses it (exit 2)."""
    from ..mcp import servers

    host = str(options.get("host") or "")
    for i, entry in enumerate(entries):
        try:
            servers.parse(str(entry["kind"]), entry.get("target"), entry.get("name"), host)
        except servers.BadInput as exc:
            raise UserError(
                f"the team file's mcp[{i}]: {exc.message}",
                "ask your platform team to fix the team file (dbx-fmapi team validate FILE)",
                ExitCode.USAGE,
            ) from None
