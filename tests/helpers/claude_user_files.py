"""The user's own Claude Code and shell files before setup, with odd formatting on purpose,
that uninstall must leave byte-identical."""

from __future__ import annotations

from tests.helpers.mgmt import (
    settings_path,
)
from tests.rig.sandbox import Sandbox

# The user's own files, before setup: odd formatting on purpose (4-space indent, key order,
# non-ASCII, no final newline), and values setup will replace.
USER_SETTINGS = (
    b'{\n    "permissions": {"allow": ["Bash(ls:*)"]},\n'
    b'    "env": {"FOO": "bar", "ANTHROPIC_MODEL": "claude-opus-4-1", "GR\xc3\x9cSSE": "1"},\n'
    b'    "apiKeyHelper": "~/bin/my-key-helper",\n'
    b'    "theme": "dark"\n}'
)


USER_BASHRC = b"# my bashrc\nexport PATH=$HOME/bin:$PATH\nalias ll='ls -l'\n"


USER_CLAUDE_JSON = (
    b'{\n  "numStartups": 12,\n  "theme": "dark",\n  "projects": {\n    "/home/u/repo": '
    b'{"allowedTools": []}\n  }\n}'
)


def seed_user_files(sandbox: Sandbox) -> None:
    (sandbox.home / ".claude").mkdir()
    settings_path(sandbox).write_bytes(USER_SETTINGS)
    (sandbox.home / ".bashrc").write_bytes(USER_BASHRC)
    (sandbox.home / ".claude.json").write_bytes(USER_CLAUDE_JSON)
