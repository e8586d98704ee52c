"""The frozen results setup's steps return (setup/steps.py runs them; setup/flow.py declares
them)."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..auth import credentials
from ..record import config
from ..record.view import Configuration
from ..workspace import catalogue
from . import steps
from .answers import HELPER, Answers

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# A credential Source is slotted and holds a secret, which must not be copied into bytes: it is
# read-only by contract (the host step sets its host before returning it; nothing after).
steps.READ_ONLY.add(credentials.Source)
# Held by a Listing only, which hands out copies (Listing.catalogue).
steps.READ_ONLY.add(catalogue.Catalogue)


def _json(value: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(value or {}))


@dataclass(frozen=True)
class Previous:
    """config.json as setup found it (every configuration; damaged keys left out), and the
    configuration whose answers are the defaults (the one in effect here, else the latest).
    Kept as text: each reader gets its own copy."""

    record_text: str = "{}"
    defaults_text: str = "{}"

    @classmethod
    def of(cls, record: Mapping[str, Any], defaults: Mapping[str, Any] | None) -> Previous:
        return cls(_json(record), _json(defaults))

    def record(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.record_text)
        return loaded

    def defaults(self) -> Configuration:
        return Configuration(json.loads(self.defaults_text))

    def config_at(self, path: Path) -> Configuration | None:
        """The configuration whose settings file is `path`, or the settings.local.json beside
        it (static mode's in a git-tracked folder)."""
        record = self.record()
        return config.view_for(record, path) or config.view_for(
            record, path.with_name("settings.local.json")
        )


@dataclass(frozen=True)
class Flags:
    """The answers the flags give (checked), with the previous run's token lifetime, token
    mode and shell; `defaults_text`: the configuration whose answers are the defaults (with
    --settings-location, that location's own)."""

    answers: Answers
    defaults_text: str = "{}"

    def defaults(self) -> Configuration:
        return Configuration(json.loads(self.defaults_text))


@dataclass(frozen=True)
class Mode:
    """Whether setup asks (a terminal, no --host, no --yes) or takes flags and defaults."""

    interactive: bool


@dataclass(frozen=True)
class Credential:
    """The workspace and where the token comes from: its URL, the profile ("": the
    DATABRICKS_* variables), the token mode (helper when the credential cannot go into a
    file), the credential (a profile's OAuth, a service principal or a personal access token;
    None: not known yet) and the profiles in ~/.databrickscfg with their hosts (None: the file
    could not be read)."""

    source: credentials.Source | None = None
    profiles: Mapping[str, str] | None = None
    host: str = ""
    profile: str = ""
    token_mode: str = HELPER


@dataclass(frozen=True)
class Env:
    """The environment setup runs programs in: the user's, with the installers' folders on
    PATH once setup installed something."""

    env: Mapping[str, str]


@dataclass(frozen=True)
class Listing:
    """The workspace's models, through every listing it offers (workspace/catalogue.py): each
    reader gets its own copy (the route step makes a new listing with the AI Gateway's
    models). The listings' errors are said by the step that read them, not kept."""

    listed: catalogue.Catalogue | None = field(default=None, repr=False)

    @classmethod
    def of(cls, listed: catalogue.Catalogue) -> Listing:
        return cls(copy.deepcopy(replace(listed, errors={})))

    def catalogue(self) -> catalogue.Catalogue:
        if self.listed is None:
            return catalogue.Catalogue()
        return copy.deepcopy(self.listed)


@dataclass(frozen=True)
class RouteChoice:
    """Claude Code's route (its name; `auto`: chosen by setup, not --route) and the models
    listed, the AI Gateway's included when it answered."""

    name: str
    auto: bool
    listing: Listing


@dataclass(frozen=True)
class Models:
    """Claude Code's models by role ("": none for fable; subagents use the main model)."""

    model: str
    opus: str
    sonnet: str
    haiku: str
    fable: str = ""
    subagent: str = ""


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
    location: str = "home"  # the settings location answered: home, cwd or a folder


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
