"""Tests of dbx_fmapi_claude.tracing (and the journeys that drive it)."""
