"""Tests of dbx_fmapi_claude.auth (and the journeys that drive it)."""
