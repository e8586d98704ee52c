"""The coding agents this tool configures, by name: a registry of `Agent`s (agents/base.py).

Adding an agent = a module with an `AGENT` and one line in MODULES. Nothing is imported here
until `get` is called: the token helper and the wrapper import this package on every call.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .base import Agent

# name -> the module holding its AGENT; the order is the order setup asks and reports in.
MODULES = {
    "claude": "dbx_fmapi_claude.agents.claude.agent",
    "codex": "dbx_fmapi_claude.agents.codex.agent",
    "gemini": "dbx_fmapi_claude.agents.gemini.agent",
    "opencode": "dbx_fmapi_claude.agents.opencode.agent",
}
NAMES = tuple(MODULES)
# The agent every configuration sets up (its Agent is `required`): a record that names no agents
# set up this one alone, and the record keeps its state's keys itself (record/fields.py).
REQUIRED = "claude"
DEFAULT = (REQUIRED,)


def get(name: str) -> Agent:
    """The agent called `name` (KeyError for a name not in NAMES)."""
    module = __import__(MODULES[name], fromlist=["AGENT"])
    agent: Agent = module.AGENT
    return agent


def every() -> list[Agent]:
    return [get(n) for n in NAMES]
