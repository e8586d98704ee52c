"""Codex: `$CODEX_HOME/config.toml` (default `~/.codex/config.toml`) gets a Responses provider on
the workspace whose bearer token comes from `dbx-fmapi token` (Codex's `auth.command`), so plain
`codex` refreshes its token by itself: it runs the command again before the next request once
`refresh_interval_ms` has passed, and the command prints a token that outlives that interval
plus the margin (measured with Codex 0.171.0: docs/agents.md). A 403 or 400 from Databricks
does not make Codex run the command again, so the interval is what keeps it fresh; a 401 does
(at once), and the command then replaces a token the workspace rejected (docs/rejected-tokens.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ...changes import engine
from ...core.errors import UserError
from ...core.fileio import q, read_bytes
from ...core.paths import Paths
from ...workspace import routes
from ..base import (
    GPT,
    ITSELF,
    Agent,
    AgentSetup,
    Finding,
    created_before,
    restore_change,
)
from . import configtoml
from .mcp import CodexMcp

# The command may refresh through the Databricks CLI (seconds) or wait for another process's
# refresh under our lock: well above Codex's 5 s default.
TIMEOUT_MS = 60_000
# Codex's three OTLP exporters (logs, metrics, traces) and the path each sends to.
OTEL_EXPORTERS = (
    ("exporter", "/v1/logs"),
    ("metrics_exporter", "/v1/metrics"),
    ("trace_exporter", "/v1/traces"),
)


TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..usagelog import Reader


class Codex(Agent):
    name = "codex"
    label = "Codex"
    program = "codex"
    package = "@openai/codex"
    min_version = (0, 118, 0)  # model_providers.<id>.auth (the token command) came in 0.118
    tested = "0.171.0"
    api = routes.RESPONSES
    model_prefix = GPT.prefix
    model_flag = "--codex-model"
    model_default = "newest GPT"
    families = (GPT,)
    freshness = "its auth command (dbx-fmapi token) runs again every TTL"
    launch = "codex"
    launch_mode = ITSELF
    mcp = CodexMcp()
    # A 401 from the proxy makes Codex run its command again and retry; a 400 ends the turn at
    # once with the proxy's one line (no token without a new login).
    login_status = 400

    # `codex exec` (0.171.0) outside a git repository, in a folder not trusted in its config:
    # exit 1, "Not inside a trusted directory and --skip-git-repo-check was not specified".
    trust_flag = "--skip-git-repo-check"
    trusts_git = True
    EXEC = ("exec", "e")

    @property
    def usage_source(self) -> Reader:
        from .usage import read

        return read

    def may_refuse_folder(self, args: list[str]) -> bool:
        return bool(args) and args[0] in self.EXEC and self.trust_flag not in args

    def refused_folder(self, args: list[str], code: int) -> bool:
        return code == 1 and self.may_refuse_folder(args)

    def with_trust(self, args: list[str]) -> list[str]:
        return [args[0], self.trust_flag, *args[1:]]

    def config_file(self, paths: Paths, env: Mapping[str, str]) -> Path:
        home = env.get("CODEX_HOME")
        folder = Path(home) if home and os.path.isabs(home) else paths.home / ".codex"
        return folder / "config.toml"

    def _text(self, raw: bytes | None, path: Path) -> str:
        try:
            return (raw or b"").decode("utf-8")
        except UnicodeDecodeError:
            raise UserError(
                f"{path} is not UTF-8 text, so it is not a Codex config file setup can edit; "
                "nothing was changed",
                f'repair it (or move it away), then re-run setup: "${{EDITOR:-vi}}" {q(path)}',
            ) from None

    def plan_setup(self, s: AgentSetup, plan: engine.Plan) -> dict[str, Any]:
        path = self.config_file(s.paths, s.env)
        raw = read_bytes(path)
        text = self._text(raw, path)
        why = configtoml.check(configtoml.unmerge(text))
        if why is not None:
            raise UserError(
                f"{path} is not valid TOML ({why}); setup leaves it alone and nothing was changed",
                f'repair it, then re-run setup: "${{EDITOR:-vi}}" {q(path)}',
            )
        provider = str(s.state.get("provider") or "") or configtoml.provider_id(text)
        if provider in configtoml.users_providers(text):
            provider = configtoml.provider_id(text)
        top = configtoml.render_top(provider, s.model)
        block = configtoml.render_provider(
            provider,
            s.base_url,
            s.token_command,
            timeout_ms=TIMEOUT_MS,
            refresh_interval_ms=s.ttl_seconds * 1000,
        )

        def merged(now: bytes | None) -> bytes:
            try:
                new_text = configtoml.merge(self._text(now, path), top, block)
            except configtoml.HalfBlock as exc:
                raise UserError(
                    f"{path} has {exc}: cannot tell where setup's block ends; nothing was changed",
                    f"remove the stray marker line, then re-run setup: grep -n "
                    f"'dbx-fmapi-claude' {q(path)}",
                ) from None
            problem = configtoml.check(new_text)
            if problem is not None:
                raise UserError(
                    f"cannot add the Databricks provider to {path}: the result would not be "
                    f"valid TOML ({problem}); nothing was changed",
                    f"look for a model_providers table written inline, then re-run setup: "
                    f'"${{EDITOR:-vi}}" {q(path)}',
                )
            return new_text.encode("utf-8")

        new = merged(raw)
        plan.add(engine.Change(path, raw, new, "Codex config", keep_original=True, redo=merged))
        replaced = {
            line.split("=", 1)[0].strip(): {"value": line.split("=", 1)[1].strip()}
            for line in configtoml.parked(new.decode("utf-8"))
            if "=" in line
        }
        return {
            "file": str(path),
            "created": created_before(s.paths, path, s.state, raw),
            "model": s.model,
            "route": s.route,
            "base_url": s.base_url,
            "provider": provider,
            **({"replaced": replaced} if replaced else {}),
        }

    def plan_uninstall(
        self, paths: Paths, env: Mapping[str, str], state: Mapping[str, Any], plan: engine.Plan
    ) -> None:
        path = Path(str(state.get("file") or self.config_file(paths, env)))
        raw = read_bytes(path)
        if raw is None:
            return
        if not _has_ours(raw):
            return
        change = restore_change(
            paths,
            path,
            raw,
            lambda now: _unmerged(now, path),
            bool(state.get("created")),
            "Codex config",
        )
        if change is not None:
            plan.changes.append(change)

    def in_effect(self, state: Mapping[str, Any], paths: Paths) -> str | None:
        path = Path(str(state.get("file") or ""))
        raw = read_bytes(path)
        if raw is None:
            return f"{path} is gone"
        text = raw.decode("utf-8", "replace")
        if not configtoml.has_ours(text):
            return f"{path} no longer holds setup's Databricks provider"
        why = configtoml.check(text)
        if why is not None:
            return f"{path} is not valid TOML ({why})"
        return None

    def findings(
        self, state: Mapping[str, Any], paths: Paths, env: Mapping[str, str], cwd: Path
    ) -> list[Finding]:
        from . import effective

        return effective.findings(state, self.config_file(paths, env), env)

    def relayed(self, args: list[str], env: Mapping[str, str]) -> bool:
        from . import relayed as relay

        return relay.wanted(args, env)

    def relay_launch(
        self, state: Mapping[str, Any], url: str, secret: str
    ) -> tuple[dict[str, str], list[str]]:
        """Setup's provider pointed at the proxy by `-c` overrides, its key from the
        environment (agents/codex/relayed.py)."""
        from . import relayed as relay

        return {relay.ENV_KEY: secret}, relay.overrides(state, url)

    def otel_launch(
        self, env: Mapping[str, str], url: str, secret: str, *, spans: bool = True
    ) -> tuple[dict[str, str], list[str]]:
        """Codex's [otel] exporters as `-c` overrides for this run only (nothing in
        config.toml: a plain `codex` has no fresh token for them); the proxy's secret in
        OTEL_EXPORTER_OTLP_HEADERS, which Codex's exporter adds to its own (measured, 0.171.0).
        Without spans, `trace_exporter = "none"` (a value 0.171.0 takes): Codex makes none, and
        an exporter of the user's own gets neither spans nor the secret for this run."""
        args = []
        for key, path in OTEL_EXPORTERS:
            if key == "trace_exporter" and not spans:
                args += ["-c", 'otel.trace_exporter="none"']
                continue
            endpoint = configtoml.string(f"{url}{path}")
            args += ["-c", f'otel.{key}={{otlp-http={{endpoint={endpoint},protocol="binary"}}}}']
        return {"OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer {secret}"}, args

    def ping(self, ws: Any, base_url: str, model: str) -> None:
        ws.request(
            "POST",
            f"{base_url}/responses",
            body={"model": model, "input": "ping", "max_output_tokens": 16, "stream": False},
        )


AGENT = Codex()


def _has_ours(raw: bytes) -> bool:
    text = raw.decode("utf-8", "surrogateescape")
    try:
        return configtoml.has_ours(text) or configtoml.PARKED in text
    except configtoml.HalfBlock:
        return True  # ours, half: _unmerged says so


def _unmerged(raw: bytes, path: Path) -> bytes:
    """`raw` without setup's blocks (what is there when uninstall writes, not when it asked)."""
    if not _has_ours(raw):
        return raw
    try:
        text = configtoml.unmerge(raw.decode("utf-8", "surrogateescape"))
    except configtoml.HalfBlock as exc:
        raise UserError(
            f"{path} has {exc}: cannot tell where setup's block ends; nothing was changed",
            f"remove the stray marker line, then run dbx-fmapi uninstall again: grep -n "
            f"'dbx-fmapi-claude' {q(path)}",
        ) from None
    return text.encode("utf-8", "surrogateescape")
