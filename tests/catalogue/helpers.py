"""Shared by the catalogue's tests: a home full of the user's own files, running the product,
asserting a refusal (message, fix, exit code) and that nothing of the user's changed."""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.rig.checks import assert_refused as assert_refused
from tests.rig.checks import no_traceback as no_traceback
from tests.rig.sandbox import Result, Sandbox

BAD_INPUT = "Bad input"
FAULTS = "Faults"
CONCURRENCY = "Concurrency"
SECRETS = "Secrets"
CATEGORIES = (BAD_INPUT, FAULTS, CONCURRENCY, SECRETS)


def case(category: str, group: str, cases: int = 1) -> pytest.MarkDecorator:
    """Count the test's cases in `category` / `group` of docs/catalogue.md: each collected
    test counts `cases` (a test that loops over a table of points passes the table's length)."""
    assert category in CATEGORIES, category
    return pytest.mark.catalogue(category, group, cases)


# Churn that is not a file of the user's: the CLI's token cache, our lock files, our record of
# token expiries. Everything else under HOME is compared byte for byte.
VOLATILE = (".databricks/*", ".config/dbx-fmapi-claude/locks/*", "*/token-state.json")
OUR_STATE = (*VOLATILE, ".config/dbx-fmapi-claude/*")

OUR_ENV_KEYS = frozenset(
    {
        "ANTHROPIC_MODEL",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_DEFAULT_OPUS_MODEL",
        "ANTHROPIC_DEFAULT_SONNET_MODEL",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL",
        "ANTHROPIC_CUSTOM_HEADERS",
        "CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS",
        "CLAUDE_CODE_API_KEY_HELPER_TTL_MS",
        "ANTHROPIC_AUTH_TOKEN",
    }
)
BEGIN = "# >>> dbx-fmapi-claude >>>"
END = "# <<< dbx-fmapi-claude <<<"

# The user's own files: odd formatting, non-ASCII, no final newline, keys of every kind.
USER_SETTINGS = (
    b'{\n    "permissions": {"allow": ["Bash(ls:*)"], "deny": []},\n'
    b'    "env": {"FOO": "bar", "GR\xc3\x9cSSE": "1"},\n'
    b'    "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "echo done"}]}]},\n'
    b'    "theme": "dark"\n}'
)
USER_BASHRC = b"# my bashrc \xe2\x9c\x93\nexport PATH=$HOME/bin:$PATH\nalias ll='ls -l'\n"
USER_ZSHRC = b"setopt autocd\nbindkey -e"
USER_CLAUDE_JSON = (
    b'{\n  "numStartups": 12,\n  "theme": "dark",\n  "hasCompletedOnboarding": true,\n'
    b'  "projects": {"/home/u/repo": {"allowedTools": []}}\n}\n'
)


def seed_user_files(sandbox: Sandbox) -> dict[str, bytes]:
    """The user's settings, rc files and Claude state; returns the snapshot of HOME."""
    (sandbox.home / ".claude").mkdir(exist_ok=True)
    (sandbox.home / ".claude" / "settings.json").write_bytes(USER_SETTINGS)
    (sandbox.home / ".bashrc").write_bytes(USER_BASHRC)
    (sandbox.home / ".zshrc").write_bytes(USER_ZSHRC)
    (sandbox.home / ".claude.json").write_bytes(USER_CLAUDE_JSON)
    return sandbox.snapshot()


def signed_in(sandbox: Sandbox, workspace: Any, profile: str = "DEFAULT") -> None:
    """sandbox.signed_in: a signed-in CLI without a browser login (tests/rig/logins.py)."""
    sandbox.signed_in(workspace, profile)


def setup(sandbox: Sandbox, *args: str, **kw: Any) -> Result:
    """`setup-fmapi-claudecode --skip-install ARGS` (non-interactive: stdin is not a TTY)."""
    kw.setdefault("timeout", 60)
    return sandbox.run(["setup-fmapi-claudecode", "--skip-install", *args], **kw)


def _differences(before: Mapping[str, bytes], after: Mapping[str, bytes]) -> list[str]:
    out = []
    for rel in sorted(set(before) | set(after)):
        if rel not in after:
            out.append(f"removed {rel}")
        elif rel not in before:
            out.append(f"added {rel}")
        elif before[rel] != after[rel]:
            out.append(f"changed {rel}")
    return out


def assert_unchanged(
    sandbox: Sandbox, before: Mapping[str, bytes], exclude: tuple[str, ...] = VOLATILE
) -> None:
    """Every file under HOME (but `exclude`) byte-identical to `before` (taken without them)."""
    from fnmatch import fnmatch

    keep = {k: v for k, v in before.items() if not any(fnmatch(k, p) for p in exclude)}
    after = sandbox.snapshot(exclude=exclude)
    diff = _differences(keep, after)
    assert not diff, diff


