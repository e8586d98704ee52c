"""What Gemini CLI and OpenCode share: a JSON config file where setup owns a few members (each at
a path), replaced values recorded and put back by uninstall, and a launch through the loopback
proxy (`dbx-fmapi run NAME`), which keeps their tokens fresh: neither reads a key more than once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from ..changes import engine
from ..core.fileio import q, read_bytes
from ..core.paths import Paths, same_file
from ..record import originals
from . import jsonfile
from .base import SETUP_AGAIN, Agent, AgentSetup, Finding, created_before, restore_change

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ANY: Any = object()  # in `expected`: any value, as long as the member is there


def _dotted(keys: tuple[str, ...]) -> str:
    return ".".join(keys)


def _tolerant(raw: bytes) -> dict[str, Any] | None:
    """The object in an agent's file, read as the agent reads it (both accept `//` comments and
    trailing commas); None when it is not one."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        from .claude.settings import _relaxed

        data = _relaxed(raw.decode("utf-8", "replace"))
    return data if isinstance(data, dict) else None


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class JsonAgent(Agent):
    freshness = "dbx-fmapi run starts a loopback proxy that puts a fresh token on each request"
    home_env = ""  # the variable that moves its config file

    def expected(self, state: Mapping[str, Any]) -> dict[tuple[str, ...], Any]:
        """The members setup wrote that make `dbx-fmapi run` work: path -> value (ANY: there)."""
        raise NotImplementedError

    def layers_after(
        self, state: Mapping[str, Any], paths: Paths, env: Mapping[str, str], cwd: Path
    ) -> list[tuple[Path, str]]:
        """Files the agent reads after setup's, whose members win: (path, whose)."""
        return []

    def refusals(self, data: dict[str, Any], state: Mapping[str, Any]) -> list[str]:
        """What in one of its files turns setup's part off (a provider disabled)."""
        return []

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
        replaced = state.get("replaced") or {}

        def clean(now: bytes) -> bytes | None:
            """What uninstall leaves of `now`: ours out, what we replaced back."""
            data = jsonfile.parse(now, path, self.label)
            cleaned = data
            for keys in self.owned(state):
                prior = replaced.get(_dotted(keys))
                value = prior["value"] if isinstance(prior, dict) and "value" in prior else None
                cleaned = jsonfile.without_member(
                    cleaned, keys, value if isinstance(prior, dict) else jsonfile.MISSING
                )
            if cleaned == data:
                return now
            return jsonfile.dumps(cleaned) if cleaned else None

        def same(cleaned: bytes, original: bytes) -> bool:
            return jsonfile.same_document(original, jsonfile.parse(cleaned, path, self.label))

        change = restore_change(
            paths,
            path,
            raw,
            clean,
            bool(state.get("created")),
            f"{self.label} config",
            same=same,
            empty=jsonfile.dumps({}),
        )
        if change is not None:
            plan.changes.append(change)

    def findings(
        self, state: Mapping[str, Any], paths: Paths, env: Mapping[str, str], cwd: Path
    ) -> list[Finding]:
        recorded = str(state.get("file") or "")
        if not recorded:
            return [Finding(f"setup recorded no {self.label} config file")]
        path, now = Path(recorded), self.config_file(paths, env)
        assert now is not None
        if os.path.abspath(now) != os.path.abspath(path):
            value = env.get(self.home_env)
            where = f"{self.home_env}={value}" if value else f"without {self.home_env}"
            return [
                Finding(
                    f"{self.label} started here ({where}) reads {now}, but setup configured {path}",
                    f"{SETUP_AGAIN}   (with {self.home_env} as you run {self.label}, so it "
                    "writes that file)",
                )
            ]
        raw = read_bytes(path)
        if raw is None:
            return [Finding(f"{path} is gone")]
        data = _tolerant(raw)
        if data is None:
            return [
                Finding(
                    f"{path} is not a JSON object, so {self.label} cannot read it",
                    f'repair it, then re-run setup: "${{EDITOR:-vi}}" {q(path)}',
                )
            ]
        want = self.expected(state)
        out = []
        for keys, value in want.items():
            have = jsonfile.get(data, keys)
            if have is jsonfile.MISSING:
                out.append(Finding(f"{path} no longer holds {_dotted(keys)}"))
            elif value is not ANY and have != value:
                out.append(
                    Finding(
                        f"{path} has {_dotted(keys)} = {_shown(have)}, not setup's {_shown(value)}"
                    )
                )
        out += [Finding(f"{path} {why}") for why in self.refusals(data, state)]
        for layer, whose in self.layers_after(state, paths, env, cwd):
            if same_file(layer, path):
                continue
            out += self._overrides(layer, whose, want, state)
        return out

    def _overrides(
        self, layer: Path, whose: str, want: dict[tuple[str, ...], Any], state: Mapping[str, Any]
    ) -> list[Finding]:
        raw = read_bytes(layer)
        if raw is None:
            return []
        edit = f'"${{EDITOR:-vi}}" {q(layer)}'
        if whose.startswith("an administrator"):
            edit = f"ask your administrator to change {layer}"
        data = _tolerant(raw)
        if data is None:
            return [
                Finding(
                    f"{layer} ({whose}, read after setup's file) is not a JSON object; "
                    f"{self.label} may refuse to start",
                    edit,
                    warn=True,
                )
            ]
        out = []
        for keys, value in want.items():
            have = jsonfile.get(data, keys)
            if value is not ANY and have is not jsonfile.MISSING and have != value:
                out.append(
                    Finding(
                        f"{layer} ({whose}) sets {_dotted(keys)} = {_shown(have)}, which wins "
                        f"over setup's {_shown(value)}",
                        f"remove {_dotted(keys)} there: {edit}",
                    )
                )
        for why in self.refusals(data, state):
            out.append(Finding(f"{layer} ({whose}) {why}", f"change it there: {edit}"))
        return out

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
