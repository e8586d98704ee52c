"""The shell wrapper block in rc files, as pure transforms between stable markers."""

from __future__ import annotations

import os
import shlex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

BEGIN = "# >>> dbx-fmapi-claude >>>"
END = "# <<< dbx-fmapi-claude <<<"
NOTE = "# Added by dbx-fmapi-claude setup; `dbx-fmapi uninstall` removes this block."


class HalfBlock(ValueError):
    """Only one of the two markers is present: we cannot tell where our block ends."""


def fish_quote(text: str) -> str:
    """`text` as one fish word. fish's single quotes differ from POSIX ones: a backslash escapes
    a quote or another backslash inside them, so shlex.quote is not enough."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def path_folder(executable: str) -> str | None:
    """The folder our blocks put on PATH: ~/.local/bin, where the bootstrap links dbx-fmapi &
    co. (many shells start without it on PATH); None for an executable elsewhere (a venv the
    user manages)."""
    folder = os.path.dirname(executable)
    return folder if folder.endswith(os.sep + os.path.join(".local", "bin")) else None


def _path_line(shell: str, folder: str) -> str:
    if shell == "fish":
        quoted = fish_quote(folder)
        return f"contains -- {quoted} $PATH; or set -gx PATH {quoted} $PATH"
    quoted = shlex.quote(folder)  # POSIX: ~/.profile is read by sh too
    return f'case ":$PATH:" in *:{quoted}:*) ;; *) export PATH={quoted}:"$PATH" ;; esac'


def render(shell: str, executable: str) -> str:
    """The block (no trailing newline) defining `dbx-fmapi-claude` for `shell`."""
    if shell == "fish":
        exe = fish_quote(executable)
        body = f"function dbx-fmapi-claude --wraps claude\n    {exe} $argv\nend"
    else:
        exe = shlex.quote(executable)
        body = f'dbx-fmapi-claude() {{\n  {exe} "$@"\n}}'
        folder = path_folder(executable)
        if folder is not None:
            body = _path_line(shell, folder) + "\n" + body
    return f"{BEGIN}\n{NOTE}\n{body}\n{END}"


def render_login_function(executable: str) -> str:
    """The block (no trailing newline) for bash's login file when the executable is not in
    ~/.local/bin: a bash login shell (macOS Terminal opens one per window) reads ~/.bash_profile,
    ~/.bash_login or ~/.profile, never ~/.bashrc, so the function is defined there too. sh reads
    ~/.profile as well and cannot parse a function named dbx-fmapi-claude: it is defined
    through eval, in bash only."""
    body = f'dbx-fmapi-claude() {{ {shlex.quote(executable)} "$@"; }}'
    line = f'if [ -n "${{BASH_VERSION:-}}" ]; then eval {shlex.quote(body)}; fi'
    return f"{BEGIN}\n{NOTE}\n{line}\n{END}"


def render_path(shell: str, folder: str) -> str:
    """The block (no trailing newline) for a login file (paths.login_file): `folder` on PATH,
    nothing else (sh reads ~/.profile too, and a function named dbx-fmapi-claude is not valid
    there; the program of that name is in `folder`)."""
    return f"{BEGIN}\n{NOTE}\n{_path_line(shell, folder)}\n{END}"


def _spans(text: str, begin: str = BEGIN, end: str = END) -> list[tuple[int, int]]:
    """(start, end) character spans of each complete block, end including its line break.
    `begin`/`end`: another pair of markers (an agent's config file holds blocks of its own)."""
    spans: list[tuple[int, int]] = []
    lines = text.splitlines(keepends=True)
    pos = 0
    start: int | None = None
    for line in lines:
        stripped = line.strip()
        if stripped == begin:
            if start is not None:
                raise HalfBlock("a begin marker without its end marker")
            start = pos
        elif stripped == end:
            if start is None:
                raise HalfBlock("an end marker without its begin marker")
            spans.append((start, pos + len(line)))
            start = None
        pos += len(line)
    if start is not None:
        raise HalfBlock("a begin marker without its end marker")
    return spans


def has_block(text: str, begin: str = BEGIN, end: str = END) -> bool:
    return bool(_spans(text, begin, end))


def upsert_block(
    text: str, block: str, begin: str = BEGIN, end: str = END, *, at_start: bool = False
) -> str:
    """Replace our block in place (the first one; further copies are removed), or append it.
    Every byte outside our block is kept. The block's lines always end in LF, even in a CRLF
    file: bash and zsh read a carriage return as part of a word, so a CRLF block would not
    define the function. `at_start`: a new block goes first, one blank line before the rest (a
    TOML file's top-level keys must come before its first table)."""
    nl = "\n"
    rendered = block + nl
    spans = _spans(text, begin, end)
    if not spans:
        if not text:
            return rendered
        if at_start:
            return rendered + nl + text
        # After a final newline this leaves one blank line before the block; after a last line
        # without one, it only ends that line: remove_block tells the two apart and undoes both.
        return text + nl + rendered
    out = []
    prev = 0
    for i, (start, stop) in enumerate(spans):
        out.append(text[prev:start])
        if i == 0:
            out.append(rendered)
        prev = stop
    out.append(text[prev:])
    return "".join(out)


def remove_block(text: str, begin: str = BEGIN, end: str = END, *, at_start: bool = False) -> str:
    """Remove every block of ours (and the blank line we put before an appended one, or with
    `at_start`, after one put first)."""
    spans = _spans(text, begin, end)
    if not spans:
        return text
    nl = "\n"
    out = []
    prev = 0
    for start, stop in spans:
        before = text[prev:start]
        if at_start and start == 0:
            if text[stop:].startswith(nl):
                stop += len(nl)
        elif before.endswith(nl + nl) or (stop == len(text) and before.endswith(nl)):
            before = before[: -len(nl)]
        out.append(before)
        prev = stop
    out.append(text[prev:])
    return "".join(out)


def block_state(path: Path) -> str:
    """ "present", "absent", "missing-file", "half" (one marker only) or "unreadable"."""
    from ..core.errors import UserError
    from ..core.fileio import read_bytes

    try:
        raw = read_bytes(path)
    except UserError:
        return "unreadable"
    if raw is None:
        return "missing-file"
    try:
        return "present" if has_block(raw.decode("utf-8", "surrogateescape")) else "absent"
    except HalfBlock:
        return "half"
