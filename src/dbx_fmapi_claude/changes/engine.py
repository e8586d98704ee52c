"""The one change engine for every command that writes the user's files (setup, uninstall):
plan -> diff -> apply, all or nothing -> rollback.

A plan is the new bytes of every file a command touches, computed in memory before anything is
written. `show` prints it as unified diffs, secrets redacted (--dry-run). `preflight` refuses a
target that cannot be written, before anything changed. `apply` first redoes each edit on what
the file holds by then (Claude Code, an editor or a token refresh may have written it since the
plan), keeps what must be kept (a timestamped backup of a file we could not parse, the bytes a
file had before our first change, for uninstall), writes every new file in full beside its target
(a full disk fails there, before anything changed), then renames them into place. On any failure
the files already replaced get their old bytes and mode back, and the backups and originals this
run made are removed again.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from ..core import redact
from ..core.errors import UserError
from ..core.fileio import (
    Pending,
    atomic_write,
    backup,
    check_writable,
    prepare,
    q,
    read_bytes,
    resolve,
)
from ..record import originals

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import IO

    from ..core.paths import Paths


@dataclass(frozen=True)
class Redone:
    """A redo that recomputes the label and the mode with the bytes (an agent's undo: what it
    does to the file depends on what the file holds by then)."""

    new: bytes | None
    what: str
    mode: int | None = None


@dataclass(frozen=True)
class Change:
    """One file's change. Frozen: a change redone on newer bytes is a new Change (`redone`)."""

    path: Path
    old: bytes | None  # None: the file does not exist
    new: bytes | None  # None: delete the file
    what: str  # for people: "Claude settings", "restore as it was before setup", ...
    secret: bool = False  # it holds a token: 0600
    mode: int | None = None  # permission bits for the new bytes (an original's, put back)
    keep_original: bool = False  # remember the bytes before our first change (for uninstall)
    # Forget those bytes once this change is written: the file is no longer one uninstall
    # restores (a settings file the configuration stopped using).
    drop_original: bool = False
    backup_first: bool = False  # a file we cannot parse: a timestamped backup before replacing
    # Members that hold a secret of ours: the backup keeps the user's data, never these.
    our_secrets: tuple[str, ...] = ()
    # The same edit applied to what the file holds by the time we write: new bytes (or the
    # new bytes with their label and mode, Redone), or UserError. None: a file changed since
    # the plan is refused.
    redo: Callable[[bytes | None], bytes | None | Redone] | None = None

    @property
    def changed(self) -> bool:
        return self.old != self.new

    def redone(self, now: bytes | None) -> Change:
        """This change made again on `now`, the bytes the file holds by the time we write."""
        assert self.redo is not None
        new = self.redo(now)
        if isinstance(new, Redone):
            return replace(self, old=now, new=new.new, what=new.what, mode=new.mode)
        return replace(self, old=now, new=new)


@dataclass
class Plan:
    """The file changes one command makes (setup's and uninstall's plans add what they record)."""

    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, change: Change) -> None:
        if change.changed:
            self.changes.append(change)

    def then(
        self, path: Path, edit: Callable[[bytes | None], bytes | None], what: str | None = None
    ) -> bool:
        """`edit` after the change already planned for `path` (one change for two edits of one
        file; `what`: its new label), as a new Change in its place. False: none is planned."""
        at = next((i for i, c in enumerate(self.changes) if c.path == path), None)
        if at is None:
            return False
        earlier = self.changes[at]
        first = earlier.redo

        def redo(now: bytes | None) -> bytes | None | Redone:
            done = first(now) if first else now
            if isinstance(done, Redone):  # the first edit's own label and mode, as it says
                return Redone(edit(done.new), done.what, done.mode)
            return edit(done)

        self.changes[at] = replace(
            earlier, new=edit(earlier.new), what=earlier.what if what is None else what, redo=redo
        )
        return True


# --- diff ----------------------------------------------------------------------------------------


