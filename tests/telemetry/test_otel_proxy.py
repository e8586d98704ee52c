"""The OTLP proxy `dbx-fmapi run` starts for the agents' telemetry (agents/otelproxy.py) and its
OTLP/JSON to protobuf conversion (agents/otlpjson.py), in process: the rig's workspace over real
HTTP with its OTLP endpoint, decoded by the real opentelemetry-proto."""

from __future__ import annotations

import base64
import http.client
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from dbx_fmapi_claude.agents import otelproxy, otlpjson
from dbx_fmapi_claude.agents.freshtoken import FreshToken
from dbx_fmapi_claude.auth import rejected
from dbx_fmapi_claude.auth.dbcli import Token
from tests.rig import otlp_api
from tests.rig.workspace import FakeWorkspace

PREFIX = "main.tele.t"

TRACES = {
    "resourceSpans": [
        {
            "resource": {
                "attributes": [
                    {"key": "service.name", "value": {"stringValue": "gemini-cli"}},
                    {"key": "n", "value": {"intValue": "-7"}},
                    {"key": "empty", "value": {"stringValue": ""}},
                ],
                "droppedAttributesCount": 0,
            },
            "scopeSpans": [
                {
                    "scope": {"name": "gemini-cli", "version": "1"},
                    "spans": [
                        {
                            "traceId": "5b8efff798038103d269b633813fc60c",
                            "spanId": "eee19b7ec3c1b174",
                            "parentSpanId": "",
                            "name": "llm_call",
                            "kind": 3,
                            "startTimeUnixNano": "1796550827551000000",
                            "endTimeUnixNano": 1796550827651000000,
                            "attributes": [
                                {"key": "ok", "value": {"boolValue": True}},
                                {"key": "ratio", "value": {"doubleValue": 0.5}},
                                {
                                    "key": "list",
                                    "value": {
                                        "arrayValue": {
                                            "values": [{"stringValue": "a"}, {"intValue": 2}]
                                        }
                                    },
                                },
                                {
                                    "key": "map",
                                    "value": {
                                        "kvlistValue": {
                                            "values": [
                                                {"key": "k", "value": {"bytesValue": "AQI="}}
                                            ]
                                        }
                                    },
                                },
                            ],
                            "events": [{"timeUnixNano": "5", "name": "e", "attributes": []}],
                            "links": [
                                {
                                    "traceId": "5b8efff798038103d269b633813fc60d",
                                    "spanId": "eee19b7ec3c1b175",
                                    "flags": 1,
                                }
                            ],
                            "status": {"code": "STATUS_CODE_ERROR", "message": "boom"},
                            "flags": 257,
                        }
                    ],
                }
            ],
        }
    ]
}
LOGS = {
    "resourceLogs": [
        {
            "resource": {"attributes": []},
            "scopeLogs": [
                {
                    "scope": {"name": "gemini-cli"},
                    "logRecords": [
                        {
                            "timeUnixNano": "1796550827551000000",
                            "observedTimeUnixNano": "1796550827551000001",
                            "severityNumber": 9,
                            "severityText": "INFO",
                            "body": {"stringValue": "API response"},
                            "attributes": [
                                {
                                    "key": "event.name",
                                    "value": {"stringValue": "gemini_cli.api_response"},
                                },
                                {"key": "input_token_count", "value": {"intValue": 12}},
                            ],
                            "eventName": "gemini_cli.api_response",
                            "traceId": "5b8efff798038103d269b633813fc60c",
                            "spanId": "eee19b7ec3c1b174",
                            "flags": 1,
                        }
                    ],
                }
            ],
        }
    ]
}
METRICS = {
    "resourceMetrics": [
        {
            "resource": {"attributes": []},
            "scopeMetrics": [
                {
                    "scope": {"name": "gemini-cli"},
                    "metrics": [
                        {
                            "name": "gemini_cli.token.usage",
                            "unit": "token",
                            "sum": {
                                "dataPoints": [
                                    {
                                        "attributes": [
                                            {"key": "type", "value": {"stringValue": "input"}}
                                        ],
                                        "startTimeUnixNano": "1",
                                        "timeUnixNano": "2",
                                        "asInt": "12",
                                    },
                                    {"timeUnixNano": "2", "asInt": 0},
                                ],
                                "aggregationTemporality": 2,
                                "isMonotonic": True,
                            },
                        },
                        {"name": "g", "gauge": {"dataPoints": [{"asDouble": 0.0}]}},
                        {
                            "name": "gemini_cli.api.request.latency",
                            "histogram": {
                                "dataPoints": [
                                    {
                                        "count": "3",
                                        "sum": 0,
                                        "bucketCounts": ["1", 2, "0"],
                                        "explicitBounds": [0, 5.5],
                                        "min": 1.5,
                                        "max": 9,
                                        "exemplars": [
                                            {
                                                "asDouble": 2.5,
                                                "timeUnixNano": "3",
                                                "spanId": "eee19b7ec3c1b174",
                                                "traceId": "5b8efff798038103d269b633813fc60c",
                                            }
                                        ],
                                    }
                                ],
                                "aggregationTemporality": "AGGREGATION_TEMPORALITY_DELTA",
                            },
                        },
                        {
                            "name": "exp",
                            "exponentialHistogram": {
                                "dataPoints": [
                                    {
                                        "count": 4,
                                        "scale": -3,
                                        "zeroCount": 1,
                                        "positive": {"offset": -2, "bucketCounts": [1, 2]},
                                        "negative": {"offset": 5, "bucketCounts": []},
                                        "zeroThreshold": 0.001,
                                    }
                                ]
                            },
                        },
                        {
                            "name": "summary",
                            "summary": {
                                "dataPoints": [
                                    {
                                        "count": 2,
                                        "sum": 3.0,
                                        "quantileValues": [{"quantile": 0.5, "value": 1}],
                                    }
                                ]
                            },
                        },
                    ],
                }
            ],
        }
    ]
}
KINDS = {
    "traces": trace_service_pb2.ExportTraceServiceRequest,
    "logs": logs_service_pb2.ExportLogsServiceRequest,
    "metrics": metrics_service_pb2.ExportMetricsServiceRequest,
}
IDS = ("traceId", "spanId", "parentSpanId")


