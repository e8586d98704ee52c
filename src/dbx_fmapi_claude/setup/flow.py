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
from . import steps
from .answers import HELPER, PROG, STATIC, duration_text, find_installed
from .plan import Planned, PlanSteps, SetupPlan
from .results import Executables, Mode, SignedIn, Target
from .signin import SignIn
from .steps import Step


class Setup(SignIn, PlanSteps):
    """Setup: every step, in the order `run` takes them."""

    def show_diffs(self, plan: SetupPlan, signed: SignedIn) -> None:
        if not plan.changes:
            self.out("Everything is already configured: nothing would change.")
            return
        secrets = [signed.token] if signed.token is not None else []
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

    def declared_steps(self) -> list[Step]:
        """Setup's steps up to the plan, each naming the steps it needs; their order is the
        needs' (docs/architecture.md, Setup). With flags only, the settings location is known
        before signing in (a git-tracked token file is refused before any login); interactive,
        it is asked after the models."""
        interactive = self.interactive()
        return [
            Step("previous", lambda r: self.load_previous()),
            Step("flags", lambda r: self.check_flags(), ("previous",)),
            Step("mlflow", lambda r: self.check_mlflow(), ("flags",)),
            Step("mode", lambda r: self.start(interactive), ("mlflow",)),
            Step("host", lambda r: self.ask_host_and_profile(), ("mode",)),
            Step("agents", lambda r: self.ask_agents(self.agent_answers()), ("host",)),
            Step("executables", lambda r: self.executables(), ("agents",)),
            Step(
                "location",
                lambda r: self.location(),
                ("agent_routes",) if interactive else ("executables",),
            ),
            Step(
                "workspace",
                lambda r: self.workspace_line(),
                ("executables",) if interactive else ("location",),
            ),
            Step("dependencies", lambda r: self.dependencies(), ("workspace",)),
            Step(
                "agent_dependencies",
                lambda r: self.agent_dependencies(r["agents"]),
                ("dependencies", "agents"),
            ),
            Step(
                "mlflow_dependency",
                lambda r: self.mlflow_dependency(r["mlflow"]),
                ("agent_dependencies", "mlflow"),
            ),
            Step("signin", lambda r: self.authenticate(r["host"]), ("mlflow_dependency", "host")),
            Step("endpoints", lambda r: self.load_endpoints(r["signin"]), ("signin",)),
            Step("route", lambda r: self.choose_route(r["signin"]), ("endpoints", "signin")),
            Step("models", lambda r: self.ask_models(), ("route",)),
            Step(
                "agent_models",
                lambda r: self.ask_agent_models(r["agents"]),
                ("models", "agents"),
            ),
            Step(
                "agent_routes",
                lambda r: self.choose_agent_routes(r["agent_models"], r["signin"]),
                ("agent_models", "signin"),
            ),
        ]

    def start(self, interactive: bool) -> Mode:
        if interactive:
            self.prompter = Prompter(self.ctx.stdin, self.ctx.stdout, self.env)
            self.prompter.say(
                "Set up Claude Code for your Databricks workspace. Enter keeps the [default]; "
                "Ctrl-C cancels (nothing is written until the end)."
            )
        return Mode(interactive)

    def executables(self) -> Executables:
        helper_path = find_installed("dbx-fmapi", self.env, self.paths.home)
        wrapper_path = find_installed("dbx-fmapi-claude", self.env, self.paths.home)
        if helper_path is None or wrapper_path is None:
            raise UserError(
                "cannot find the installed dbx-fmapi / dbx-fmapi-claude executables",
                "reinstall from the clone: bash setup-fmapi-claudecode.sh",
            )
        return Executables(helper=helper_path, wrapper=wrapper_path)

    def location(self) -> Target:
        self.ask_location()
        return self.settings_target()

    def workspace_line(self) -> None:
        if self.a.profile:
            self.out(f"Workspace: {self.a.host}   profile: {self.a.profile}")
        else:
            self.out(f"Workspace: {self.a.host}   credential: DATABRICKS_* variables")

    def finish_steps(self) -> list[Step]:
        """After the answers: the plan (every file's new bytes, in memory), verify (a one-token
        request per model, before anything is written), then the changes written, or with
        --dry-run shown: a dry run declares no step that writes."""
        plan = Step(
            "plan",
            self.plan_step,
            ("host", "signin", "models", "mlflow", "executables", "location", "agent_models")
            + ("agent_routes",),
        )
        verify = Step("verify", lambda r: self.verify(r["signin"]), ("plan", "signin"))
        if self.dry_run:
            end = Step(
                "show",
                lambda r: self.show_diffs(r["plan"].plan(), r["signin"]),
                ("verify", "plan", "signin"),
            )
        else:
            end = Step("apply", lambda r: self.apply_step(r["plan"]), ("verify", "plan"))
        return [plan, verify, end]

    def plan_step(self, r: steps.Results) -> Planned:
        found: Executables = r["executables"]
        chosen: Target = r["location"]
        helper_cmd = f"{sq(found.helper)} token" + (
            f" --profile {sq(self.a.profile)}" if self.a.profile else ""
        )
        plan = self.plan(
            chosen,
            helper_cmd,
            found.wrapper,
            found.helper,
            r["agent_models"],
            r["agent_routes"],
            r["mlflow"],
            r["signin"],
            r["host"],
        )
        extra = "".join(
            f", {label} {value}"
            for label, value in (("fable", self.a.fable), ("subagents", self.a.subagent))
            if value
        )
        self.out(
            f"Models: main {self.a.model}, opus {self.a.opus}, sonnet {self.a.sonnet}, "
            f"haiku {self.a.haiku}{extra}"
        )
        return Planned.of(plan, chosen.path)

    def apply_step(self, planned: Planned) -> None:
        """Write the plan (or say nothing changes), then what to do next."""
        plan = planned.plan()
        mode = (
            f"token helper, TTL {duration_text(self.a.ttl_seconds)}"
            if self.a.token_mode == HELPER
            else "static token (refreshed by dbx-fmapi-claude)"
        )
        settings_file = planned.settings_file
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

    def run(self) -> int:
        """Every step, in the order of their needs."""
        steps.run([*self.declared_steps(), *self.finish_steps()])
        return ExitCode.OK
