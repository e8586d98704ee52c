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

from ..auth import tokens
from ..changes import engine
from ..core.errors import ExitCode, UserError
from ..core.fileio import sq
from ..core.paths import tilde
from ..core.prompts import Prompter
from .answers import HELPER, PROG, STATIC, duration_text, find_installed
from .plan import PlanSteps, SetupPlan
from .signin import SignIn


class Setup(SignIn, PlanSteps):
    """Setup: every step, in the order `run` takes them."""

    def show_diffs(self, plan: SetupPlan) -> None:
        if not plan.changes:
            self.out("Everything is already configured: nothing would change.")
            return
        secrets = [self.token.access_token] if self.token is not None else []
        engine.show(plan, self.ctx.stdout, secrets)
        self.out("Dry run: nothing was written.")

    def apply(self, plan: SetupPlan) -> None:
        """Write every change, all or nothing (changes.apply)."""
        engine.preflight(plan.changes, name="setup")
        # Under the profile's lock: no static-mode token refresh (wrapper, login) and no other
        # setup for this profile writes in between.
        with tokens.profile_lock(self.paths, self.a.profile):
            engine.apply(plan, paths=self.paths, say=self.out, name="setup", again=PROG)

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
        helper_cmd = f"{sq(helper_path)} token" + (
            f" --profile {sq(self.a.profile)}" if self.a.profile else ""
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
            f"token helper, TTL {duration_text(self.a.ttl_seconds)}"
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
                self.out(f"  {verb} {tilde(ch.path, self.paths.home)} ({ch.what})")
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
                f"Done. Open a new terminal (or run: source {tilde(Path(rc), self.paths.home)}), "
                "then run: dbx-fmapi-claude"
            )
        else:
            self.out(f"Done. Run: {plan.record['executable']}")
        return ExitCode.OK
