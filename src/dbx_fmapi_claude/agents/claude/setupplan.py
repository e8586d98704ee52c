"""Claude Code's part of setup's plan (Claude.plan_setup): the new bytes of its settings file (our
env keys, the apiKeyHelper, the status line and budget hook), our keys out of the file a
configuration used until now, and the onboarding flag in ~/.claude.json; and what the record must
keep to undo each (undo.py takes them back out)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...changes import engine, undo
from ...core.fileio import read_bytes
from ...record import originals
from ...workspace import routes
from ..base import AgentSetup
from . import effective, settings

HELPER = "helper"
STATIC = "static"
TOKEN_PLACEHOLDER = "<the token from databricks auth token>"  # noqa: S105 - dry-run text
Change = engine.Change


def _nothing(line: str) -> None:
    return None


@dataclass
class ClaudeSetup(AgentSetup):
    """What Claude Code's setup needs beyond every agent's: the settings file of this
    configuration (`target`), the roles' models, the token mode (and the token, static mode),
    the earlier state of this configuration (`state`: flat, as config.views gives it) and where
    it lived when the location moved (`moved_from`), the status line choice, and how setup
    speaks (`out`, `warn`)."""

    target: Path = Path()
    helper_cmd: str = ""  # the apiKeyHelper command
    token_mode: str = HELPER
    token: str | None = None  # static mode: the token (None: a dry run's placeholder)
    opus: str = ""
    sonnet: str = ""
    haiku: str = ""
    fable: str | None = None
    subagent: str | None = None
    context_tokens: int | None = None
    personal_key: Callable[[Path], bool] = field(default=lambda target: False)
    moved_from: Path | None = None
    statusline: str | None = None  # --statusline; None: as before, else on
    otel_tables: str | None = None  # --otel-tables; None: as before, else off
    dbx_fmapi: str | None = None  # the installed dbx-fmapi the status line runs
    # Whether the team's or the developer's prices set a budget (the hook goes in), and what is
    # wrong with them when they cannot be read (usage/prices.py budget_set).
    budget: Callable[[], tuple[bool, str | None]] = field(default=lambda: (False, None))
    onboarding_added: bool = False  # the record says an earlier run added the flag
    out: Callable[[str], None] = _nothing
    warn: Callable[[str], None] = _nothing


def onboarding_bytes(raw: bytes | None) -> bytes | None:
    """~/.claude.json with the onboarding flag added, every other byte kept; None when nothing
    is to change. The rule lives in onboarding.py: dbx-fmapi-claude puts the flag back too."""
    from .onboarding import with_flag

    return with_flag(raw)


def plan(s: ClaudeSetup, plan: engine.Plan) -> dict[str, Any]:
    """Claude Code's changes, in the order setup shows them; returns its state for the record
    (with `onboarding_added`, which the record keeps for every configuration)."""
    if s.moved_from is not None:
        plan_old_settings(s, plan, s.moved_from, s.state)
    here: Mapping[str, Any] = {} if s.moved_from is not None else s.state
    kept, shown = plan_settings(s, plan, here)
    return {**kept, **shown, "onboarding_added": plan_onboarding(s, plan)}


def plan_settings(
    s: ClaudeSetup, plan: engine.Plan, here: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Claude Code's settings file; returns what the record must keep to undo it
    (`replaced`, `env_existed`, `settings_created`) and what it keeps of the status line."""
    target = s.target
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
    env = settings.desired_env(
        host=s.host,
        model=s.model,
        opus=s.opus,
        sonnet=s.sonnet,
        haiku=s.haiku,
        mode=s.token_mode,
        ttl_seconds=s.ttl_seconds,
        token=token,
        blank_api_key=s.personal_key(target),
        base=route.base_url(s.host),
        fable=s.fable or None,
        subagent=s.subagent or None,
        context_tokens=s.context_tokens,
        disable_betas=route.disable_experimental_betas,
    )
    drop = stale_optional_keys(env, here)
    helper_arg = s.helper_cmd if s.token_mode == HELPER else None
    shown: dict[str, Any] = {}
    new = with_statusline(
        s, settings.merge(old, env=env, helper=helper_arg, drop=drop), here, shown
    )
    new = with_telemetry(s, new, here, shown)
    if raw is not None and corrupt is None and new == old:
        new_bytes: bytes = raw
    else:
        new_bytes = settings.dumps(new)

    def redo_settings(now: bytes | None) -> bytes | None:
        data = settings.parse(now, target) if now is not None else {}
        merged = with_statusline(
            s, settings.merge(data, env=env, helper=helper_arg, drop=drop), here, {}, quiet=True
        )
        merged = with_telemetry(s, merged, here, {})
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
    if raw is not None and here:
        return {
            "replaced": dict(here.get("replaced") or {}),
            "env_existed": bool(here.get("env_existed")),
            "settings_created": bool(here.get("settings_created")),
        }, shown
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
    }, shown


def with_statusline(
    s: ClaudeSetup,
    data: dict[str, Any],
    here: Mapping[str, Any],
    shown: dict[str, Any],
    quiet: bool = False,
) -> dict[str, Any]:
    """Our status line (when the user has none) and budget hook, or, with `--statusline
    off`, neither (statusline.py); puts what the record keeps of them in `shown`."""
    from . import statusline

    choice = str(s.statusline or here.get("statusline") or "on")
    shown.clear()
    shown["statusline"] = choice
    if choice == "off" or not s.dbx_fmapi:
        return statusline.remove(data, here)
    line, hook = statusline.commands(s.dbx_fmapi)
    budget, problem = s.budget()
    if problem and not quiet:
        s.warn(f"{problem}: no budget hook until it is fixed (docs/usage.md)")
    new, recorded = statusline.add(data, line=line, hook=hook if budget else None, before=here)
    shown.update(recorded)
    theirs = statusline.theirs(new, recorded)
    if theirs and not quiet:
        s.out(
            f"  note  your own status line stays ({theirs}); to show ours beside it, see "
            "docs/usage.md (Status line)"
        )
    return new


def with_telemetry(
    s: ClaudeSetup, data: dict[str, Any], here: Mapping[str, Any], shown: dict[str, Any]
) -> dict[str, Any]:
    """Claude Code's OpenTelemetry export into the `--otel-tables` tables (or, with `none`,
    not: telemetry.py); puts what the record keeps of it in `shown`. A plain re-run keeps the
    tables the configuration has."""
    from ...telemetry import tables
    from . import telemetry

    prefix = str(s.otel_tables or here.get("otel_tables") or tables.OFF)
    if prefix == tables.OFF:
        return telemetry.remove(data, here)
    env = telemetry.desired_env(host=s.host, prefix=prefix, ttl_seconds=s.ttl_seconds)
    new, recorded = telemetry.add(
        data, env=env, helper=telemetry.helper_command(s.helper_cmd), before=here
    )
    shown.update({"otel_tables": prefix, "otel": recorded})
    return new


def plan_onboarding(s: ClaudeSetup, plan: engine.Plan) -> bool:
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


def plan_old_settings(
    s: ClaudeSetup, plan: engine.Plan, path: Path, old: Mapping[str, Any]
) -> None:
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
    from . import telemetry

    cleaned = telemetry.remove(cleaned, old)
    if cleaned == data:
        return
    new: bytes | None = settings.dumps(cleaned)
    if not cleaned and old.get("settings_created"):
        new = undo.gone(path, settings.dumps({}))  # behind a symlink: the empty settings
    plan.add(Change(path, raw, new, "previous Claude settings", drop_original=True))
