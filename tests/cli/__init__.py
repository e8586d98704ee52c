"""Tests of dbx_fmapi_claude.cli (and the journeys that drive it)."""
