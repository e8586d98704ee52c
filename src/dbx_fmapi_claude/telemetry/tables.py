"""`--otel-tables CATALOG.SCHEMA.PREFIX`: the three tables and the endpoint, as pure functions;
`--otel-spans on|off`: whether traces go too (off unless asked: Claude Code's spans need its
enhanced-telemetry beta, which costs a `claude -p` run about 70 ms, over the budget;
docs/performance.md).

The workspace's OTLP endpoint (Zerobus Ingest, ../shared/notes/databricks.md) takes
`POST {host}/api/2.0/otel/v1/{metrics,logs,traces}` with `X-Databricks-UC-Table-Name` naming the
table of that signal: `PREFIX_otel_metrics`, `PREFIX_otel_logs`, `PREFIX_otel_spans`. Standard
library only, and light: the wrapper reads it at every launch (re only where a name is checked).
"""

from __future__ import annotations

from ..core.errors import ExitCode, UserError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

OFF = "none"
HEADER = "X-Databricks-UC-Table-Name"
ENDPOINT_PATH = "/api/2.0/otel"
# OTLP signal -> the table suffix the service documents.
SUFFIX = {"metrics": "_otel_metrics", "logs": "_otel_logs", "traces": "_otel_spans"}
SIGNALS = tuple(SUFFIX)
# Unity Catalog names as the team file accepts them (team/schema.py): letters, digits, '_'.
_NAME = r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+$"
EXAMPLE = "main.telemetry.claude"


def check(value: str, flag: str = "--otel-tables", prog: str = "setup-fmapi-claudecode") -> str:
    """The value as setup keeps it: CATALOG.SCHEMA.PREFIX, or "none" (telemetry off)."""
    text = value.strip()
    if text.lower() == OFF:
        return OFF
    import re

    if not re.match(_NAME, text):
        raise UserError(
            f"{flag} {value!r}: must be CATALOG.SCHEMA.PREFIX (three names of letters, digits "
            'and _, e.g. main.telemetry.claude) or "none"',
            f"{prog} {flag} {EXAMPLE}",
            ExitCode.USAGE,
        )
    return text


SPANS_CHOICES = ("on", "off")
SPANS_FLAG = "--otel-spans"
SPANS_KEY = "otel_spans"  # the record's and the team file's key


def check_spans(value: str, prog: str = "setup-fmapi-claudecode") -> str:
    """The `--otel-spans` value as setup keeps it: "on" or "off"."""
    text = value.strip().lower()
    if text not in SPANS_CHOICES:
        raise UserError(
            f"{SPANS_FLAG} {value!r}: must be on or off",
            f"{prog} {SPANS_FLAG} off",
            ExitCode.USAGE,
        )
    return text


def prefix_of(cfg: Mapping[str, Any]) -> str | None:
    """CATALOG.SCHEMA.PREFIX of a configuration's tables (None: telemetry off)."""
    value = cfg.get("otel_tables")
    return value if isinstance(value, str) and value not in ("", OFF) else None


def spans_on(cfg: Mapping[str, Any]) -> bool:
    """Do a configuration's traces go to the spans table? Only with tables, and when it says
    so; a configuration written before spans were a choice of their own (tables, no
    `otel_spans`) sent them, and keeps sending them."""
    if prefix_of(cfg) is None:
        return False
    return cfg.get(SPANS_KEY) in (None, "on")


def signals_of(spans: bool) -> tuple[str, ...]:
    """The signals sent: metrics and logs, and traces with spans on."""
    return SIGNALS if spans else tuple(s for s in SIGNALS if s != "traces")


def names(prefix: str) -> dict[str, str]:
    """Signal -> the full table name: CATALOG.SCHEMA.PREFIX_otel_{metrics,logs,spans}."""
    return {signal: prefix + suffix for signal, suffix in SUFFIX.items()}


def endpoint(host: str) -> str:
    """OTEL_EXPORTER_OTLP_ENDPOINT: the SDKs add /v1/{signal} to it."""
    return host.rstrip("/") + ENDPOINT_PATH


def signal_url(host: str, signal: str) -> str:
    return f"{endpoint(host)}/v1/{signal}"


def header_value(prefix: str, signal: str) -> str:
    """OTEL_EXPORTER_OTLP_{SIGNAL}_HEADERS: `key=value` pairs, as the OTel specification writes
    them (Unity Catalog names need no percent-encoding)."""
    return f"{HEADER}={names(prefix)[signal]}"
