"""One configuration as its readers see it, typed: `Configuration` (config.views, in_effect,
require). Standard library only and nothing imported: the token helper and the wrapper build one
on every call.

A Configuration is the configuration's keys with Claude Code's state (under "claude" in the
record) and the keys every configuration shares lifted beside them, so it is also the plain
mapping of version 1's keys; the properties say what each key holds, with the default a reader
assumes when setup did not record it. A plain dict subclass (no dataclass, no typing at run time):
building one costs a dict copy.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    _Base = dict[str, Any]
else:
    _Base = dict

# role -> the record key of the endpoint filling it (the settings env names: setupstate.ROLES)
ROLE_KEYS = ("model", "opus", "sonnet", "haiku", "fable", "subagent")


def _str(value: Any) -> str | None:
    return str(value) if value else None


class Configuration(_Base):
    """A configuration: its own keys, Claude Code's, and the shared ones (shell, rc_file,
    executable, onboarding_added)."""

    __slots__ = ()

    # --- where, which workspace, which credential ------------------------------------------

    @property
    def host(self) -> str | None:
        return _str(self.get("host"))

    @property
    def profile(self) -> str | None:
        return _str(self.get("profile"))

    @property
    def auth(self) -> str:
        """The credential kind: "oauth", "m2m" or "pat"; OAuth through the CLI when setup
        recorded none (as it did before the other kinds)."""
        from .fields import OAUTH  # loaded with the record (config.py)

        return _str(self.get("auth")) or OAUTH

    @property
    def settings_file(self) -> str | None:
        """Claude Code's settings file this configuration manages (as given, not resolved)."""
        return _str(self.get("settings_file"))

    @property
    def settings_location(self) -> str | None:
        return _str(self.get("settings_location"))

    @property
    def route(self) -> str | None:
        return _str(self.get("route"))

    @property
    def ttl_seconds(self) -> float | None:
        value = self.get("ttl_seconds")
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    @property
    def margin_seconds(self) -> float | None:
        value = self.get("margin_seconds")
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    @property
    def team(self) -> str | None:
        return _str(self.get("team"))

    @property
    def git_exclude(self) -> str | None:
        return _str(self.get("git_exclude"))

    @property
    def is_set_up(self) -> bool:
        """A setup finished: a workspace, and a profile unless the credential is a service
        principal or a PAT given as DATABRICKS_* variables (CI)."""
        from .config import is_set_up  # the one rule (and the credential kinds' names)

        return is_set_up(self)

    # --- the shared keys -------------------------------------------------------------------

    @property
    def shell(self) -> str | None:
        return _str(self.get("shell"))

    @property
    def rc_file(self) -> str | None:
        return _str(self.get("rc_file"))

    @property
    def executable(self) -> str | None:
        return _str(self.get("executable"))

    @property
    def onboarding_added(self) -> bool:
        return bool(self.get("onboarding_added"))

    # --- Claude Code's state ---------------------------------------------------------------

    @property
    def model(self) -> str | None:
        return _str(self.get("model"))

    @property
    def token_mode(self) -> str:
        """ "static" (the token in the settings file) or "helper" (the default)."""
        return "static" if self.get("token_mode") == "static" else "helper"

    @property
    def static(self) -> bool:
        """Static token mode: the token in Claude Code's settings file, refreshed by the wrapper."""
        return self.get("token_mode") == "static"

    @property
    def api_key_helper(self) -> str | None:
        return _str(self.get("api_key_helper"))

    @property
    def replaced(self) -> dict[str, Any]:
        found = self.get("replaced")
        return dict(found) if isinstance(found, dict) else {}

    @property
    def env_existed(self) -> bool:
        return bool(self.get("env_existed"))

    @property
    def settings_created(self) -> bool:
        return bool(self.get("settings_created"))

    @property
    def statusline(self) -> str:
        """ "on" (the default) or "off"."""
        return "off" if self.get("statusline") == "off" else "on"

    @property
    def statusline_command(self) -> str | None:
        return _str(self.get("statusline_command"))

    @property
    def prompt_hook(self) -> str | None:
        return _str(self.get("prompt_hook"))

    @property
    def models(self) -> dict[str, str]:
        """role -> endpoint name, for the roles setup recorded."""
        return {role: str(self[role]) for role in ROLE_KEYS if self.get(role)}

    # --- the agents ------------------------------------------------------------------------

    @property
    def agents(self) -> list[str]:
        """The agents this configuration set up, in the registry's order."""
        from .fields import agents_of

        return agents_of(self)

    def state(self, name: str) -> dict[str, Any] | None:
        """An agent's state: the object under its name in the record (for Claude Code, whose
        keys this view lifts beside the configuration's, those keys), with its config `file`
        (Claude Code's: the settings file); None when the record holds none."""
        from .fields import CLAUDE, CLAUDE_KEYS

        if name == CLAUDE:  # the record's own layout (fields.CLAUDE_KEYS), not a special agent
            out = {k: self[k] for k in ("settings_file", *CLAUDE_KEYS) if k in self}
            if self.get("settings_file"):
                out["file"] = self["settings_file"]
            return out
        found = self.get(name)
        return found if isinstance(found, dict) else None

    @property
    def mcp(self) -> list[dict[str, Any]]:
        found = self.get("mcp")
        return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []
