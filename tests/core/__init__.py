"""Tests of dbx_fmapi_claude.core (and the journeys that drive it)."""
