"""Claude Code's part of setup's plan (Claude.plan_setup): the new bytes of the configuration's
settings file (our env keys, the apiKeyHelper or the static token, the status line and budget
hook, the StopFailure hook that asks the helper again after a rejected token, MLflow's Stop
hook, the OpenTelemetry export), our keys out of the file the location's configuration used
until now, and the onboarding flag in ~/.claude.json; with what the record must keep to undo
each (undo.py takes them back out)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from ...changes import engine, undo
from ...core.fileio import read_bytes
from ...record import config, originals
from ...workspace import routes
from ..base import AgentSetup
from . import effective, settings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

HELPER = "helper"
STATIC = "static"
TOKEN_PLACEHOLDER = "<the token from databricks auth token>"  # noqa: S105 - dry-run text
Change = engine.Change


def onboarding_bytes(raw: bytes | None) -> bytes | None:
    """~/.claude.json with the onboarding flag added, every other byte kept; None when nothing
    is to change. The rule lives in onboarding.py: dbx-fmapi-claude puts the flag back too."""
    from .onboarding import with_flag

    return with_flag(raw)


def plan(s: AgentSetup, plan: engine.Plan) -> dict[str, Any]:
    """Claude Code's changes, in the order setup shows them; returns its fields for the
    configuration's record, with `onboarding_added` (which the record keeps once, for every
    configuration: config.SHARED). `s.state` is the location's configuration as it was (flat)."""
    target = Path(str(s.settings_file))
    here = s.state
    # A location is one configuration whichever of its two files holds it: static mode puts
    # the token in settings.local.json when settings.json is tracked by git, helper mode
    # uses settings.json. Moving between the two takes our keys out of the other file.
    moved = here.get("settings_file") and not config.view_for({"configs": [here]}, target)
    if moved:
        plan_old_settings(s, plan, Path(str(here["settings_file"])), here)
    fields = plan_settings(s, plan, target, {} if moved else here)
    return {**fields, "onboarding_added": plan_onboarding(s, plan)}


def plan_settings(
    s: AgentSetup, plan: engine.Plan, target: Path, here: Mapping[str, Any]
) -> dict[str, Any]:
    """Claude Code's settings file; returns what the record must keep to undo it
    (`replaced`, `env_existed`, `settings_created`) and what it keeps of the status line, the
    hooks and the telemetry."""
    raw = read_bytes(target)
    corrupt: settings.SettingsCorrupt | None = None
    try:
        old = settings.parse(raw, target) if raw is not None else {}
    except settings.SettingsCorrupt as exc:
        corrupt, old = exc, dict(exc.salvage)
    token = None
    if s.token_mode == STATIC:
        token = s.token if s.token is not None else TOKEN_PLACEHOLDER
    route = routes.get(s.route)
    roles = s.roles
    env = settings.desired_env(
        host=s.host,
        model=s.model,
        opus=roles.get("opus", ""),
        sonnet=roles.get("sonnet", ""),
        haiku=roles.get("haiku", ""),
        mode=s.token_mode,
        ttl_seconds=s.ttl_seconds,
        token=token,
        blank_api_key=s.personal_key(target),
        base=route.base_url(s.host),
        fable=roles.get("fable") or None,
        subagent=roles.get("subagent") or None,
        context_tokens=s.context_tokens,
        disable_betas=route.disable_experimental_betas,
    )
    drop = stale_optional_keys(env, here)
    helper_arg = s.helper_command if s.token_mode == HELPER else None
    kept: dict[str, Any] = {}  # what the record keeps of the status line, hooks, telemetry
    new = with_statusline(
        s, target, settings.merge(old, env=env, helper=helper_arg, drop=drop), here, kept
    )
    new = with_telemetry(s, new, here, kept)
    new = with_mlflow(s, new, here, kept)
    if raw is not None and corrupt is None and new == old:
        new_bytes: bytes = raw
    else:
        new_bytes = settings.dumps(new)

    def redo_settings(now: bytes | None) -> bytes | None:
        data = settings.parse(now, target) if now is not None else {}
        again: dict[str, Any] = {}  # the record was written from the plan's
        merged = with_mlflow(
            s,
            with_statusline(
                s,
                target,
                settings.merge(data, env=env, helper=helper_arg, drop=drop),
                here,
                again,
                quiet=True,
            ),
            here,
            again,
            quiet=True,
        )
        merged = with_telemetry(s, merged, here, again)
        return now if now is not None and merged == data else settings.dumps(merged)

    holds_token = isinstance((old.get("env") or {}).get(settings.ENV_TOKEN), str)
    plan.add(
        Change(
            target,
            raw,
            new_bytes,
            "Claude settings",
            secret=s.token_mode == STATIC,
            # A file read past its comments is kept too: uninstall puts those bytes back.
            keep_original=(corrupt is None or corrupt.relaxed) and not holds_token,
            backup_first=corrupt is not None,
            our_secrets=(settings.ENV_TOKEN,),
            redo=redo_settings,
        )
    )
    if corrupt is not None:
        plan.notes.append(f"{target} is not valid ({corrupt.why}): it is backed up first")
    return {**undo_fields(s, target, here, raw, old), **kept}


