"""Setup's options: what the command line (and a team file, in its place) asked for, frozen
before any step runs. Each flag is a field; a flag not given is None (or False for a switch).
The values are as typed: the steps check them (setup/answers.py) and turn them into answers.
`commands/setup.py` builds them from the parsed flags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@dataclass(frozen=True)
class SetupOptions:
    host: str | None = None
    profile: str | None = None
    # Claude Code's models, by role (`--subagent-model` for subagent)
    model: str | None = None
    opus: str | None = None
    sonnet: str | None = None
    haiku: str | None = None
    fable: str | None = None
    subagent_model: str | None = None
    route: str | None = None
    settings_location: str | None = None
    token_mode: str | None = None
    auth: str | None = None
    ttl: str | None = None
    margin: str | None = None
    shell: str | None = None
    agents: str | None = None  # comma-separated, as typed
    statusline: str | None = None
    mlflow_experiment: str | None = None  # an experiment's workspace path, or "none"
    otel_tables: str | None = None
    otel_spans: str | None = None  # "on" or "off", as typed
    team: str | None = None
    install: bool = False
    skip_install: bool = False
    no_verify: bool = False
    yes: bool = False
    dry_run: bool = False
    # The other agents' models (`--codex-model` …): agent name -> model, as typed.
    agent_models: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # The team file's prices and budget setup keeps (setup/team.py); None: not from a team file.
    team_prices: Mapping[str, Any] | None = None

    @classmethod
    def from_flags(cls, flags: Mapping[str, Any]) -> SetupOptions:
        """From the parsed flags (argparse dests): each agent's model flag (the registry's
        `model_option`, `codex_model`) goes to agent_models; a flag this class does not know is
        a programming error (TypeError)."""
        from .. import agents

        known = {f.name for f in fields(cls)}
        by_option = {a.model_option: a.name for a in agents.every() if a.model_flag}
        values: dict[str, Any] = {}
        models: dict[str, str] = {}
        for name, value in flags.items():
            if name in known:
                values[name] = value
            elif name in by_option:
                if value is not None:
                    models[by_option[name]] = str(value)
            else:
                raise TypeError(f"setup has no option {name!r}")
        for switch in ("install", "skip_install", "no_verify", "yes", "dry_run"):
            values[switch] = bool(values.get(switch))
        prices = values.get("team_prices")
        if prices is not None:
            values["team_prices"] = MappingProxyType(dict(prices))
        return cls(**values, agent_models=MappingProxyType(models))

    def role_model(self, role: str) -> str | None:
        """The model flag for a Claude Code role (model, opus, sonnet, haiku, fable, subagent)."""
        return self.subagent_model if role == "subagent" else getattr(self, role)
