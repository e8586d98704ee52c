"""The OpenTelemetry protocol's messages as otlpjson.py writes them: each message's fields
(JSON name -> protobuf field number, kind, message type), from opentelemetry-proto v1 (the
collector's Export{Trace,Logs,Metrics}ServiceRequest and what they hold), and the enum values
by name. Data only; tests decode otlpjson.py's output with the real definitions."""

from __future__ import annotations

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

# Enum values by name, for JSON that writes them as names.
ENUMS = {
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
