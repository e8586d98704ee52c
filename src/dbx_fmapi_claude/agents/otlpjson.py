"""OTLP/JSON to OTLP/protobuf, standard library only.

Gemini CLI (0.61.0, `telemetry.otlpProtocol: "http"`) and OpenCode (1.18.33) export OTLP over
HTTP as JSON (`content-type: application/json`), while the workspace's OTLP endpoint takes
binary protobuf only. The loopback proxy turns each JSON export into the same message in binary
form, from the OpenTelemetry protocol's own field numbers (opentelemetry-proto v1: the
collector's Export{Trace,Logs,Metrics}ServiceRequest and what they hold); tests decode the
result with the real definitions.

JSON as OTLP writes it: lowerCamelCase names (snake_case taken too), trace and span ids in hex,
64-bit integers as strings or numbers, enums as integers (or their names). Every field present
is written, defaults included, so a oneof (AnyValue, a data point's value) keeps its member.
An unknown field is skipped, as protobuf's JSON parsers may do; a value of the wrong type
raises ValueError (the proxy then answers 400 and sends nothing).

What the user typed and what the model answered stay on the machine, as with Claude Code's and
Codex's defaults: attributes in REDACTED are left out wherever they appear (measured: OpenCode's
model-call spans carry the prompt and the answer, `ai.prompt`, `ai.response.text`…; Gemini CLI's
resource carries `process.command_args`, which holds a `-p` prompt).
"""

from __future__ import annotations

import base64
import json
import math
import struct
from typing import Any

# (field number, kind, message schema name for "msg" kinds)
Field = tuple[int, str, str]

