"""The fake workspace's OTLP endpoint (tests/rig/otlp_api.py): the checks the real service makes
(token, table header, table exists, grants, content type) and the records it keeps, decoded with
the real OpenTelemetry protobuf definitions."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2

from tests.rig import otlp_api
from tests.rig.workspace import FakeWorkspace

PREFIX = "main.tele.cc"


@pytest.fixture
def ws() -> Iterator[FakeWorkspace]:
    with FakeWorkspace() as w:
        yield w


def _kv(key: str, value: str) -> common_pb2.KeyValue:
    return common_pb2.KeyValue(key=key, value=common_pb2.AnyValue(string_value=value))


def _metrics() -> bytes:
    point = metrics_pb2.NumberDataPoint(as_double=12.0, attributes=[_kv("type", "input")])
    metric = metrics_pb2.Metric(
        name="claude_code.token.usage", sum=metrics_pb2.Sum(data_points=[point])
    )
    req = metrics_service_pb2.ExportMetricsServiceRequest(
        resource_metrics=[
            metrics_pb2.ResourceMetrics(scope_metrics=[metrics_pb2.ScopeMetrics(metrics=[metric])])
        ]
    )
    return req.SerializeToString()


def _logs() -> bytes:
    record = logs_pb2.LogRecord(
        body=common_pb2.AnyValue(string_value="claude_code.api_request"),
        attributes=[_kv("event.name", "api_request"), _kv("model", "m")],
    )
    req = logs_service_pb2.ExportLogsServiceRequest(
        resource_logs=[logs_pb2.ResourceLogs(scope_logs=[logs_pb2.ScopeLogs(log_records=[record])])]
    )
    return req.SerializeToString()


def _post(
    ws: FakeWorkspace,
    signal: str,
    body: bytes,
    token: str | None,
    table: str | None,
    content_type: str = "application/x-protobuf",
) -> tuple[int, bytes]:
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if table is not None:
        headers["X-Databricks-UC-Table-Name"] = table
    req = urllib.request.Request(
        f"{ws.url}/api/2.0/otel/v1/{signal}", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_metrics_and_logs_are_stored_decoded_per_table(ws: FakeWorkspace) -> None:
    otel = otlp_api.state(ws)
    otel.create_tables(PREFIX)
    token = ws.issue_token()
    assert _post(ws, "metrics", _metrics(), token, f"{PREFIX}_otel_metrics") == (200, b"")
    assert _post(ws, "logs", _logs(), token, f"{PREFIX}_otel_logs")[0] == 200
    [metric] = otel.records(f"{PREFIX}_otel_metrics")
    assert (metric["name"], metric["attributes"], metric["value"]) == (
        "claude_code.token.usage",
        {"type": "input"},
        12.0,
    )
    [log] = otel.records(f"{PREFIX}_otel_logs")
    assert log["body"] == "claude_code.api_request"
    assert log["attributes"]["event.name"] == "api_request"
    assert otel.records(f"{PREFIX}_otel_spans") == []
    # An empty export request (what doctor sends) is accepted and stores nothing.
    assert _post(ws, "traces", b"", token, f"{PREFIX}_otel_spans")[0] == 200


def _error(answer: tuple[int, bytes]) -> tuple[int, str, str]:
    body = json.loads(answer[1])
    return answer[0], body["error_code"], body["message"]


def test_refusals_like_the_service(ws: FakeWorkspace) -> None:
    otel = otlp_api.state(ws)
    otel.create_tables(PREFIX)
    table = f"{PREFIX}_otel_logs"
    token = ws.issue_token()
    assert _post(ws, "logs", _logs(), None, table)[0] == 401
    revoked = ws.issue_token()
    ws.revoke_token(revoked)
    assert _post(ws, "logs", _logs(), revoked, table)[0] == 403
    assert _error(_post(ws, "logs", _logs(), token, None))[:2] == (400, "INVALID_PARAMETER_VALUE")
    assert _error(_post(ws, "logs", _logs(), token, "main.tele.other_otel_logs")) == (
        404,
        "TABLE_DOES_NOT_EXIST",
        "Table 'main.tele.other_otel_logs' does not exist.",
    )
    assert _post(ws, "logs", b'{"x": 1}', token, table, "application/json")[0] == 415
    assert _error(_post(ws, "logs", b"\xff\xff\xff", token, table))[0] == 400
    otel.revoke(table, "MODIFY")
    assert _error(_post(ws, "logs", _logs(), token, table)) == (
        403,
        "PERMISSION_DENIED",
        f"User does not have MODIFY on Table '{table}'.",
    )
    assert otel.records(table) == []
    # The token checks come first (the workspace's own); the endpoint saw the rest.
    assert [e.status for e in otel.exports] == [400, 404, 415, 400, 403]


def test_hang_and_drop_answer_nothing(ws: FakeWorkspace) -> None:
    otel = otlp_api.state(ws)
    otel.create_tables(PREFIX)
    token = ws.issue_token()
    otel.mode = "drop"
    with pytest.raises((urllib.error.URLError, ConnectionError, socket.error)):
        _post(ws, "logs", _logs(), token, f"{PREFIX}_otel_logs")
    otel.mode = "hang"
    done = threading.Event()
    failures: list[BaseException] = []

    def post() -> None:
        try:
            _post(ws, "logs", _logs(), token, f"{PREFIX}_otel_logs")
        except (urllib.error.URLError, ConnectionError, OSError) as e:
            failures.append(e)
        done.set()

    threading.Thread(target=post, daemon=True).start()
    while len(otel.exports) < 2:
        threading.Event().wait(0.05)
    assert not done.is_set()  # arrived, held, no answer
    otel.release.set()
    assert done.wait(10)
    assert failures  # closed without an answer
    assert otel.records(f"{PREFIX}_otel_logs") == []


def test_hold_answers_once_released(ws: FakeWorkspace) -> None:
    """A slow endpoint: the export is held unanswered, then answered and stored as usual."""
    otel = otlp_api.state(ws)
    otel.create_tables(PREFIX)
    token = ws.issue_token()
    otel.mode = "hold"
    answers: list[int] = []
    done = threading.Event()

    def post() -> None:
        answers.append(_post(ws, "logs", _logs(), token, f"{PREFIX}_otel_logs")[0])
        done.set()

    threading.Thread(target=post, daemon=True).start()
    while not otel.exports:
        threading.Event().wait(0.05)
    assert not done.is_set() and otel.exports[0].status == 0  # arrived, held, no answer yet
    otel.release.set()
    assert done.wait(10)
    assert answers == [200] and otel.exports[0].status == 200
    rows = otel.records(f"{PREFIX}_otel_logs")
    assert [r["attributes"]["event.name"] for r in rows] == ["api_request"]  # type: ignore[index]
