"""Tests of dbx_fmapi_claude.mcp (and the journeys that drive it)."""
