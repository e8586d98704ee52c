"""What Gemini CLI and OpenCode share: a JSON config file where setup owns a few members (each at
a path), replaced values recorded and put back by uninstall, and a launch through the loopback
proxy (`dbx-fmapi run NAME`), which keeps their tokens fresh: neither reads a key more than once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..changes import engine
from ..core.errors import UserError
from ..core.fileio import read_bytes
from ..core.paths import Paths
from ..record import originals
from . import jsonfile
from .base import Agent, AgentSetup, created_before, restore_change


def _parses_to(raw: bytes, want: dict[str, Any]) -> bool:
    try:
        return jsonfile.parse(raw, Path("original"), "") == want
    except UserError:
        return False


def _dotted(keys: tuple[str, ...]) -> str:
    return ".".join(keys)


class JsonAgent(Agent):
    freshness = "dbx-fmapi run starts a loopback proxy that puts a fresh token on each request"

    def members(self, s: AgentSetup, provider: str) -> dict[tuple[str, ...], Any]:
        """path -> the value setup writes there."""
        raise NotImplementedError

    def provider_id(self, data: dict[str, Any], state: Mapping[str, Any]) -> str:
        return ""

    def plan_setup(self, s: AgentSetup, plan: engine.Plan) -> dict[str, Any]:
        path = self.config_file(s.paths, s.env)
        assert path is not None
        raw = read_bytes(path)
        data = jsonfile.parse(raw, path, self.label)
        provider = self.provider_id(data, s.state)
        ours = self.members(s, provider)

        def merged(now: bytes | None) -> bytes | None:
            before = jsonfile.parse(now, path, self.label)
            after = before
            for keys, value in ours.items():
                after = jsonfile.with_member(after, keys, value)
            return jsonfile.edit(now, before, after)

        plan.add(
            engine.Change(
                path, raw, merged(raw), f"{self.label} config", keep_original=True, redo=merged
            )
        )
        # What setup replaces is judged against the file before our first change.
        replaced = dict(s.state.get("replaced") or {}) if s.state.get("file") else {}
        known, original = originals.load_original(s.paths, path)
        base = data
        if not s.state.get("file") and known:
            base = jsonfile.parse(original, path, self.label) if original is not None else {}
        if not s.state.get("file"):
            for keys in ours:
                prior = jsonfile.get(base, keys)
                if prior is not jsonfile.MISSING:
                    replaced[_dotted(keys)] = {"value": prior}
        return {
            "file": str(path),
            "created": created_before(s.paths, path, s.state, raw),
            "model": s.model,
            "route": s.route,
            "base_url": s.base_url,
            **({"provider": provider} if provider else {}),
            **({"replaced": replaced} if replaced else {}),
        }

    def owned(self, state: Mapping[str, Any]) -> list[tuple[str, ...]]:
        """The paths setup wrote, for uninstall (from the state alone: no answers needed)."""
        raise NotImplementedError

    def plan_uninstall(
        self, paths: Paths, env: Mapping[str, str], state: Mapping[str, Any], plan: engine.Plan
    ) -> None:
        path = Path(str(state.get("file") or self.config_file(paths, env)))
        raw = read_bytes(path)
        if raw is None:
            return
        data = jsonfile.parse(raw, path, self.label)
        replaced = state.get("replaced") or {}
        cleaned = data
        for keys in self.owned(state):
            prior = replaced.get(_dotted(keys))
            value = prior["value"] if isinstance(prior, dict) and "value" in prior else None
            cleaned = jsonfile.without_member(
                cleaned, keys, value if isinstance(prior, dict) else jsonfile.MISSING
            )
        if cleaned == data:
            return
        known, original = originals.load_original(paths, path)
        new: bytes | None = jsonfile.dumps(cleaned)
        if known and original is not None and _parses_to(original, cleaned):
            new = original
        elif not cleaned and (state.get("created") or (known and original is None)):
            new = None
        change = restore_change(
            paths, path, raw, new, bool(state.get("created")), f"{self.label} config"
        )
        if change is not None:
            plan.changes.append(change)

    def in_effect(self, state: Mapping[str, Any], paths: Paths) -> str | None:
        path = Path(str(state.get("file") or ""))
        raw = read_bytes(path)
        if raw is None:
            return f"{path} is gone"
        try:
            data = jsonfile.parse(raw, path, self.label)
        except Exception as exc:  # noqa: BLE001 - reported, not raised: status must not fail
            return str(getattr(exc, "message", exc))
        for keys in self.owned(state):
            if jsonfile.get(data, keys) is jsonfile.MISSING:
                return f"{path} no longer holds {_dotted(keys)}"
        return None
