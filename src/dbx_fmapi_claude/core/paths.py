"""Every path the tool reads or writes, in one place, with environment overrides for tests.

Stdlib only, and pathlib only on demand: the wrapper and the token helper import this, and
importing pathlib (urllib.parse, ipaddress, fnmatch…) costs them time on every launch. The `*_path`
members are plain strings for those hot paths; everything else uses the `Path` properties.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path


def _p(text: str) -> Path:
    from pathlib import Path

    return Path(text)


APP = "dbx-fmapi-claude"


class Paths:
    """Plain class on purpose: dataclasses would cost the hot path its import time."""

    __slots__ = ("home_path", "config_dir_path")

    def __init__(self, home: str | os.PathLike[str], config_dir: str | os.PathLike[str]) -> None:
        self.home_path = os.fspath(home)
        self.config_dir_path = os.fspath(config_dir)

    @property
    def home(self) -> Path:
        return _p(self.home_path)

    @property
    def config_dir(self) -> Path:
        return _p(self.config_dir_path)

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
        home = env.get("HOME") or os.path.expanduser("~")
        override = env.get("DBX_FMAPI_CLAUDE_CONFIG_DIR")
        if override:
            config_dir = override
        else:
            xdg = env.get("XDG_CONFIG_HOME")
            base = xdg if xdg and os.path.isabs(xdg) else os.path.join(home, ".config")
            config_dir = os.path.join(base, APP)
        return cls(home=home, config_dir=config_dir)

    # Ours.
    @property
    def config_path(self) -> str:
        """Setup's answers and what it changed (no secrets)."""
        return os.path.join(self.config_dir_path, "config.json")

    @property
    def config_file(self) -> Path:
        return _p(self.config_path)

    @property
    def token_state_path(self) -> str:
        """Expiry times and fingerprints of the tokens we handed out (no tokens)."""
        return os.path.join(self.config_dir_path, "token-state.json")

    @property
    def token_state_file(self) -> Path:
        return _p(self.token_state_path)

    @property
    def error_log_path(self) -> str:
        """The traceback of the last bug of ours (errorhandler.py); tokens redacted."""
        return os.path.join(self.config_dir_path, "error.log")

    @property
    def lock_dir(self) -> Path:
        return self.config_dir / "locks"

    def lock_path(self, profile: str) -> str:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in profile) or "_"
        return os.path.join(self.config_dir_path, "locks", f"{safe}.lock")

    def lock_file(self, profile: str) -> Path:
        return _p(self.lock_path(profile))

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

    # Shell startup files: where the dbx-fmapi-claude function goes (setup) and where one may
    # be found (uninstall). zsh reads $ZDOTDIR/.zshrc when ZDOTDIR is set, fish honours
    # XDG_CONFIG_HOME; a relative value is ignored, as those shells would not find it either.
    def rc_file(self, shell: str, env: Mapping[str, str]) -> Path | None:
        """The file that gets the block for `shell` ("zsh", "bash", "fish"; None for "none")."""
        if shell == "zsh":
            return _abs_or(env.get("ZDOTDIR"), self.home) / ".zshrc"
        if shell == "bash":
            return self.home / ".bashrc"
        if shell == "fish":
            base = _abs_or(env.get("XDG_CONFIG_HOME"), self.home / ".config")
            return base / "fish" / "functions" / "dbx-fmapi-claude.fish"
        return None

    # The rc file is read by interactive shells only. A login shell that is not interactive
    # (`bash -l -c`, `zsh -l -c`, an IDE's or a tool's shell) and bash's login shell (macOS
    # Terminal opens one per window; bash -l reads ~/.bash_profile, ~/.bash_login or ~/.profile,
    # the first that exists, never ~/.bashrc) would not find ~/.local/bin, where the bootstrap
    # links dbx-fmapi & co.: that folder goes on PATH in the file every such shell reads.
    def login_file(self, shell: str, env: Mapping[str, str]) -> Path | None:
        """The file that gets the PATH line for `shell`'s login (and, zsh and fish: every)
        shell: bash's first login file that exists (~/.profile when none does: it shadows
        nothing, and sh reads it too, so the line is POSIX); zsh's .zshenv (every zsh reads it:
        login, `zsh -c`, a command over ssh); a fish conf.d file (every fish sources those)."""
        if shell == "bash":
            names = (".bash_profile", ".bash_login", ".profile")
            return next(
                (self.home / n for n in names if (self.home / n).exists()), self.home / ".profile"
            )
        if shell == "zsh":
            return _abs_or(env.get("ZDOTDIR"), self.home) / ".zshenv"
        if shell == "fish":
            base = _abs_or(env.get("XDG_CONFIG_HOME"), self.home / ".config")
            return base / "fish" / "conf.d" / "dbx-fmapi-claude.fish"
        return None

    def login_candidates(self, env: Mapping[str, str]) -> list[Path]:
        """Every file a PATH block of ours may be in (login_file, any shell, this environment
        or the defaults)."""
        fish_default = self.home / ".config" / "fish"
        fish = _abs_or(env.get("XDG_CONFIG_HOME"), self.home / ".config") / "fish"
        found = [
            self.home / ".bash_profile",
            self.home / ".bash_login",
            self.home / ".profile",
            self.home / ".zshenv",
            _abs_or(env.get("ZDOTDIR"), self.home) / ".zshenv",
            fish / "conf.d" / "dbx-fmapi-claude.fish",
            fish_default / "conf.d" / "dbx-fmapi-claude.fish",
        ]
        return [p for i, p in enumerate(found) if p not in found[:i]]

    def rc_candidates(self, env: Mapping[str, str]) -> list[Path]:
        """Every file a block of ours may be in, for any --shell, under this environment or
        the plain defaults (a run with other variables, an earlier release)."""
        fish_default = self.home / ".config" / "fish"
        fish = _abs_or(env.get("XDG_CONFIG_HOME"), self.home / ".config") / "fish"
        found = [
            self.home / ".zshrc",
            self.home / ".bashrc",
            self.home / ".bash_profile",
            fish / "functions" / "dbx-fmapi-claude.fish",
            fish / "config.fish",
            fish_default / "functions" / "dbx-fmapi-claude.fish",
            self.rc_file("zsh", env),
            *self.login_candidates(env),
        ]
        return [p for i, p in enumerate(found) if p is not None and p not in found[:i]]

    def settings_file_for(self, location: str, cwd: Path) -> Path:
        """`home`, `cwd` or a folder path -> `<folder>/.claude/settings.json`."""
        if location == "home":
            folder = self.home
        elif location == "cwd":
            folder = cwd
        else:
            folder = _p(os.path.expanduser(location))
            if not folder.is_absolute():
                folder = cwd / folder
        return folder / ".claude" / "settings.json"


def _abs_or(value: str | None, default: Path) -> Path:
    """`value` as a path when it is an absolute one, else `default`."""
    return _p(value) if value and os.path.isabs(value) else default


def which(name: str, env: Mapping[str, str]) -> str | None:
    """`name` on the environment's PATH (shutil.which without its imports: hot path)."""
    for folder in (env.get("PATH") or os.defpath).split(os.pathsep):
        candidate = os.path.join(folder or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def tilde(path: Path, home: Path) -> str:
    """`path` as people read it: `~/…` under `home`, else as it is."""
    try:
        return "~/" + str(path.relative_to(home))
    except ValueError:
        return str(path)


def same_file(a: Path | str, b: Path | str) -> bool:
    """Whether `a` and `b` are one file: the same file when both exist (links of any kind
    followed), else the same path once symlinks are resolved."""
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)
