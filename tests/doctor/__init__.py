"""Tests of dbx_fmapi_claude.doctor (and the journeys that drive it)."""