def undo_fields(
    s: AgentSetup, target: Path, here: Mapping[str, Any], raw: bytes | None, old: dict[str, Any]
) -> dict[str, Any]:
    """What the record keeps to undo the settings file: `replaced`, `env_existed`,
    `settings_created` (an earlier run's, once recorded)."""
    if raw is not None and here:
        return {
            "replaced": dict(here.get("replaced") or {}),
            "env_existed": bool(here.get("env_existed")),
            "settings_created": bool(here.get("settings_created")),
        }
    # What setup replaces is judged against the file as it was before our first change: the
    # saved original, when a run that was killed halfway already changed the file.
    base, base_raw = old, raw
    known, original = originals.load_original(s.paths, target)
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


def with_statusline(
    s: AgentSetup,
    target: Path,
    data: dict[str, Any],
    here: Mapping[str, Any],
    kept: dict[str, Any],
    quiet: bool = False,
) -> dict[str, Any]:
    """Our status line, budget hook (_with_statusline) and, in helper mode, the hook that
    has claude ask its helper again after a rejected token (failurehook.py); puts what the
    record keeps of them in `kept`."""
    from . import failurehook

    new = _with_statusline(s, data, here, kept, quiet)
    hook = failurehook.command(str(target)) if s.token_mode == HELPER else None
    new, recorded = failurehook.add(new, hook, here)
    kept.update(recorded)
    return new


def _with_statusline(
    s: AgentSetup,
    data: dict[str, Any],
    here: Mapping[str, Any],
    kept: dict[str, Any],
    quiet: bool = False,
) -> dict[str, Any]:
    """Our status line (when the user has none) and budget hook, or, with `--statusline
    off`, neither (statusline.py); puts what the record keeps of them in `kept`."""
    from . import statusline

    choice = str(s.statusline or here.get("statusline") or "on")
    kept["statusline"] = choice
    if choice == "off" or not s.helper:
        return statusline.remove(data, here)
    line, hook = statusline.commands(s.helper)
    budget, problem = s.budget()
    if problem and not quiet:
        s.warn(f"{problem}: no budget hook until it is fixed (docs/usage.md)")
    new, recorded = statusline.add(data, line=line, hook=hook if budget else None, before=here)
    kept.update(recorded)
    theirs = statusline.theirs(new, recorded)
    if theirs and not quiet:
        s.out(
            f"  note  your own status line stays ({theirs}); to show ours beside it, see "
            "docs/usage.md (Status line)"
        )
    return new


def with_telemetry(
    s: AgentSetup, data: dict[str, Any], here: Mapping[str, Any], kept: dict[str, Any]
) -> dict[str, Any]:
    """Claude Code's OpenTelemetry export into the `--otel-tables` tables (or, with `none`,
    not: telemetry.py); puts what the record keeps of it in `kept`. A plain re-run keeps
    the tables the configuration has."""
    from ...telemetry import tables
    from . import telemetry

    prefix = str(s.otel_tables or here.get("otel_tables") or tables.OFF)
    if prefix == tables.OFF:
        return telemetry.remove(data, here)
    spans = s.otel_spans or ("on" if tables.spans_on(here) else "off")
    env = telemetry.desired_env(
        host=s.host, prefix=prefix, ttl_seconds=s.ttl_seconds, spans=spans == "on"
    )
    new, recorded = telemetry.add(
        data, env=env, helper=telemetry.helper_command(s.helper_command), before=here
    )
    kept.update({"otel_tables": prefix, tables.SPANS_KEY: spans, "otel": recorded})
    return new


