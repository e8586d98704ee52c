"""The record's schema: what each key of a configuration must hold (FIELDS, AGENT_KEYS), and the
problems a record read from disk has (a value no setup writes, keys that contradict each other).
config.py reads and migrates the record and turns the first problem into one line and a fix."""

from __future__ import annotations

from .. import agents as _registry  # the names only (no agent module is imported)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

# Keys of the whole record, not of one configuration: there is one shell block and one flag.
SHARED = ("shell", "rc_file", "executable", "onboarding_added")

# Claude Code's name in the agent registry: the key its state is under in a configuration.
CLAUDE = _registry.REQUIRED
# Claude Code's state in a configuration (version 3: under "claude", as the other agents' state
# is under their names): its models, its token mode and what setup changed in its settings file.
CLAUDE_KEYS = (
    "model",
    "opus",
    "sonnet",
    "haiku",
    "fable",
    "subagent",
    "context_tokens",
    "token_mode",
    "api_key_helper",
    "replaced",
    "env_existed",
    "settings_created",
    "statusline",
    "statusline_command",
    "prompt_hook",
    "otel_tables",
    "otel_spans",
    "otel",
    "mlflow_experiment",
    "mlflow_hook",
    "failure_hook",
)

# The credential kinds, as a configuration's "auth" (and --auth) names them, and the one fact the
# record needs of them: which no person's browser login renews (OAuth's, through a profile, does).
# Such a kind holds its secret itself, so a configuration may hold it without a profile
# (DATABRICKS_* variables, as in CI). auth/source.py has a class for each kind (its token, what
# doctor checks; the registry BY_NAME) and takes the names and this fact from here: the record
# may not import auth.
OAUTH, M2M, PAT = "oauth", "m2m", "pat"
CREDENTIAL_KINDS = (OAUTH, M2M, PAT)
WITHOUT_PROFILE = (M2M, PAT)


# What each key of the record must hold: the JSON types allowed, or the values allowed. null is
# allowed for every key but `version` and means "not recorded" (readers use .get()); `host` and
# `profile` must be non-empty for the record to count as set up at all (`require`).
_STR = (str,)
_NUMBER = (int, float)
FIELDS: dict[str, tuple[tuple[type, ...] | frozenset[str], str]] = {
    "host": (_STR, "a workspace URL"),
    "profile": (_STR, "a Databricks CLI profile name"),
    "auth": (frozenset(CREDENTIAL_KINDS), '"oauth", "m2m" or "pat"'),  # test_registry checks
    "model": (_STR, "an endpoint name"),
    "opus": (_STR, "an endpoint name"),
    "sonnet": (_STR, "an endpoint name"),
    "haiku": (_STR, "an endpoint name"),
    "fable": (_STR, "an endpoint name"),
    "subagent": (_STR, "an endpoint name"),
    "context_tokens": (_NUMBER, "a number of tokens above 0"),
    "route": (
        frozenset({"ai-gateway", "serving-endpoints"}),
        '"ai-gateway" or "serving-endpoints"',
    ),
    "route_auto": ((bool,), "true or false"),
    "settings_location": (_STR, '"home", "cwd" or a folder'),
    "settings_file": (_STR, "a path"),
    "token_mode": (frozenset({"helper", "static"}), '"helper" or "static"'),
    "ttl_seconds": (_NUMBER, "a number of seconds above 0"),
    "margin_seconds": (_NUMBER, "a number of seconds, 0 or more"),
    "shell": (frozenset({"zsh", "bash", "fish", "none"}), '"zsh", "bash", "fish" or "none"'),
    "rc_file": (_STR, "a path"),
    "git_exclude": (_STR, "a path"),
    "executable": (_STR, "a path"),
    "api_key_helper": (_STR, "a command"),
    "team": (_STR, "a team file source"),
    "replaced": ((dict,), 'an object of {"value": ...} objects'),
    "env_existed": ((bool,), "true or false"),
    "settings_created": ((bool,), "true or false"),
    "onboarding_added": ((bool,), "true or false"),
    "statusline": (frozenset({"on", "off"}), '"on" or "off"'),
    "statusline_command": (_STR, "a command"),
    "prompt_hook": (_STR, "a command"),
    "mlflow_experiment": (_STR, "an MLflow experiment's workspace path"),
    "mlflow_hook": (_STR, "a command"),
    "failure_hook": (_STR, "a command"),
    "agents": ((list,), "a list of " + ", ".join(f'"{n}"' for n in _registry.NAMES)),
    CLAUDE: ((dict,), "an object (the Claude Code state)"),
    "mcp": ((list,), "a list of MCP servers (dbx-fmapi mcp add)"),
    "otel_tables": (_STR, "CATALOG.SCHEMA.PREFIX (--otel-tables)"),
    "otel_spans": (frozenset({"on", "off"}), '"on" or "off" (--otel-spans)'),
    "otel": ((dict,), "an object (what --otel-tables wrote into Claude Code's settings)"),
}
AGENT_NAMES = _registry.NAMES  # agents/__init__.py's registry order
# The agents with a state of their own in a configuration (Claude Code's keys are the record's).
AGENT_STATES = tuple(n for n in AGENT_NAMES if n not in _registry.DEFAULT)
# What each agent's state may hold: key -> the JSON types allowed.
AGENT_KEYS: dict[str, tuple[type, ...]] = {
    "file": (str,),
    "created": (bool,),
    "model": (str,),
    "route": (str,),
    "base_url": (str,),
    "provider": (str,),
    "replaced": (dict,),
}


