"""`dbx-fmapi telemetry ddl CATALOG.SCHEMA.PREFIX`: the statements an admin runs once.

The columns are the OTLP table schema version 2 of Zerobus Ingest (Databricks' pages
"Configure OpenTelemetry (OTLP) clients to send data to Unity Catalog" and "OpenTelemetry table
reference for Zerobus Ingest"; docs/telemetry.md says what was checked against them): one flat
row per span, log record or metric data point led by record_id, time, date, service_name;
attributes, resource and scope attributes, a log's body and a metric's metadata as VARIANT;
`otel.schemaVersion` = v2. The grants are what the ingesting principal needs.
"""

from __future__ import annotations

from .tables import names

_SCOPE = (
    "  resource STRUCT<attributes: VARIANT, dropped_attributes_count: INT>,\n"
    "  resource_schema_url STRING,\n"
    "  instrumentation_scope STRUCT<name: STRING, version: STRING, attributes: VARIANT,\n"
    "    dropped_attributes_count: INT>,\n"
)
_LEAD = "  record_id STRING,\n  time TIMESTAMP,\n  date DATE,\n  service_name STRING,\n"
_EXEMPLARS = (
    "exemplars: ARRAY<STRUCT<time_unix_nano: LONG, value: DOUBLE, span_id: STRING,\n"
    "      trace_id: STRING, filtered_attributes: VARIANT>>"
)
_PROPS = "TBLPROPERTIES ('otel.schemaVersion' = 'v2', 'delta.checkpointPolicy' = 'classic')"

SPANS = (
    _LEAD
    + "  trace_id STRING,\n  span_id STRING,\n  trace_state STRING,\n  parent_span_id STRING,\n"
    "  flags INT,\n  name STRING,\n  kind STRING,\n"
    "  start_time_unix_nano LONG,\n  end_time_unix_nano LONG,\n"
    "  attributes VARIANT,\n  dropped_attributes_count INT,\n"
    "  events ARRAY<STRUCT<time_unix_nano: LONG, name: STRING, attributes: VARIANT,\n"
    "    dropped_attributes_count: INT>>,\n"
    "  dropped_events_count INT,\n"
    "  links ARRAY<STRUCT<trace_id: STRING, span_id: STRING, trace_state: STRING,\n"
    "    attributes: VARIANT, dropped_attributes_count: INT, flags: INT>>,\n"
    "  dropped_links_count INT,\n"
    "  status STRUCT<message: STRING, code: STRING>,\n" + _SCOPE + "  span_schema_url STRING\n"
)
LOGS = (
    _LEAD + "  event_name STRING,\n  trace_id STRING,\n  span_id STRING,\n"
    "  time_unix_nano LONG,\n  observed_time_unix_nano LONG,\n"
    "  severity_number STRING,\n  severity_text STRING,\n"
    "  body VARIANT,\n  attributes VARIANT,\n  dropped_attributes_count INT,\n  flags INT,\n"
    + _SCOPE
    + "  log_schema_url STRING\n"
)
METRICS = (
    _LEAD + "  start_time_unix_nano LONG,\n  time_unix_nano LONG,\n"
    "  name STRING,\n  description STRING,\n  unit STRING,\n  metric_type STRING,\n"
    f"  gauge STRUCT<value: DOUBLE, {_EXEMPLARS},\n    attributes: VARIANT, flags: INT>,\n"
    f"  sum STRUCT<value: DOUBLE, {_EXEMPLARS},\n    attributes: VARIANT, flags: INT, "
    "aggregation_temporality: STRING, is_monotonic: BOOLEAN>,\n"
    "  histogram STRUCT<count: LONG, sum: DOUBLE, bucket_counts: ARRAY<LONG>,\n"
    f"    explicit_bounds: ARRAY<DOUBLE>, {_EXEMPLARS},\n"
    "    attributes: VARIANT, flags: INT, min: DOUBLE, max: DOUBLE,\n"
    "    aggregation_temporality: STRING>,\n"
    "  exponential_histogram STRUCT<attributes: VARIANT, count: LONG, sum: DOUBLE, scale: INT,\n"
    "    zero_count: LONG, positive_bucket: STRUCT<offset: INT, bucket_counts: ARRAY<LONG>>,\n"
    "    negative_bucket: STRUCT<offset: INT, bucket_counts: ARRAY<LONG>>, flags: INT,\n"
    f"    {_EXEMPLARS},\n"
    "    min: DOUBLE, max: DOUBLE, zero_threshold: DOUBLE, aggregation_temporality: STRING>,\n"
    "  summary STRUCT<count: LONG, sum: DOUBLE,\n"
    "    quantile_values: ARRAY<STRUCT<quantile: DOUBLE, value: DOUBLE>>,\n"
    "    attributes: VARIANT, flags: INT>,\n"
    "  metadata VARIANT,\n" + _SCOPE + "  metric_schema_url STRING\n"
)
COLUMNS = {"traces": SPANS, "logs": LOGS, "metrics": METRICS}
CLUSTER = {
    "traces": "time, service_name, trace_id",
    "logs": "time, service_name",
    "metrics": "time, service_name",
}
# What the principal that sends (each developer, or a group of them) needs on each table.
GRANTS = ("USE CATALOG", "USE SCHEMA", "MODIFY", "SELECT")


def statements(prefix: str, principal: str = "`account users`") -> str:
    """The SQL: three CREATE TABLE IF NOT EXISTS and the grants, for Databricks SQL."""
    catalog, schema, _ = prefix.split(".")
    tables = names(prefix)
    out = [
        f"-- OpenTelemetry tables for {prefix} (dbx-fmapi telemetry ddl; docs/telemetry.md).",
        "-- Run in Databricks SQL (DBR 15.3 or newer reads VARIANT). Change the principal to",
        "-- the group of developers whose agents send telemetry.",
        "",
    ]
    for signal in ("traces", "logs", "metrics"):
        out.append(
            f"CREATE TABLE IF NOT EXISTS {tables[signal]} (\n{COLUMNS[signal]}) USING DELTA\n"
            f"CLUSTER BY ({CLUSTER[signal]})\n{_PROPS};\n"
        )
    out.append(f"GRANT USE CATALOG ON CATALOG {catalog} TO {principal};")
    out.append(f"GRANT USE SCHEMA ON SCHEMA {catalog}.{schema} TO {principal};")
    for signal in ("traces", "logs", "metrics"):
        out.append(f"GRANT MODIFY, SELECT ON TABLE {tables[signal]} TO {principal};")
    return "\n".join(out) + "\n"
