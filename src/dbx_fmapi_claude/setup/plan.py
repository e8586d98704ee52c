"""Step 5, the plan: the new bytes of every file setup touches, computed in memory."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .. import agents
from ..agents.base import AgentSetup
from ..auth import credentials
from ..changes import engine
from ..core.errors import UserError
from ..core.fileio import q, read_bytes
from ..core.paths import tilde
from ..record import config, originals
from ..shell import rcblock
from ..workspace import routes
from .agentsteps import AgentSteps
from .answers import STATIC, Change
from .gitignore import exclude_block
from .location import LocationSteps
from .mlflowstep import MlflowSteps
from .results import AgentRoutes, Agents, Credential, SignedIn, Target
from .route import RouteSteps
from .verify import VerifySteps


@dataclass
class SetupPlan(engine.Plan):
    """Setup's plan: the change engine's file changes, and the record this run leaves."""

    record: dict[str, Any] = field(default_factory=dict)  # config.json, as this run leaves it
    settings_file: Path | None = None  # the settings file of the configuration written


@dataclass(frozen=True)
class Planned:
    """The plan step's result: every file change in the order setup shows them, the notes, the
    record this run leaves and the configuration's settings file; `plan()` hands them to the
    change engine."""

    changes: tuple[engine.Change, ...]
    notes: tuple[str, ...]
    record: Mapping[str, Any]
    settings_file: Path

    @classmethod
    def of(cls, plan: SetupPlan, target: Path) -> Planned:
        return cls(
            tuple(plan.changes),
            tuple(plan.notes),
            MappingProxyType(plan.record),
            plan.settings_file or target,
        )

    def plan(self) -> SetupPlan:
        return SetupPlan(
            list(self.changes), list(self.notes), dict(self.record), self.settings_file
        )


class PlanSteps(LocationSteps, RouteSteps, VerifySteps, AgentSteps, MlflowSteps):
    def plan(
        self,
        chosen: Target,
        helper_cmd: str,
        executable: str,
        helper: str | None,
        chosen_agents: Agents,
        agent_routes: AgentRoutes,
        experiment: str | None,
        signed: SignedIn,
        credential: Credential,
    ) -> SetupPlan:
        """Every change, in memory. The configuration for `target` is this run's; every other
        configuration (another settings location, another workspace) is left as it is."""
        plan = SetupPlan()
        target = chosen.path
        here = self.config_for(target) or {}
        # Every agent is set up from one AgentSetup: the required one (Claude Code, whose file
        # is the configuration's own) first, the others after the shell block with their own
        # model, route and state.
        base = self.agent_setup(target, helper_cmd, helper or "", here, experiment, signed)
        claude = next(agent for agent in map(agents.get, chosen_agents.names) if agent.required)
        fields = claude.plan_setup(base, plan)
        shared = {key: fields.pop(key) for key in config.SHARED if key in fields}
        rc = self._plan_rc(plan, executable)
        self._plan_exclude(plan, target, chosen.exclude)
        a = self.a
        one = {
            "host": a.host,
            "profile": a.profile,
            "auth": credential.source.kind if credential.source else credentials.OAUTH,
            "model": a.model,
            "opus": a.opus,
            "sonnet": a.sonnet,
            "haiku": a.haiku,
            **({"fable": a.fable} if a.fable else {}),
            **({"subagent": a.subagent} if a.subagent else {}),
            **({"context_tokens": env_context} if (env_context := self.context_tokens()) else {}),
            "route": a.route,
            "route_auto": a.route_auto,
            "settings_location": a.location,
            "settings_file": str(target),
            "token_mode": a.token_mode,
            "ttl_seconds": a.ttl_seconds,
            "margin_seconds": a.margin_seconds,
            **({"git_exclude": str(chosen.exclude[0])} if chosen.exclude else {}),
            "api_key_helper": helper_cmd,
            **({"team": str(self.opts.team)} if self.opts.team else {}),
            **fields,
        }
        configs = [dict(c) for c in self.record.get("configs") or []]
        at = next(
            (i for i, c in enumerate(configs) if self.config_for(target, {"configs": [c]})),
            len(configs),
        )
        if helper is not None and (self.others(chosen_agents) or "agents" in here):
            own = configs[at] if at < len(configs) else here
            one.update(self.plan_agents(plan, own, base, configs, chosen_agents, agent_routes))
        if at < len(configs) and configs[at].get("mcp"):
            one["mcp"] = configs[at]["mcp"]  # `dbx-fmapi mcp add`'s servers stay
        configs[at : at + 1] = [config.nest(one)]
        plan.record = {
            "version": config.RECORD_VERSION,
            "shell": a.shell,
            "rc_file": str(rc) if rc else None,
            "executable": executable,
            **shared,
            "configs": configs,
        }
        plan.settings_file = target
        self._plan_team_prices(plan)
        cfg_raw = read_bytes(self.paths.config_file)
        cfg_new = (json.dumps(plan.record, indent=2, sort_keys=True) + "\n").encode()
        plan.add(
            Change(
                self.paths.config_file,
                cfg_raw,
                cfg_new,
                "setup record",
                True,
                redo=lambda now: cfg_new,
            )
        )
        return plan

    def _plan_team_prices(self, plan: SetupPlan) -> None:
        """The team file's prices and budget, kept for usage, the status line and the hook."""
        from ..usage.prices import TEAM_FILE_NAME

        if self.opts.team_prices is None:  # not set up from a team file: leave what is there
            return
        kept = dict(self.opts.team_prices)
        path = self.paths.config_dir / TEAM_FILE_NAME
        raw = read_bytes(path)
        new = (
            (json.dumps(kept, indent=2, sort_keys=True) + "\n").encode()
            if set(kept) - {"version"}
            else None
        )
        plan.add(Change(path, raw, new, "team prices and budget", redo=lambda now: new))

    def _plan_rc(self, plan: SetupPlan, executable: str) -> Path | None:
        """The shell block (one for every configuration: the wrapper finds the one in effect)
        and, for ~/.local/bin, the PATH block in the shell's login file; a block in a file of
        another shell chosen before leaves it."""
        a = self.a
        rc = self.paths.rc_file(a.shell, self.env)
        if rc is not None:
            self._plan_block(
                plan, rc, rcblock.render(a.shell, executable), "shell function dbx-fmapi-claude"
            )
        folder = rcblock.path_folder(executable)
        # bash login shells never read ~/.bashrc: the program's folder on PATH there, or (an
        # executable elsewhere) the function itself.
        function = folder is None and a.shell == "bash"
        login = self.paths.login_file(a.shell, self.env) if folder or function else None
        if login is not None and folder is not None and login != rc:
            what = f"{tilde(Path(folder), self.paths.home)} on PATH for login shells"
            self._plan_block(plan, login, rcblock.render_path(a.shell, folder), what)
        elif login is not None and function and login != rc:
            what = "shell function dbx-fmapi-claude for bash login shells"
            self._plan_block(plan, login, rcblock.render_login_function(executable), what)
        prev_rc = self.record.get("rc_file")
        if isinstance(prev_rc, str) and prev_rc and prev_rc != (str(rc) if rc else None):
            self._plan_old_rc(plan, Path(prev_rc))
        planned = {c.path for c in plan.changes} | {rc, login}
        for other in self.paths.login_candidates(self.env):
            if other not in planned:  # the shell or the login file changed since
                self._plan_old_rc(plan, other, "previous PATH line")
        return rc

    def _plan_block(self, plan: SetupPlan, path: Path, block: str, what: str) -> None:
        def with_block(now: bytes | None) -> bytes:
            text = (now or b"").decode("utf-8", "surrogateescape")
            try:
                new_text = rcblock.upsert_block(text, block)
            except rcblock.HalfBlock as exc:
                raise UserError(
                    f"{path} has {exc}: cannot tell where the dbx-fmapi-claude block ends",
                    f"remove the stray marker line, then re-run setup: grep -n "
                    f"'dbx-fmapi-claude <<<\\|dbx-fmapi-claude >>>' {q(path)}",
                ) from None
            return new_text.encode("utf-8", "surrogateescape")

        raw = read_bytes(path)
        plan.add(Change(path, raw, with_block(raw), what, keep_original=True, redo=with_block))

    def _plan_exclude(self, plan: SetupPlan, target: Path, found: tuple[Path, str] | None) -> None:
        """Static mode in a git work tree: the token file goes into the repository's own exclude
        file (never committed, never shared), so no `git add .` picks it up."""
        if found is None:
            return
        static = self.a.token_mode == STATIC
        exclude, block = found[0], exclude_block(found[1], static)

        def with_exclude(now: bytes | None) -> bytes:
            text = (now or b"").decode("utf-8", "surrogateescape")
            return rcblock.upsert_block(text, block).encode("utf-8", "surrogateescape")

        ex_raw = read_bytes(exclude)
        plan.add(
            Change(
                exclude,
                ex_raw,
                with_exclude(ex_raw),
                "git exclude: "
                + ("the static token file" if static else "your own settings file")
                + " stays out of commits",
                keep_original=True,
                redo=with_exclude,
            )
        )
        what = "a token" if static else "your own settings"
        plan.notes.append(f"{target} holds {what}: git now ignores it ({exclude})")

    def agent_setup(
        self,
        target: Path,
        helper_cmd: str,
        helper: str,
        here: Mapping[str, Any],
        experiment: str | None,
        signed: SignedIn,
    ) -> AgentSetup:
        """What the agents' setup needs from this run: the configuration's own answers (the
        required agent's model, route and state: the configuration as it was)."""
        from ..usage.prices import budget_set

        a = self.a
        return AgentSetup(
            paths=self.paths,
            env=self.env,
            host=a.host,
            profile=a.profile or None,
            helper=helper,
            model=a.model,
            route=a.route,
            base_url=routes.get(a.route).base_url(a.host),
            ttl_seconds=a.ttl_seconds,
            state=here,
            settings_file=target,
            helper_command=helper_cmd,
            token_mode=a.token_mode,
            token=signed.token if a.token_mode == STATIC else None,
            roles=MappingProxyType(
                {"opus": a.opus, "sonnet": a.sonnet, "haiku": a.haiku, "fable": a.fable}
                | {"subagent": a.subagent}
            ),
            context_tokens=self.context_tokens(),
            statusline=self.opts.statusline,
            budget=lambda: budget_set(self.paths.config_dir_path, self.opts.team_prices),
            mlflow_experiment=experiment,
            otel_tables=a.otel_tables,
            otel_spans=a.otel_spans,
            onboarding_added=bool(self.record.get("onboarding_added")),
            personal_key=self.personal_key,
            out=self.out,
            warn=self.warn,
        )

    def config_for(
        self, target: Path, record: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """The configuration of `target`'s location: the one for `target`, or for the other of
        settings.json / settings.local.json in the same folder."""
        record = self.record if record is None else record
        other = "settings.local.json" if target.name == "settings.json" else "settings.json"
        return config.view_for(record, target) or config.view_for(record, target.with_name(other))

    def _plan_old_rc(
        self, plan: SetupPlan, path: Path, what: str = "previous shell function"
    ) -> None:
        raw = read_bytes(path)
        if raw is None:
            return
        text = raw.decode("utf-8", "surrogateescape")
        try:
            if not rcblock.has_block(text):
                return
            cleaned = rcblock.remove_block(text)
        except rcblock.HalfBlock:
            self.warn(f"{path} has a half dbx-fmapi-claude block; left as it is")
            return
        new: bytes | None = cleaned.encode("utf-8", "surrogateescape")
        known, original = originals.load_original(self.paths, path)
        if known and original is not None and new == original:
            what += " (the file as it was before setup)"
        elif not cleaned.strip() and (path.suffix == ".fish" or (known and original is None)):
            new, what = None, f"{what} (a file setup created: deleted)"
        plan.add(Change(path, raw, new, what))

    # --- 6. verify --------------------------------------------------------------------------
