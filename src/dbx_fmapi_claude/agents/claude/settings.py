"""Claude Code settings files: what we put in them, as pure transforms, plus safe load/store.

Stdlib only: the wrapper uses it in static token mode.
"""

from __future__ import annotations

from ...core.errors import UserError
from ...core.jsonread import loads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any

CODING_AGENT_HEADER = "x-databricks-use-coding-agent-mode: true"

ENV_MODEL = "ANTHROPIC_MODEL"
ENV_BASE_URL = "ANTHROPIC_BASE_URL"
ENV_TOKEN = "ANTHROPIC_AUTH_TOKEN"  # noqa: S105 - the variable's name, not a secret
ENV_OPUS = "ANTHROPIC_DEFAULT_OPUS_MODEL"
ENV_SONNET = "ANTHROPIC_DEFAULT_SONNET_MODEL"
ENV_HAIKU = "ANTHROPIC_DEFAULT_HAIKU_MODEL"
ENV_HEADERS = "ANTHROPIC_CUSTOM_HEADERS"
ENV_BETAS = "CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS"
ENV_HELPER_TTL = "CLAUDE_CODE_API_KEY_HELPER_TTL_MS"
# Written only when there is something to say: a fable model (`claude --model fable` sends a name
# Databricks does not have otherwise), a subagent model, and the context window of a main model
# whose name Claude Code does not recognise (it would assume 1M tokens).
ENV_FABLE = "ANTHROPIC_DEFAULT_FABLE_MODEL"
ENV_SUBAGENT = "CLAUDE_CODE_SUBAGENT_MODEL"
ENV_CONTEXT = "CLAUDE_CODE_MAX_CONTEXT_TOKENS"
OPTIONAL_ENV_KEYS = (ENV_FABLE, ENV_SUBAGENT, ENV_CONTEXT)
# A model role in the record -> the settings env key that carries it
ROLE_ENV = {
    "model": ENV_MODEL,
    "opus": ENV_OPUS,
    "sonnet": ENV_SONNET,
    "haiku": ENV_HAIKU,
    "fable": ENV_FABLE,  # only when the workspace has a fable model
    "subagent": ENV_SUBAGENT,  # only when setup was given one
}
# A personal Anthropic key. Claude Code sends it as x-api-key on every request, also beside an
# apiKeyHelper (measured): to the company workspace. An empty value in the settings we write
# wins over the shell and over lower settings levels, and Claude Code then sends the helper's
# token there instead. Not one of "our" keys: we only ever blank it, never record its value.
ENV_API_KEY = "ANTHROPIC_API_KEY"
HELPER_KEY = "apiKeyHelper"

# Every env key setup may write; static-only and helper-only keys are listed separately.
COMMON_ENV_KEYS = (
    ENV_MODEL,
    ENV_BASE_URL,
    ENV_OPUS,
    ENV_SONNET,
    ENV_HAIKU,
    ENV_HEADERS,
    ENV_BETAS,
    *OPTIONAL_ENV_KEYS,
)
HELPER_ENV_KEYS = (ENV_HELPER_TTL,)
STATIC_ENV_KEYS = (ENV_TOKEN,)
ALL_ENV_KEYS = COMMON_ENV_KEYS + HELPER_ENV_KEYS + STATIC_ENV_KEYS


class SettingsCorrupt(UserError):
    """The file exists but is not a JSON object we can merge into. `salvage`: the keys that
    can still be carried over (a JSON object whose `env` is broken keeps its other keys)."""

    def __init__(self, path: Path | str, why: str, salvage: dict[str, Any] | None = None) -> None:
        super().__init__(
            f"{path} is not a valid Claude settings file ({why})",
            "re-run setup; it saves the file as a timestamped backup and repairs it: "
            "setup-fmapi-claudecode",
        )
        self.path = path
        self.why = why
        self.salvage: dict[str, Any] = salvage or {}
        self.relaxed = False  # the salvage is the whole file, read past comments/trailing commas


_JSON_TYPES = {"list": "array", "str": "string", "int": "number", "float": "number"}


def base_url(host: str, path: str = "/serving-endpoints/anthropic") -> str:
    """ANTHROPIC_BASE_URL for a route's path (routes.py); serving endpoints by default."""
    return f"{host.rstrip('/')}{path}"


def parse(raw: bytes, path: Path | str) -> dict[str, Any]:
    """Settings bytes -> dict; SettingsCorrupt for anything that is not a JSON object whose
    `env` (if present) is an object. A leading byte-order mark is fine (Claude Code reads it)."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    if not raw.strip():
        return {}
    try:
        data = loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SettingsCorrupt(path, "it is not UTF-8 text") from None
    except ValueError as exc:
        relaxed = _relaxed(raw.decode("utf-8"))
        if relaxed is not None:  # JSON with comments or trailing commas: every key kept
            err = SettingsCorrupt(
                path, f"comments or trailing commas are not JSON ({exc})", relaxed
            )
            err.relaxed = True
            raise err from None
        raise SettingsCorrupt(path, f"invalid JSON: {exc}") from None
    except RecursionError:
        raise SettingsCorrupt(path, "it is nested too deeply") from None
    if not isinstance(data, dict):
        kind = "null" if data is None else "boolean" if isinstance(data, bool) else None
        kind = kind or _JSON_TYPES.get(type(data).__name__, type(data).__name__)
        raise SettingsCorrupt(path, f"it holds a JSON {kind}, not an object")
    env = data.get("env")
    if env is not None and not isinstance(env, dict):
        salvage = {k: v for k, v in data.items() if k != "env"}
        raise SettingsCorrupt(path, '"env" is not an object', salvage)
    return data


def _relaxed(text: str) -> dict[str, Any] | None:
    """A settings object written as JSON with `//` or `/* */` comments and trailing commas (as
    editors allow), read anyway; None when it is not that either."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end == -1 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end == -1:
                return None
            out.append(" ")
            i = end + 2
        elif c in "}]":
            k = len(out) - 1
            while k >= 0 and not out[k].strip():
                k -= 1
            if k >= 0 and out[k].rstrip().endswith(","):
                out[k] = out[k].rstrip()[:-1]
            out.append(c)
            i += 1
        else:
            out.append(c)
            i += 1
    try:
        data = loads("".join(out))
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("env", {}), dict):
        return None
    return data


