"""Tests of dbx_fmapi_claude.setup (and the journeys that drive it)."""
