"""The package's source tree as tests read it (ast, nothing imported): where it is and each
module's dotted name."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent.parent / "src" / "dbx_fmapi_claude"


def module_name(path: Path, package: Path = PACKAGE) -> tuple[str, bool]:
    """(dotted name, whether it is a package's __init__) of the module at `path`."""
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package
