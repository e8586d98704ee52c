"""Tests of dbx_fmapi_claude.commands (and the journeys that drive it)."""
