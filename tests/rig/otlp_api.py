"""The fake workspace's OpenTelemetry endpoint (Zerobus Ingest OTLP over HTTP):
`POST /api/2.0/otel/v1/{metrics,logs,traces}`, as ../shared/notes/databricks.md ("Telemetry and
traces into the workspace") and the public docs describe it: `content-type:
application/x-protobuf`, `Authorization: Bearer …` (the same token rules as every other API of the
fake), `X-Databricks-UC-Table-Name: CATALOG.SCHEMA.TABLE` naming a Unity Catalog table that exists
and that the caller may write. Bodies are decoded with the real OpenTelemetry protobuf definitions
(`opentelemetry-proto`), so tests assert on metric names, log events and attributes.

What the fake assumes (not documented): the error codes and wording of a missing header, a
missing table (404 TABLE_DOES_NOT_EXIST) and a missing grant (403 PERMISSION_DENIED naming the
privilege); a success answers an empty Export…ServiceResponse (protobuf), as the OTLP spec says.

    otel = otlp_api.state(ws)
    otel.create_tables("main.tele.cc")           # main.tele.cc_otel_{metrics,logs,spans}
    otel.revoke("main.tele.cc_otel_logs", "MODIFY")
    otel.mode = "hang"                           # or "drop" (connection closed, no answer),
                                                 # or "hold" (answered once released)
    [m["name"] for m in otel.records("main.tele.cc_otel_metrics")]
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.rig.routing import Request, Response, Route

PREFIX = "/api/2.0/otel/v1/"
SIGNALS = ("metrics", "logs", "traces")
# The table suffix each signal is written to (the docs' <prefix>_otel_{spans,logs,metrics}).
SUFFIX = {"metrics": "_otel_metrics", "logs": "_otel_logs", "traces": "_otel_spans"}
# What writing through the endpoint needs (the docs' grants for the ingesting principal).
PRIVILEGES = ("USE CATALOG", "USE SCHEMA", "MODIFY", "SELECT")


def _messages(signal: str) -> tuple[Any, Any]:
    """(request class, response class) of a signal, from the real definitions (imported here:
    the workspace's modules import only the standard library when loaded)."""
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as logs
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as metrics
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as trace

    return {
        "metrics": (metrics.ExportMetricsServiceRequest, metrics.ExportMetricsServiceResponse),
        "logs": (logs.ExportLogsServiceRequest, logs.ExportLogsServiceResponse),
        "traces": (trace.ExportTraceServiceRequest, trace.ExportTraceServiceResponse),
    }[signal]


@dataclass
class Export:
    """One POST the endpoint saw: which signal, the table header, what it answered, the token."""

    signal: str
    table: str | None
    status: int = 0
    token: Any = None  # the workspace's TokenRef (never the raw token)
    records: int = 0


@dataclass
class OtlpState:
    tables: dict[str, set[str]] = field(default_factory=dict)  # full name -> privileges held
    stored: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # table -> records
    exports: list[Export] = field(default_factory=list)
    # "answer" (default); "hang": hold each request (no answer) until `release` is set or
    # `hang_seconds` pass, then close it; "drop": close the connection without an answer;
    # "hold": a slow endpoint: hold each request until `release` or `hang_seconds`, then
    # answer it as "answer" does.
    mode: str = "answer"
    hang_seconds: float = 120.0
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def create_tables(self, prefix: str, privileges: tuple[str, ...] = PRIVILEGES) -> None:
        """The three tables an admin creates for CATALOG.SCHEMA.PREFIX, with the caller's grants."""
        for suffix in SUFFIX.values():
            self.create_table(prefix + suffix, privileges)

    def create_table(self, name: str, privileges: tuple[str, ...] = PRIVILEGES) -> None:
        with self.lock:
            self.tables[name.lower()] = set(privileges)

    def revoke(self, table: str, privilege: str) -> None:
        with self.lock:
            self.tables[table.lower()].discard(privilege)

    def records(self, table: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.stored.get(table.lower(), []))

    def exports_to(self, table: str) -> list[Export]:
        with self.lock:
            return [e for e in self.exports if (e.table or "").lower() == table.lower()]


def state(ws: Any) -> OtlpState:
    """The OTLP side of a FakeWorkspace, made on first use."""
    world = ws.__dict__.get("_otlp_state")
    if world is None:
        world = ws.__dict__["_otlp_state"] = OtlpState()
    return world


def is_otlp_path(path: str) -> bool:
    return path.startswith(PREFIX)


def _error(status: int, code: str, message: str) -> Response:
    return Response(status, {"error_code": code, "message": message, "details": []})


def _export(req: Request) -> None:
    route(req.ws, req.h, req.method, req.path, req.body, req.token)


ROUTES = [Route("*", PREFIX + "*", _export)]


def route(ws: Any, h: Any, method: str, path: str, body: bytes, token: Any) -> None:
    """Answer one request to /api/2.0/otel/v1/* (raises a Response). The workspace has already
    checked the bearer token."""
    from google.protobuf.message import DecodeError

    world = state(ws)
    signal = path[len(PREFIX) :]
    table = h.headers.get("X-Databricks-UC-Table-Name")
    export = Export(signal=signal, table=table, token=token)
    with world.lock:
        world.exports.append(export)
    if world.mode == "hold":
        world.release.wait(world.hang_seconds)
    elif world.mode in ("hang", "drop"):
        if world.mode == "hang":
            world.release.wait(world.hang_seconds)
        export.status = -1
        h.close_connection = True
        with contextlib.suppress(OSError):
            h.connection.shutdown(socket.SHUT_RDWR)
        raise BrokenPipeError  # the workspace's handler sends nothing for this
    if signal not in SIGNALS:
        raise Response(
            404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"No API found for '{path}'"}
        )
    if method != "POST":
        raise Response(405, {"error_code": "BAD_REQUEST", "message": "Method not allowed"})
    content_type = h.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type != "application/x-protobuf":
        export.status = 415
        raise _error(
            415,
            "BAD_REQUEST",
            f"Unsupported content type '{content_type}': use application/x-protobuf",
        )
    if not table:
        export.status = 400
        raise _error(400, "INVALID_PARAMETER_VALUE", "Missing header X-Databricks-UC-Table-Name")
    if table.count(".") != 2 or not all(table.split(".")):
        export.status = 400
        raise _error(
            400,
            "INVALID_PARAMETER_VALUE",
            f"Invalid table name '{table}': use catalog.schema.table",
        )
    with world.lock:
        held = world.tables.get(table.lower())
    if held is None:
        export.status = 404
        raise _error(404, "TABLE_DOES_NOT_EXIST", f"Table '{table}' does not exist.")
    for privilege in PRIVILEGES:
        if privilege not in held:
            export.status = 403
            on = {"USE CATALOG": "Catalog", "USE SCHEMA": "Schema"}.get(privilege, "Table")
            name = {"Catalog": table.split(".")[0], "Schema": ".".join(table.split(".")[:2])}
            raise _error(
                403,
                "PERMISSION_DENIED",
                f"User does not have {privilege} on {on} '{name.get(on, table)}'.",
            )
    if h.headers.get("Content-Encoding", "").lower() == "gzip":
        body = gzip.decompress(body)
    request_class, response_class = _messages(signal)
    message = request_class()
    try:
        message.ParseFromString(body)
    except DecodeError:
        export.status = 400
        raise _error(400, "INVALID_PARAMETER_VALUE", "Invalid OTLP protobuf payload") from None
    rows = _decode(signal, message)
    with world.lock:
        world.stored.setdefault(table.lower(), []).extend(rows)
    export.records = len(rows)
    export.status = 200
    raise Response(200, response_class().SerializeToString(), content_type="application/x-protobuf")


