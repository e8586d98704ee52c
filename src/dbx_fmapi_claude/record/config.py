"""Our own record of setup: the answers and what we changed. Never holds a token. Stdlib only.

`<config_dir>/config.json` (0600), written by setup, read by everything else through `load`,
which checks it (fields.py says the type of each key), migrates an older version in memory (a
record with no version is version 1) and refuses a version newer than this code reads: a damaged
or unknown record is one line naming the file, the key and the fix, never a traceback.

Version 3 holds several configurations, one per settings file (each its own workspace, profile,
route, models and token mode), in the order they were first set up, and the keys they share
(SHARED: the one shell block, the one onboarding flag); in each, Claude Code's state (CLAUDE_KEYS:
its models, token mode and what setup changed in its settings) is under "claude", as the other
agents' state is under their names. The older formats migrate in memory, one module per step
(migrations/). Readers get a configuration as one typed view (view.py `Configuration`, also the
flat mapping of version 1's keys): the one Claude Code uses in a folder (`in_effect`: the
precedence Claude Code applies: `<cwd>/.claude/settings.local.json`, `<cwd>/.claude/settings.json`,
then `~/.claude/settings.json`; measured: Claude Code reads project settings from the folder it
starts in, not from the git root), or the one for a settings file (`view_for`).

    version            RECORD_VERSION (3)
    configs            [configuration, ...]: the keys below but SHARED, one per settings_file;
                       Claude Code's (CLAUDE_KEYS) in its "claude" object
    host               normalised workspace URL, e.g. "https://x.cloud.databricks.com"
    profile            Databricks CLI profile name
    model, opus, sonnet, haiku       endpoint names
    fable, subagent    the fable model and the subagent model, when setup wrote one
    context_tokens     the CLAUDE_CODE_MAX_CONTEXT_TOKENS setup wrote (a main model Claude Code
                       does not recognise), when it wrote one
    route              "ai-gateway" or "serving-endpoints" (routes.py); absent: serving endpoints
    route_auto         the route was chosen by --route auto (a re-run may choose again)
    settings_location  the answer: "home", "cwd" or a folder path
    settings_file      absolute path of the .claude/settings.json we manage (as given, not resolved)
    token_mode         "helper" or "static"
    ttl_seconds        apiKeyHelper TTL; margin_seconds: extra lifetime beyond it
    shell              (shared) "zsh", "bash", "fish" or "none"; rc_file: the file holding our
                       block or null
    executable         (shared) absolute path of dbx-fmapi-claude that the rc block calls
    api_key_helper     the apiKeyHelper command setup wrote (helper mode; kept in static mode)
    replaced           {key: {"value": previous}} for settings keys (env names, "apiKeyHelper")
                       whose earlier value setup overwrote, recorded the first time only; an
                       earlier ANTHROPIC_AUTH_TOKEN is never recorded (it is a secret)
    env_existed        the settings file had an "env" object before setup
    settings_created   setup created the settings file
    onboarding_added   (shared) setup added hasCompletedOnboarding to ~/.claude.json
    agents             the coding agents this configuration set up, Claude Code first
                       (agents/__init__.py NAMES); absent: ["claude"] (a record from a release
                       that set up Claude Code only)
    codex, gemini, opencode (each agent's name beside Claude Code's, agents/__init__.py)
                       each agent's state (AGENT_KEYS): its config `file`, whether setup
                       `created` it, the `model`, the `route` and `base_url` on the workspace,
                       its `provider` id, and what setup replaced in the file (`replaced`)
    mcp                the managed MCP servers `dbx-fmapi mcp add` gave the agents:
                       [{name, kind, target, path}] (mcp/servers.py)

The bytes of each user file as it was before setup first changed it: originals.py.
"""

from __future__ import annotations

from ..core.errors import UserError
from ..core.jsonread import loads
from .fields import AGENT_KEYS as AGENT_KEYS
from .fields import AGENT_NAMES as AGENT_NAMES
from .fields import CLAUDE as CLAUDE
from .fields import CLAUDE_KEYS as CLAUDE_KEYS
from .fields import FIELDS as FIELDS
from .fields import SHARED as SHARED
from .fields import WITHOUT_PROFILE, _detail, _json_type, flat
from .fields import agents_of as agents_of
from .fields import nest as nest
from .fields import problems as problems
from .view import Configuration as Configuration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from os import PathLike
    from typing import Any

    from ..core.paths import Paths

