"""`setup-fmapi-claudecode --team SOURCE`: the team file's values as setup's answers.

Before any step runs, the team file is read (team/sources.py) and checked (team/schema.py); each
value it gives becomes the answer to the flag it stands for, unless the developer passed that
flag. A key in `locked` cannot be answered otherwise: a flag that disagrees is refused (exit 2,
"locked by the team file", nothing written). The configuration remembers the source, and a
plain re-run reads it again, says what changed, and applies it; a remembered source that cannot
be read then keeps the last configuration and says so.
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import agents
from ..core.context import Context
from ..core.errors import ExitCode, UserError
from ..record import config
from ..workspace.hosts import normalize_host

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..team import schema

PROG = "setup-fmapi-claudecode"

# Team file key -> setup's option (argparse dest). Models: each role and agent to its flag.
_PLAIN = {
    "host": "host",
    "profile": "profile",
    "route": "route",
    "ttl": "ttl",
    "margin": "margin",
    "token_mode": "token_mode",
    "agents": "agents",
    "mlflow_experiment": "mlflow_experiment",
    "otel_tables": "otel_tables",
    "otel_spans": "otel_spans",
}
_MODEL_OPTS = {"subagent": "subagent_model"}


def model_option(key: str) -> str:
    """setup's option for `models.<key>`: model/opus/sonnet/haiku/fable as they are, subagent
    and each other agent's model as its model flag's (`codex_model`)."""
    from ..team import schema

    if key in schema.CLAUDE_MODEL_KEYS:
        return _MODEL_OPTS.get(key, key)
    from .. import agents

    return agents.get(key).model_option


def flag(option: str) -> str:
    return "--" + option.replace("_", "-")


def _answers(team: schema.TeamFile) -> list[tuple[str, str, str]]:
    """(team key, option, value as the flag would carry it) for every answer the file gives."""
    out: list[tuple[str, str, str]] = []
    for key, option in _PLAIN.items():
        value = team.get(key)
        if value is None:
            continue
        text = ",".join(value) if isinstance(value, list) else str(value)
        out.append((key, option, text))
    for key, value in team.models.items():
        out.append(("models", model_option(key), value))
    return out


def _same_answer(option: str, given: Any, wanted: str) -> bool:
    text = str(given).strip()
    if option == "host":
        try:
            return normalize_host(text) == normalize_host(wanted)
        except UserError:
            return False
    if option in ("ttl", "margin"):
        try:
            return config.parse_duration(text) == config.parse_duration(wanted)
        except ValueError:
            return False
    if option == "agents":
        required = {n for n in agents.NAMES if agents.get(n).required}
        given = {a.strip() for a in text.split(",") if a.strip()}
        return given | required == set(wanted.split(",")) | required
    return text == wanted


def _previous(ctx: Context) -> Mapping[str, Any]:
    try:
        record = config.load_record(ctx.paths)
    except UserError:
        return {}
    return config.in_effect(record, ctx.paths, ctx.cwd) or config.latest(record) or {}


def apply(ctx: Context, opts: dict[str, Any], say: Any, warn: Any) -> dict[str, Any]:
    """`opts` with the team file's answers filled in (and `team` = its source), or `opts` as
    they are when no team file is given or remembered."""
    given = opts.get("team")
    prev = _previous(ctx)
    remembered = prev.get("team") if given is None else None
    source = str(given or remembered or "")
    if not source:
        return opts
    from ..team import reading, schema  # the team file's reader and checks: only for a file

    host = opts.get("host") or prev.get("host")
    profile = opts.get("profile") or prev.get("profile")
    try:
        team, _ = reading.load(
            ctx,
            source,
            host=str(host) if host else None,
            profile=str(profile) if profile else None,
            login=not opts.get("dry_run"),
        )
    except UserError as exc:
        if given is not None or exc.code == ExitCode.USAGE:
            raise
        warn(
            f"{exc.message}; keeping the configuration from the team file's last reading "
            f"(fix: {exc.fix})"
        )
        kept = dict(opts, team=source)
        if kept.get("host") is None and prev.get("host"):
            kept["host"] = prev["host"]  # the workspace of that last reading
        return kept
    out = dict(opts, team=source)
    if team.get("mcp"):  # added after setup wrote the rest (setup/flow.py), checked before
        out["team_mcp"] = list(team.get("mcp"))
    for key, option, value in _answers(team):
        mine = opts.get(option)
        if mine is not None and not _same_answer(option, mine, value):
            if team.is_locked(key):
                raise UserError(
                    f"{flag(option)} {mine} is locked by the team file {source} ({key}: {value})",
                    f"leave out {flag(option)} (or ask your platform team to change the file)",
                    ExitCode.USAGE,
                )
            continue  # the developer's flag wins over a default the team file offers
        out[option] = value
    if (
        str(out.get("otel_tables") or "").strip().lower() == "none"
        and opts.get("otel_spans") is None
    ):
        out.pop("otel_spans", None)  # the developer turned telemetry off: no spans to choose
    # The team's prices and budget, for `dbx-fmapi usage`, the status line and the budget hook
    # (kept in the configuration folder by setup's plan; none: the kept copy goes).
    out["team_prices"] = {
        "version": schema.VERSION,
        **{k: team.get(k) for k in ("prices", "budget") if team.get(k) is not None},
    }
    if remembered:
        changed = reading.what_changed(prev, team)
        if changed:
            say(f"Team file {source} changed: " + "; ".join(changed))
        else:
            say(f"Team file {source}: no change")
    else:
        say(
            f"Team file: {source}" + (f" (locked: {', '.join(team.locked)})" if team.locked else "")
        )
    return out
