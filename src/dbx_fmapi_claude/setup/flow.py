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

Each step is a function of the frozen SetupContext (setup/context.py) and the results of the
steps it names (setup/steps.py runs them in the order of those needs); `Setup` only declares
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..auth import tokens
from ..changes import engine
from ..core.context import Context
from ..core.errors import ExitCode, UserError
from ..core.fileio import sq
from ..core.paths import tilde
from . import plan as planning
from . import steps
from .agentsteps import (
    agent_answers,
    agent_dependencies,
    ask_agent_models,
    ask_agents,
    choose_agent_routes,
)
from .answers import HELPER, PROG, STATIC, Answers, duration_text, find_installed
from .context import SetupContext
from .location import location
from .mlflowstep import check_mlflow, mlflow_dependency
from .models import ask_models
from .options import SetupOptions
from .plan import Planned, SetupPlan
from .previous import check_flags, load_previous
from .results import Credential, Executables, Flags, Mode, Models, RouteChoice, SignedIn, Target
from .route import choose_route, load_endpoints
from .signin import ask_host_and_profile, authenticate, dependencies
from .steps import Step
from .verify import verify


@dataclass(frozen=True, init=False)
class Setup:
    """Setup: its steps, declared; `run` runs them in the order of their needs."""

    sc: SetupContext

    def __init__(self, ctx: Context, opts: SetupOptions) -> None:
        object.__setattr__(self, "sc", SetupContext.of(ctx, opts))

    def declared_steps(self) -> list[Step]:
        """Setup's steps up to the plan, each naming the steps it needs; their order is the
        needs' (docs/architecture.md, Setup). With flags only, the settings location is known
        before signing in (a git-tracked token file is refused before any login); interactive,
        it is asked after the models."""
        sc = self.sc
        interactive = sc.prompter is not None
        return [
            Step("previous", lambda r: load_previous(sc)),
            Step("flags", lambda r: check_flags(sc, r["previous"]), ("previous",)),
            Step("mlflow", lambda r: check_mlflow(sc, r["flags"]), ("flags",)),
            Step("mode", lambda r: start(sc), ("mlflow",)),
            Step("host", lambda r: ask_host_and_profile(sc, r["flags"]), ("mode", "flags")),
            Step(
                "agents",
                lambda r: ask_agents(sc, agent_answers(sc, r["flags"])),
                ("host", "flags"),
            ),
            Step("executables", lambda r: executables(sc), ("agents",)),
            Step(
                "location",
                lambda r: location(
                    sc,
                    r["flags"],
                    r["host"],
                    r["previous"],
                    r["dependencies"].env if interactive else sc.env,
                ),
                (("agent_routes", "dependencies") if interactive else ("executables",))
                + ("flags", "host", "previous"),
            ),
            Step(
                "workspace",
                lambda r: workspace_line(sc, r["host"]),
                ("executables" if interactive else "location", "host"),
            ),
            Step("dependencies", lambda r: dependencies(sc), ("workspace",)),
            Step(
                "agent_dependencies",
                lambda r: agent_dependencies(sc, r["agents"], r["dependencies"].env),
                ("dependencies", "agents"),
            ),
            Step(
                "mlflow_dependency",
                lambda r: mlflow_dependency(sc, r["mlflow"], r["dependencies"].env),
                ("agent_dependencies", "mlflow", "dependencies"),
            ),
            Step(
                "signin",
                lambda r: authenticate(sc, r["host"], r["flags"], r["dependencies"]),
                ("mlflow_dependency", "host", "flags", "dependencies"),
            ),
            Step(
                "endpoints",
                lambda r: load_endpoints(sc, r["signin"], r["host"], r["dependencies"]),
                ("signin", "host", "dependencies"),
            ),
            Step(
                "route",
                lambda r: choose_route(
                    sc, r["signin"], r["flags"], r["host"], r["endpoints"], r["dependencies"]
                ),
                ("endpoints", "signin", "flags", "host", "dependencies"),
            ),
            Step(
                "models",
                lambda r: ask_models(sc, r["flags"], r["host"], r["route"]),
                ("route", "flags", "host"),
            ),
            Step(
                "agent_models",
                lambda r: ask_agent_models(sc, r["agents"], r["flags"], r["models"], r["route"]),
                ("models", "agents", "flags", "route"),
            ),
            Step(
                "agent_routes",
                lambda r: choose_agent_routes(
                    sc, r["agent_models"], r["signin"], r["route"], r["host"], r["dependencies"].env
                ),
                ("agent_models", "signin", "route", "host", "dependencies"),
            ),
        ]

    def finish_steps(self) -> list[Step]:
        """After the answers: the answers assembled, the plan (every file's new bytes, in
        memory), verify (a one-token request per model, before anything is written), then the
        changes written, or with --dry-run shown: a dry run declares no step that writes."""
        sc = self.sc
        answers = Step(
            "answers",
            lambda r: assemble(r["flags"], r["host"], r["location"], r["route"], r["models"]),
            ("flags", "host", "location", "route", "models"),
        )
        plan = Step(
            "plan",
            lambda r: plan_step(sc, r),
            ("answers", "previous", "dependencies", "host", "signin", "models", "mlflow")
            + ("executables", "location", "agent_models", "agent_routes"),
        )
        check = Step(
            "verify",
            lambda r: verify(
                sc, r["answers"], r["signin"], r["route"].listing.catalogue(), r["dependencies"].env
            ),
            ("plan", "answers", "signin", "route", "dependencies"),
        )
        if sc.dry_run:
            end = Step(
                "show",
                lambda r: show_diffs(sc, r["plan"].plan(), r["signin"]),
                ("verify", "plan", "signin"),
            )
        else:
            end = Step(
                "apply",
                lambda r: apply_step(sc, r["plan"], r["answers"]),
                ("verify", "plan", "answers"),
            )
        return [answers, plan, check, end]

    def run(self) -> int:
        """Every step, in the order of their needs."""
        steps.run([*self.declared_steps(), *self.finish_steps()])
        return ExitCode.OK


