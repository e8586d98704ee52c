"""Tests of dbx_fmapi_claude.team (and the journeys that drive it)."""
