"""What doctor checks of an agent's config on lines of their own (`Agent.aspects`, each judged by
`Agent.examine`): the required agent's settings file, what overrides it where it starts, its
apiKeyHelper, and with a token the helper's run or the token stored in the file.
doctor/agent_checks.py turns each aspect into a check of its graph."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .base import Finding

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@dataclass(frozen=True)
class Aspect:
    """A part of an agent's config that doctor checks on a line of its own, in the order given
    (the required agent's: its settings file, what overrides it where it starts, its
    apiKeyHelper; then its apiKeyHelper's run or the token stored in the file). `id` and
    `title`: doctor's; `needed_as`: how a SKIP names it; `requires` and `within`: other checks by
    id, as doctor's graph takes them (the agent's aspects, "config", the setup record, or
    "token", a token for the configuration's credential); `when`: only for the configurations it
    holds for; `after`: the doctor check it is listed after, with the aspects declared after the
    same one; `progress`: what the progress line says while it is judged (a program it runs)."""

    id: str
    title: str
    needed_as: str = ""
    requires: tuple[str, ...] = ()
    within: tuple[str, ...] = ()
    when: Callable[[Mapping[str, Any]], bool] | None = None
    after: str = "config"
    progress: str = ""


@dataclass(frozen=True)
class Verdict:
    """What an aspect found: its findings (none: it holds, `passed` says how; neither: it has
    nothing to say, what it would judge was judged before) and `value`, what the checks after it
    read (the settings level setup manages, the apiKeyHelper command)."""

    findings: tuple[Finding, ...] = ()
    passed: str = ""
    value: Any = None
