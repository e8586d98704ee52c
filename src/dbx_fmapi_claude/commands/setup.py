"""`setup-fmapi-claudecode` / `dbx-fmapi setup`: the steps live in the setup package."""

from __future__ import annotations

from ..setup.flow import run

__all__ = ["run"]