# Scalar kinds: varint (int, uint, bool, enum), zigzag (sint), fixed64 (fixed64, sfixed64,
# double), fixed32, string, bytes, id (bytes written in hex in OTLP/JSON), msg; "rep_" in front:
# repeated (numbers packed).
SCHEMAS: dict[str, dict[str, Field]] = {
    "AnyValue": {
        "stringValue": (1, "string", ""),
        "boolValue": (2, "bool", ""),
        "intValue": (3, "int", ""),
        "doubleValue": (4, "double", ""),
        "arrayValue": (5, "msg", "ArrayValue"),
        "kvlistValue": (6, "msg", "KeyValueList"),
        "bytesValue": (7, "bytes", ""),
    },
    "ArrayValue": {"values": (1, "rep_msg", "AnyValue")},
    "KeyValueList": {"values": (1, "rep_msg", "KeyValue")},
    "KeyValue": {"key": (1, "string", ""), "value": (2, "msg", "AnyValue")},
    "Scope": {
        "name": (1, "string", ""),
        "version": (2, "string", ""),
        "attributes": (3, "rep_msg", "KeyValue"),
        "droppedAttributesCount": (4, "uint", ""),
    },
    "Resource": {
        "attributes": (1, "rep_msg", "KeyValue"),
        "droppedAttributesCount": (2, "uint", ""),
    },
    # traces
    "traces": {"resourceSpans": (1, "rep_msg", "ResourceSpans")},
    "ResourceSpans": {
        "resource": (1, "msg", "Resource"),
        "scopeSpans": (2, "rep_msg", "ScopeSpans"),
        "schemaUrl": (3, "string", ""),
    },
    "ScopeSpans": {
        "scope": (1, "msg", "Scope"),
        "spans": (2, "rep_msg", "Span"),
        "schemaUrl": (3, "string", ""),
    },
    "Span": {
        "traceId": (1, "id", ""),
        "spanId": (2, "id", ""),
        "traceState": (3, "string", ""),
        "parentSpanId": (4, "id", ""),
        "flags": (16, "fixed32", ""),
        "name": (5, "string", ""),
        "kind": (6, "enum", ""),
        "startTimeUnixNano": (7, "fixed64", ""),
        "endTimeUnixNano": (8, "fixed64", ""),
        "attributes": (9, "rep_msg", "KeyValue"),
        "droppedAttributesCount": (10, "uint", ""),
        "events": (11, "rep_msg", "Event"),
        "droppedEventsCount": (12, "uint", ""),
        "links": (13, "rep_msg", "Link"),
        "droppedLinksCount": (14, "uint", ""),
        "status": (15, "msg", "Status"),
    },
    "Event": {
        "timeUnixNano": (1, "fixed64", ""),
        "name": (2, "string", ""),
        "attributes": (3, "rep_msg", "KeyValue"),
        "droppedAttributesCount": (4, "uint", ""),
    },
    "Link": {
        "traceId": (1, "id", ""),
        "spanId": (2, "id", ""),
        "traceState": (3, "string", ""),
        "attributes": (4, "rep_msg", "KeyValue"),
        "droppedAttributesCount": (5, "uint", ""),
        "flags": (6, "fixed32", ""),
    },
    "Status": {"message": (2, "string", ""), "code": (3, "enum", "")},
    # logs
    "logs": {"resourceLogs": (1, "rep_msg", "ResourceLogs")},
    "ResourceLogs": {
        "resource": (1, "msg", "Resource"),
        "scopeLogs": (2, "rep_msg", "ScopeLogs"),
        "schemaUrl": (3, "string", ""),
    },
    "ScopeLogs": {
        "scope": (1, "msg", "Scope"),
        "logRecords": (2, "rep_msg", "LogRecord"),
        "schemaUrl": (3, "string", ""),
    },
    "LogRecord": {
        "timeUnixNano": (1, "fixed64", ""),
        "observedTimeUnixNano": (11, "fixed64", ""),
        "severityNumber": (2, "enum", ""),
        "severityText": (3, "string", ""),
        "body": (5, "msg", "AnyValue"),
        "attributes": (6, "rep_msg", "KeyValue"),
        "droppedAttributesCount": (7, "uint", ""),
        "flags": (8, "fixed32", ""),
        "traceId": (9, "id", ""),
        "spanId": (10, "id", ""),
        "eventName": (12, "string", ""),
    },
    # metrics
    "metrics": {"resourceMetrics": (1, "rep_msg", "ResourceMetrics")},
    "ResourceMetrics": {
        "resource": (1, "msg", "Resource"),
        "scopeMetrics": (2, "rep_msg", "ScopeMetrics"),
        "schemaUrl": (3, "string", ""),
    },
    "ScopeMetrics": {
        "scope": (1, "msg", "Scope"),
        "metrics": (2, "rep_msg", "Metric"),
        "schemaUrl": (3, "string", ""),
    },
    "Metric": {
        "name": (1, "string", ""),
        "description": (2, "string", ""),
        "unit": (3, "string", ""),
        "gauge": (5, "msg", "Gauge"),
        "sum": (7, "msg", "Sum"),
        "histogram": (9, "msg", "Histogram"),
        "exponentialHistogram": (10, "msg", "ExponentialHistogram"),
        "summary": (11, "msg", "Summary"),
        "metadata": (12, "rep_msg", "KeyValue"),
    },
    "Gauge": {"dataPoints": (1, "rep_msg", "NumberDataPoint")},
    "Sum": {
        "dataPoints": (1, "rep_msg", "NumberDataPoint"),
        "aggregationTemporality": (2, "enum", ""),
        "isMonotonic": (3, "bool", ""),
    },
    "Histogram": {
        "dataPoints": (1, "rep_msg", "HistogramDataPoint"),
        "aggregationTemporality": (2, "enum", ""),
    },
    "ExponentialHistogram": {
        "dataPoints": (1, "rep_msg", "ExponentialHistogramDataPoint"),
        "aggregationTemporality": (2, "enum", ""),
    },
    "Summary": {"dataPoints": (1, "rep_msg", "SummaryDataPoint")},
    "NumberDataPoint": {
        "attributes": (7, "rep_msg", "KeyValue"),
        "startTimeUnixNano": (2, "fixed64", ""),
        "timeUnixNano": (3, "fixed64", ""),
        "asDouble": (4, "double", ""),
        "asInt": (6, "sfixed64", ""),
        "exemplars": (5, "rep_msg", "Exemplar"),
        "flags": (8, "uint", ""),
    },
    "HistogramDataPoint": {
        "attributes": (9, "rep_msg", "KeyValue"),
        "startTimeUnixNano": (2, "fixed64", ""),
        "timeUnixNano": (3, "fixed64", ""),
        "count": (4, "fixed64", ""),
        "sum": (5, "double", ""),
        "bucketCounts": (6, "rep_fixed64", ""),
        "explicitBounds": (7, "rep_double", ""),
        "exemplars": (8, "rep_msg", "Exemplar"),
        "flags": (10, "uint", ""),
        "min": (11, "double", ""),
        "max": (12, "double", ""),
    },
    "ExponentialHistogramDataPoint": {
        "attributes": (1, "rep_msg", "KeyValue"),
        "startTimeUnixNano": (2, "fixed64", ""),
        "timeUnixNano": (3, "fixed64", ""),
        "count": (4, "fixed64", ""),
        "sum": (5, "double", ""),
        "scale": (6, "sint", ""),
        "zeroCount": (7, "fixed64", ""),
        "positive": (8, "msg", "Buckets"),
        "negative": (9, "msg", "Buckets"),
        "flags": (10, "uint", ""),
        "exemplars": (11, "rep_msg", "Exemplar"),
        "min": (12, "double", ""),
        "max": (13, "double", ""),
        "zeroThreshold": (14, "double", ""),
    },
    "Buckets": {"offset": (1, "sint", ""), "bucketCounts": (2, "rep_uint", "")},
    "SummaryDataPoint": {
        "attributes": (7, "rep_msg", "KeyValue"),
        "startTimeUnixNano": (2, "fixed64", ""),
        "timeUnixNano": (3, "fixed64", ""),
        "count": (4, "fixed64", ""),
        "sum": (5, "double", ""),
        "quantileValues": (6, "rep_msg", "ValueAtQuantile"),
        "flags": (8, "uint", ""),
    },
    "ValueAtQuantile": {"quantile": (1, "double", ""), "value": (2, "double", "")},
    "Exemplar": {
        "filteredAttributes": (7, "rep_msg", "KeyValue"),
        "timeUnixNano": (2, "fixed64", ""),
        "asDouble": (3, "double", ""),
        "asInt": (6, "sfixed64", ""),
        "spanId": (4, "id", ""),
        "traceId": (5, "id", ""),
    },
}

