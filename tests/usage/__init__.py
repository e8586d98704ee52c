"""Tests of dbx_fmapi_claude.usage (and the journeys that drive it)."""
