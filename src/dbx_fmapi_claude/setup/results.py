"""The frozen results setup's steps return (setup/steps.py runs them; setup/flow.py declares
them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..auth import credentials


@dataclass(frozen=True)
class Mode:
    """Whether setup asks (a terminal, no --host, no --yes) or takes flags and defaults."""

    interactive: bool


@dataclass(frozen=True)
class Credential:
    """Where the token comes from: the workspace's credential (a profile's OAuth, a service
    principal or a personal access token; None: not known yet) and the profiles in
    ~/.databrickscfg with their hosts (None: the file could not be read)."""

    source: credentials.Source | None = None
    profiles: Mapping[str, str] | None = None


@dataclass(frozen=True)
class SignedIn:
    """The access token setup signed in with, for the requests to the workspace (None: a dry
    run that could not sign in). Never in a repr."""

    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Executables:
    """The installed programs the configuration runs: `dbx-fmapi` (the token helper, the status
    line) and the wrapper `dbx-fmapi-claude`."""

    helper: str
    wrapper: str


@dataclass(frozen=True)
class Target:
    """The settings file this run's configuration is for, and, when git must ignore it, the
    repository's exclude file and the pattern (static mode's token file, helper mode's own
    settings beside a team's tracked settings.json)."""

    path: Path
    exclude: tuple[Path, str] | None = None


@dataclass(frozen=True)
class Agents:
    """The coding agents chosen (registry order, the required one included) and the models
    chosen for the others so far: the model flags', then every one's (agent, model)."""

    names: tuple[str, ...] = ("claude",)
    models: tuple[tuple[str, str], ...] = ()

    def model(self, agent: str) -> str | None:
        return dict(self.models).get(agent)

    def but(self, agent: str) -> str:
        """The --agents value that leaves `agent` out."""
        return ",".join(a for a in self.names if a != agent)


@dataclass(frozen=True)
class AgentRoutes:
    """Each other agent's route: (agent, route name, base URL), in the registry's order."""

    routes: tuple[tuple[str, str, str], ...] = ()

    def of(self, agent: str) -> tuple[str, str]:
        """(route name, base URL) of `agent`."""
        for name, route, base in self.routes:
            if name == agent:
                return route, base
        raise KeyError(agent)
