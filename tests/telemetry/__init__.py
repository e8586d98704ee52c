"""Tests of dbx_fmapi_claude.telemetry (and the journeys that drive it)."""