def _hex_ids_as_base64(value: Any) -> Any:
    """OTLP/JSON's hex ids the way protobuf's own JSON parser reads bytes (base64)."""
    if isinstance(value, dict):
        return {
            k: base64.b64encode(bytes.fromhex(v)).decode() if k in IDS else _hex_ids_as_base64(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_hex_ids_as_base64(v) for v in value]
    return value


@pytest.mark.parametrize(
    ("signal", "data"), [("traces", TRACES), ("logs", LOGS), ("metrics", METRICS)]
)
def test_json_becomes_the_same_protobuf_message(signal: str, data: dict[str, Any]) -> None:
    got = KINDS[signal]()
    got.ParseFromString(otlpjson.convert(signal, json.dumps(data).encode()))
    want = json_format.Parse(json.dumps(_hex_ids_as_base64(data)), KINDS[signal]())
    assert got == want
    assert got.ByteSize() > 0


def test_snake_case_names_are_read_too() -> None:
    data = {"resource_logs": [{"scope_logs": [{"log_records": [{"severity_text": "WARN"}]}]}]}
    got = logs_service_pb2.ExportLogsServiceRequest()
    got.ParseFromString(otlpjson.convert("logs", json.dumps(data).encode()))
    assert got.resource_logs[0].scope_logs[0].log_records[0].severity_text == "WARN"


def test_prompts_answers_and_command_lines_are_left_out() -> None:
    """OpenCode's model-call spans carry the prompt and the answer (the AI SDK's defaults), Gemini
    CLI's resource the command line with a -p prompt: none of it leaves the machine."""
    secret = {"stringValue": "my secret plan"}
    data = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "process.command_args", "value": secret}]},
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "name": "ai.streamText",
                                "attributes": [
                                    {"key": "ai.prompt", "value": secret},
                                    {"key": "ai.response.text", "value": secret},
                                    {"key": "ai.usage.inputTokens", "value": {"intValue": 3}},
                                ],
                            }
                        ]
                    }
                ],
            }
        ]
    }
    got = trace_service_pb2.ExportTraceServiceRequest()
    got.ParseFromString(otlpjson.convert("traces", json.dumps(data).encode()))
    assert b"my secret plan" not in got.SerializeToString()
    [span] = got.resource_spans[0].scope_spans[0].spans
    assert [a.key for a in span.attributes] == ["ai.usage.inputTokens"]


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1]", b'{"resourceLogs": {}}', b'{"resourceLogs": [{"resource": 3}]}'],
)
def test_what_is_not_an_otlp_export_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError):
        otlpjson.convert("logs", body)