def with_mlflow(
    s: AgentSetup,
    data: dict[str, Any],
    here: Mapping[str, Any],
    kept: dict[str, Any],
    *,
    quiet: bool = False,
) -> dict[str, Any]:
    """`data` with our Stop hook for the experiment (or, without one, without it); puts what
    the record keeps in `kept`: the experiment and the hook command."""
    from . import mlflowhook

    before = [here.get("mlflow_hook")]
    if s.mlflow_experiment is None or not s.helper:
        return mlflowhook.without(data, before)
    managed = mlflowhook.managed_tracing(s.env, s.mlflow_experiment)
    if managed is not None:  # a second Stop hook would trace every turn twice
        if not quiet:
            s.out(
                f"  note  MLflow tracing into {s.mlflow_experiment} already comes from the "
                f"managed settings ({managed}): setup adds no Stop hook of its own"
            )
        return mlflowhook.without(data, before)
    hook = mlflowhook.command(s.helper, s.mlflow_experiment, s.profile or None)
    kept.update({"mlflow_experiment": s.mlflow_experiment, "mlflow_hook": hook})
    return mlflowhook.add(data, hook, before)


def plan_onboarding(s: AgentSetup, plan: engine.Plan) -> bool:
    """~/.claude.json: the onboarding flag, only when absent. Returns whether setup added it
    (this run or an earlier one)."""
    claude_json = s.paths.claude_json
    cj_raw = read_bytes(claude_json)
    cj_new = onboarding_bytes(cj_raw)
    added = s.onboarding_added
    if not added and cj_new is None:  # added by a run killed halfway?
        known, original = originals.load_original(s.paths, claude_json)
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
            s.warn(
                f"{claude_json} is not valid JSON; leaving it alone (Claude Code owns it). "
                "The first launch may show its onboarding screens."
            )
    return added


def stale_optional_keys(env: Mapping[str, str], here: Mapping[str, Any]) -> dict[str, Any]:
    """Keys an earlier run wrote that this one does not (settings.OPTIONAL_ENV_KEYS): each
    with the value written (a value changed by hand since stays), or what it replaced."""
    prev = here
    wrote = {
        settings.ENV_FABLE: prev.get("fable"),
        settings.ENV_SUBAGENT: prev.get("subagent"),
        settings.ENV_CONTEXT: str(prev["context_tokens"]) if prev.get("context_tokens") else None,
    }
    replaced = prev.get("replaced") or {}
    out: dict[str, Any] = {}
    for key, value in wrote.items():
        if key in env or not value:
            continue
        prior = replaced.get(key)
        out[key] = prior if isinstance(prior, dict) and "value" in prior else str(value)
    return out


def plan_old_settings(s: AgentSetup, plan: engine.Plan, path: Path, old: Mapping[str, Any]) -> None:
    """Our keys out of the file the location's configuration used until now."""
    raw = read_bytes(path)
    if raw is None:
        return
    try:
        data = settings.parse(raw, path)
    except settings.SettingsCorrupt:
        s.warn(f"{path} (used by the previous setup) is not valid JSON; left as it is")
        return
    replaced = {**(old.get("replaced") or {}), "env_existed": old.get("env_existed")}
    helper = data.get(settings.HELPER_KEY)
    ours = effective.is_our_helper(helper, old.get("api_key_helper"))
    cleaned = settings.remove_ours(data, replaced=replaced, helper_is_ours=ours)
    from . import statusline

    cleaned = statusline.remove(cleaned, old)
    from . import mlflowhook

    cleaned = mlflowhook.without(cleaned, [old.get("mlflow_hook")])
    from . import failurehook, telemetry

    cleaned = telemetry.remove(failurehook.remove(cleaned, old), old)
    if cleaned == data:
        return
    new: bytes | None = settings.dumps(cleaned)
    if not cleaned and old.get("settings_created"):
        new = undo.gone(path, settings.dumps({}))  # behind a symlink: the empty settings
    plan.add(Change(path, raw, new, "previous Claude settings", drop_original=True))
