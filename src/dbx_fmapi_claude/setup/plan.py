"""Step 5, the plan: the new bytes of every file setup touches, computed in memory."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..agents.claude import effective, settings
from ..auth import credentials
from ..changes import engine, undo
from ..core.errors import UserError
from ..core.fileio import q, read_bytes
from ..core.paths import tilde
from ..record import config, originals
from ..shell import rcblock
from ..workspace import routes
from .agentsteps import AgentSteps
from .answers import HELPER, STATIC, TOKEN_PLACEHOLDER, Change
from .gitignore import exclude_block
from .location import LocationSteps
from .mlflowstep import MlflowSteps
from .models import ModelSteps
from .results import AgentRoutes, Agents, Target


@dataclass
class SetupPlan(engine.Plan):
    """Setup's plan: the change engine's file changes, and the record this run leaves."""

    record: dict[str, Any] = field(default_factory=dict)  # config.json, as this run leaves it
    settings_file: Path | None = None  # the settings file of the configuration written


def onboarding_bytes(raw: bytes | None) -> bytes | None:
    """~/.claude.json with the onboarding flag added, every other byte kept; None when nothing
    is to change. The rule lives in onboarding.py: dbx-fmapi-claude puts the flag back too."""
    from ..agents.claude.onboarding import with_flag

    return with_flag(raw)


class PlanSteps(LocationSteps, ModelSteps, AgentSteps, MlflowSteps):
    def plan(
        self,
        chosen: Target,
        helper_cmd: str,
        executable: str,
        helper: str | None,
        chosen_agents: Agents,
        agent_routes: AgentRoutes,
    ) -> SetupPlan:
        """Every change, in memory. The configuration for `target` is this run's; every other
        configuration (another settings location, another workspace) is left as it is."""
        plan = SetupPlan()
        target = chosen.path
        self.dbx_fmapi = helper
        # A location is one configuration whichever of its two files holds it: static mode puts
        # the token in settings.local.json when settings.json is tracked by git, helper mode
        # uses settings.json. Moving between the two takes our keys out of the other file.
        here = self.config_for(target) or {}
        moved = here.get("settings_file") and not config.view_for({"configs": [here]}, target)
        if moved:
            self._plan_old_settings(plan, Path(str(here["settings_file"])), here)
        kept = self._plan_settings(plan, target, {} if moved else here, helper_cmd)
        onboarding_added = self._plan_onboarding(plan)
        rc = self._plan_rc(plan, executable)
        self._plan_exclude(plan, target, chosen.exclude)
        a = self.a
        one = {
            "host": a.host,
            "profile": a.profile,
            "auth": self.source.kind if self.source else credentials.OAUTH,
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
            **kept,
            **self.statusline_record,
            **self.mlflow_record,
            **self.telemetry_record,
        }
        # Re-running for a settings file updates its configuration where it is; a new one goes
        # last (the latest).
        configs = [dict(c) for c in self.record.get("configs") or []]
        at = next(
            (i for i, c in enumerate(configs) if self.config_for(target, {"configs": [c]})),
            len(configs),
        )
        if helper is not None and (self.others(chosen_agents) or "agents" in here):
            own = configs[at] if at < len(configs) else here
            one.update(self.plan_agents(plan, own, helper, configs, chosen_agents, agent_routes))
        if at < len(configs) and configs[at].get("mcp"):
            one["mcp"] = configs[at]["mcp"]  # `dbx-fmapi mcp add`'s servers stay
        configs[at : at + 1] = [config.nest(one)]
        plan.record = {
            "version": config.RECORD_VERSION,
            "shell": a.shell,
            "rc_file": str(rc) if rc else None,
            "executable": executable,
            "onboarding_added": onboarding_added,
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

    def _plan_settings(
        self, plan: SetupPlan, target: Path, here: Mapping[str, Any], helper_cmd: str
    ) -> dict[str, Any]:
        """Claude Code's settings file; returns what the record must keep to undo it
        (`replaced`, `env_existed`, `settings_created`)."""
        a = self.a
        raw = read_bytes(target)
        corrupt: settings.SettingsCorrupt | None = None
        try:
            old = settings.parse(raw, target) if raw is not None else {}
        except settings.SettingsCorrupt as exc:
            corrupt, old = exc, dict(exc.salvage)
        token = None
        if a.token_mode == STATIC:
            token = self.token.access_token if self.token is not None else TOKEN_PLACEHOLDER
        route = routes.get(a.route)
        env = settings.desired_env(
            host=a.host,
            model=a.model,
            opus=a.opus,
            sonnet=a.sonnet,
            haiku=a.haiku,
            mode=a.token_mode,
            ttl_seconds=a.ttl_seconds,
            token=token,
            blank_api_key=self.personal_key(target),
            base=route.base_url(a.host),
            fable=a.fable or None,
            subagent=a.subagent or None,
            context_tokens=self.context_tokens(),
            disable_betas=route.disable_experimental_betas,
        )
        drop = self.stale_optional_keys(env, here)
        helper_arg = helper_cmd if a.token_mode == HELPER else None
        self._hook_settings_file = target
        new = self.with_statusline(settings.merge(old, env=env, helper=helper_arg, drop=drop), here)
        new = self.with_telemetry(new, here, helper_cmd)
        new = self.with_mlflow(new, here)
        if raw is not None and corrupt is None and new == old:
            new_bytes: bytes = raw
        else:
            new_bytes = settings.dumps(new)

        def redo_settings(now: bytes | None) -> bytes | None:
            data = settings.parse(now, target) if now is not None else {}
            merged = self.with_mlflow(
                self.with_statusline(
                    settings.merge(data, env=env, helper=helper_arg, drop=drop), here, quiet=True
                ),
                here,
            )
            merged = self.with_telemetry(merged, here, helper_cmd)
            return now if now is not None and merged == data else settings.dumps(merged)

        holds_token = isinstance((old.get("env") or {}).get(settings.ENV_TOKEN), str)
        plan.add(
            Change(
                target,
                raw,
                new_bytes,
                "Claude settings",
                secret=a.token_mode == STATIC,
                # A file read past its comments is kept too: uninstall puts those bytes back.
                keep_original=(corrupt is None or corrupt.relaxed) and not holds_token,
                backup_first=corrupt is not None,
                our_secrets=(settings.ENV_TOKEN,),
                redo=redo_settings,
            )
        )
        if corrupt is not None:
            plan.notes.append(f"{target} is not valid ({corrupt.why}): it is backed up first")
        if raw is not None and here:
            return {
                "replaced": dict(here.get("replaced") or {}),
                "env_existed": bool(here.get("env_existed")),
                "settings_created": bool(here.get("settings_created")),
            }
        # What setup replaces is judged against the file as it was before our first change: the
        # saved original, when a run that was killed halfway already changed the file.
        base, base_raw = old, raw
        known, original = originals.load_original(self.paths, target)
        if known:
            base_raw = original
            try:
                base = settings.parse(original, target) if original is not None else {}
            except settings.SettingsCorrupt as exc:
                base = dict(exc.salvage)
        replaced: dict[str, Any] = {}
        old_env = base.get("env") or {}
        for key in settings.ALL_ENV_KEYS:
            if key != settings.ENV_TOKEN and key in old_env:
                replaced[key] = {"value": old_env[key]}
        helper = base.get(settings.HELPER_KEY)
        if settings.HELPER_KEY in base and not effective.is_our_helper(
            helper, here.get("api_key_helper")
        ):
            replaced[settings.HELPER_KEY] = {"value": base[settings.HELPER_KEY]}
        return {
            "replaced": replaced,
            "env_existed": "env" in base,
            "settings_created": base_raw is None,
        }

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

    def with_statusline(
        self, data: dict[str, Any], here: Mapping[str, Any], quiet: bool = False
    ) -> dict[str, Any]:
        """Our status line, budget hook (_with_statusline) and, in helper mode, the hook that
        has claude ask its helper again after a rejected token (agents/claude/failurehook.py);
        sets what the record keeps of them."""
        from ..agents.claude import failurehook

        new = self._with_statusline(data, here, quiet)
        target = getattr(self, "_hook_settings_file", None)
        hook = (
            failurehook.command(str(target))
            if target is not None and self.a.token_mode == HELPER
            else None
        )
        new, recorded = failurehook.add(new, hook, here)
        self.statusline_record.update(recorded)
        return new

    def _with_statusline(
        self, data: dict[str, Any], here: Mapping[str, Any], quiet: bool = False
    ) -> dict[str, Any]:
        """Our status line (when the user has none) and budget hook, or, with `--statusline
        off`, neither (agents/claude/statusline.py); sets what the record keeps of them."""
        from ..agents.claude import statusline

        choice = str(self.opts.statusline or here.get("statusline") or "on")
        self.statusline_record: dict[str, Any] = {"statusline": choice}
        helper = getattr(self, "dbx_fmapi", None)
        if choice == "off" or not helper:
            return statusline.remove(data, here)
        line, hook = statusline.commands(helper)
        from ..usage.prices import budget_set

        budget, problem = budget_set(self.paths.config_dir_path, self.opts.team_prices)
        if problem and not quiet:
            self.warn(f"{problem}: no budget hook until it is fixed (docs/usage.md)")
        new, recorded = statusline.add(data, line=line, hook=hook if budget else None, before=here)
        self.statusline_record.update(recorded)
        theirs = statusline.theirs(new, recorded)
        if theirs and not quiet:
            self.out(
                f"  note  your own status line stays ({theirs}); to show ours beside it, see "
                "docs/usage.md (Status line)"
            )
        return new

    def with_telemetry(
        self, data: dict[str, Any], here: Mapping[str, Any], helper_cmd: str
    ) -> dict[str, Any]:
        """Claude Code's OpenTelemetry export into the `--otel-tables` tables (or, with `none`,
        not: agents/claude/telemetry.py); sets what the record keeps of it. A plain re-run keeps
        the tables the configuration has."""
        from ..agents.claude import telemetry
        from ..telemetry import tables

        prefix = str(self.a.otel_tables or here.get("otel_tables") or tables.OFF)
        self.telemetry_record: dict[str, Any] = {}
        if prefix == tables.OFF:
            return telemetry.remove(data, here)
        spans = self.a.otel_spans or ("on" if tables.spans_on(here) else "off")
        env = telemetry.desired_env(
            host=self.a.host, prefix=prefix, ttl_seconds=self.a.ttl_seconds, spans=spans == "on"
        )
        new, recorded = telemetry.add(
            data, env=env, helper=telemetry.helper_command(helper_cmd), before=here
        )
        self.telemetry_record = {"otel_tables": prefix, tables.SPANS_KEY: spans, "otel": recorded}
        return new

    def _plan_onboarding(self, plan: SetupPlan) -> bool:
        """~/.claude.json: the onboarding flag, only when absent. Returns whether setup added it
        (this run or an earlier one)."""
        claude_json = self.paths.claude_json
        cj_raw = read_bytes(claude_json)
        cj_new = onboarding_bytes(cj_raw)
        added = bool(self.record.get("onboarding_added"))
        if not added and cj_new is None:  # added by a run killed halfway?
            known, original = originals.load_original(self.paths, claude_json)
            added = known and onboarding_bytes(original) is not None
        if cj_new is not None:
            plan.add(
                Change(
                    claude_json,
                    cj_raw,
                    cj_new,
                    "onboarding flag",
                    keep_original=True,
                    redo=lambda now: onboarding_bytes(now) or now,
                )
            )
            return True
        if cj_raw is not None:
            try:
                json.loads(cj_raw)
            except ValueError:
                self.warn(
                    f"{claude_json} is not valid JSON; leaving it alone (Claude Code owns it). "
                    "The first launch may show its onboarding screens."
                )
        return added

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

    def stale_optional_keys(
        self, env: Mapping[str, str], here: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Keys an earlier run wrote that this one does not (settings.OPTIONAL_ENV_KEYS): each
        with the value written (a value changed by hand since stays), or what it replaced."""
        prev = here
        wrote = {
            settings.ENV_FABLE: prev.get("fable"),
            settings.ENV_SUBAGENT: prev.get("subagent"),
            settings.ENV_CONTEXT: str(prev["context_tokens"])
            if prev.get("context_tokens")
            else None,
        }
        replaced = prev.get("replaced") or {}
        out: dict[str, Any] = {}
        for key, value in wrote.items():
            if key in env or not value:
                continue
            prior = replaced.get(key)
            out[key] = prior if isinstance(prior, dict) and "value" in prior else str(value)
        return out

    def config_for(
        self, target: Path, record: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """The configuration of `target`'s location: the one for `target`, or for the other of
        settings.json / settings.local.json in the same folder."""
        record = self.record if record is None else record
        other = "settings.local.json" if target.name == "settings.json" else "settings.json"
        return config.view_for(record, target) or config.view_for(record, target.with_name(other))

    def _plan_old_settings(self, plan: SetupPlan, path: Path, old: dict[str, Any]) -> None:
        """Our keys out of the file the location's configuration used until now."""
        raw = read_bytes(path)
        if raw is None:
            return
        try:
            data = settings.parse(raw, path)
        except settings.SettingsCorrupt:
            self.warn(f"{path} (used by the previous setup) is not valid JSON; left as it is")
            return
        replaced = {**(old.get("replaced") or {}), "env_existed": old.get("env_existed")}
        helper = data.get(settings.HELPER_KEY)
        ours = effective.is_our_helper(helper, old.get("api_key_helper"))
        cleaned = settings.remove_ours(data, replaced=replaced, helper_is_ours=ours)
        from ..agents.claude import statusline

        cleaned = statusline.remove(cleaned, old)
        from ..agents.claude import mlflowhook

        cleaned = mlflowhook.without(cleaned, [old.get("mlflow_hook")])
        from ..agents.claude import failurehook, telemetry

        cleaned = telemetry.remove(failurehook.remove(cleaned, old), old)
        if cleaned == data:
            return
        new: bytes | None = settings.dumps(cleaned)
        if not cleaned and old.get("settings_created"):
            new = undo.gone(path, settings.dumps({}))  # behind a symlink: the empty settings
        plan.add(Change(path, raw, new, "previous Claude settings", drop_original=True))

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
