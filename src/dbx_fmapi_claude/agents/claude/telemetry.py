"""Claude Code's OpenTelemetry export into the workspace (`--otel-tables`), as pure transforms.

Measured with 2.1.332 (docs/telemetry.md): with the env below Claude Code sends metrics, log
events and (with the enhanced-telemetry beta, `--otel-spans on`) spans over OTLP/HTTP protobuf to
`{host}/api/2.0/otel/v1/{metrics,logs,traces}`, each signal with its own table header. The
`Authorization` header comes from `otelHeadersHelper` (`dbx-fmapi token … --otel-headers`), never
from a file. Claude Code keeps the helper's headers for CLAUDE_CODE_OTEL_HEADERS_HELPER_DEBOUNCE_MS
(29 minutes by default) and does not run it again after a 401/403 from the endpoint: setup sets
the debounce to the token TTL, and the helper hands out a token that outlives the TTL plus the
margin, so a kept header never outlives its token.

Uninstall removes exactly what setup added: each env key whose value is still the one written
(its earlier value put back), and the helper when it is still ours.
"""

from __future__ import annotations

from collections.abc import Mapping

from ...telemetry import tables

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

HELPER_KEY = "otelHeadersHelper"
HELPER_FLAG = "--otel-headers"
ENV_DEBOUNCE = "CLAUDE_CODE_OTEL_HEADERS_HELPER_DEBOUNCE_MS"
ENV_ENABLE = "CLAUDE_CODE_ENABLE_TELEMETRY"
ENV_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
# How long Claude Code waits for the last export when it exits (2000 ms by default, read from
# its binary): an endpoint that hangs held every `claude -p` run that long (measured, +2.3 s);
# the budget is 1 s (docs/performance.md). A flush that answers takes a few milliseconds.
ENV_SHUTDOWN = "CLAUDE_CODE_OTEL_SHUTDOWN_TIMEOUT_MS"
SHUTDOWN_MS = "800"
_HEADERS = {
    "metrics": "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
    "logs": "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
    "traces": "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
}
ENV_KEYS = (
    ENV_ENABLE,
    "OTEL_METRICS_EXPORTER",
    "OTEL_LOGS_EXPORTER",
    "OTEL_TRACES_EXPORTER",
    "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    ENV_ENDPOINT,
    *_HEADERS.values(),
    ENV_DEBOUNCE,
    ENV_SHUTDOWN,
)


def desired_env(*, host: str, prefix: str, ttl_seconds: int, spans: bool = False) -> dict[str, str]:
    """The env for metrics and logs, and with `spans` traces as well (`--otel-spans on`)."""
    env = {ENV_ENABLE: "1", "OTEL_METRICS_EXPORTER": "otlp", "OTEL_LOGS_EXPORTER": "otlp"}
    if spans:
        # Spans need the beta switch as well (measured: without it no /v1/traces request). It
        # is what costs: a `claude -p` run about 70 ms more with it (docs/performance.md).
        env["OTEL_TRACES_EXPORTER"] = "otlp"
        env["CLAUDE_CODE_ENHANCED_TELEMETRY_BETA"] = "1"
    env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf"
    env[ENV_ENDPOINT] = tables.endpoint(host)
    env[ENV_DEBOUNCE] = str(int(ttl_seconds) * 1000)
    env[ENV_SHUTDOWN] = SHUTDOWN_MS
    for signal in tables.signals_of(spans):
        env[_HEADERS[signal]] = tables.header_value(prefix, signal)
    return env


def helper_command(api_key_helper: str) -> str:
    """The otelHeadersHelper: the apiKeyHelper's command (same program, same profile) printing
    `{"Authorization": "Bearer …"}`."""
    return f"{api_key_helper} {HELPER_FLAG}"


def add(
    settings: Mapping[str, Any], *, env: Mapping[str, str], helper: str, before: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`settings` with our telemetry env and helper; returns them and what the record keeps
    (`otel`: the values written and the ones they replaced). `before`: the configuration's
    previous record (a re-run keeps what the first run replaced)."""
    found = before.get("otel")
    prev: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    replaced: dict[str, Any] = dict(prev.get("replaced") or {})
    wrote_before: Mapping[str, Any] = prev.get("wrote") or {}
    new = dict(settings)
    cur_env = dict(new.get("env") or {})
    for key, value in env.items():
        if key in cur_env and key not in replaced and cur_env[key] != wrote_before.get(key):
            replaced[key] = {"value": cur_env[key]}
        cur_env[key] = value
    for key in set(wrote_before) - set(env):  # written by an earlier run, not by this one
        if cur_env.get(key) == wrote_before[key]:
            _restore(cur_env, key, replaced)
    new["env"] = cur_env
    current = new.get(HELPER_KEY)
    if current is not None and current not in (helper, prev.get("helper")):
        replaced.setdefault(HELPER_KEY, {"value": current})
    new[HELPER_KEY] = helper
    return new, {"wrote": dict(env), "helper": helper, "replaced": replaced}


def _restore(env: dict[str, Any], key: str, replaced: Mapping[str, Any]) -> None:
    prior = replaced.get(key)
    if isinstance(prior, Mapping) and "value" in prior:
        env[key] = prior["value"]
    else:
        env.pop(key, None)


def remove(settings: Mapping[str, Any], cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Uninstall and `--otel-tables none`: our telemetry keys out, the values they replaced
    back; a value changed by hand since stays."""
    otel = cfg.get("otel")
    if not isinstance(otel, Mapping):
        return dict(settings)
    new = dict(settings)
    replaced: Mapping[str, Any] = otel.get("replaced") or {}
    wrote: Mapping[str, Any] = otel.get("wrote") or {}
    if isinstance(new.get("env"), Mapping):
        env = dict(new["env"])
        for key, value in wrote.items():
            if env.get(key) == value:
                _restore(env, key, replaced)
        new["env"] = env  # an empty env that setup created goes with the rest of ours
    if new.get(HELPER_KEY) == otel.get("helper"):
        _restore(new, HELPER_KEY, replaced)
    return new
