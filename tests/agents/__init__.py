"""Tests of dbx_fmapi_claude.agents (and the journeys that drive it)."""
