"""What doctor and status see of Claude Code through the Agent interface, as plain data: its
program as doctor judges it, what overrides or conflicts with setup's settings where Claude Code
starts (`Claude.findings`), and every settings level with the keys it sets (`Claude.status_view`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ...core import ui
from ...core.fileio import q
from ...core.paths import Paths
from ...record import setupstate
from ..base import Finding
from . import effective, settings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

INSTALL = "curl -fsSL https://claude.ai/install.sh | bash"

# Process-environment variables that change where or how Claude Code authenticates.
WATCHED_ENV = (
    "ANTHROPIC_API_KEY",
    settings.ENV_TOKEN,
    settings.ENV_BASE_URL,
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_USE_FOUNDRY",
    *settings.ALL_ENV_KEYS,
)
OTHER_PROVIDERS = ("CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX", "CLAUDE_CODE_USE_FOUNDRY")
FAIL_IF_OVERRIDDEN = (settings.ENV_BASE_URL, settings.ENV_TOKEN)


def judge_program(
    exe: str | None, said: str | None, why: str | None
) -> tuple[str, str, str | None]:
    """Doctor's line for the `claude` found (None: none) and what its --version said."""
    if exe is None:
        return (
            ui.FAIL,
            "not installed (no `claude` on PATH)",
            f"{INSTALL}   (or: npm install -g @anthropic-ai/claude-code)",
        )
    if said is None:
        return ui.FAIL, f"{exe} does not run: {why}", INSTALL
    return ui.PASS, f"{said} at {exe}", None


def levels(
    state: Mapping[str, Any], paths: Paths, env: Mapping[str, str], cwd: Path
) -> list[effective.Level]:
    """Every settings level Claude Code reads when started in `cwd`, lowest precedence first,
    the one setup manages marked."""
    managed = setupstate.managed_settings(state)
    project = effective.project_dir(paths, managed, cwd)
    return effective.load_levels(paths, project, managed, env)


def overrides(
    state: Mapping[str, Any], found: list[effective.Level], env: Mapping[str, str]
) -> list[Finding]:
    """What another settings level or the environment sets over or beside setup's keys in the
    managed level (valid, holding what setup wrote), each named by the key or level it is about."""
    mine = next((lv for lv in found if lv.managed), None)
    mine_data = (mine.data if mine is not None else None) or {}
    eff = effective.resolve(found, env, list(WATCHED_ENV))
    mode = setupstate.token_mode(state)
    ours = dict(mine_data.get("env") or {})
    out: list[Finding] = []

    for level in found:
        if level.exists and level.error is not None and not level.managed:
            out.append(
                Finding(
                    f"{level.path} is not valid JSON ({level.error}); Claude Code ignores it",
                    f'"${{EDITOR:-vi}}" {q(level.path)}',
                    warn=True,
                    id=level.name,
                )
            )

    for key, value in ours.items():
        if key not in settings.ALL_ENV_KEYS:
            continue
        win = eff.env.get(key)
        if (
            win is None
            or win.path is None
            or mine is not None
            and (win.source == mine.name and win.path == mine.path)
        ):
            continue
        if win.value == value:
            continue
        effect = (
            f"Claude Code sends requests to {win.shown}, not to your workspace"
            if key == settings.ENV_BASE_URL
            else f"Claude Code uses {win.shown}"
        )
        if win.source == effective.ADMIN and not win.secret:
            effect += f", not setup's {value}"
        out.append(
            Finding(
                f"{key} is overridden by {win.label}: {effect}",
                win.remove_fix(),
                warn=key not in FAIL_IF_OVERRIDDEN,
                id=key,
            )
        )

    helper = eff.helper
    if (
        mode == "helper"
        and helper is not None
        and (mine is None or helper.path != mine.path)
        and helper.value != mine_data.get(settings.HELPER_KEY)
    ):
        out.append(
            Finding(
                f"apiKeyHelper is overridden by {helper.label}: Claude Code runs "
                f"{helper.shown!r}, not `dbx-fmapi token`",
                helper.remove_fix(),
                id="apiKeyHelper",
            )
        )
    if mode == "helper" and settings.ENV_TOKEN in eff.env:
        tok = eff.env[settings.ENV_TOKEN]
        out.append(
            Finding(
                f"a stale {settings.ENV_TOKEN} ({tok.label}) sits beside the apiKeyHelper; it "
                "wins the Authorization header, so requests fail once it expires",
                tok.remove_fix(),
                id=settings.ENV_TOKEN,
            )
        )
    if mode == "static" and helper is not None:
        out.append(
            Finding(
                f"an apiKeyHelper ({helper.label}) sits beside the static {settings.ENV_TOKEN}; "
                "the two must not both be in effect",
                helper.remove_fix(),
                id="apiKeyHelper",
            )
        )
    key_api = eff.env.get("ANTHROPIC_API_KEY")
    if key_api is not None and key_api.value:  # an empty value is setup's blank over one
        out.append(
            Finding(
                f"ANTHROPIC_API_KEY is set in {key_api.label}: it conflicts with your "
                "Databricks token (Claude Code asks whether to use it, and may send it instead)",
                key_api.remove_fix(),
                id="ANTHROPIC_API_KEY",
            )
        )
    for key in OTHER_PROVIDERS:
        win = eff.env.get(key)
        if win is not None and str(win.value).strip().lower() not in ("", "0", "false", "no"):
            out.append(
                Finding(
                    f"{key} is set in {win.label}: Claude Code then ignores the workspace",
                    win.remove_fix(),
                    id=key,
                )
            )
    return out


def settings_files(found: list[effective.Level]) -> list[dict[str, Any]]:
    """Status's view of the settings levels: each file that exists (and the managed one), the
    keys of ours it sets, and which of them a level above overrides."""

    def keys_of(level: effective.Level) -> list[str]:
        if level.data is None:
            return []
        env = level.data.get("env") or {}
        keys = [k for k in env if k in settings.ALL_ENV_KEYS or k == "ANTHROPIC_API_KEY"]
        if settings.HELPER_KEY in level.data:
            keys.append(settings.HELPER_KEY)
        return keys

    files = []
    for i, level in enumerate(found):  # lowest precedence first
        if not level.exists and not level.managed:
            continue
        keys = keys_of(level)
        # A key a level above sets too is not this file's: Claude Code uses the other value.
        overridden = {
            k: above.name for k in keys for above in found[i + 1 :] if k in keys_of(above)
        }
        files.append(
            {
                "level": level.name,
                "path": str(level.path),
                "exists": level.exists,
                "valid": level.exists and level.error is None,
                "managed": level.managed,
                "keys": keys,
                **({"overridden_by": overridden} if overridden else {}),
            }
        )
    return files