# Attributes that hold prompts, answers, tool inputs and outputs (the AI SDK's telemetry, as
# OpenCode 1.18.33 records it; OpenTelemetry's gen_ai events), or a command line.
REDACTED = frozenset(
    {
        "ai.prompt",
        "ai.prompt.messages",
        "ai.prompt.tools",
        "ai.prompt.toolChoice",
        "ai.response.text",
        "ai.response.toolCalls",
        "ai.response.reasoning",
        "ai.response.object",
        "ai.response.providerMetadata",
        "ai.toolCall.args",
        "ai.toolCall.result",
        "ai.value",
        "ai.values",
        "gen_ai.prompt",
        "gen_ai.completion",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "process.command_args",
        "process.command_line",
    }
)

# Enum values by name, for JSON that writes them as names.
_ENUMS = {
    **{f"SPAN_KIND_{n}": i for i, n in enumerate(("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT"))},
    "SPAN_KIND_PRODUCER": 4,
    "SPAN_KIND_CONSUMER": 5,
    "STATUS_CODE_UNSET": 0,
    "STATUS_CODE_OK": 1,
    "STATUS_CODE_ERROR": 2,
    "AGGREGATION_TEMPORALITY_UNSPECIFIED": 0,
    "AGGREGATION_TEMPORALITY_DELTA": 1,
    "AGGREGATION_TEMPORALITY_CUMULATIVE": 2,
    "SEVERITY_NUMBER_UNSPECIFIED": 0,
    **{
        f"SEVERITY_NUMBER_{level}{'' if i == 0 else i + 1}": base + i
        for base, level in ((1, "TRACE"), (5, "DEBUG"), (9, "INFO"))
        for i in range(4)
    },
    **{
        f"SEVERITY_NUMBER_{level}{'' if i == 0 else i + 1}": base + i
        for base, level in ((13, "WARN"), (17, "ERROR"), (21, "FATAL"))
        for i in range(4)
    },
}
_MASK64 = (1 << 64) - 1


