"""Every path the tool reads or writes, in one place, with environment overrides for tests.

Stdlib only: the wrapper and the token helper import this.
"""

from __future__ import annotations

import os
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

APP = "dbx-fmapi-claude"


class Paths:
    """Plain class on purpose: dataclasses would cost the hot path its import time."""

    __slots__ = ("home", "config_dir")

    def __init__(self, home: Path, config_dir: Path) -> None:
        self.home = home
        self.config_dir = config_dir

    def __repr__(self) -> str:
        return f"Paths(home={self.home!r}, config_dir={self.config_dir!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Paths) and (self.home, self.config_dir) == (
            other.home,
            other.config_dir,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable-looking value object

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Paths:
        home = Path(env.get("HOME") or os.path.expanduser("~"))
        override = env.get("DBX_FMAPI_CLAUDE_CONFIG_DIR")
        if override:
            config_dir = Path(override)
        else:
            xdg = env.get("XDG_CONFIG_HOME")
            base = Path(xdg) if xdg and os.path.isabs(xdg) else home / ".config"
            config_dir = base / APP
        return cls(home=home, config_dir=config_dir)

    # Ours.
    @property
    def config_file(self) -> Path:
        """Setup's answers and what it changed (no secrets)."""
        return self.config_dir / "config.json"

    @property
    def token_state_file(self) -> Path:
        """Expiry times and fingerprints of the tokens we handed out (no tokens)."""
        return self.config_dir / "token-state.json"

    @property
    def lock_dir(self) -> Path:
        return self.config_dir / "locks"

    def lock_file(self, profile: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in profile) or "_"
        return self.lock_dir / f"{safe}.lock"

    # Claude Code's.
    @property
    def claude_json(self) -> Path:
        return self.home / ".claude.json"

    @property
    def user_settings(self) -> Path:
        return self.home / ".claude" / "settings.json"

    # Install locations used by the bootstrap.
    @property
    def local_bin(self) -> Path:
        return self.home / ".local" / "bin"

    def settings_file_for(self, location: str, cwd: Path) -> Path:
        """`home`, `cwd` or a folder path -> `<folder>/.claude/settings.json`."""
        if location == "home":
            folder = self.home
        elif location == "cwd":
            folder = cwd
        else:
            folder = Path(os.path.expanduser(location))
            if not folder.is_absolute():
                folder = cwd / folder
        return folder / ".claude" / "settings.json"


def which(name: str, env: Mapping[str, str]) -> str | None:
    """`name` on the environment's PATH (shutil.which without its imports: hot path)."""
    for folder in (env.get("PATH") or os.defpath).split(os.pathsep):
        candidate = os.path.join(folder or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None
