"""What an agent's setup is given (Agent.plan_setup): one frozen AgentSetup, the same for every
agent, with the configuration's own choices that the required agent (Claude Code) writes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from ..core.paths import Paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _quiet(line: str) -> None:
    return None


def _no_budget() -> tuple[bool, str | None]:
    return False, None


def _no_key(settings_file: Path) -> bool:
    return False


@dataclass(frozen=True)
class AgentSetup:
    """What an agent's setup needs from the setup run: the workspace, the credential command,
    the model and the route chosen, and this configuration's earlier state for the agent.

    The fields after `state` are the configuration's own choices, which the required agent
    (Claude Code) writes into the configuration's settings file; the others leave them. Its
    `state` is the whole configuration as it was (flat, config.views), the others' their own."""

    paths: Paths
    env: Mapping[str, str]
    host: str
    profile: str | None
    helper: str  # absolute path of the installed dbx-fmapi
    model: str
    route: str
    base_url: str
    ttl_seconds: int
    state: Mapping[str, Any] = field(default_factory=dict)
    settings_file: Path | None = None  # the configuration's settings file
    helper_command: str = ""  # token_command as one shell line (the apiKeyHelper)
    token_mode: str = "helper"  # noqa: S105 - or "static": the token in the settings file
    # static mode's token (None: a dry run's placeholder); never in a repr
    token: str | None = field(default=None, repr=False)
    # the models by role beside the main one: opus, sonnet, haiku, fable, subagent
    roles: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    context_tokens: int | None = None  # a window to declare for a main model not recognised
    statusline: str | None = None  # --statusline on|off; None: as the configuration had it
    # (whether the prices file sets a budget, a problem with it): read when the hook is planned
    budget: Callable[[], tuple[bool, str | None]] = _no_budget
    mlflow_experiment: str | None = None  # MLflow tracing into it (None: none)
    otel_tables: str | None = None  # --otel-tables; None: as the configuration had it
    otel_spans: str | None = None  # --otel-spans on|off; None: as the configuration had it
    onboarding_added: bool = False  # the record says an earlier run added the flag
    # whether a personal API key would reach the workspace past the settings file (said once)
    personal_key: Callable[[Path], bool] = _no_key
    out: Callable[[str], None] = _quiet  # a line for the user (stdout)
    warn: Callable[[str], None] = _quiet  # a warning (stderr)

    @property
    def token_command(self) -> list[str]:
        """The argv that prints a fresh token (no shell: every word as it is)."""
        return [self.helper, "token", *(["--profile", self.profile] if self.profile else [])]
