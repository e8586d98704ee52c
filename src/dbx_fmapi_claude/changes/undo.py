"""Uninstall's one rule for a file setup changed: once ours is out, put back the bytes from
before setup when that is what is left, or delete the file when setup created it and nothing is
left, else keep what is left.

A file behind a symlink is never deleted: the link is the user's (a dotfiles repository, say) and
deleting would drop the link and leave our content in the file it points to. What stays behind
the link is the format's empty document instead.
"""

from __future__ import annotations

import os

from ..record import originals

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from ..core.paths import Paths

ORIGINAL = "original"  # the bytes from before setup, with their mode
DELETE = "delete"  # setup created it and nothing is left (behind a link: the empty document)
CLEANED = "cleaned"  # what is left once ours is out
ADDED_SINCE = "added since"  # setup created it; what is left was added since
OWN_FISH_FILE = "dbx-fmapi-claude.fish"  # the fish function / conf.d file setup writes


def left_behind(
    paths: Paths,
    path: Path,
    cleaned: bytes | None,
    *,
    created: bool,
    same: Callable[[bytes], bool],
    empty: bytes,
) -> tuple[bytes | None, str, int | None]:
    """(new bytes, ORIGINAL/DELETE/ADDED_SINCE/CLEANED, the mode to give them) for `path` once
    ours is out of it. `cleaned`: what is left (None or blank: nothing; a file setup did not
    create then holds `empty`: it is never deleted); `same(original)`: whether what is left is
    what the file held before setup (each format compares in its own way); `created`: setup's
    own record says it created the file (used when no original was kept); `empty`: the format's
    empty document, written behind a symlink instead of deleting."""
    known, original = originals.load_original(paths, path)
    if known and original is not None and same(original):
        return original, ORIGINAL, originals.original_mode(paths, path)
    made_by_setup = (known and original is None) or (not known and created)
    if made_by_setup and (cleaned is None or not cleaned.strip()):
        return gone(path, empty), DELETE, None
    return empty if cleaned is None else cleaned, ADDED_SINCE if made_by_setup else CLEANED, None


def rc_left_behind(
    paths: Paths, path: Path, raw: bytes
) -> tuple[bytes | None, str, int | None] | None:
    """left_behind for a shell rc file holding `raw` once our block is out of it; None when it
    holds no block of ours. Our own fish file (`dbx-fmapi-claude.fish`) counts as created by
    setup; a user's rc file never does without a record of it. Raises rcblock.HalfBlock."""
    from ..shell import rcblock

    text = raw.decode("utf-8", "surrogateescape")
    if not rcblock.has_block(text):
        return None
    cleaned = rcblock.remove_block(text).encode("utf-8", "surrogateescape")
    return left_behind(
        paths,
        path,
        cleaned,
        created=path.name == OWN_FISH_FILE,
        same=lambda original: original == cleaned,
        empty=b"",
    )


def gone(path: Path, empty: bytes) -> bytes | None:
    """What deleting `path` writes: None (the file goes), or `empty` when `path` is a symlink
    (the user's link stays, and the file behind it holds nothing of ours)."""
    return empty if os.path.islink(path) else None