def agents_of(cfg: Mapping[str, Any] | None) -> list[str]:
    """The agents a configuration set up; a record from before agents existed: Claude Code."""
    found = (cfg or {}).get("agents")
    if not isinstance(found, list) or not found:
        return list(_registry.DEFAULT)
    return [a for a in AGENT_NAMES if a in found]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string" if value else "an empty string"
    return "a list" if isinstance(value, list) else "an object"


def _problem(key: str, value: Any) -> str | None:
    """Why `value` cannot be `key`'s, None when it can (or the key is not ours to check)."""
    spec = FIELDS.get(key) or (((dict,), "an object") if key in AGENT_STATES else None)
    if spec is None or value is None:
        return None
    allowed, what = spec
    if isinstance(allowed, frozenset):
        ok = isinstance(value, str) and value in allowed
    elif allowed is _NUMBER:
        # not bool (JSON true is no duration); x - x == 0 rules out NaN and the infinities
        ok = isinstance(value, _NUMBER) and not isinstance(value, bool) and value - value == 0
        ok = ok and (value > 0 if key in ("ttl_seconds", "context_tokens") else value >= 0)
    elif key == "replaced":
        ok = isinstance(value, dict) and all(isinstance(v, dict) for v in value.values())
    elif key == "agents":
        ok = isinstance(value, list) and all(v in AGENT_NAMES for v in value)
        if not ok and isinstance(value, list):
            bad = next((v for v in value if v not in AGENT_NAMES), None)
            shown = f'"{bad}"' if isinstance(bad, str) and len(bad) <= 20 else _json_type(bad)
            return f"must be {what}, not a list holding {shown}"
    elif key in AGENT_STATES:
        ok = isinstance(value, dict) and all(
            v is None or isinstance(v, AGENT_KEYS.get(k, (object,))) for k, v in value.items()
        )
        if not ok:  # its label only now: reading a good record imports no agent
            what = f"an object (the {_registry.get(key).label} state)"
        if not ok and isinstance(value, dict):
            k = next(
                k for k, v in value.items() if v is not None and not isinstance(v, AGENT_KEYS[k])
            )
            return f'must be {what}: its "{k}" holds {_json_type(value[k])}'
    else:
        ok = isinstance(value, allowed)
    if ok:
        return None
    if isinstance(allowed, frozenset) and isinstance(value, str) and len(value) <= 20:
        shown = f'"{value}"'  # a short word of ours: shown, unlike any other string
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        shown = repr(value)
    else:
        shown = _json_type(value)
    return f"must be {what}, not {shown}"


def flat(one: Mapping[str, Any]) -> dict[str, Any]:
    """A configuration's own keys with Claude Code's state lifted beside them (one level)."""
    out = {k: v for k, v in one.items() if k != CLAUDE}
    claude = one.get(CLAUDE)
    if isinstance(claude, dict):
        out.update(claude)
    return out


def nest(one: Mapping[str, Any]) -> dict[str, Any]:
    """A flat configuration as version 3 keeps it: Claude Code's keys under "claude"."""
    out = {k: v for k, v in one.items() if k not in CLAUDE_KEYS}
    out[CLAUDE] = {k: one[k] for k in CLAUDE_KEYS if k in one}
    return out


def _config_problems(one: Mapping[str, Any]) -> list[tuple[str, str]]:
    claude = one.get(CLAUDE)
    if claude is not None and not isinstance(claude, dict):
        return [(CLAUDE, f"must be an object (the Claude Code state), not {_json_type(claude)}")]
    data = flat(one)
    out = [(key, why) for key, value in data.items() if (why := _problem(key, value)) is not None]
    static = data.get("token_mode") == "static"
    if static and not data.get("settings_file") and all(k != "settings_file" for k, _ in out):
        out.append(("settings_file", "is missing, and static token mode needs it"))
    return out


def problems(data: dict[str, Any]) -> list[tuple[int | None, str, str]]:
    """(configuration index or None for a shared key, key, why) for each value no setup writes,
    and for keys that contradict each other. `configs` itself must be a list of objects."""
    out: list[tuple[int | None, str, str]] = [
        (None, key, why) for key in SHARED if (why := _problem(key, data.get(key))) is not None
    ]
    configs = data.get("configs")
    if configs is None:
        return out
    if not isinstance(configs, list) or not all(isinstance(c, dict) for c in configs):
        return [*out, (None, "configs", f"must be a list of objects, not {_json_type(configs)}")]
    for i, one in enumerate(configs):
        out += [(i, key, why) for key, why in _config_problems(one)]
    return out


def _detail(data: Mapping[str, Any], index: int | None, why: str) -> str:
    """`why`, saying whose key it is when the record holds several configurations."""
    configs = data.get("configs") or []
    if index is None or len(configs) < 2:
        return why
    return f"(the configuration for {configs[index].get('settings_file') or index}) {why}"
