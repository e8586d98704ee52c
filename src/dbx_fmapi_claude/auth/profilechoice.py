"""Which profile setup offers for a workspace: the profiles of ~/.databrickscfg with their
hosts, the one `databricks auth switch` chose, and the rule that picks one for a host (used by
setup and by reading a team file from the workspace)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..core.context import Context
from ..workspace.hosts import same_host
from . import databrickscfg

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PROFILE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}")


def profile_hosts(ctx: Context) -> dict[str, str] | None:
    """{profile: host} from ~/.databrickscfg ({} when absent). A file the CLI cannot read
    either is an error naming the file and line (UserError, exit 1): treating it as empty would
    start a login that fails on the same file."""
    sections = databrickscfg.read(str(ctx.paths.home), ctx.env) or {}
    return {
        name: databrickscfg.host_of(keys) or ""
        for name, keys in databrickscfg.profiles(sections).items()
    }


def switched_profile(ctx: Context) -> str | None:
    """`[__settings__] default_profile` (`databricks auth switch`, the first login)."""
    return databrickscfg.default_profile(databrickscfg.read(str(ctx.paths.home), ctx.env) or {})


def offered_profile(
    prev: Mapping[str, Any],
    host: str,
    profiles: Mapping[str, str] | None,
    switched: str | None = None,
) -> str:
    """The profile offered for `host`: the previous run's, else the CLI's default profile
    (`switched`), else DEFAULT, else any profile of that workspace, when they are for it."""
    if prev.get("profile") and prev.get("host") == host:
        return str(prev["profile"])
    known = dict(profiles or {})
    if switched and known.get(switched) and same_host(known[switched], host):
        return switched
    if known.get("DEFAULT") and same_host(known["DEFAULT"], host):
        return "DEFAULT"
    for name, h in known.items():
        if h and same_host(h, host) and PROFILE_RE.fullmatch(name):
            return name
    if not known.get("DEFAULT"):
        return "DEFAULT"
    label = host.split("://", 1)[-1].split(".", 1)[0].split(":", 1)[0]
    label = re.sub(r"[^A-Za-z0-9_.-]", "-", label).strip("-") or "workspace"
    name, n = label, 1
    while name in known:
        n += 1
        name = f"{label}-{n}"
    return name
