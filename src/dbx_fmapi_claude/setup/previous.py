"""Setup's first steps: the record as it was (the defaults), and the flags checked."""

from __future__ import annotations

from dataclasses import replace

from ..core.errors import UserError, usage_error
from ..record import config
from ..workspace.client import FAMILIES
from ..workspace.hosts import normalize_host
from .answers import (
    MAX_NEED_SECONDS,
    NONE,
    PROG,
    Answers,
    check_duration,
    check_location,
    check_model,
    check_profile,
    check_spans,
    default_shell,
    duration_text,
)
from .context import SetupContext
from .results import Flags, Previous

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def load_previous(sc: SetupContext) -> Previous:
    try:
        record, dropped = config.salvage(sc.paths)  # a damaged key: only that one is lost
    except config.RecordTooNew:
        raise  # rewriting a newer release's record would lose what it holds
    except UserError as exc:
        sc.warn(f"{exc.message}; starting from the defaults")
        return Previous()
    record = record or {}
    here = config.in_effect(record, sc.paths, sc.ctx.cwd)
    previous = Previous.of(record, here or config.latest(record) or {})
    for note in dropped:
        sc.warn(note)
    return previous


def check_flags(sc: SetupContext, previous: Previous) -> Flags:
    o = sc.opts
    a = Answers()
    prev = previous.defaults()
    if o.host is not None:
        a = replace(a, host=normalize_host(str(o.host)))
    if o.profile is not None:
        a = replace(a, profile=check_profile(str(o.profile)))
    roles: dict[str, Any] = {}
    for name in ("model", *FAMILIES):
        given = o.role_model(name)
        if given is not None:
            roles[name] = check_model(str(given), f"--{name}")
    for name, flag in (("fable", "--fable"), ("subagent", "--subagent-model")):
        value = o.role_model(name)
        if value is not None and str(value).strip().lower() != NONE:
            roles[name] = check_model(str(value), flag)
    a = replace(a, **roles)
    if o.otel_tables is not None:
        from ..telemetry import tables

        a = replace(a, otel_tables=tables.check(str(o.otel_tables)))
    if o.settings_location is not None:
        a = replace(a, location=check_location(str(o.settings_location), sc.ctx.cwd))
        # Re-running for a location: its own configuration gives the defaults.
        path = sc.paths.settings_file_for(a.location, sc.ctx.cwd)
        prev = previous.config_at(path) or prev
    if o.otel_spans is not None:
        a = replace(a, otel_spans=check_spans(str(o.otel_spans), a.otel_tables, prev))
    prev_ttl = prev.get("ttl_seconds")
    if o.ttl is not None:
        a = replace(a, ttl_seconds=check_duration(str(o.ttl), "--ttl"))
    elif isinstance(prev_ttl, int) and prev_ttl > 0:
        a = replace(a, ttl_seconds=prev_ttl)
    prev_margin = prev.get("margin_seconds")
    if o.margin is not None:
        a = replace(a, margin_seconds=check_duration(str(o.margin), "--margin"))
    elif isinstance(prev_margin, int) and prev_margin >= 0:
        a = replace(a, margin_seconds=prev_margin)
    if a.ttl_seconds + a.margin_seconds > MAX_NEED_SECONDS:
        raise usage_error(
            f"--ttl {duration_text(a.ttl_seconds)} plus the "
            f"{duration_text(a.margin_seconds)} margin is longer than a Databricks "
            "token lives (about 1h): every helper call would force a refresh",
            f"{PROG} --ttl 15m",
        )
    mode = o.token_mode or prev.get("token_mode") or "helper"
    shell = o.shell or prev.get("shell") or default_shell(sc.env)
    a = replace(
        a,
        token_mode=mode if mode in ("helper", "static") else "helper",
        shell=shell if shell in ("zsh", "bash", "fish", "none") else "none",
    )
    return Flags(a, Previous.of({}, prev).defaults_text)
