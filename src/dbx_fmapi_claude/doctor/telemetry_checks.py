"""`--otel-tables`: for each table (the spans table only with `--otel-spans on`), the
workspace's OTLP endpoint takes an empty export request (a valid OTLP protobuf message with
nothing in it: no row is written) with the current token. A 404 means the table does not
exist (the admin's DDL, `dbx-fmapi telemetry ddl`); a 403 names the grant that is missing.
Telemetry never stops a session, so each of these is a WARN: the agents work, their
telemetry is lost."""

from __future__ import annotations

from ..core import ui
from ..telemetry import tables
from .report import Run, need

PROTOBUF = "application/x-protobuf"


def has_tables(r: Run) -> bool:
    return tables.prefix_of(need(r.cfg)) is not None


def signals(r: Run) -> list[str]:
    """The tables' signals: metrics and logs, traces only with `--otel-spans on`."""
    cfg = need(r.cfg)
    return list(tables.signals_of(tables.spans_on(cfg))) if has_tables(r) else []


def table(r: Run) -> None:
    from ..workspace.client import WorkspaceError, diagnose

    cfg, ws = need(r.cfg), need(r.ws)
    prefix, signal = str(cfg["otel_tables"]), str(r.item)
    name = tables.names(prefix)[signal]
    host = str(cfg["host"])
    url = tables.signal_url(host, signal)
    ddl = f"dbx-fmapi telemetry ddl {prefix}"
    try:
        with r.progress.step(f"sending an empty {signal} export to {name}"):
            ws.post_bytes(url, b"", PROTOBUF, {tables.HEADER: name})
    except WorkspaceError as exc:
        said = f"{exc.code or exc.status}: {exc.message}"
        if exc.status == 404 and "table" in exc.message.lower():
            r.add(
                ui.WARN,
                f"table {name} does not exist ({said}); Claude Code's {signal} are lost",
                f"ask a workspace admin to create the tables (the SQL: {ddl})",
            )
        elif exc.status == 404:
            r.add(
                ui.WARN,
                f"the workspace has no OTLP endpoint at {url} ({said}): the OpenTelemetry "
                "ingestion preview may be off",
                "ask a workspace admin to enable it (docs/telemetry.md)",
            )
        elif exc.status == 403 and not ("invalid" in exc.message.lower() and "token" in said):
            grant = _grant(exc.message)
            r.add(
                ui.WARN,
                f"{name} refused you ({said}); sending needs USE CATALOG, USE SCHEMA, MODIFY "
                "and SELECT" + (f": {grant} is missing" if grant else ""),
                f"ask a workspace admin to grant it (the grants are at the end of: {ddl})",
            )
        else:
            detail, fix = diagnose(exc, host, f"send telemetry to {name}", login="dbx-fmapi login")
            r.add(ui.WARN, detail, fix)
        return
    r.add(ui.PASS, f"{url} takes {signal} for {name}")


def _grant(message: str) -> str | None:
    """The privilege a refusal names ("User does not have MODIFY on Table …")."""
    upper = message.upper()
    for privilege in ("USE CATALOG", "USE SCHEMA", "MODIFY", "SELECT"):
        if f"HAVE {privilege} " in upper or f"HAVE {privilege}." in upper:
            return privilege
    return None
