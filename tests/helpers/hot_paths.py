"""What a hot path may import besides the standard library, and the modules a
`python -X importtime` run loaded."""

from __future__ import annotations

ALLOWED_NON_STDLIB = {"dbx_fmapi_claude", "_distutils_hack", "sitecustomize", "usercustomize"}


def imported(stderr: str) -> set[str]:
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name and name != "imported package":
                names.add(name)
    return names