def load(path: Path | str) -> tuple[dict[str, Any], bytes | None]:
    """(parsed settings, original bytes or None when absent)."""
    from ...core.fileio import read_bytes  # fileio only here: the token helper only parses

    raw = read_bytes(path)
    if raw is None:
        return {}, None
    return parse(raw, path), raw


def dumps(settings: Mapping[str, Any]) -> bytes:
    import json  # writing only; reading uses jsonread (the wrapper reads on every launch)

    return (json.dumps(settings, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def store(path: Path, settings: Mapping[str, Any], *, secret: bool) -> None:
    from ...core.fileio import atomic_write

    atomic_write(path, dumps(settings), secret=secret)


def desired_env(
    *,
    host: str,
    model: str,
    opus: str,
    sonnet: str,
    haiku: str,
    mode: str,
    ttl_seconds: int,
    token: str | None = None,
    blank_api_key: bool = False,
    base: str | None = None,
    fable: str | None = None,
    subagent: str | None = None,
    context_tokens: int | None = None,
    disable_betas: bool = True,
) -> dict[str, str]:
    """Our env keys. `base`: the route's ANTHROPIC_BASE_URL (serving endpoints when None)."""
    env = {
        ENV_MODEL: model,
        ENV_BASE_URL: base or base_url(host),
        ENV_OPUS: opus,
        ENV_SONNET: sonnet,
        ENV_HAIKU: haiku,
        ENV_HEADERS: CODING_AGENT_HEADER,
    }
    if disable_betas:
        env[ENV_BETAS] = "1"
    for key, value in ((ENV_FABLE, fable), (ENV_SUBAGENT, subagent)):
        if value:
            env[key] = value
    if context_tokens:
        env[ENV_CONTEXT] = str(int(context_tokens))
    if mode == "helper":
        env[ENV_HELPER_TTL] = str(int(ttl_seconds) * 1000)
    else:
        if not token:
            raise ValueError("static mode needs a token")
        env[ENV_TOKEN] = token
    if blank_api_key:
        env[ENV_API_KEY] = ""
    return env


def merge(
    old: Mapping[str, Any],
    *,
    env: Mapping[str, str],
    helper: str | None,
    drop: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """`old` with our env keys set, the other mode's keys removed, everything else kept (order
    too). `helper` is the apiKeyHelper command (helper mode) or None (static mode). `drop`: keys
    an earlier run wrote that this one does not want, each with the value it wrote (a value
    someone changed since stays) or {"value": v} to put back what it replaced."""
    new = dict(old)
    merged_env = dict(old.get("env") or {})
    for key, wrote in (drop or {}).items():
        if key in env or key not in merged_env:
            continue
        if isinstance(wrote, dict):
            merged_env[key] = wrote.get("value")
        elif merged_env[key] == wrote:
            merged_env.pop(key)
    stale = STATIC_ENV_KEYS if helper else HELPER_ENV_KEYS
    for key in stale:
        if key not in env:
            merged_env.pop(key, None)
    if ENV_API_KEY not in env and merged_env.get(ENV_API_KEY) == "":
        merged_env.pop(ENV_API_KEY)  # our blank, no longer needed
    merged_env.update(env)
    new["env"] = merged_env
    if helper:
        new[HELPER_KEY] = helper
    else:
        new.pop(HELPER_KEY, None)
    return new


def stored_token(data: Mapping[str, Any]) -> str | None:
    """The token a static setup stored in a settings file's keys (set_token), else None."""
    token = (data.get("env") or {}).get(ENV_TOKEN)
    return token if isinstance(token, str) and token else None


def set_token(old: Mapping[str, Any], token: str) -> dict[str, Any]:
    new = dict(old)
    env = dict(old.get("env") or {})
    env[ENV_TOKEN] = token
    new["env"] = env
    return new


def remove_ours(
    old: Mapping[str, Any], *, replaced: Mapping[str, Any], helper_is_ours: bool
) -> dict[str, Any]:
    """Uninstall transform: drop our keys; put back values setup replaced (`replaced` maps an env
    key or "apiKeyHelper" to {"value": ...}); drop `env` if it ends up empty and we created it."""
    new = dict(old)
    env = dict(old.get("env") or {})
    for key in ALL_ENV_KEYS:
        prior = replaced.get(key)
        if isinstance(prior, dict) and "value" in prior:
            env[key] = prior["value"]
        else:
            env.pop(key, None)
    if env.get(ENV_API_KEY) == "":  # our blank over a personal key (see ENV_API_KEY)
        env.pop(ENV_API_KEY)
    if "env" in old:
        if env or replaced.get("env_existed"):
            new["env"] = env
        else:
            new.pop("env")
    if helper_is_ours:
        prior = replaced.get(HELPER_KEY)
        if isinstance(prior, dict) and "value" in prior:
            new[HELPER_KEY] = prior["value"]
        else:
            new.pop(HELPER_KEY, None)
    return new