# ------------------------------------------------------------------ the proxy


class Source:
    """fetch: the token held; refetch: a new one when the workspace rejects it."""

    def __init__(self, ws: FakeWorkspace) -> None:
        self.ws = ws
        self.current = Token(ws.issue_token(), time.time() + 3600)
        self.refetches = 0

    def fetch(self) -> Token:
        return self.current

    def refetch(self) -> Token:
        self.refetches += 1
        if rejected.check(self.ws.url, self.current.access_token, {}) == rejected.REJECTED:
            self.current = Token(self.ws.issue_token(), time.time() + 3600)
        return self.current


@pytest.fixture
def ws() -> Iterator[FakeWorkspace]:
    with FakeWorkspace() as w:
        otlp_api.state(w).create_tables(PREFIX)
        yield w


def _start(ws: FakeWorkspace, source: Source, **kw: Any) -> Any:
    fresh = FreshToken(source.fetch, keep=30, held=source.fetch(), refetch=source.refetch)
    return otelproxy.start(ws.url, fresh, PREFIX, env={}, **kw)


def _post(
    p: Any, path: str, body: bytes, ctype: str, key: str | None = None
) -> tuple[int, bytes, str]:
    conn = http.client.HTTPConnection("127.0.0.1", p.port, timeout=30)
    headers = {"Content-Type": ctype, "Authorization": f"Bearer {key or p.secret}"}
    conn.request("POST", path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data, r.getheader("Content-Type") or ""


def test_exports_reach_their_tables_with_a_fresh_token(ws: FakeWorkspace) -> None:
    source = Source(ws)
    with _start(ws, source) as p:
        for signal, data in (("traces", TRACES), ("logs", LOGS), ("metrics", METRICS)):
            status, body, ctype = _post(
                p, f"/v1/{signal}", json.dumps(data).encode(), "application/json"
            )
            assert (status, body, ctype) == (200, b"{}", "application/json")
        binary = otlpjson.convert("logs", json.dumps(LOGS).encode())
        assert _post(p, "/v1/logs", binary, "application/x-protobuf")[:2] == (200, b"")
    otel = otlp_api.state(ws)  # stop() waited for the queue
    assert sorted(e.table or "" for e in otel.exports) == sorted(
        [
            PREFIX + "_otel_spans",
            PREFIX + "_otel_logs",
            PREFIX + "_otel_logs",
            PREFIX + "_otel_metrics",
        ]
    )
    assert all(e.status == 200 and e.token is not None and e.token.valid for e in otel.exports)
    assert all(e.token.matches(source.current.access_token) for e in otel.exports)  # type: ignore[union-attr]
    [span] = otel.records(PREFIX + "_otel_spans")
    assert span["name"] == "llm_call" and span["trace_id"] == "5b8efff798038103d269b633813fc60c"
    events = [r["attributes"]["event.name"] for r in otel.records(PREFIX + "_otel_logs")]
    assert events == ["gemini_cli.api_response"] * 2
    names = [r["name"] for r in otel.records(PREFIX + "_otel_metrics")]
    assert names[:2] == ["gemini_cli.token.usage", "gemini_cli.token.usage"]


def test_with_spans_off_traces_are_answered_and_never_sent(ws: FakeWorkspace) -> None:
    """`--otel-spans off`: the agent's span exports (JSON or protobuf) get their 200 from
    loopback and go nowhere; metrics and logs reach their tables."""
    with _start(ws, Source(ws), spans=False) as p:
        for signal, data in (("traces", TRACES), ("logs", LOGS), ("metrics", METRICS)):
            status, body, _ = _post(
                p, f"/v1/{signal}", json.dumps(data).encode(), "application/json"
            )
            assert (status, body) == (200, b"{}")
        binary = otlpjson.convert("traces", json.dumps(TRACES).encode())
        assert _post(p, "/v1/traces", binary, "application/x-protobuf")[:2] == (200, b"")
    otel = otlp_api.state(ws)
    assert sorted(e.table or "" for e in otel.exports) == [
        PREFIX + "_otel_logs",
        PREFIX + "_otel_metrics",
    ]
    assert not [r for r in ws.log if r.path.endswith("/v1/traces")]


def test_a_rejected_token_is_replaced_and_the_export_sent_again(ws: FakeWorkspace) -> None:
    source = Source(ws)
    with _start(ws, source) as p:
        with ws._lock:
            for tok in ws._access.values():
                tok.revoked = True
        assert _post(p, "/v1/logs", json.dumps(LOGS).encode(), "application/json")[0] == 200
    sent = [r for r in ws.log if r.path.startswith(otlp_api.PREFIX)]
    assert [r.status for r in sent] == [401, 200] or [r.status for r in sent] == [403, 200]
    assert sent[1].token is not None and sent[1].token.valid and source.refetches == 1


@pytest.mark.parametrize(
    ("method", "path", "ctype", "status"),
    [
        ("POST", "/v1/other", "application/x-protobuf", 404),
        ("GET", "/v1/logs", "application/x-protobuf", 404),
        ("POST", "/v1/logs/../../2.0/clusters/list", "application/x-protobuf", 400),
        ("POST", "/v1/logs", "text/plain", 415),
        ("POST", "/v1/logs", "application/json", 400),  # not OTLP/JSON
    ],
)
def test_only_otlp_exports_are_taken_and_nothing_else_forwarded(
    ws: FakeWorkspace, method: str, path: str, ctype: str, status: int
) -> None:
    with _start(ws, Source(ws)) as p:
        conn = http.client.HTTPConnection("127.0.0.1", p.port, timeout=30)
        conn.request(
            method,
            path,
            body=b"x",
            headers={"Content-Type": ctype, "Authorization": f"Bearer {p.secret}"},
        )
        r = conn.getresponse()
        assert r.status == status
        assert "dbx-fmapi proxy" in json.loads(r.read())["error"]["message"]
    assert ws.log == []


def test_a_stranger_without_the_secret_is_refused(ws: FakeWorkspace) -> None:
    with _start(ws, Source(ws)) as p:
        status, _, _ = _post(
            p, "/v1/logs", json.dumps(LOGS).encode(), "application/json", key="guess"
        )
        assert status == 401
    assert ws.log == []


@pytest.mark.parametrize("mode", ["hang", "drop"])
def test_a_workspace_that_hangs_or_drops_costs_the_agent_nothing(
    ws: FakeWorkspace, mode: str
) -> None:
    """The agent's export is answered from loopback; at the end, what the workspace never took
    is given up after the drain (no timing asserted: the export was answered 200 while the
    workspace still held it, and stop() returned while it still did)."""
    otel = otlp_api.state(ws)
    otel.mode = mode
    try:
        with _start(ws, Source(ws), drain_seconds=0.2) as p:
            status = _post(p, "/v1/metrics", json.dumps(METRICS).encode(), "application/json")[0]
            assert status == 200
            deadline = time.monotonic() + 30
            while not otel.exports and time.monotonic() < deadline:
                time.sleep(0.01)  # the queued export on its way to the workspace
        assert len(otel.exports) == 1 and otel.exports[0].status in (0, -1)
    finally:
        otel.release.set()


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, 0.8), ("30000", 30.0), ("0", 0.0), ("250", 0.25), ("-5", 0.8), ("soon", 0.8)],
)
def test_the_wait_for_queued_exports_at_the_end_can_be_set_in_milliseconds(
    value: str | None, seconds: float
) -> None:
    """DBX_FMAPI_OTEL_DRAIN_MS: how long exports still queued when the agent ends may take
    (800 ms by default); a value that is not a number of milliseconds >= 0 keeps the default."""
    env = {} if value is None else {otelproxy.ENV_DRAIN: value}
    assert otelproxy.drain_from(env) == seconds
