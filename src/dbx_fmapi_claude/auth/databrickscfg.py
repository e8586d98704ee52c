"""The one reader of `~/.databrickscfg`, parsing it the way the Databricks CLI does (go-ini with
the SDK's options), and the one place that says what kind of credential a profile holds.

configparser disagrees with go-ini in ways users hit: it refuses duplicate sections and keys
(go-ini merges them, last value wins), keeps inline ` #` comments in values (go-ini cuts them:
the SDK sets SpaceBeforeInlineComment so that a `#` inside a password survives), and copies
`[DEFAULT]` keys into every profile (go-ini does not). Read-only: we never change this file.
Stdlib only (the token helper reads a profile's host here).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

SETTINGS_SECTION = "__settings__"

# What a profile's credential is, as the SDK decides it (explicit auth_type first).
OAUTH = "oauth"  # U2M through `databricks auth login` / `auth token`
PAT = "pat"
M2M = "m2m"
OTHER = "other"  # azure-cli, basic, metadata-service, ...

_AUTH_TYPES = {"databricks-cli": OAUTH, "pat": PAT, "oauth-m2m": M2M}
_OTHER_CREDENTIAL_KEYS = (
    "azure_client_secret",
    "azure_client_id",
    "azure_use_msi",
    "google_service_account",
    "google_credentials",
    "password",
    "metadata_service_url",
)


class ParseError(ValueError):
    """The file is not valid for go-ini either (the CLI refuses it too)."""


def path(home: str, env: Mapping[str, str]) -> str:
    raw = env.get("DATABRICKS_CONFIG_FILE")
    return os.path.expanduser(raw) if raw else os.path.join(home, ".databrickscfg")


def _value(raw: str, rest: list[str]) -> str:
    """go-ini's readValue for the SDK's options: triple quotes/backticks verbatim, `\\`
    continuation lines, inline comment only after a space, one pair of surrounding quotes."""
    line = raw.lstrip()
    if not line:
        return ""
    for quote in ('"""', "`"):
        if line.startswith(quote) and len(line) > len(quote):
            body = line[len(quote) :]
            end = body.rfind(quote)
            if end != -1:
                return body[:end]
            parts = [body]
            while rest:
                nxt = rest.pop(0)
                end = nxt.find(quote)
                if end != -1:
                    parts.append(nxt[:end])
                    return "\n".join(parts)
                parts.append(nxt)
            raise ParseError(f"missing closing {quote}")
    line = line.strip()
    if line.endswith("\\"):
        parts = [line[:-1]]
        while rest:
            nxt = rest.pop(0).strip()
            if nxt.endswith("\\"):
                parts.append(nxt[:-1])
                continue
            parts.append(nxt)
            break
        return "".join(parts)
    cut = line.find(" #")
    if cut == -1:
        cut = line.find(" ;")
    if cut != -1:
        line = line[:cut].strip()
    if len(line) > 1 and line[0] == line[-1] and line[0] in "'\"":
        line = line[1:-1]
    return line


def parse(text: str) -> dict[str, dict[str, str]]:
    """{section: {key: value}} in file order. Keys before any header belong to DEFAULT (which
    is a section like any other: nothing leaks from it). A repeated section or key merges into
    the first, the last value winning."""
    if text.startswith("\ufeff"):
        text = text[1:]
    sections: dict[str, dict[str, str]] = {"DEFAULT": {}}
    current = sections["DEFAULT"]
    lines = [line.rstrip("\r") for line in text.split("\n")]
    while lines:
        line = lines.pop(0).lstrip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[":
            close = line.rfind("]")
            if close == -1:
                raise ParseError(f"unclosed section: {line}")
            current = sections.setdefault(line[1:close], {})
            continue
        cut = min((i for i in (line.find("="), line.find(":")) if i != -1), default=-1)
        if cut == -1:
            raise ParseError(f"key-value delimiter not found: {line}")
        key = line[:cut].strip().strip('"`')
        if not key:
            raise ParseError(f"empty key name: {line}")
        current[key] = _value(line[cut + 1 :], lines)
    if not sections["DEFAULT"]:
        del sections["DEFAULT"]
    return sections


def load(home: str, env: Mapping[str, str]) -> dict[str, dict[str, str]] | None:
    """The file's sections; None when it does not exist. OSError, UnicodeDecodeError and
    ParseError go to the caller, which knows whether an unreadable file matters."""
    try:
        with open(path(home, env), "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        return None
    return parse(raw.decode("utf-8"))


def profiles(sections: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """Sections that are profiles (not `[__settings__]`, and DEFAULT only when it has a host)."""
    return {
        name: dict(keys)
        for name, keys in sections.items()
        if name != SETTINGS_SECTION and (name != "DEFAULT" or keys.get("host"))
    }


def normalize_host(host: str) -> str:
    """A profile's host as the SDK uses it: `https://` added when there is no scheme, no
    trailing slash."""
    host = host.strip()
    if host and "://" not in host:
        host = "https://" + host
    return host.rstrip("/")


def host_of(section: Mapping[str, str] | None) -> str | None:
    raw = (section or {}).get("host", "")
    return normalize_host(raw) or None


def credential_kind(section: Mapping[str, str] | None) -> str:
    """OAUTH, PAT, M2M or OTHER for a profile (a missing profile is OAUTH: a login creates it)."""
    keys = section or {}
    auth_type = keys.get("auth_type", "").strip().lower()
    if auth_type:
        return _AUTH_TYPES.get(auth_type, OTHER)
    if keys.get("token"):
        return PAT
    if keys.get("client_id") and keys.get("client_secret"):
        return M2M
    if any(keys.get(k) for k in _OTHER_CREDENTIAL_KEYS) or keys.get("username"):
        return OTHER
    return OAUTH


KIND_NAMES = {
    PAT: "a personal access token",
    M2M: "a service principal (client_id/client_secret)",
    OTHER: "a non-OAuth credential",
}
