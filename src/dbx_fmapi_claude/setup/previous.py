"""Setup's first steps: the record as it was (the defaults), and the flags checked."""

from __future__ import annotations

from typing import Any

from ..core.errors import UserError, usage_error
from ..record import config
from ..workspace.client import FAMILIES
from ..workspace.hosts import normalize_host
from .answers import (
    MAX_NEED_SECONDS,
    NONE,
    PROG,
    check_duration,
    check_location,
    check_model,
    check_profile,
    check_spans,
    default_shell,
    duration_text,
)
from .context import SetupBase


class PreviousSteps(SetupBase):
    def load_previous(self) -> None:
        try:
            record, dropped = config.salvage(self.paths)  # a damaged key: only that one is lost
        except config.RecordTooNew:
            raise  # rewriting a newer release's record would lose what it holds
        except UserError as exc:
            self.warn(f"{exc.message}; starting from the defaults")
            self.record, self.prev = {}, {}
            return
        self.record = record or {}
        here = config.in_effect(self.record, self.paths, self.ctx.cwd)
        self.prev = here or config.latest(self.record) or {}
        for note in dropped:
            self.warn(note)

    def check_flags(self) -> None:
        o = self.opts
        if o.host is not None:
            self.a.host = normalize_host(str(o.host))
        if o.profile is not None:
            self.a.profile = check_profile(str(o.profile))
        for name in ("model", *FAMILIES):
            given = o.role_model(name)
            if given is not None:
                setattr(self.a, name, check_model(str(given), f"--{name}"))
        for name, flag in (("fable", "--fable"), ("subagent", "--subagent-model")):
            value = o.role_model(name)
            if value is not None and str(value).strip().lower() != NONE:
                setattr(self.a, name, check_model(str(value), flag))
        if o.otel_tables is not None:
            from ..telemetry import tables

            self.a.otel_tables = tables.check(str(o.otel_tables))
        if o.settings_location is not None:
            self.a.location = check_location(str(o.settings_location), self.ctx.cwd)
            # Re-running for a location: its own configuration gives the defaults.
            self.prev = self.config_at(self.a.location) or self.prev
        if o.otel_spans is not None:
            self.a.otel_spans = check_spans(str(o.otel_spans), self.a.otel_tables, self.prev)
        prev_ttl = self.prev.get("ttl_seconds")
        if o.ttl is not None:
            self.a.ttl_seconds = check_duration(str(o.ttl), "--ttl")
        elif isinstance(prev_ttl, int) and prev_ttl > 0:
            self.a.ttl_seconds = prev_ttl
        prev_margin = self.prev.get("margin_seconds")
        if o.margin is not None:
            self.a.margin_seconds = check_duration(str(o.margin), "--margin")
        elif isinstance(prev_margin, int) and prev_margin >= 0:
            self.a.margin_seconds = prev_margin
        if self.a.ttl_seconds + self.a.margin_seconds > MAX_NEED_SECONDS:
            raise usage_error(
                f"--ttl {duration_text(self.a.ttl_seconds)} plus the "
                f"{duration_text(self.a.margin_seconds)} margin is longer than a Databricks "
                "token lives (about 1h): every helper call would force a refresh",
                f"{PROG} --ttl 15m",
            )
        mode = o.token_mode or self.prev.get("token_mode") or "helper"
        self.a.token_mode = mode if mode in ("helper", "static") else "helper"
        shell = o.shell or self.prev.get("shell") or default_shell(self.env)
        self.a.shell = shell if shell in ("zsh", "bash", "fish", "none") else "none"

    def config_at(self, location: str) -> dict[str, Any] | None:
        """The configuration whose settings file is in `location` (settings.json, or the
        settings.local.json static mode uses in a git-tracked folder)."""
        path = self.paths.settings_file_for(location, self.ctx.cwd)
        return config.view_for(self.record, path) or config.view_for(
            self.record, path.with_name("settings.local.json")
        )