def convert(signal: str, body: bytes) -> bytes:
    """The OTLP/JSON export `body` for `signal` ("traces", "logs", "metrics") as protobuf."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("an OTLP/JSON export is an object")
    out = bytearray()
    _message(out, data, signal)
    return bytes(out)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _message(out: bytearray, data: Any, schema: str) -> None:
    if not isinstance(data, dict):
        raise ValueError(f"{schema}: an object expected")
    fields = SCHEMAS[schema]
    for key, value in data.items():
        spec = fields.get(key) or fields.get(_camel(key))
        if spec is None or value is None:
            continue
        number, kind, sub = spec
        if kind.startswith("rep_"):
            if not isinstance(value, list):
                raise ValueError(f"{schema}.{key}: a list expected")
            _repeated(out, number, kind[4:], sub, value)
        else:
            _field(out, number, kind, sub, value)


def _repeated(out: bytearray, number: int, kind: str, sub: str, values: list[Any]) -> None:
    if not values:
        return
    if kind == "msg":
        for value in values:
            if sub == "KeyValue" and isinstance(value, dict) and value.get("key") in REDACTED:
                continue
            _field(out, number, "msg", sub, value)
        return
    packed = bytearray()
    for value in values:
        if kind == "fixed64":
            packed += struct.pack("<Q", _int(value) & _MASK64)
        elif kind == "double":
            packed += struct.pack("<d", _float(value))
        else:  # uint
            _varint(packed, _int(value) & _MASK64)
    _tag(out, number, 2)
    _varint(out, len(packed))
    out += packed


def _field(out: bytearray, number: int, kind: str, sub: str, value: Any) -> None:
    if kind == "msg":
        inner = bytearray()
        _message(inner, value, sub)
        _tag(out, number, 2)
        _varint(out, len(inner))
        out += inner
    elif kind in ("string", "bytes", "id"):
        raw = _bytes(kind, value)
        _tag(out, number, 2)
        _varint(out, len(raw))
        out += raw
    elif kind in ("fixed64", "sfixed64"):
        _tag(out, number, 1)
        out += struct.pack("<Q", _int(value) & _MASK64)
    elif kind == "double":
        _tag(out, number, 1)
        out += struct.pack("<d", _float(value))
    elif kind == "fixed32":
        _tag(out, number, 5)
        out += struct.pack("<I", _int(value) & 0xFFFFFFFF)
    elif kind == "sint":
        n = _int(value)
        _tag(out, number, 0)
        _varint(out, ((n << 1) ^ (n >> 63)) & _MASK64)
    else:  # int, uint, bool, enum: varint
        _tag(out, number, 0)
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError("a boolean expected")
            _varint(out, int(value))
        elif kind == "enum" and isinstance(value, str) and not value.lstrip("-").isdigit():
            if value not in _ENUMS:
                raise ValueError(f"unknown enum value {value!r}")
            _varint(out, _ENUMS[value])
        else:
            _varint(out, _int(value) & _MASK64)


def _bytes(kind: str, value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"a string expected for a {kind}")
    if kind == "string":
        return value.encode("utf-8")
    if kind == "id" and len(value) in (0, 16, 32):
        try:
            return bytes.fromhex(value)  # OTLP/JSON: trace and span ids in hex
        except ValueError:
            pass
    alt = b"-_" if "-" in value or "_" in value else None  # the URL-safe alphabet
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4), altchars=alt, validate=True)
    except ValueError:
        raise ValueError(f"bad {kind} value") from None


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("an integer expected")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError(f"an integer expected, not {value!r}")


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("a number expected")
    if isinstance(value, (int, float)):
        return float(value)
    if value in ("NaN", "Infinity", "-Infinity"):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[value]
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise ValueError(f"a number expected, not {value!r}")


def _tag(out: bytearray, number: int, wire: int) -> None:
    _varint(out, (number << 3) | wire)


def _varint(out: bytearray, n: int) -> None:
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