def assemble(
    flags: Flags, credential: Credential, target: Target, route: RouteChoice, models: Models
) -> Answers:
    """Every answer, from the steps that gave them."""
    a = flags.answers
    return Answers(
        host=credential.host,
        profile=credential.profile,
        model=models.model,
        opus=models.opus,
        sonnet=models.sonnet,
        haiku=models.haiku,
        fable=models.fable,
        subagent=models.subagent,
        route=route.name,
        route_auto=route.auto,
        location=target.location,
        token_mode=credential.token_mode,
        ttl_seconds=a.ttl_seconds,
        margin_seconds=a.margin_seconds,
        shell=a.shell,
        otel_tables=a.otel_tables,
        otel_spans=a.otel_spans,
    )


def start(sc: SetupContext) -> Mode:
    if sc.prompter is not None:
        sc.prompter.say(
            "Set up Claude Code for your Databricks workspace. Enter keeps the [default]; "
            "Ctrl-C cancels (nothing is written until the end)."
        )
    return Mode(sc.prompter is not None)


def executables(sc: SetupContext) -> Executables:
    helper_path = find_installed("dbx-fmapi", sc.env, sc.paths.home)
    wrapper_path = find_installed("dbx-fmapi-claude", sc.env, sc.paths.home)
    if helper_path is None or wrapper_path is None:
        raise UserError(
            "cannot find the installed dbx-fmapi / dbx-fmapi-claude executables",
            "reinstall from the clone: bash setup-fmapi-claudecode.sh",
        )
    return Executables(helper=helper_path, wrapper=wrapper_path)


def workspace_line(sc: SetupContext, credential: Credential) -> None:
    if credential.profile:
        sc.out(f"Workspace: {credential.host}   profile: {credential.profile}")
    else:
        sc.out(f"Workspace: {credential.host}   credential: DATABRICKS_* variables")


def plan_step(sc: SetupContext, r: steps.Results) -> Planned:
    a: Answers = r["answers"]
    found: Executables = r["executables"]
    chosen: Target = r["location"]
    helper_cmd = f"{sq(found.helper)} token" + (f" --profile {sq(a.profile)}" if a.profile else "")
    plan = planning.plan(
        sc,
        planning.Inputs(
            a=a,
            record=r["previous"].record(),
            env=r["dependencies"].env,
            chosen=chosen,
            helper_cmd=helper_cmd,
            executable=found.wrapper,
            helper=found.helper,
            agents=r["agent_models"],
            agent_routes=r["agent_routes"],
            experiment=r["mlflow"],
            signed=r["signin"],
            credential=r["host"],
        ),
    )
    extra = "".join(
        f", {label} {value}"
        for label, value in (("fable", a.fable), ("subagents", a.subagent))
        if value
    )
    sc.out(f"Models: main {a.model}, opus {a.opus}, sonnet {a.sonnet}, haiku {a.haiku}{extra}")
    return Planned.of(plan, chosen.path)


def show_diffs(sc: SetupContext, plan: SetupPlan, signed: SignedIn) -> None:
    if not plan.changes:
        sc.out("Everything is already configured: nothing would change.")
        return
    secrets = [signed.token] if signed.token is not None else []
    engine.show(plan, sc.ctx.stdout, secrets)
    sc.out("Dry run: nothing was written.")


def apply(sc: SetupContext, plan: SetupPlan, profile: str) -> None:
    """Write every change, all or nothing (changes.apply)."""
    engine.preflight(plan.changes, name="setup")
    # Under the profile's lock: no static-mode token refresh (wrapper, login) and no other
    # setup for this profile writes in between.
    with tokens.profile_lock(sc.paths, profile):
        engine.apply(plan, paths=sc.paths, say=sc.out, name="setup", again=PROG)


def apply_step(sc: SetupContext, planned: Planned, a: Answers) -> None:
    """Write the plan (or say nothing changes), then what to do next."""
    plan = planned.plan()
    mode = (
        f"token helper, TTL {duration_text(a.ttl_seconds)}"
        if a.token_mode == HELPER
        else "static token (refreshed by dbx-fmapi-claude)"
    )
    settings_file = planned.settings_file
    paths = sc.paths
    if not plan.changes:
        sc.out(f"Everything is already configured: no file changed ({settings_file}, {mode}).")
    else:
        apply(sc, plan, a.profile)
        for ch in plan.changes:
            if ch.path == paths.config_file:
                continue
            verb = "removed" if ch.new is None else "wrote" if ch.old is None else "updated"
            sc.out(f"  {verb} {tilde(ch.path, paths.home)} ({ch.what})")
        sc.out(f"Settings: {settings_file} ({mode})")
    if a.token_mode == STATIC:
        sc.out(
            "  note  static mode: a running claude keeps the token it started with, so a "
            "session cannot outlive it (about an hour: then requests fail with 403, and "
            "Claude Code's advice to run /login does not apply); start sessions with "
            "dbx-fmapi-claude, or use the token helper, which refreshes inside a session: "
            f"{PROG} --token-mode helper"
        )
    rc = plan.record.get("rc_file")
    if rc:
        sc.out(
            f"Done. Open a new terminal (or run: source {tilde(Path(rc), paths.home)}), "
            "then run: dbx-fmapi-claude"
        )
    else:
        sc.out(f"Done. Run: {plan.record['executable']}")
