"""Git, for static mode: is a settings file tracked or exposed to `git add`, and the
repository's own exclude file that keeps the token file out of commits."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..core import gitcmd
from ..shell import rcblock

_git = gitcmd.run


def git_tracked(path: Path, env: Mapping[str, str]) -> bool:
    """True when git tracks `path` (checked from its own folder)."""
    if not path.parent.is_dir():
        return False
    result = _git(["ls-files", "--error-unmatch", "--", path.name], path.parent, env)
    return result is not None and result[0] == 0


def git_exposed(path: Path, env: Mapping[str, str]) -> bool:
    """True when `path` lies in a git work tree and git does not ignore it."""
    folder = path.parent
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    inside = _git(["rev-parse", "--is-inside-work-tree"], folder, env)
    if inside is None or inside[0] != 0 or inside[1].strip() != b"true":
        return False
    ignored = _git(["check-ignore", "-q", "--no-index", "--", str(path)], folder, env)
    return ignored is not None and ignored[0] == 1


def git_exclude_for(path: Path, env: Mapping[str, str]) -> tuple[Path, str] | None:
    """The repository's own, never-committed ignore file (`.git/info/exclude`, worktrees
    included) and the pattern that ignores `path`; None outside a work tree."""
    folder = path.parent
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    top = _git(["rev-parse", "--show-toplevel"], folder, env)
    where = _git(["rev-parse", "--git-path", "info/exclude"], folder, env)
    if top is None or where is None or top[0] != 0 or where[0] != 0:
        return None
    root = Path(os.fsdecode(top[1].strip()))
    exclude = Path(os.fsdecode(where[1].strip()))
    if not exclude.is_absolute():
        exclude = Path(os.path.normpath(folder / exclude))
    try:
        rel = path.resolve().relative_to(root.resolve())
    except ValueError:
        return None
    return exclude, "/" + rel.as_posix()


def exclude_block(pattern: str, static: bool = True) -> str:
    why = (
        "static mode keeps a token in this file"
        if static
        else "this file holds your own settings (the helper's path, your profile)"
    )
    return (
        f"{rcblock.BEGIN}\n# Added by dbx-fmapi-claude setup: {why}; `dbx-fmapi uninstall` "
        f"removes this block.\n{pattern}\n{rcblock.END}"
    )