DEFAULT_TTL_SECONDS = 15 * 60
DEFAULT_MARGIN_SECONDS = 5 * 60


RECORD_VERSION = 3
REPAIR = "re-run setup to rewrite it: setup-fmapi-claudecode"
UPGRADE = "update dbx-fmapi-claude: git pull in your clone, then bash setup-fmapi-claudecode.sh"


class RecordDamaged(UserError):
    """The record parses but a key holds what no setup writes."""

    def __init__(self, path: str, key: str, detail: str) -> None:
        super().__init__(f'{path} is damaged: "{key}" {detail}', REPAIR)
        self.key = key


class RecordTooNew(UserError):
    """Written by a newer release: reading it could misread or, on rewrite, lose what it holds."""

    def __init__(self, path: str, version: int) -> None:
        super().__init__(
            f"{path} was written by a newer dbx-fmapi-claude (record version {version}; this "
            f"one reads up to version {RECORD_VERSION}); nothing was changed",
            UPGRADE,
        )
        self.version = version


def migrate(data: dict[str, Any], path: str) -> dict[str, Any]:
    """`data` as a record of RECORD_VERSION, in memory only (the file changes when setup next
    writes it); RecordTooNew for a version this code does not know."""
    if "version" not in data or data["version"] is None:
        data = {**data, "version": 1}  # written before the record carried a version
    version = data["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        shown = repr(version) if type(version) in (int, float) else _json_type(version)
        raise RecordDamaged(path, "version", f"must be a whole number from 1, not {shown}")
    if version > RECORD_VERSION:
        raise RecordTooNew(path, version)
    if version < RECORD_VERSION:
        from .migrations import STEPS  # only for an older record: not on every read
    while version < RECORD_VERSION:
        data = STEPS[version](data)
        version = data["version"]
    return data


def _read(paths: Paths) -> dict[str, Any] | None:
    path = paths.config_path
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        from ..core.fileio import q  # fileio only when needed: the token helper's path

        raise UserError(
            f"cannot read {path}: {exc.strerror or exc}",
            f"ls -l {q(path)}",
        ) from None
    try:
        data = loads(raw)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise UserError(f"{path} is not valid JSON", REPAIR)
    return migrate(data, path)


def load_record(paths: Paths) -> dict[str, Any] | None:
    """The whole record (every configuration), None when setup never ran; UserError when it is
    unreadable, damaged (RecordDamaged) or from a newer release (RecordTooNew). Reading never
    writes."""
    data = _read(paths)
    if data is not None:
        found = problems(data)
        if found:
            index, key, why = found[0]
            raise RecordDamaged(paths.config_path, key, _detail(data, index, why))
    return data


def views(record: Mapping[str, Any] | None) -> list[Configuration]:
    """Each configuration as one typed view (version 1's keys: its own, Claude Code's and the
    shared ones), oldest first."""
    if not record:
        return []
    shared = {k: record[k] for k in SHARED if k in record}
    return [Configuration({**shared, **flat(one)}) for one in record.get("configs") or []]


def _same_file(a: str, b: str) -> bool:
    import os

    if os.path.normpath(os.path.expanduser(a)) == os.path.normpath(b):
        return True
    try:
        return os.path.samefile(os.path.expanduser(a), b)
    except OSError:
        return False


def view_for(
    record: Mapping[str, Any] | None, settings_file: str | PathLike[str]
) -> Configuration | None:
    """The configuration that manages `settings_file`, None when none does."""
    import os

    return _managing(views(record), os.fspath(settings_file))


def _managing(every: list[Configuration], wanted: str) -> Configuration | None:
    for one in every:
        if one.settings_file and _same_file(one.settings_file, wanted):
            return one
    return None


def in_effect(
    record: Mapping[str, Any] | None, paths: Paths, cwd: str | PathLike[str]
) -> Configuration | None:
    """The configuration Claude Code started in `cwd` uses: of the settings files it reads there,
    the one with the highest precedence that one of ours manages. Strings, not pathlib: the
    token helper and the wrapper call this."""
    import os

    folder = os.path.join(os.fspath(cwd), ".claude")
    every = views(record)
    for candidate in (
        os.path.join(folder, "settings.local.json"),
        os.path.join(folder, "settings.json"),
        os.path.join(paths.home_path, ".claude", "settings.json"),
    ):
        found = _managing(every, candidate)
        if found is not None:
            return found
    return None


def latest(record: Mapping[str, Any] | None) -> Configuration | None:
    """The configuration set up last (a re-run keeps a configuration where it was)."""
    every = views(record)
    return every[-1] if every else None


def load(paths: Paths, cwd: str | PathLike[str] | None = None) -> Configuration | None:
    """One configuration, flat: the one in effect in `cwd` (None when none is), or without `cwd`
    the one set up last. None when setup never ran. Raises as load_record does."""
    record = load_record(paths)
    return latest(record) if cwd is None else in_effect(record, paths, cwd)


def elsewhere(paths: Paths, cwd: str | PathLike[str]) -> UserError | None:
    """When configurations exist but none is in effect in `cwd`: the error that says where
    they are; None otherwise (not set up at all, or one is in effect)."""
    from pathlib import Path

    record = load_record(paths)
    every = [v for v in views(record) if is_set_up(v)]
    if not every or in_effect(record, paths, cwd) is not None:
        return None
    where = ", ".join(str(v.get("settings_file")) for v in every)
    folder = str(Path(str(every[-1].get("settings_file"))).parent.parent)
    from ..core.fileio import q

    return UserError(
        f"no dbx-fmapi-claude setup applies in {cwd}: Claude Code here reads none of the "
        f"settings files set up ({where})",
        f"cd {q(folder)}, or set this folder up: setup-fmapi-claudecode --settings-location cwd",
    )


def salvage(paths: Paths) -> tuple[dict[str, Any] | None, list[str]]:
    """For the commands that repair or remove (setup, uninstall): the whole record without the
    keys that are damaged, and a note for each one dropped. Unreadable or too new still
    raises."""
    data = _read(paths)
    if data is None:
        return None, []
    notes = []
    found = problems(data)
    for index, key, why in found:
        notes.append(f'{paths.config_path}: "{key}" {_detail(data, index, why)} (left out)')
    for index, key, _why in reversed(found):
        if index is None:
            data.pop(key, None)
            continue
        one = data["configs"][index]
        claude = one.get(CLAUDE)
        if key in CLAUDE_KEYS and isinstance(claude, dict) and key in claude:
            claude.pop(key)
        else:
            one.pop(key, None)
    if not isinstance(data.get("configs"), list):
        data["configs"] = []
    return data, notes


def is_set_up(cfg: Mapping[str, Any] | None) -> bool:
    """A configuration a setup finished: a workspace, and a profile unless the credential is a
    service principal or a PAT given as DATABRICKS_* variables (CI)."""
    if not cfg or not cfg.get("host"):
        return False
    return bool(cfg.get("profile")) or cfg.get("auth") in WITHOUT_PROFILE


def require(paths: Paths, cwd: str | PathLike[str] | None = None) -> Configuration:
    """The configuration in effect in `cwd` (or the latest), or the error that says how to get
    one."""
    cfg = load(paths, cwd)
    if cfg is None or not is_set_up(cfg):
        if cwd is not None:
            away = elsewhere(paths, cwd)
            if away is not None:
                raise away
        raise UserError("dbx-fmapi-claude is not set up yet", "setup-fmapi-claudecode")
    return cfg


def save(paths: Paths, cfg: dict[str, Any]) -> None:
    import json  # not at import: reading needs only jsonread; json is costly on the helper path

    from ..core.fileio import atomic_write

    text = json.dumps(cfg, indent=2, sort_keys=True) + "\n"
    atomic_write(paths.config_file, text.encode(), secret=True)


def parse_duration(text: str) -> int:
    """`15m`, `90s`, `1h`, or a bare number of minutes -> seconds (> 0)."""
    s = str(text).strip().lower()
    units = {"s": 1, "m": 60, "h": 3600}
    mult = 60
    if s and s[-1] in units:
        mult = units[s[-1]]
        s = s[:-1].strip()
    try:
        value = float(s)
    except ValueError:
        raise ValueError(f"not a duration: {text!r} (use e.g. 15m, 90s, 1h)") from None
    seconds = int(round(value * mult))
    if not 0 < seconds <= 24 * 3600:
        raise ValueError(f"duration out of range: {text!r} (1s to 24h)")
    return seconds