# ---------------------------------------------------------------------- decoding


def _value(v: Any) -> Any:
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return _attrs(v.kvlist_value.values)
    return getattr(v, kind)


def _attrs(kvs: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in kvs}


def _decode(signal: str, message: Any) -> list[dict[str, Any]]:
    """One flat row per data point, log record or span, with its resource and scope (as the
    service denormalises them)."""
    rows: list[dict[str, Any]] = []
    groups = {
        "metrics": message.resource_metrics if signal == "metrics" else [],
        "logs": message.resource_logs if signal == "logs" else [],
        "traces": message.resource_spans if signal == "traces" else [],
    }[signal]
    for group in groups:
        resource = _attrs(group.resource.attributes)
        scopes = {
            "metrics": lambda g: g.scope_metrics,
            "logs": lambda g: g.scope_logs,
            "traces": lambda g: g.scope_spans,
        }[signal](group)
        for scope in scopes:
            base = {"resource": resource, "scope": scope.scope.name}
            if signal == "metrics":
                for metric in scope.metrics:
                    rows.extend(_metric_rows(metric, base))
            elif signal == "logs":
                for log in scope.log_records:
                    rows.append(
                        {
                            **base,
                            "event_name": log.event_name,
                            "body": _value(log.body),
                            "attributes": _attrs(log.attributes),
                            "time_unix_nano": log.time_unix_nano,
                        }
                    )
            else:
                for span in scope.spans:
                    rows.append(
                        {
                            **base,
                            "name": span.name,
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent_span_id": span.parent_span_id.hex(),
                            "attributes": _attrs(span.attributes),
                        }
                    )
    return rows


def _metric_rows(metric: Any, base: dict[str, Any]) -> list[dict[str, Any]]:
    kind = metric.WhichOneof("data")
    if kind is None:
        return [{**base, "name": metric.name, "kind": None, "attributes": {}, "value": None}]
    points = getattr(metric, kind).data_points
    rows = []
    for point in points:
        if kind in ("gauge", "sum"):
            which = point.WhichOneof("value")
            value: Any = getattr(point, which) if which else None
        else:
            value = point.sum if kind == "summary" or point.HasField("sum") else None
        rows.append(
            {
                **base,
                "name": metric.name,
                "kind": kind,
                "unit": metric.unit,
                "attributes": _attrs(point.attributes),
                "value": value,
            }
        )
    return rows
