"""Tests of dbx_fmapi_claude.changes (and the journeys that drive it)."""
