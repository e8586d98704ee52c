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

from .source import AUTH_TYPES, M2M, OAUTH, PAT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..core.errors import UserError

SETTINGS_SECTION = "__settings__"

# What a profile's credential is, as the SDK decides it (explicit auth_type first): one of the
# credential kinds (auth/source.py), or OTHER.
OTHER = "other"  # azure-cli, basic, metadata-service, ...
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
    """The file is not valid for go-ini either (the CLI and the SDKs refuse it too). `line` is
    1-based; the message never quotes the line (it may hold a secret)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


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
    total = len(lines)
    while lines:
        number = total - len(lines) + 1
        line = lines.pop(0).lstrip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[":
            close = line.rfind("]")
            if close == -1:
                raise ParseError("a section header without its closing `]`", number)
            current = sections.setdefault(line[1:close], {})
            continue
        cut = min((i for i in (line.find("="), line.find(":")) if i != -1), default=-1)
        if cut == -1:
            raise ParseError("no `=` (lines are `key = value`, `[section]` or a comment)", number)
        key = line[:cut].strip().strip('"`')
        if not key:
            raise ParseError("a value without a key name", number)
        try:
            current[key] = _value(line[cut + 1 :], lines)
        except ParseError as exc:
            raise ParseError(str(exc), number) from None
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


def unreadable(file: str, exc: Exception) -> UserError:
    """A file the Databricks CLI and SDKs cannot read either: exit 1, naming the file and line,
    never falling back to "no profiles" (which would start a login that cannot work)."""
    from ..core.errors import UserError

    if isinstance(exc, ParseError):
        why, line = str(exc), exc.line
    elif isinstance(exc, UnicodeDecodeError):
        why, line = "it is not UTF-8 text", 0
    else:  # permissions, a folder in its place: not a matter of its text
        why = getattr(exc, "strerror", None) or str(exc)
        return UserError(f"{file} cannot be read: {why}", f"check it: ls -l {file}")
    where = f"line {line} of it" if line else "it"
    return UserError(
        f"{file} cannot be read: {why} (the Databricks CLI refuses it too)",
        f'fix {where} in an editor: "${{EDITOR:-vi}}" {file}',
    )


def read(home: str, env: Mapping[str, str]) -> dict[str, dict[str, str]] | None:
    """`load`, with an unreadable file as a UserError (exit 1) naming the file and line."""
    try:
        return load(home, env)
    except (OSError, ValueError) as exc:  # UnicodeDecodeError and ParseError are ValueErrors
        raise unreadable(path(home, env), exc) from None


def read_profiles(home: str, env: Mapping[str, str]) -> dict[str, dict[str, str]] | None:
    """The profiles (section -> options) as the Databricks CLI reads them; None when the file
    does not exist. A file the CLI cannot read either raises UserError (`read`)."""
    sections = read(home, env)
    return None if sections is None else profiles(sections)


def default_profile(sections: Mapping[str, Mapping[str, str]]) -> str | None:
    """`[__settings__] default_profile` (`databricks auth switch`, the first login): the profile
    the SDKs use when none is named."""
    name = (sections.get(SETTINGS_SECTION) or {}).get("default_profile", "").strip()
    return name or None


def profiles(sections: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """Sections that are profiles (not `[__settings__]`, and DEFAULT only when it has a host)."""
    return {
        name: dict(keys)
        for name, keys in sections.items()
        if name != SETTINGS_SECTION and (name != "DEFAULT" or keys.get("host"))
    }


def host_of(section: Mapping[str, str] | None) -> str | None:
    """A profile's host under the one host rule (workspace/hosts.py), for showing and comparing;
    a host the rule refuses comes back as written (`profile_host` is the strict reader)."""
    raw = (section or {}).get("host", "").strip()
    if not raw:
        return None
    from ..core.errors import UserError

    try:
        return profile_host(section, "", "")
    except UserError:
        return raw


def profile_host(section: Mapping[str, str] | None, profile: str, file: str) -> str | None:
    """A profile's host as every source's host is read (hosts.host_from): `https://` added when
    there is no scheme (as the SDKs do), path and `?o=…` dropped, `http://` only for a local
    test server. UserError (exit 1) naming the profile and file otherwise."""
    from ..workspace.hosts import host_from

    raw = (section or {}).get("host", "").strip()
    if not raw:
        return None
    return host_from(
        raw,
        f"the host of profile {profile!r} in {file}",
        f"correct its `host` line (https://…; http:// only for 127.0.0.1): "
        f'"${{EDITOR:-vi}}" '
        f"{file}",
    )


AUTH_METHODS = (
    # The SDKs' attribute groups (databricks-sdk-go config.go `auth:` tags): two groups at once
    # without an auth_type is "more than one authorization method configured".
    ("pat", ("token",)),
    ("basic", ("username", "password")),
    ("oauth", ("client_id", "client_secret")),
    (
        "azure",
        (
            "azure_workspace_resource_id",
            "azure_use_msi",
            "azure_client_secret",
            "azure_client_id",
            "azure_tenant_id",
            "azure_login_app_id",
        ),
    ),
    ("google", ("google_service_account", "google_credentials")),
    ("metadata-service", ("metadata_service_url",)),
)


def auth_methods(section: Mapping[str, str]) -> list[str]:
    """The SDKs' authorization methods `section` holds a value for, sorted (their order)."""
    return sorted(
        group for group, keys in AUTH_METHODS if any(section.get(k, "").strip() for k in keys)
    )


def credential_kind(section: Mapping[str, str] | None) -> str:
    """OAUTH, PAT, M2M or OTHER for a profile (a missing profile is OAUTH: a login creates it)."""
    keys = section or {}
    auth_type = keys.get("auth_type", "").strip().lower()
    if auth_type:
        return AUTH_TYPES.get(auth_type, OTHER)
    if len(auth_methods(keys)) > 1:
        return OTHER  # the SDKs refuse it (credentials.resolve says why); never log in over it
    if keys.get("token"):
        return PAT
    if keys.get("client_id") and keys.get("client_secret"):
        return M2M
    if any(keys.get(k) for k in _OTHER_CREDENTIAL_KEYS) or keys.get("username"):
        return OTHER
    return OAUTH
