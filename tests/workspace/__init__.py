"""Tests of dbx_fmapi_claude.workspace (and the journeys that drive it)."""
