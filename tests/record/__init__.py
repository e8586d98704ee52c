"""Tests of dbx_fmapi_claude.record (and the journeys that drive it)."""