def settings_without_ours(data: Mapping[str, Any]) -> dict[str, Any]:
    """A settings object minus what setup adds (our env keys, our apiKeyHelper, an env object
    left empty, our status line)."""
    out = dict(data)
    env = {k: v for k, v in (data.get("env") or {}).items() if k not in OUR_ENV_KEYS}
    if env:
        out["env"] = env
    else:
        out.pop("env", None)
    helper = out.get("apiKeyHelper")
    if isinstance(helper, str) and "dbx-fmapi" in helper:
        out.pop("apiKeyHelper")
    line = out.get("statusLine")
    command = str(line.get("command", "")) if isinstance(line, dict) else ""
    if "dbx-fmapi" in command and command.endswith(" statusline"):
        out.pop("statusLine")  # our status line (docs/usage.md)
    hooks = out.get("hooks")
    if isinstance(hooks, dict) and isinstance(hooks.get("StopFailure"), list):
        # our StopFailure hook (agents/claude/failurehook.py)
        groups = [
            g
            for g in hooks["StopFailure"]
            if not (
                isinstance(g, dict)
                and [h.get("command", "") for h in g.get("hooks") or [] if isinstance(h, dict)]
                and all("invalid token" in str(h.get("command", "")) for h in g.get("hooks") or [])
            )
        ]
        hooks = {k: v for k, v in hooks.items() if k != "StopFailure"}
        if groups:
            hooks["StopFailure"] = groups
        if hooks:
            out["hooks"] = hooks
        else:
            out.pop("hooks")
    return out


def rc_without_block(text: str) -> str:
    """An rc text minus our block and the blank line (or line break) put before it."""
    pattern = re.compile(
        r"(\r?\n)?" + re.escape(BEGIN) + r"\r?\n.*?" + re.escape(END) + r"\r?\n?", re.S
    )
    m = pattern.search(text)
    if m is None:
        return text
    return text[: m.start()] + text[m.end() :]


def json_file(path: Path) -> Any:
    return json.loads(path.read_bytes())


def pwned(root: Path) -> list[str]:
    """Files an injection attempt would have created (named pwned*), anywhere under root."""
    found = []
    for dirpath, _dirs, files in os.walk(root):
        found += [os.path.join(dirpath, f) for f in files if f.startswith("pwned")]
    return found


# --- permissions: root ignores mode bits, so as root a command runs in a user namespace ---------


@functools.lru_cache(maxsize=1)
def _userns_works() -> bool:
    try:
        proc = subprocess.run(
            ["unshare", "-U", "--", "/bin/sh", "-c", "exit 0"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def unprivileged(argv: list[str]) -> list[str]:
    """argv that obeys file modes: as is for a normal user; as root, inside a user namespace
    without a uid mapping (root's files then get their owner bits checked like anyone's)."""
    if os.geteuid() != 0:
        return argv
    return ["unshare", "-U", "--", *argv]


needs_modes = pytest.mark.skipif(
    os.geteuid() == 0 and not _userns_works(),
    reason="running as root without user namespaces: file modes cannot be enforced",
)


@functools.lru_cache(maxsize=1)
def tmpfs_in_userns() -> bool:
    """A tiny tmpfs can be mounted in a user+mount namespace (for a real "disk full")."""
    try:
        proc = subprocess.run(
            [
                "unshare",
                "-Urm",
                "--",
                "/bin/sh",
                "-c",
                "mount -t tmpfs -o size=4k tmpfs /mnt && exit 0",
            ],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


LOGIN_FILES = (".profile", ".bash_profile", ".bash_login", ".zshenv")


def assert_only_ours_changed(
    sandbox: Sandbox,
    before: Mapping[str, bytes],
    *,
    allow_new: tuple[str, ...] = (),
) -> dict[str, bytes]:
    """After a successful setup: every file of the user's is byte-identical, or differs only by
    what setup adds (our settings keys, our rc block, the onboarding flag); new files only ours
    (our state, the CLI's login, settings/rc files we create, backups, `allow_new`)."""
    from fnmatch import fnmatch

    after = sandbox.snapshot()
    ignored = (*OUR_STATE, ".databrickscfg", ".databrickscfg.bak")
    for rel, old in before.items():
        if any(fnmatch(rel, p) for p in ignored):
            continue
        assert rel in after, f"{rel} was removed"
        new = after[rel]
        if new == old:
            continue
        name = rel.rsplit("/", 1)[-1]
        if name in ("settings.json", "settings.local.json"):
            assert settings_without_ours(json.loads(new)) == json.loads(old), rel
        elif name == ".claude.json":
            data = json.loads(new)
            assert data.pop("hasCompletedOnboarding") is True, rel
            assert data == json.loads(old), rel
        elif name in (".bashrc", ".zshrc", "dbx-fmapi-claude.fish", *LOGIN_FILES):
            text = new.decode("utf-8", "surrogateescape")
            assert text.count(BEGIN) == 1, rel
            assert rc_without_block(text).encode("utf-8", "surrogateescape") == old, rel
        else:
            raise AssertionError(f"{rel} changed")
    allowed = (
        *ignored,
        "*.bak-*",
        "*/settings.json",
        "*/settings.local.json",
        ".claude.json",
        ".bashrc",
        ".zshrc",
        ".config/fish/functions/dbx-fmapi-claude.fish",
        *LOGIN_FILES,  # bash's login file: PATH, or the function (docs/first-run.md)
        *allow_new,
    )
    added = [r for r in after if r not in before and not any(fnmatch(r, p) for p in allowed)]
    assert not added, added
    return after
