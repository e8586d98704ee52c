"""Our own record of setup: the answers and what we changed. Never holds a token. Stdlib only.

`<config_dir>/config.json` (0600), written by setup, read by everything else:

    version            1
    host               normalised workspace URL, e.g. "https://x.cloud.databricks.com"
    profile            Databricks CLI profile name
    model, opus, sonnet, haiku       endpoint names
    settings_location  the answer: "home", "cwd" or a folder path
    settings_file      absolute path of the .claude/settings.json we manage (as given, not resolved)
    token_mode         "helper" or "static"
    ttl_seconds        apiKeyHelper TTL; margin_seconds: extra lifetime beyond it
    shell              "zsh", "bash", "fish" or "none"; rc_file: the file holding our block or null
    executable         absolute path of dbx-fmapi-claude that the rc block calls
    api_key_helper     the apiKeyHelper command setup wrote (helper mode; kept in static mode)
    replaced           {key: {"value": previous}} for settings keys (env names, "apiKeyHelper")
                       whose earlier value setup overwrote, recorded the first time only; an
                       earlier ANTHROPIC_AUTH_TOKEN is never recorded (it is a secret)
    env_existed        the settings file had an "env" object before setup
    settings_created   setup created the settings file
    onboarding_added   setup added hasCompletedOnboarding to ~/.claude.json

`<config_dir>/originals/`: the bytes (and permission bits) of each user file as it was before
setup first changed it (never for a file holding a token), so uninstall can restore it
byte-identical when nothing else changed in it since.
"""

from __future__ import annotations

from .errors import UserError
from .fileio import atomic_write, q
from .jsonread import loads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from .paths import Paths

DEFAULT_TTL_SECONDS = 15 * 60
DEFAULT_MARGIN_SECONDS = 5 * 60


def load(paths: Paths) -> dict[str, Any] | None:
    """The saved configuration, None when setup never ran; UserError when it is unreadable."""
    path = paths.config_path
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UserError(
            f"cannot read {path}: {exc.strerror or exc}",
            f"ls -l {q(path)}",
        ) from None
    try:
        data = loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise UserError(
            f"{path} is not valid JSON",
            "re-run setup to rewrite it: setup-fmapi-claudecode",
        )
    return data


def require(paths: Paths) -> dict[str, Any]:
    cfg = load(paths)
    if cfg is None or not cfg.get("host") or not cfg.get("profile"):
        raise UserError("dbx-fmapi-claude is not set up yet", "setup-fmapi-claudecode")
    return cfg


def save(paths: Paths, cfg: dict[str, Any]) -> None:
    import json  # not at import: reading needs only jsonread, and json costs the helper ~15 ms

    text = json.dumps(cfg, indent=2, sort_keys=True) + "\n"
    atomic_write(paths.config_file, text.encode(), secret=True)


def parse_duration(text: str) -> int:
    """`15m`, `90s`, `1h`, or a bare number of minutes -> seconds (> 0)."""
    s = str(text).strip().lower()
    units = {"s": 1, "m": 60, "h": 3600}
    mult = 60
    if s and s[-1] in units:
        mult = units[s[-1]]
        s = s[:-1].strip()
    try:
        value = float(s)
    except ValueError:
        raise ValueError(f"not a duration: {text!r} (use e.g. 15m, 90s, 1h)") from None
    seconds = int(round(value * mult))
    if not 0 < seconds <= 24 * 3600:
        raise ValueError(f"duration out of range: {text!r} (1s to 24h)")
    return seconds


def _original_path(paths: Paths, target: Path) -> Path:
    import hashlib

    digest = hashlib.sha256(str(target).encode()).hexdigest()[:24]
    return paths.config_dir / "originals" / f"{digest}.json"


def save_original(paths: Paths, target: Path, raw: bytes | None) -> Path | None:
    """Remember `target`'s bytes before our first change (None: it did not exist). Kept once:
    returns the record's path when this call wrote it."""
    import base64
    import json

    dest = _original_path(paths, target)
    if dest.exists():
        return None
    record: dict[str, Any] = {
        "path": str(target),
        "data": None if raw is None else base64.b64encode(raw).decode(),
    }
    if raw is not None:
        import contextlib
        import os

        with contextlib.suppress(OSError):  # static mode tightens the mode to 0600
            record["mode"] = os.stat(target).st_mode & 0o7777
    atomic_write(dest, (json.dumps(record) + "\n").encode(), secret=True)
    return dest


def load_original(paths: Paths, target: Path) -> tuple[bool, bytes | None]:
    """(known, bytes): known is False when nothing was saved for `target`."""
    import base64

    try:
        record = loads(_original_path(paths, target).read_bytes())
        data = record["data"]
        return True, None if data is None else base64.b64decode(data)
    except (OSError, ValueError, KeyError, TypeError):
        return False, None


def original_mode(paths: Paths, target: Path) -> int | None:
    """The permission bits `target` had when its original was saved, None when unknown."""
    try:
        mode = loads(_original_path(paths, target).read_bytes()).get("mode")
    except (OSError, ValueError, AttributeError):
        return None
    return mode if isinstance(mode, int) and not isinstance(mode, bool) else None


def drop_original(paths: Paths, target: Path) -> None:
    import contextlib

    with contextlib.suppress(FileNotFoundError):
        _original_path(paths, target).unlink()
