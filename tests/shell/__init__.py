"""Tests of dbx_fmapi_claude.shell (and the journeys that drive it)."""
