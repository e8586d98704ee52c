"""Safe edits of files that belong to the user.

Writes are atomic (temp file in the same folder, fsync, rename), go *through* symlinks so the link
stays a link, keep the original's mode, and are 0600 for anything holding a secret. Stdlib only.
"""

from __future__ import annotations

import os
import stat
import time

from .errors import UserError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import TypeVar

    _P = TypeVar("_P", str, Path)  # a write takes a str too: the token helper needs no pathlib


def resolve(path: _P) -> _P:
    """The file a write to `path` must replace: symlinks followed, even dangling ones."""
    return type(path)(os.path.realpath(path))


def read_bytes(path: Path | str) -> bytes | None:
    """The file's bytes, None when it does not exist (a dangling symlink counts as absent).
    Takes a str too, so the wrapper's static-mode check needs no pathlib."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        from pathlib import Path

        raise os_error(exc, Path(path), "read") from None


def _blocking_file(path: Path) -> Path | None:
    """The nearest ancestor of `path` that exists but is not a folder."""
    for parent in path.parents:
        if os.path.lexists(parent):
            return parent if not os.path.isdir(parent) else None
    return None


def os_error(exc: OSError, path: Path | str, verb: str) -> UserError:
    """A failed read or write of `path` as the one-line reason and fix users get."""
    import errno

    if isinstance(path, str):
        from pathlib import Path

        path = Path(path)

    code = exc.errno
    if isinstance(exc, IsADirectoryError) or (code == errno.EISDIR):
        return UserError(
            f"{path} is a directory, not a file", f"move it away: mv {q(path)} {q(path)}.dir"
        )
    if code in (errno.ENOTDIR, errno.EEXIST):
        blocker = _blocking_file(path)
        if blocker is not None:
            return UserError(
                f"cannot {verb} {path}: {blocker} is a file, not a folder",
                f"move it away: mv {q(blocker)} {q(blocker)}.bak",
            )
    if code == errno.ELOOP:
        return UserError(
            f"cannot {verb} {path}: it is a symlink loop", f"check where it points: ls -l {q(path)}"
        )
    if code in (errno.EACCES, errno.EPERM):
        if verb == "read":
            return UserError(
                f"cannot read {path}: permission denied",
                f"check its owner and mode: ls -l {q(path)}",
            )
        return UserError(
            f"cannot write {path}: permission denied",
            f"make it writable: chmod u+w {q(path)} {q(path.parent)}",
        )
    if code == errno.EROFS:
        return UserError(
            f"cannot {verb} {path}: the file system is read-only",
            f"check how it is mounted: df {q(path.parent)}",
        )
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return UserError(
            f"cannot {verb} {path}: {exc.strerror or exc}",
            f"free some space, then run the command again: df -h {q(path.parent)}",
        )
    return UserError(
        f"cannot {verb} {path}: {exc.strerror or exc}", f"check the file: ls -l {q(path)}"
    )


def check_writable(path: _P) -> None:
    """UserError when the file behind `path` exists and its owner may not write it: a read-only
    file is the user's way of saying "leave this alone", even where the folder is writable."""
    target = resolve(path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise os_error(exc, path, "write") from None
    if stat.S_ISREG(st.st_mode) and not st.st_mode & stat.S_IWUSR:
        raise UserError(
            f"{target} is read-only (mode {stat.S_IMODE(st.st_mode):03o}); nothing was changed",
            f"make it writable, then run the command again: chmod u+w {q(target)}",
        )


class Pending:
    """A file's new bytes, fully written and synced to a temp file beside it: `commit` renames it
    into place (no space needed, cannot leave half a file), `discard` drops it."""

    __slots__ = ("path", "target", "tmp")

    def __init__(self, path: Path | str, target: Path | str, tmp: str) -> None:
        self.path = path
        self.target = target
        self.tmp = tmp

    def commit(self) -> None:
        try:
            os.replace(self.tmp, self.target)
        except OSError as exc:
            self.discard()
            raise os_error(exc, self.path, "write") from None
        try:
            dir_fd = os.open(os.path.dirname(self.target), os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError:
            pass  # the rename happened; a folder we cannot fsync only weakens crash safety

    def discard(self) -> None:
        _unlink_quietly(self.tmp)


def _unlink_quietly(path: str | os.PathLike[str]) -> None:
    """Remove a temp file of ours if it is there (contextlib.suppress would cost the hot paths
    the import of contextlib)."""
    try:  # noqa: SIM105
        os.unlink(path)
    except OSError:
        pass


def _sweep(folder: str, name: str) -> None:
    """Remove the temp files (`.<name>.<pid>.<random>.tmp`) that a writer of `name` left behind
    when it was killed before its rename: only those whose process is gone."""
    start = f".{name}."
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    for entry in entries:
        if not (entry.startswith(start) and entry.endswith(".tmp")):
            continue
        pid = entry[len(start) :].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            _unlink_quietly(os.path.join(folder, entry))
        except OSError:
            continue  # alive (another user's process): not ours to touch


def _umask() -> int:
    """The process's umask, read without changing it where Linux tells (another thread may be
    creating a file at this moment), else set and put back at once."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _mkstemp(folder: str, prefix: str) -> tuple[int, str]:
    """tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=folder) without importing tempfile
    (shutil, random, weakref…: the token helper records a token with this): a new file that no
    one else can have opened, 0600, never through a symlink."""
    import errno

    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        name = os.path.join(folder, f"{prefix}{os.urandom(6).hex()}.tmp")
        try:
            return os.open(name, flags, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", folder)


def prepare(path: _P, data: bytes, *, secret: bool = False) -> Pending:
    """Write `data` to a temp file beside the file behind `path` (symlinks followed), with the
    mode it must end up with; nothing visible changes until `commit`.

    The mode of an existing file is kept (tightened to 0600 when `secret`); a new file gets
    what the user's umask gives any new file (0600 when `secret`). A read-only file is refused
    (see check_writable).
    """
    check_writable(path)
    target = resolve(path)
    folder, name = os.path.split(target)
    try:
        os.makedirs(folder, exist_ok=True)
        _sweep(folder, name)
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = 0o600 if secret else 0o666 & ~_umask()
        if secret:
            mode &= 0o600
        fd, tmp = _mkstemp(folder, f".{name}.{os.getpid()}.")
        try:
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), mode)
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            _unlink_quietly(tmp)
            raise
    except OSError as exc:
        raise os_error(exc, target if isinstance(exc, PermissionError) else path, "write") from None
    return Pending(path, target, tmp)


def atomic_write(path: _P, data: bytes, *, secret: bool = False) -> _P:
    """Replace the file behind `path` with `data` in one rename; returns the real path written
    (a str for a str). See `prepare` for modes."""
    prepare(path, data, secret=secret).commit()
    return resolve(path)


def backup(path: Path, data: bytes | None = None) -> Path:
    """Copy the file behind `path` to a timestamped sibling, never overwriting an older backup.
    `data`: write these bytes instead (a copy with secrets blanked out), mode 0600."""
    target = resolve(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = target.with_name(f"{target.name}.bak-{stamp}")
    n = 1
    while candidate.exists():
        n += 1
        candidate = target.with_name(f"{target.name}.bak-{stamp}-{n}")
    import shutil

    if data is not None:
        prepare(candidate, data, secret=True).commit()
        return resolve(candidate)
    try:
        shutil.copy2(target, candidate)
    except OSError as exc:
        _unlink_quietly(candidate)  # never leave half a backup behind
        raise os_error(exc, candidate, "write") from None
    return candidate


def q(path: object) -> str:
    """Shell-quote for the fix commands we print."""
    import shlex

    return shlex.quote(str(path))


def sq(text: str) -> str:
    """Single-quote for /bin/sh, always (the apiKeyHelper string is read by people too)."""
    return "'" + text.replace("'", "'\"'\"'") + "'"