def show(plan: Plan, out: IO[str], secrets: Iterable[str] = ()) -> None:
    """Every change as a unified diff, with every secret redacted (see redact.text) and each of
    `secrets` (the token we hold) too."""
    import difflib  # only for a dry run's diffs

    secrets = [s for s in secrets if s]
    for ch in plan.changes:
        if ch.backup_first:
            for note in plan.notes:
                if str(ch.path) in note:
                    out.write(f"# would back up {ch.path} first ({note})\n")
        old = (ch.old or b"").decode("utf-8", "replace").splitlines(keepends=True)
        new = (ch.new or b"").decode("utf-8", "replace").splitlines(keepends=True)
        fromfile = str(ch.path) if ch.old is not None else "/dev/null"
        tofile = str(ch.path) if ch.new is not None else "/dev/null"
        for line in difflib.unified_diff(old, new, fromfile, tofile):
            line = redact.text(line, secrets)
            out.write(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")


# --- apply ---------------------------------------------------------------------------------------


def preflight(changes: Iterable[Change], *, name: str) -> None:
    """Refuse before writing anything when a target cannot be written. `name`: the command to
    re-run once fixed ("setup")."""
    for ch in changes:
        target = resolve(ch.path)
        folder = target.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not os.access(folder, os.W_OK | os.X_OK):
            raise UserError(
                f"cannot write {target}: {folder} is not writable",
                f"make it writable, then re-run {name}: chmod u+w {q(folder)}",
            )
        if target.is_dir():
            raise UserError(
                f"{ch.path} is a directory, not a file",
                f"move it away: mv {q(ch.path)} {q(str(ch.path) + '.dir')}",
            )
        check_writable(ch.path)


def apply(plan: Plan, *, paths: Paths, say: Callable[[str], None], name: str, again: str) -> None:
    """Write every change of `plan`, all or nothing (see the module's docstring). Changes that
    turn out to be no change any more are dropped from `plan.changes`. `name` and `again`: the
    command and its command line, for the message when a file cannot be redone."""
    refreshed = [_refresh(ch, name, again) for ch in plan.changes]
    changes = plan.changes = [ch for ch in refreshed if ch.changed]
    ours: list[Path] = []  # backups and originals this run made: gone again on failure
    pending: list[tuple[Change, Pending | None]] = []
    done: list[tuple[Change, int | None]] = []  # with the mode each file had before
    try:
        for ch in changes:
            if ch.backup_first and ch.old is not None:
                blanked = redact.blank_members(ch.old, ch.our_secrets)
                saved = backup(ch.path, blanked)
                ours.append(saved)
                why = " (its token blanked out)" if blanked is not None else ""
                say(f"  saved the unreadable {ch.path} as {saved}{why}")
            if ch.keep_original:  # also after a backup: a file read past its comments
                record = originals.save_original(paths, ch.path, ch.old)
                if record is not None:
                    ours.append(record)
        for ch in changes:
            pending.append((ch, _prepare(ch)))
        for i, (ch, ready) in enumerate(pending):
            if read_bytes(ch.path) != ch.old:  # changed in the last moment: redo, once
                ch = changes[i] = _refresh(ch, name, again)
                if ready is not None:
                    ready.discard()
                ready = _prepare(ch)
                pending[i] = (ch, ready)
            before = _mode(ch.path)
            if ready is None:
                _delete(ch.path)
            else:
                ready.commit()
            done.append((ch, before))
    except BaseException:
        for _, ready in pending:
            if ready is not None:
                ready.discard()
        for ch, before in reversed(done):
            with contextlib.suppress(Exception):
                _put_back(ch, before)
        if not done:
            for path in ours:
                with contextlib.suppress(OSError):
                    os.unlink(path)
        raise
    for ch in changes:
        if ch.drop_original:
            originals.drop_original(paths, ch.path)


def _refresh(ch: Change, name: str, again: str) -> Change:
    """Re-read the file; when it changed since the plan, our edit redone on what it holds now
    (so nothing written in the meantime is lost)."""
    now = read_bytes(ch.path)
    if now == ch.old:
        return ch
    if ch.redo is None:
        raise UserError(
            f"{ch.path} changed while {name} ran; nothing was changed", f"run {name} again: {again}"
        )
    return ch.redone(now)


def _prepare(ch: Change) -> Pending | None:
    """The new bytes written in full beside the file (None for a deletion)."""
    if ch.new is None:
        return None
    ready = prepare(ch.path, ch.new, secret=ch.secret)
    if ch.mode is not None:
        with contextlib.suppress(OSError):
            os.chmod(ready.tmp, ch.mode)
    return ready


def _mode(path: Path) -> int | None:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return None


def _delete(path: Path) -> None:
    """Remove the file; a symlink itself, not the file behind it (which may live in the user's
    dotfiles repository)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path if os.path.islink(path) else resolve(path))


def _put_back(ch: Change, mode: int | None) -> None:
    """Rollback of one change: its old bytes, with the mode the file had."""
    if ch.old is None:
        _delete(ch.path)
        return
    real = atomic_write(ch.path, ch.old, secret=ch.secret)
    if mode is not None:
        with contextlib.suppress(OSError):
            os.chmod(real, mode)
