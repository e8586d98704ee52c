"""The frozen results setup's steps return (setup/steps.py runs them; setup/flow.py declares
them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Mode:
    """Whether setup asks (a terminal, no --host, no --yes) or takes flags and defaults."""

    interactive: bool


@dataclass(frozen=True)
class Executables:
    """The installed programs the configuration runs: `dbx-fmapi` (the token helper, the status
    line) and the wrapper `dbx-fmapi-claude`."""

    helper: str
    wrapper: str


@dataclass(frozen=True)
class Target:
    """The settings file this run's configuration is for."""

    path: Path
