"""Uninstall for Claude Code's own files: our keys out of the settings file (the values setup
replaced back; the original bytes when nothing else changed), and the onboarding flag out of
~/.claude.json when setup added it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from ...changes import engine, undo
from ...core.context import Context
from ...core.errors import UserError
from ...core.fileio import q, read_bytes
from ...core.paths import Paths
from ...record import originals, setupstate
from ..base import redone
from . import effective, onboarding, settings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def change(
    path: Path, old: bytes, new: bytes | None, what: str, mode: int | None = None
) -> engine.Change:
    """A change to a file of ours (the record): what uninstall planned is what it writes."""
    return engine.Change(path, old, new, what, mode=mode, redo=lambda now: new)


Edit = Callable[[bytes | None], "tuple[bytes | None, str, int | None]"]


def recomputed(path: Path, raw: bytes, edit: Edit) -> engine.Change | None:
    """The change `edit` makes to `raw`, redone by `edit` on what the file holds when uninstall
    writes: Claude Code or the user may have changed it while uninstall waited at "Proceed?",
    and what they wrote stays (only ours goes; a file is deleted only when nothing but ours is
    left). None when nothing changes."""
    new, what, mode = edit(raw)
    if new == raw:
        return None
    return redone(engine.Change(path, raw, new, what, mode=mode), edit)


# --- settings ---------------------------------------------------------------------------------


def plan_settings(paths: Paths, cfg: Mapping[str, Any], plan: engine.Plan) -> None:
    """Claude Code's part of `cfg` (its state: the settings file, what setup replaced in it) out
    of that file."""
    path = setupstate.managed_settings(cfg)
    if path is None:
        return
    raw = read_bytes(path)
    if raw is None:
        return
    found = recomputed(path, raw, lambda now: _settings_edit(paths, cfg, path, now))
    if found is not None:
        plan.changes.append(found)


def _settings_edit(
    paths: Paths, cfg: Mapping[str, Any], path: Path, raw: bytes | None
) -> tuple[bytes | None, str, int | None]:
    """Uninstall's new bytes for the settings file that holds `raw` (unchanged: nothing to do)."""
    if raw is None:
        return None, "gone", None
    try:
        data = settings.parse(raw, path)
    except settings.SettingsCorrupt as exc:
        raise UserError(
            f"cannot take our keys out of {path}: it is not valid JSON ({exc.why}); nothing "
            "was changed",
            f'repair it (or move it away), then run dbx-fmapi uninstall again: "${{EDITOR:-vi}}" '
            f"{q(path)}",
        ) from None
    replaced = {**(cfg.get("replaced") or {}), "env_existed": bool(cfg.get("env_existed"))}
    from . import telemetry

    data = telemetry.remove(data, cfg)  # first: its emptied env goes with the rest of ours
    # Static mode removed any apiKeyHelper: an absent one is put back like a replaced one.
    helper = data.get(settings.HELPER_KEY)
    cleaned = settings.remove_ours(
        data,
        replaced=replaced,
        helper_is_ours=helper is None or effective.is_our_helper(helper, cfg.get("api_key_helper")),
    )
    from . import failurehook, statusline

    cleaned = failurehook.remove(statusline.remove(cleaned, cfg), cfg)
    from . import mlflowhook

    cleaned = mlflowhook.without(cleaned, [cfg.get("mlflow_hook")])
    new, kind, mode = undo.left_behind(
        paths,
        path,
        settings.dumps(cleaned) if cleaned else None,
        created=bool(cfg.get("settings_created")),
        same=lambda original: _parses_to(original, path, cleaned),
        empty=settings.dumps({}),
    )
    if kind == undo.CLEANED and cleaned == data:
        return raw, "", None
    if new == raw:
        return raw, "", None
    return new, _UNDONE[kind], mode


_UNDONE = {
    undo.ORIGINAL: "restore as it was before setup",
    undo.DELETE: "delete (setup created it)",
    undo.ADDED_SINCE: "remove our settings (keep the ones added since)",
    undo.CLEANED: "remove our settings, restore the values we replaced",
}


def _parses_to(raw: bytes, path: Path, want: dict[str, Any]) -> bool:
    """Does the saved original hold what removing ours leaves? A file with comments or
    trailing commas counts by its keys; a personal ANTHROPIC_API_KEY setup blanked counts as
    the original's (its value is kept only there, never in our record)."""
    try:
        was = settings.parse(raw, path)
    except settings.SettingsCorrupt as exc:
        if not exc.relaxed:
            return False
        was = exc.salvage
    key = settings.ENV_API_KEY
    was_env = was.get("env") if isinstance(was.get("env"), dict) else None
    if (
        was_env is not None
        and isinstance(was_env.get(key), str)
        and key not in (want.get("env") or {})
    ):
        want = {**want, "env": {**(want.get("env") or {}), key: was_env[key]}}
    return was == want


# --- ~/.claude.json ----------------------------------------------------------------------------


def without_onboarding(text: str, expected: dict[str, Any]) -> str | None:
    """`text` with our `"hasCompletedOnboarding": true` member cut out, every other byte kept;
    None when no textual cut gives exactly `expected`."""
    key = re.escape(json.dumps(onboarding.KEY))
    patterns = (
        rf"{key}\s*:\s*true\s*,\s*",  # a first or middle member (how setup inserts it)
        rf",\s*{key}\s*:\s*true(?=\s*}})",  # the last member
        rf"(?<={{)\s*{key}\s*:\s*true\s*(?=}})",  # the only member
    )
    for pattern in patterns:
        for m in re.finditer(pattern, text):
            candidate = text[: m.start()] + text[m.end() :]
            try:
                if json.loads(candidate) == expected:
                    return candidate
            except ValueError:
                continue
    return None


def plan_onboarding(ctx: Context, cfg: dict[str, Any], plan: engine.Plan) -> None:
    if not cfg.get("onboarding_added"):
        return
    path = ctx.paths.claude_json
    raw = read_bytes(path)
    if raw is None:
        return
    try:
        json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        plan.notes.append(f"{path} is not valid JSON; left as it is (Claude Code owns it)")
        return
    found = recomputed(path, raw, lambda now: _onboarding_edit(ctx, path, now))
    if found is not None:
        plan.changes.append(found)


def _onboarding_edit(
    ctx: Context, path: Path, raw: bytes | None
) -> tuple[bytes | None, str, int | None]:
    """~/.claude.json holding `raw` without our flag (unchanged: nothing to do, or not JSON)."""
    if raw is None:
        return None, "gone", None
    try:
        text = raw.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        return raw, "", None  # Claude Code's file, half written or not JSON: left as it is
    if not isinstance(data, dict) or data.get(onboarding.KEY) is not True:
        return raw, "", None
    expected = {k: v for k, v in data.items() if k != onboarding.KEY}
    known, original = originals.load_original(ctx.paths, path)
    if known and original is None and not expected:
        return None, "delete (setup created it)", None
    if known and original is not None and _json_equals(original, expected):
        return original, "restore as it was before setup", None
    cut = without_onboarding(text, expected)
    if cut is None:
        cut = json.dumps(expected, indent=2, ensure_ascii=False)
        if text.endswith("\n"):
            cut += "\n"
    return cut.encode("utf-8"), f'remove "{onboarding.KEY}" (setup added it)', None


def _json_equals(raw: bytes, want: dict[str, Any]) -> bool:
    try:
        return bool(json.loads(raw.decode("utf-8")) == want)
    except (UnicodeDecodeError, ValueError):
        return False
