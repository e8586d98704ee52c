"""Safe edits of files that belong to the user.

Writes are atomic (temp file in the same folder, fsync, rename), go *through* symlinks so the link
stays a link, keep the original's mode, and are 0600 for anything holding a secret. Stdlib only.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time

from .errors import UserError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


def resolve(path: Path) -> Path:
    """The file a write to `path` must replace: symlinks followed, even dangling ones."""
    return type(path)(os.path.realpath(path))


def read_bytes(path: Path) -> bytes | None:
    """The file's bytes, None when it does not exist (a dangling symlink counts as absent)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise UserError(
            f"{path} is a directory, not a file", f"move it away: mv {q(path)} {q(path)}.dir"
        ) from None
    except PermissionError:
        raise UserError(
            f"cannot read {path}: permission denied", f"check its owner and mode: ls -l {q(path)}"
        ) from None


def atomic_write(path: Path, data: bytes, *, secret: bool = False) -> Path:
    """Replace the file behind `path` with `data` in one rename; returns the real path written.

    The mode of an existing file is kept (tightened to 0600 when `secret`); a new file gets
    0644 (0600 when `secret`) minus nothing: the user can loosen it later if they want.
    """
    import tempfile

    target = resolve(path)
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = 0o600 if secret else 0o644
        if secret:
            mode &= 0o600
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), mode)
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except IsADirectoryError:
        raise UserError(
            f"{path} is a directory, not a file", f"move it away: mv {q(path)} {q(path)}.dir"
        ) from None
    except PermissionError:
        raise UserError(
            f"cannot write {target}: permission denied",
            f"make it writable: chmod u+w {q(target)} {q(folder)}",
        ) from None
    except OSError as exc:
        raise UserError(
            f"cannot write {target}: {exc.strerror or exc}",
            f"free some space or check the folder: ls -ld {q(folder)}",
        ) from None
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return target


def backup(path: Path) -> Path:
    """Copy the file behind `path` to a timestamped sibling, never overwriting an older backup."""
    target = resolve(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = target.with_name(f"{target.name}.bak-{stamp}")
    n = 1
    while candidate.exists():
        n += 1
        candidate = target.with_name(f"{target.name}.bak-{stamp}-{n}")
    import shutil

    try:
        shutil.copy2(target, candidate)
    except OSError as exc:
        raise UserError(
            f"cannot back up {target}: {exc.strerror or exc}", f"check: ls -l {q(target.parent)}"
        ) from None
    return candidate


def q(path: object) -> str:
    """Shell-quote for the fix commands we print."""
    import shlex

    return shlex.quote(str(path))
