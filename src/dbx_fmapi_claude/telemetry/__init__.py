"""OpenTelemetry into the workspace (docs/telemetry.md): the three Unity Catalog tables, the
workspace's OTLP endpoint, the DDL an admin runs, and doctor's probe of each table."""
