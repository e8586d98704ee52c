"""The Databricks CLI's own token cache, read only: the token `databricks auth token` would
print, without running it, for the one caller that asks for it (the otelHeadersHelper, which
Claude Code runs at the end of every `claude -p`, on the session's critical path).

The CLI v0.298 keeps its OAuth tokens in `$HOME/.databricks/token-cache.json`
(databricks-sdk-go credentials/u2m/cache/file.go: `{"version": 1, "tokens": {KEY: oauth2.Token}}`,
KEY the profile name when `--profile` is given; `DATABRICKS_CACHE_DIR` moves its host-metadata
cache, not this file). v1.x writes the same file in plaintext mode and the OS keyring by
default, when this file may hold an old token. So this is only ever a cross-check, never a
source of its own: from_cli_cache uses an entry only when it is exactly the token the CLI
handed us before (our record's fingerprint and expiry). Anything else (no file, another format,
another key, a token we did not get from the CLI) is None, and the CLI runs as before.

Stdlib only (the token helper's hot path). Never writes, never copies the token anywhere.
"""

from __future__ import annotations

import os
import time

from ..core.jsonread import loads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from .dbcli import Token
    from .tokens import TokenRequest

# The CLI refreshes a token this close to its expiry by itself (sdk-go u2m tokenRefreshBuffer):
# one this close is never taken from the file, the CLI's answer may differ.
REFRESH_BUFFER = 300.0
FILE = os.path.join(".databricks", "token-cache.json")
VERSION = 1


def in_file(env: Mapping[str, str]) -> bool:
    """May the CLI keep its tokens in the file? v0.298: always (it ignores both settings below).
    v1.x: DATABRICKS_AUTH_STORAGE, else `[__settings__] auth_storage` of ~/.databrickscfg, else
    the OS keyring; a login into the keyring pins `auth_storage = secure`, after which the file
    holds at most an older token. So: not when either says anything but plaintext."""
    mode = env.get("DATABRICKS_AUTH_STORAGE", "").strip().lower()
    if not mode:
        from . import databrickscfg

        try:
            sections = databrickscfg.load(env.get("HOME") or "", env) or {}
        except (OSError, ValueError):
            return False
        mode = (sections.get("__settings__") or {}).get("auth_storage", "").strip().lower()
    return mode in ("", "plaintext")


def entry(env: Mapping[str, str], profile: str) -> tuple[str, str] | None:
    """(access token, expiry as the CLI wrote it) cached under exactly `profile`, or None."""
    home = env.get("HOME")
    if not home or not in_file(env):
        return None  # the CLI's os.UserHomeDir() needs $HOME too
    try:
        with open(os.path.join(home, FILE), "rb") as fh:
            data = loads(fh.read())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return None
    tokens = data.get("tokens")
    found = tokens.get(profile) if isinstance(tokens, dict) else None
    if not isinstance(found, dict):
        return None
    access, expiry = found.get("access_token"), found.get("expiry")
    if not isinstance(access, str) or not isinstance(expiry, str):
        return None
    if not access or any(c.isspace() for c in access):
        return None
    return access, expiry


def from_cli_cache(request: TokenRequest, profile: str) -> Token | None:
    """The token `databricks auth token --profile P` would print now, read from the CLI's own
    cache (`entry`), when that is certain: the cache holds, under the profile's own key,
    exactly the token we handed out (fingerprint and expiry), known good within
    `request.fresh_for`, living longer than `request.need` and than the CLI's own refresh
    buffer. Else None: ask the CLI."""
    from .tokens import fingerprint, read_state

    record = read_state(request.paths).get(profile)
    if not isinstance(record, dict) or not record.get("fp"):
        return None
    expiry, ok, now = record.get("expiry"), record.get("ok"), time.time()
    if not isinstance(expiry, float) or not isinstance(ok, (int, float)):
        return None
    if not 0 <= now - ok < request.fresh_for:
        return None
    if expiry - now <= max(request.need, REFRESH_BUFFER):
        return None
    found = entry(request.env, profile)
    if found is None:
        return None
    from .dbcli import Token, parse_expiry

    try:
        if parse_expiry(found[1]) != expiry:
            return None
    except ValueError:
        return None
    if fingerprint(found[0]) != record["fp"]:
        return None
    return Token(found[0], expiry)
