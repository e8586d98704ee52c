"""A fake `databricks` CLI that speaks the words of the real one, v0.298.0.

Everything it prints was read off the real binary (github.com/databricks/cli v0.298.0 with
databricks-sdk-go v0.128.0, the version the Go module proxy serves) and tests/rig/test_cli_parity.py
runs the same scenarios through both and fails on any difference. It implements `--version`,
`auth token` and `auth login` against a workspace (tests/rig/workspace.py), with the real CLI's
files and formats:

- `~/.databrickscfg` (or $DATABRICKS_CONFIG_FILE) read and rewritten like go-ini does (aligned
  keys, comments moved above their key, a `[DEFAULT]` header, `.bak` backup);
- `~/.databricks/token-cache.json`, always the plaintext file (v0.298 has no keyring): keys sorted,
  two-space indent, no trailing newline, `expires_in` kept, written through a temp file;
- the host-metadata cache (`GET /.well-known/databricks-config`) under $DATABRICKS_CACHE_DIR or
  ~/.cache/databricks, `<version>/host-metadata[-negative]/<sha256>.json`, 1 h / 60 s, with the
  `Warn: [hostmetadata] ...` line when the fetch fails;
- expiry times as Go writes them: RFC 3339, trailing zeros of the nanoseconds trimmed, the local
  offset of Go's zone (TZ names a zone file or it is UTC; a POSIX rule in TZ means UTC to Go);
- no lock between processes (the real one has none either).

Known differences from the real CLI (faults it shows only after minutes, or not at all here):
- a network error ("connection refused", a timeout) fails at once; the real CLI's HTTP client
  retries those (and HTTP 429/504) for up to ~5 minutes, bounded by `auth token --timeout`;
- `auth login --configure-cluster` and the commands other than `token` and `login` (describe,
  profiles, logout, switch, env) are not implemented: they exit 1 saying so;
- account, unified (SPOG) and `accounts.*` hosts are treated as workspace hosts;
- a discovery login (no host anywhere) prints what the real one prints and then can only time out;
- `--debug` is accepted and logs nothing.

Knobs (environment):
  FAKE_DATABRICKS_LOG=path          append one JSON line per invocation: {"argv", "time", "pid"}
  FAKE_DATABRICKS_HANG=seconds      sleep before doing anything
  FAKE_DATABRICKS_GARBAGE=1         `auth token` prints non-JSON garbage and exits 0
  FAKE_DATABRICKS_REFRESH_WINDOW=s  refresh when the token expires within s seconds (default 300,
                                    the real CLI's; 10 before v0.296: refresh only at expiry)
  FAKE_DATABRICKS_VERSION=0.295.0   play that version: `--version` prints it; before v0.296 there
                                    is no --force-refresh (cobra's "unknown flag" and usage, exit 1)
                                    and a token is refreshed only at expiry
  FAKE_DATABRICKS_KEYRING_FAIL=1    play v1.x's keyring failing (see KEYRING_ERROR)
  FAKE_DATABRICKS_VERSION=1.13.0    play v1.x (any 1.x), read from its source (databricks/cli
                                    v1.13.0; no binary can be built here): see "v1.x" below
  FAKE_DATABRICKS_KEYRING=path      v1.x: the OS keyring, a JSON file {"service/account": secret}
  FAKE_DATABRICKS_KEYRING_FAIL=unreachable|timeout
                                    v1.x: every keyring operation fails like zalando/go-keyring on a
                                    Linux box without Secret Service, or times out (3 s in the CLI;
                                    at once here)

v1.x (FAKE_DATABRICKS_VERSION >= 1): libs/auth/storage and cmd/auth of v1.13.0 -
- token storage: DATABRICKS_AUTH_STORAGE > [__settings__] auth_storage > the OS keyring
  ("secure", the default). Reads in default mode fall back to the plaintext file when the keyring
  cannot be reached (not on a timeout); an explicit "secure" never does. A login in default mode
  with no keyring uses the file and pins `auth_storage = plaintext` before the browser; a login
  that stored into the keyring pins `auth_storage = secure` (PinSecureMode). The keyring holds
  tokens under the profile only (no host key); the file keeps the host key on login.
- `auth token --profile P` never falls back to the token cached under the host URL.
- nothing cached: `cache: databricks OAuth is not configured for this host. no cached
  credentials; run `databricks auth login` to sign in` (no trailer), or the "older CLI versions"
  hint in secure mode when the plaintext file holds tokens.
- keyring lookup failures: `OS keyring unreachable: <err> (set DATABRICKS_AUTH_STORAGE=plaintext
  or run `databricks auth login` to use file-based token storage)`.
- inside Claude Code (CLAUDECODE set) every command first prints the aitools hint on stderr, once
  an hour per CLAUDE_CODE_SESSION_ID (its marker in the CLI's cache folder).

Stdlib only: it runs as `python -I fake_databricks.py`. Network, browser and login modules are
imported where they are used, so `auth token` with a valid cached token stays a fast start.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    import http.server

VERSION = (
    "0.298.0"  # the real CLI this fake speaks for (tests/rig/test_cli_parity.py holds it to it)
)
FORCE_REFRESH_SINCE = (0, 296, 0)  # the first release with `auth token --force-refresh`
SDK_VERSION = "0.128.0"
CLIENT_ID = "databricks-cli"
DEFAULT_SCOPES = ["all-apis"]
CALLBACK_PORTS = range(8020, 8041)
REFRESH_BUFFER = 300.0  # u2m tokenRefreshBuffer: refresh when within 5 minutes of expiry
EXPIRY_DELTA = 10.0  # oauth2 defaultExpiryDelta: a token this close to expiry is not Valid()
HOST_METADATA_TTL = 3600.0
HOST_METADATA_NEGATIVE_TTL = 60.0
ISSUES_URL = "https://github.com/databricks/cli/issues/new"
DEFAULT_COMMENT = (
    "The profile defined in the DEFAULT section is to be used as a fallback when no profile is "
    "explicitly specified."
)
DISCOVERY_TIP = (
    "\n\nTip: you can specify a workspace directly with: databricks auth login --host <url>"
)
# v1.x on macOS when two processes update the Keychain at once (cli#6051). v1.x cannot be built
# here (the Go module proxy refuses every v1.x), so this wording is from the notes
# (../shared/notes/databricks.md), not read off a binary; the SDK's wrapping around it is v0.298's.
KEYRING_ERROR = "exit status 45"
V1_VERSION = "1.13.0"  # the v1.x this fake's v1 mode was read from
KEYRING_SERVICE = "databricks-cli"
# zalando/go-keyring on Linux when no Secret Service answers on D-Bus (the usual SSH box / CI)
KEYRING_UNREACHABLE = "The name org.freedesktop.secrets was not provided by any .service files"
AITOOLS_HINT = (
    "Databricks skills are not installed. To work with Databricks reliably, first run: "
    "databricks aitools install"
)
NO_CACHED_CREDENTIALS = "no cached credentials; run `databricks auth login` to sign in"
OLDER_CLI_CREDENTIALS = (
    "stored credentials from older CLI versions are no longer used; run `databricks auth login` "
    "to sign in again, or set DATABRICKS_AUTH_STORAGE=plaintext to keep using the file cache"
)

# ConfigAttributes of databricks-sdk-go in declaration order: the order in which a login writes
# new keys into a profile.
CONFIG_ATTRIBUTES = (
    "host",
    "cluster_id",
    "warehouse_id",
    "serverless_compute_id",
    "metadata_service_url",
    "account_id",
    "workspace_id",
    "token",
    "username",
    "password",
    "profile",
    "config_file",
    "oauth_callback_port",
    "google_service_account",
    "google_credentials",
    "azure_workspace_resource_id",
    "azure_use_msi",
    "azure_client_secret",
    "azure_client_id",
    "azure_tenant_id",
    "actions_id_token_request_url",
    "actions_id_token_request_token",
    "azure_environment",
    "azure_login_app_id",
    "client_id",
    "client_secret",
    "scopes",
    "disable_oauth_refresh_token",
    "databricks_cli_path",
    "auth_type",
    "databricks_id_token_filepath",
    "oidc_token_env",
    "skip_verify",
    "http_timeout_seconds",
    "debug_truncate_bytes",
    "debug_headers",
    "rate_limit",
    "retry_timeout_seconds",
    "cloud",
    "audience",
    "experimental_is_unified_host",
    "discovery_url",
)
# The attributes with an auth tag (databrickscfg.AuthCredentialKeys): a login removes them.
AUTH_CREDENTIAL_KEYS = (
    "metadata_service_url",
    "token",
    "username",
    "password",
    "google_service_account",
    "google_credentials",
    "azure_workspace_resource_id",
    "azure_use_msi",
    "azure_client_secret",
    "azure_client_id",
    "azure_tenant_id",
    "azure_login_app_id",
    "client_id",
    "client_secret",
    "databricks_id_token_filepath",
    "oidc_token_env",
)

_GLOBAL_FLAGS_USAGE = """\
Global Flags:
      --account-id string              Databricks Account ID
      --debug                          enable debug logging
      --experimental-is-unified-host   Flag to indicate if the host is a unified host
      --host string                    Databricks Host
  -o, --output type                    output type: text or json (default text)
  -p, --profile string                 ~/.databrickscfg profile
  -t, --target string                  bundle target to use (if applicable)
      --workspace-id string            Databricks Workspace ID
"""
TOKEN_USAGE = (
    """\
Usage:
  databricks auth token [PROFILE] [flags]

Flags:
      --force-refresh      Force a token refresh even if the cached token is still valid.
  -h, --help               help for token
      --timeout duration   Timeout for acquiring a token. (default 1h0m0s)

"""
    + _GLOBAL_FLAGS_USAGE
)
# Before v0.296: no --force-refresh and the positional argument was a host. Not read off a binary
# (the proxy serves no v0.29x but v0.298): v0.298's text without that flag, as its source had it.
OLD_TOKEN_USAGE = (
    """\
Usage:
  databricks auth token [HOST] [flags]

Flags:
  -h, --help               help for token
      --timeout duration   Timeout for acquiring a token. (default 1h0m0s)

"""
    + _GLOBAL_FLAGS_USAGE
)
LOGIN_USAGE = (
    """\
Usage:
  databricks auth login [PROFILE] [flags]

Flags:
      --configure-cluster      Prompts to configure cluster
      --configure-serverless   Prompts to configure serverless
  -h, --help                   help for login
      --scopes string          Comma-separated list of OAuth scopes to request \
(defaults to 'all-apis')
      --skip-workspace         Skip workspace selection for account-level access
      --timeout duration       Timeout for completing login challenge in the browser \
(default 1h0m0s)

"""
    + _GLOBAL_FLAGS_USAGE
)
AUTH_HELP = """\
Authentication related commands. For more information regarding how
authentication for the Databricks CLI and SDKs work please refer to the documentation
linked below.

AWS: https://docs.databricks.com/dev-tools/auth/index.html
Azure: https://learn.microsoft.com/azure/databricks/dev-tools/auth
GCP: https://docs.gcp.databricks.com/dev-tools/auth/index.html

Usage:
  databricks auth [command]

Available Commands:
  describe    Describes the credentials and the source of those credentials, being used by \
the CLI to authenticate
  login       Log into a Databricks workspace or account
  logout      Log out of a Databricks profile
  profiles    Lists profiles from ~/.databrickscfg
  switch      Set the default profile
  token       Get authentication token

Flags:
      --account-id string              Databricks Account ID
      --experimental-is-unified-host   Flag to indicate if the host is a unified host
  -h, --help                           help for auth
      --host string                    Databricks Host
      --workspace-id string            Databricks Workspace ID

Global Flags:
      --debug            enable debug logging
  -o, --output type      output type: text or json (default text)
  -p, --profile string   ~/.databrickscfg profile
  -t, --target string    bundle target to use (if applicable)

Use "databricks auth [command] --help" for more information about a command.
"""


class CliError(Exception):
    """Printed as `Error: <message>` on stderr, exit 1 (cobra's RunE error)."""

    def __init__(self, message: str, usage: str | None = None) -> None:
        super().__init__(message)
        self.usage = usage  # flag errors: cobra prints the command's usage after the message


class SdkError(Exception):
    """An error inside the SDK's token source, before the CLI wraps it."""

    def __init__(self, message: str, invalid_refresh_token: bool = False) -> None:
        super().__init__(message)
        self.invalid_refresh_token = invalid_refresh_token


class NotFound(SdkError):
    pass


def fail(message: str) -> NoReturn:
    raise CliError(message)


def version() -> str:
    return os.environ.get("FAKE_DATABRICKS_VERSION") or VERSION


def version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("-")[0].split(".")[:3]:
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def is_v1() -> bool:
    return version_tuple(version()) >= (1, 0, 0)


def has_force_refresh() -> bool:
    return version_tuple(version()) >= FORCE_REFRESH_SINCE


def go_quote(text: str) -> str:
    """Go's %q for a plain string (what the CLI's messages use)."""
    return json.dumps(text, ensure_ascii=False)


def go_json(obj: Any, indent: bool = True) -> str:
    """encoding/json: MarshalIndent(obj, "", "  ") (or Marshal), HTML characters escaped."""
    text = json.dumps(
        obj, indent=2 if indent else None, separators=None if indent else (",", ":"),
        ensure_ascii=False,
    )  # fmt: skip
    for raw, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(raw, esc)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def go_json_error(text: str) -> str:
    """What Go's json.Unmarshal says about text Python cannot parse (the common cases)."""
    stripped = text.lstrip(" \t\r\n")
    if not stripped:
        return "unexpected end of JSON input"
    first = stripped[0]
    if first not in '{["-0123456789tfn':
        return f"invalid character {go_char(first)} looking for beginning of value"
    for literal in ("true", "false", "null"):
        if first == literal[0]:
            for k, expected in enumerate(literal):
                if k >= len(stripped):
                    return "unexpected end of JSON input"
                if stripped[k] != expected:
                    return (
                        f"invalid character {go_char(stripped[k])} in literal {literal} "
                        f"(expecting {go_char(expected)})"
                    )
    if first == "{":
        rest = stripped[1:].lstrip(" \t\r\n")
        if not rest:
            return "unexpected end of JSON input"
        if rest[0] not in '"}':
            return (
                f"invalid character {go_char(rest[0])} looking for beginning of object key string"
            )
    try:
        json.loads(text)
    except ValueError as exc:
        msg = str(exc)
        if "Expecting" in msg and getattr(exc, "pos", 0) >= len(text.rstrip()):
            return "unexpected end of JSON input"
        pos = getattr(exc, "pos", 0)
        if "Extra data" in msg and pos < len(text):
            return f"invalid character {go_char(text[pos])} after top-level value"
        if pos < len(text):
            return f"invalid character {go_char(text[pos])} looking for beginning of value"
    return "unexpected end of JSON input"


def go_char(c: str) -> str:
    return "'\\''" if c == "'" else f"'{c}'"


# --------------------------------------------------------------------------- time, as Go does


def _zone_file() -> str | None:
    """The file Go reads its local zone from, or None for UTC (time/zoneinfo_unix.go initLocal):
    TZ unset means /etc/localtime; TZ set names a zone file (absolute, or under the zoneinfo
    folders); empty, "UTC", a POSIX rule or anything not found means UTC."""
    tz = os.environ.get("TZ")
    if tz is None:
        return "/etc/localtime" if os.path.exists("/etc/localtime") else None
    if tz.startswith(":"):
        tz = tz[1:]
    if tz in ("", "UTC"):
        return None
    if tz.startswith("/"):
        return tz if os.path.isfile(tz) else None
    dirs = [os.environ.get("ZONEINFO", "")] + [
        "/usr/share/zoneinfo/",
        "/usr/share/lib/zoneinfo/",
        "/usr/lib/locale/TZ/",
        "/etc/zoneinfo/",
    ]
    for d in dirs:
        if d and ".." not in tz and os.path.isfile(os.path.join(d, tz)):
            return os.path.join(d, tz)
    return None


_ZONE: list[Any] = []


def local_offset(ts: float) -> int:
    """Seconds east of UTC of Go's local zone at ts."""
    if not _ZONE:
        path = _zone_file()
        zone: Any = None
        if path is not None:
            try:
                import zoneinfo

                with open(path, "rb") as f:
                    zone = zoneinfo.ZoneInfo.from_file(f)
            except (OSError, ValueError):
                zone = None
        _ZONE.append(zone)
    zone = _ZONE[0]
    if zone is None:
        return 0
    import datetime as dt

    offset = dt.datetime.fromtimestamp(ts, zone).utcoffset()
    return int(offset.total_seconds()) if offset else 0


ZERO_TIME = "0001-01-01T00:00:00Z"


def format_go_time(ns: int | None, offset: int | None = None) -> str:
    """time.Time as encoding/json writes it: RFC 3339 with up to 9 fraction digits (trailing zeros
    trimmed) and the offset (Z when 0). ns None: Go's zero time. offset None: the local zone's."""
    if ns is None:
        return ZERO_TIME
    import datetime as dt

    secs, frac = divmod(ns, 1_000_000_000)
    if offset is None:
        offset = local_offset(secs)
    moment = dt.datetime.fromtimestamp(secs, dt.timezone.utc) + dt.timedelta(seconds=offset)
    digits = f"{frac:09d}".rstrip("0")
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{digits}" if digits else "")
    if offset == 0:
        return text + "Z"
    sign = "+" if offset > 0 else "-"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def parse_go_time(text: str) -> tuple[int | None, int]:
    """(epoch nanoseconds or None for the zero time, offset seconds) of an RFC 3339 time."""
    import datetime as dt
    import re

    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)", text)
    if not m:
        raise ValueError(f'parsing time "{text}" as "2006-01-02T15:04:05Z07:00"')
    base, frac, tz = m.groups()
    if tz == "Z":
        offset = 0
    else:
        offset = (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60) * (1 if tz[0] == "+" else -1)
    naive = dt.datetime.fromisoformat(base)
    if naive == dt.datetime(1, 1, 1) and not frac and offset == 0:
        return None, 0
    whole = int(naive.replace(tzinfo=dt.timezone.utc).timestamp()) - offset
    return whole * 1_000_000_000 + int((frac or "0").ljust(9, "0")), offset


def format_expiry(ts: float) -> str:
    """An expiry ts seconds from the epoch, as the CLI writes it (local zone, Go's rules)."""
    return format_go_time(int(round(ts * 1e9)))


def parse_expiry(value: str) -> float:
    ns, _ = parse_go_time(value.strip())
    return float("-inf") if ns is None else ns / 1e9


def parse_duration(value: str, flag: str, usage: str) -> float:
    """time.ParseDuration, with pflag's error wording."""
    import re

    def bad(why: str) -> NoReturn:
        raise CliError(
            f'invalid argument "{value}" for "--{flag}" flag: time: {why} {go_quote(value)}', usage
        )

    text = value
    sign = 1.0
    if text[:1] in "+-":
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    if text == "0":
        return 0.0
    if not text:
        bad("invalid duration")
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    total = 0.0
    for m in re.finditer(r"(\d*\.?\d*)([a-zµμ]*)", text):
        if not m.group(0):
            continue
        number, unit = m.groups()
        if number in ("", "."):
            bad("invalid duration")
        if not unit:
            bad("missing unit in duration")
        if unit not in units:
            raise CliError(
                f'invalid argument "{value}" for "--{flag}" flag: time: unknown unit '
                f"{go_quote(unit)} in duration {go_quote(value)}",
                usage,
            )
        total += float(number) * units[unit]
    if re.sub(r"\d*\.?\d*[a-zµμ]*", "", text):
        bad("invalid duration")
    return sign * total


# --------------------------------------------------------------------------- go-ini


class IniSection:
    def __init__(self, name: str, comment: str = "") -> None:
        self.name = name
        self.comment = comment
        self.keys: dict[str, list[str]] = {}  # name -> [value, comment], in file order

    def get(self, key: str, default: str = "") -> str:
        return self.keys[key][0] if key in self.keys else default

    def set(self, key: str, value: str) -> None:
        if key in self.keys:
            self.keys[key][0] = value
        else:
            self.keys[key] = [value, ""]


class IniError(Exception):
    pass


class IniFile:
    """gopkg.in/ini.v1 as the SDK loads `.databrickscfg` (SpaceBeforeInlineComment) and the CLI
    writes it back (PrettyFormat, PrettySection, DefaultHeader)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sections = [IniSection("DEFAULT")]

    def section(self, name: str) -> IniSection | None:
        for s in self.sections:
            if s.name == name:
                return s
        return None

    def new_section(self, name: str) -> IniSection:
        s = self.section(name)
        if s is None:
            s = IniSection(name)
            self.sections.append(s)
        return s

    @classmethod
    def parse(cls, path: str, text: str) -> IniFile:
        f = cls(path)
        if text.startswith("\ufeff"):
            text = text[1:]
        current = f.sections[0]
        comment = ""
        for raw in text.split("\n"):
            line = raw.lstrip()
            if not line:
                continue
            if line[0] in "#;":
                comment += line + "\n"
                continue
            if line[0] == "[":
                close = line.rfind("]")
                if close == -1:
                    raise IniError(f"unclosed section: {line}")
                current = f.new_section(line[1:close])
                rest = line[close + 1 :]
                cut = min((i for i in (rest.find("#"), rest.find(";")) if i >= 0), default=-1)
                if cut >= 0:
                    comment += rest[cut:]
                current.comment = comment.strip()
                comment = ""
                continue
            cut = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
            if cut < 0:
                raise IniError(f"key-value delimiter not found: {line}")
            key = line[:cut].strip()
            if not key:
                raise IniError(f"empty key name: {line}")
            value, inline = _ini_value(line[cut + 1 :])
            comment += inline
            current.set(key, value)
            current.keys[key][1] = comment.strip()
            comment = ""
        return f

    def render(self) -> str:
        out: list[str] = []
        last = len(self.sections) - 1
        for i, sec in enumerate(self.sections):
            if sec.comment:
                out.extend(_ini_comment(line) + "\n" for line in sec.comment.split("\n"))
            out.append(f"[{sec.name}]\n")
            names = {k: _ini_key(k) for k in sec.keys}
            align = max((len(n) for n in names.values()), default=0)
            for key, (value, comment) in sec.keys.items():
                if comment:
                    out.extend(_ini_comment(c.strip()) + "\n" for c in comment.split("\n"))
                name = names[key]
                out.append(f"{name}{' ' * (align - len(name))} = {_ini_quote(value)}\n")
            if i != last:
                out.append("\n")
        return "".join(out)


def _ini_value(text: str) -> tuple[str, str]:
    """(value, inline comment) of what follows the delimiter (ini.v1 parser.readValue)."""
    line = text.lstrip()
    if not line:
        return "", ""
    for quote in ('"""', "`"):
        if line.startswith(quote) and (quote == "`" or len(line) > 3):
            end = line.rfind(quote, len(quote))
            if end >= len(quote):
                return line[len(quote) : end], ""
    line = line.strip()
    inline = ""
    cut = line.find(" #")
    if cut == -1:
        cut = line.find(" ;")
    if cut > -1:
        inline = line[cut:]
        line = line[:cut].strip()
    for q in ("'", '"'):
        if len(line) >= 2 and line[0] == q and line[-1] == q and line.count(q) == 2:
            line = line[1:-1]
            break
    return line, inline


def _ini_comment(line: str) -> str:
    if not line:
        return "; "
    if line[0] not in "#;":
        return "; " + line
    return line[0] + " " + line[1:].strip()


def _ini_key(name: str) -> str:
    if '"' in name or "=" in name or ":" in name:
        return f"`{name}`"
    if "`" in name:
        return f'"""{name}"""'
    return name


def _ini_quote(value: str) -> str:
    if "\n" in value or "`" in value:
        return f'"""{value}"""'
    if "#" in value or ";" in value:
        return f"`{value}`"
    if value.strip() != value:
        return f'"{value}"'
    return value


# --------------------------------------------------------------------------- .databrickscfg


def home() -> str:
    return os.environ.get("HOME") or os.path.expanduser("~")


def config_path() -> str:
    path = os.environ.get("DATABRICKS_CONFIG_FILE") or "~/.databrickscfg"
    if path.startswith("~"):
        path = home() + path[1:]
    return path


def config_display_path() -> str:
    """The config path as the CLI names it in messages (home as ~)."""
    path = os.environ.get("DATABRICKS_CONFIG_FILE") or "~/.databrickscfg"
    h = home()
    if h and path.startswith(h):
        path = "~" + path[len(h) :]
    return os.path.normpath(path) if path != "~/.databrickscfg" else path


def load_config() -> IniFile | None:
    """The config file, or None when there is none (profile.ErrNoConfiguration)."""
    path = config_path()
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        fail(
            f"cannot load Databricks config file: open {path}: {(exc.strerror or str(exc)).lower()}"
        )
    try:
        return IniFile.parse(path, text)
    except IniError as exc:
        fail(f"cannot load Databricks config file: {exc}")


class Profile:
    def __init__(self, section: IniSection) -> None:
        self.name = section.name
        self.host = section.get("host")
        self.account_id = section.get("account_id")
        self.workspace_id = section.get("workspace_id")
        self.is_unified_host = section.get("experimental_is_unified_host") == "true"
        self.has_client_credentials = bool(
            section.get("client_id") and section.get("client_secret")
        )
        self.scopes = section.get("scopes")


def load_profiles() -> list[Profile]:
    cfg = load_config()
    if cfg is None:
        return []
    return [Profile(s) for s in cfg.sections if "host" in s.keys]


def load_profile_by_name(name: str) -> Profile | None:
    if not name:
        return None
    for p in load_profiles():
        if p.name == name:
            return p
    return None


def canonical_host(host: str) -> str:
    """config.CanonicalHostName: scheme://host[:port], https:// when the scheme is missing."""
    import urllib.parse

    if not host:
        return ""
    try:
        u = urllib.parse.urlsplit(host)
        if not u.netloc:
            u = urllib.parse.urlsplit("https://" + host)
        if not u.hostname:
            return host
    except ValueError:
        return host
    return f"{u.scheme}://{u.netloc}"


def save_profile(profile: str, values: dict[str, str], clear: list[str]) -> None:
    """databrickscfg.SaveToProfile: merge into [profile] (existing keys keep their place, new
    ones follow in ConfigAttributes order), drop `clear`, set [__settings__] default_profile for
    the first profile, back the old file up to .bak, write the file like go-ini."""
    path = config_path()
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            original = f.read()
    except FileNotFoundError:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        original = ""
    try:
        cfg = IniFile.parse(path, original)
    except IniError as exc:
        fail(f"parse {path}: {exc}")
    first = not any("host" in s.keys for s in cfg.sections if s.name != "__settings__")
    section = cfg.new_section(profile)
    for key in clear:
        section.keys.pop(key, None)
    for key in CONFIG_ATTRIBUTES:
        if values.get(key):
            section.set(key, values[key])
    if first and profile:
        cfg.new_section("__settings__").set("default_profile", profile)
    write_config(path, cfg, original)


def write_config(path: str, cfg: IniFile, original: str) -> None:
    """writeConfigFile: the DEFAULT comment, a .bak of the old text, the new text."""
    default = cfg.sections[0]
    if not default.keys and not default.comment:
        default.comment = DEFAULT_COMMENT
    if original:
        fd = os.open(path + ".bak", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(original)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(cfg.render())


# --------------------------------------------------------------------------- token cache


def token_cache_path() -> str:
    return os.path.join(home(), ".databricks", "token-cache.json")


class Token:
    """oauth2.Token as the cache holds it."""

    def __init__(
        self,
        access_token: str,
        token_type: str = "",
        refresh_token: str = "",
        expiry_ns: int | None = None,
        expiry_offset: int | None = None,
        expires_in: int = 0,
    ) -> None:
        self.access_token = access_token
        self.token_type = token_type
        self.refresh_token = refresh_token
        self.expiry_ns = expiry_ns
        self.expiry_offset = expiry_offset  # None: Go's local zone
        self.expires_in = expires_in

    @classmethod
    def from_json(cls, raw: Any) -> Token:
        if not isinstance(raw, dict):
            raw = {}
        ns, offset = None, 0
        if isinstance(raw.get("expiry"), str):
            ns, offset = parse_go_time(raw["expiry"])
        expires_in = raw.get("expires_in")
        return cls(
            str(raw.get("access_token") or ""),
            str(raw.get("token_type") or ""),
            str(raw.get("refresh_token") or ""),
            ns,
            offset,
            int(expires_in) if isinstance(expires_in, (int, float)) else 0,
        )

    def to_json(self, with_refresh: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"access_token": self.access_token}
        if self.token_type:
            out["token_type"] = self.token_type
        if self.refresh_token and with_refresh:
            out["refresh_token"] = self.refresh_token
        out["expiry"] = format_go_time(self.expiry_ns, self.expiry_offset)
        if self.expires_in:
            out["expires_in"] = self.expires_in
        return out

    def seconds_left(self) -> float | None:
        return None if self.expiry_ns is None else self.expiry_ns / 1e9 - time.time()

    def valid(self) -> bool:
        left = self.seconds_left()
        return bool(self.access_token) and (left is None or left > EXPIRY_DELTA)


class TokenCache:
    """The SDK's fileTokenCache: created when missing, loaded once to fail fast."""

    def __init__(self) -> None:
        self.path = token_cache_path()
        if not os.path.exists(self.path):
            try:
                os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
            except OSError as exc:
                folder = os.path.dirname(self.path)
                raise SdkError(f"mkdir: {go_os_error('mkdir', folder, exc)}") from None
            try:
                self._write({"version": 1, "tokens": {}})
            except OSError as exc:
                raise SdkError(f"error creating token cache file: {exc}") from None
        self.load()

    def load(self) -> dict[str, Any]:
        try:
            with open(self.path, "rb") as f:
                raw = f.read()
        except OSError as exc:
            raise SdkError(f"load: read: {go_os_error('open', self.path, exc)}") from None
        text = raw.decode("utf-8", "replace")
        try:
            data = json.loads(text)
        except ValueError:
            raise SdkError(f"load: parse: {go_json_error(text)}") from None
        if not isinstance(data, dict) or data.get("version") != 1:
            got = data.get("version") if isinstance(data, dict) else 0
            raise SdkError(f"load: needs version 1, got version {got}")
        if not isinstance(data.get("tokens"), dict):
            data["tokens"] = {}
        for entry in data["tokens"].values():
            expiry = entry.get("expiry") if isinstance(entry, dict) else None
            if isinstance(expiry, str):
                try:
                    parse_go_time(expiry)
                except ValueError:
                    raise SdkError(
                        f'load: parse: parsing time "\\"{expiry}\\"" as '
                        '"\\"2006-01-02T15:04:05Z07:00\\""'
                    ) from None
        return dict(data)

    def lookup(self, key: str) -> Token:
        tokens = self.load()["tokens"]
        if key not in tokens:
            raise NotFound("databricks OAuth is not configured for this host")
        return Token.from_json(tokens[key])

    def store(self, key: str, token: Token) -> None:
        data = self.load()
        tokens = {k: Token.from_json(v).to_json() for k, v in data["tokens"].items()}
        tokens[key] = token.to_json()
        self._write({"version": 1, "tokens": dict(sorted(tokens.items()))})

    def _write(self, data: dict[str, Any]) -> None:
        import tempfile

        folder = os.path.dirname(self.path)
        fd, tmp = tempfile.mkstemp(prefix=".token-cache-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(go_json(data))
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


# --------------------------------------------------------------------------- v1.x token storage


class KeyringError(SdkError):
    """A failed keyring operation (go-keyring's error, or the CLI's TimeoutError)."""

    def __init__(self, message: str, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


class NotFoundHint(NotFound):
    """storage.notFoundHint: ErrNotFound with the hint the CLI prints instead of its trailer."""


class KeyringStore:
    """libs/auth/storage/keyring.go over a JSON file standing in for the OS keyring."""

    def __init__(self) -> None:
        self.path = os.environ.get("FAKE_DATABRICKS_KEYRING") or os.path.join(
            home(), ".fake-os-keyring.json"
        )

    def _op(self, op: str) -> None:
        fault = os.environ.get("FAKE_DATABRICKS_KEYRING_FAIL", "")
        if fault == "timeout":
            raise KeyringError(f"keyring {op} timed out", timeout=True)
        if fault == "unreachable":
            raise KeyringError(KEYRING_UNREACHABLE)
        if fault == "1" and op == "set":
            raise KeyringError(KEYRING_ERROR)

    def _items(self) -> dict[str, str]:
        try:
            with open(self.path, encoding="utf-8") as f:
                return dict(json.load(f))
        except (OSError, ValueError):
            return {}

    def _save(self, items: dict[str, str]) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(items, f)

    def probe_read(self) -> None:
        self._op("get")

    def probe_write(self) -> None:
        try:
            self._op("set")
        except KeyringError as exc:
            raise KeyringError(f"write: {exc}", exc.timeout) from None

    def lookup(self, key: str) -> Token:
        try:
            self._op("get")
        except KeyringError as exc:
            raise SdkError(
                f"OS keyring unreachable: {exc} (set DATABRICKS_AUTH_STORAGE=plaintext or run "
                "`databricks auth login` to use file-based token storage)"
            ) from None
        raw = self._items().get(f"{KEYRING_SERVICE}/{key}")
        if raw is None:
            raise NotFound("token not found")
        return Token.from_json(json.loads(raw).get("token"))

    def store(self, key: str, token: Token) -> None:
        self._op("set")
        items = self._items()
        items[f"{KEYRING_SERVICE}/{key}"] = json.dumps({"token": token.to_json()})
        self._save(items)


def storage_mode() -> tuple[str, bool]:
    """storage.ResolveStorageModeWithSource: (mode, explicit)."""
    raw = os.environ.get("DATABRICKS_AUTH_STORAGE", "")
    source = "DATABRICKS_AUTH_STORAGE"
    if not raw:
        cfg = load_config()
        settings = cfg.section("__settings__") if cfg is not None else None
        raw, source = (settings.get("auth_storage") if settings else ""), "auth_storage"
    if not raw:
        return "secure", False
    mode = raw.strip().lower()
    if mode not in ("plaintext", "secure"):
        fail(f"{source}: unknown storage mode {go_quote(raw)} (want plaintext or secure)")
    return mode, True


def file_store() -> TokenCache:
    try:
        return TokenCache()
    except SdkError as exc:
        fail(f"open file token cache: {exc}")


def resolve_store_for_read() -> tuple[Any, str]:
    """storage.ResolveStore: (store, mode) for `auth token`."""
    mode, explicit = storage_mode()
    if mode == "plaintext":
        return file_store(), mode
    keyring = KeyringStore()
    if not explicit:
        try:
            keyring.probe_read()
        except KeyringError as exc:
            if not exc.timeout:
                return file_store(), "plaintext"
    return keyring, mode


def resolve_store_for_login() -> tuple[Any, str, bool]:
    """storage.ResolveStoreForLogin: (store, mode, explicit); the plaintext fallback is pinned
    into the config file at once (persistPlaintextFallback)."""
    mode, explicit = storage_mode()
    if mode == "plaintext":
        return file_store(), mode, explicit
    keyring = KeyringStore()
    try:
        keyring.probe_write()
    except KeyringError as exc:
        if exc.timeout:
            return keyring, mode, explicit
        if explicit:
            fail(f"secure storage was requested but the OS keyring is not reachable: {exc}")
        store = file_store()
        set_auth_storage("plaintext")
        return store, "plaintext", explicit
    return keyring, mode, explicit


def set_auth_storage(value: str) -> None:
    """databrickscfg.SetConfiguredAuthStorage: [__settings__] auth_storage, written like every
    config write of the CLI (.bak of a non-empty file, the DEFAULT comment)."""
    path = config_path()
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            original = f.read()
    except FileNotFoundError:
        original = ""
    try:
        cfg = IniFile.parse(path, original)
    except IniError as exc:
        fail(f"parse {path}: {exc}")
    cfg.new_section("__settings__").set("auth_storage", value)
    write_config(path, cfg, original)


def not_found_hint(mode: str) -> NotFoundHint:
    if mode == "secure":
        try:
            with open(token_cache_path(), encoding="utf-8") as f:
                legacy = json.load(f).get("tokens")
        except (OSError, ValueError, AttributeError):
            legacy = None
        if legacy:
            return NotFoundHint(OLDER_CLI_CREDENTIALS)
    return NotFoundHint(NO_CACHED_CREDENTIALS)


def maybe_aitools_hint(words: list[str]) -> None:
    """libs/aitools/agents/hint.go MaybeHint: inside Claude Code, unless the tooling is there or
    this session was hinted within the hour (a marker in the CLI's cache folder)."""
    if not is_v1() or not os.environ.get("CLAUDECODE") or words[:1] == ["aitools"]:
        return
    skills = os.path.join(home(), ".databricks", "aitools", "skills")
    if os.path.isdir(skills) and any(n.startswith("databricks") for n in os.listdir(skills)):
        return
    session = os.environ.get("CLAUDE_CODE_SESSION_ID", "")
    marker = FileCache("aitools-hint", 3600.0)
    if session:
        import hashlib

        key = hashlib.sha256(go_json(session, indent=False).encode()).hexdigest()
        if marker.get(key) is not None:
            return
    sys.stderr.write(AITOOLS_HINT + "\n")
    if session:
        marker.put(key, b"true")


def go_os_error(op: str, path: str, exc: OSError) -> str:
    reason = (exc.strerror or str(exc) or "").lower()
    return f"{op} {path}: {reason}"


# --------------------------------------------------------------------------- HTTP, as Go words it


class NetError(Exception):
    """A request that got no HTTP answer: the *url.Error text, e.g. `Get "u": dial tcp ...`."""


def user_agent() -> str:
    return f"cli/{version()} databricks-sdk-go/{SDK_VERSION} go/1.25 os/linux (fake_databricks)"


def http_request(
    method: str, url: str, form: dict[str, str] | None = None, timeout: float = 30.0
) -> tuple[int, bytes]:
    """(status, body); NetError with Go's wording when nothing came back."""
    import ssl
    import urllib.error
    import urllib.parse
    import urllib.request

    headers = {"User-Agent": user_agent(), "Accept": "application/json"}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    handlers: list[Any] = [urllib.request.HTTPSHandler(context=ssl.create_default_context())]
    name = urllib.parse.urlsplit(url).hostname or ""
    if name == "localhost" or name.startswith("127.") or name == "::1":
        handlers.append(urllib.request.ProxyHandler({}))  # Go never proxies loopback
    try:
        with urllib.request.build_opener(*handlers).open(  # noqa: S310
            req, timeout=max(timeout, 0.001)
        ) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise NetError(go_url_error(method, url, exc)) from None


def go_url_error(method: str, url: str, exc: BaseException) -> str:
    import socket
    import ssl
    import urllib.parse

    reason: Any = getattr(exc, "reason", exc)
    u = urllib.parse.urlsplit(url)
    host = u.hostname or ""
    try:
        port = u.port or (443 if u.scheme == "https" else 80)
    except ValueError:
        port = 0
    op = method[:1].upper() + method[1:].lower()
    if isinstance(reason, ssl.SSLCertVerificationError):
        if getattr(reason, "verify_code", 0) == 62:  # hostname mismatch
            detail = f"tls: failed to verify certificate: x509: certificate is not valid for {host}"
        else:
            detail = (
                "tls: failed to verify certificate: x509: certificate signed by unknown authority"
            )
    elif isinstance(reason, ConnectionRefusedError):
        try:
            addr = socket.gethostbyname(host)
        except OSError:
            addr = host
        detail = f"dial tcp {addr}:{port}: connect: connection refused"
    elif isinstance(reason, socket.gaierror):
        detail = f"dial tcp: lookup {host}: no such host"
    elif isinstance(reason, (TimeoutError, socket.timeout)):
        detail = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
    elif isinstance(reason, ConnectionResetError):
        detail = "read: connection reset by peer"
    else:
        detail = str(getattr(reason, "strerror", None) or reason)
    return f'{op} "{url}": {detail}'


# --------------------------------------------------------------------------- host metadata


def cache_base() -> str | None:
    """libs/cache: $DATABRICKS_CACHE_DIR, else os.UserCacheDir()/databricks; then the version."""
    base = os.environ.get("DATABRICKS_CACHE_DIR")
    if not base:
        user = os.environ.get("XDG_CACHE_HOME") or (
            os.path.join(os.environ["HOME"], ".cache") if os.environ.get("HOME") else ""
        )
        if not user:
            return None
        base = os.path.join(user, "databricks")
    sanitized = version()
    for ch in "+:/\\":
        sanitized = sanitized.replace(ch, "-")
    return os.path.join(base, sanitized)


class FileCache:
    """One component of the CLI's file cache: <base>/<component>/<sha256>.json, expiry by mtime;
    expired files and leftover temp files are swept when it is opened."""

    def __init__(self, component: str, ttl: float) -> None:
        self.ttl = ttl
        base = cache_base()
        self.dir: str | None = None
        raw = os.environ.get("DATABRICKS_CACHE_ENABLED", "").strip().lower()
        self.enabled = raw not in ("0", "f", "false", "no", "off")
        if base is None:
            return
        folder = os.path.join(base, component)
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        except OSError:
            return
        self.dir = folder
        now = time.time()
        try:
            for entry in os.scandir(folder):
                if not entry.is_file():
                    continue
                if entry.name.endswith(".tmp") or (
                    entry.name.endswith(".json") and entry.stat().st_mtime < now - ttl
                ):
                    os.unlink(entry.path)
        except OSError:
            pass

    def get(self, key: str) -> bytes | None:
        if self.dir is None or not self.enabled:
            return None
        path = os.path.join(self.dir, key + ".json")
        try:
            if os.stat(path).st_mtime < time.time() - self.ttl:
                return None
            with open(path, "rb") as f:
                return f.read()
        except OSError:
            return None

    def put(self, key: str, data: bytes) -> None:
        if self.dir is None:
            return
        import tempfile

        try:
            fd, tmp = tempfile.mkstemp(prefix=".cache-", suffix=".tmp", dir=self.dir)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, os.path.join(self.dir, key + ".json"))
        except OSError:
            pass


_HOST_TYPES = {"workspace": "WORKSPACE_HOST", "account": "ACCOUNT_HOST", "unified": "UNIFIED_HOST"}
_CLOUDS = {"AWS": "AWS", "AZURE": "Azure", "GCP": "GCP"}
_host_metadata_memo: dict[str, dict[str, Any] | None] = {}


def host_metadata(host: str) -> dict[str, Any] | None:
    """libs/hostmetadata: the cached `/.well-known/databricks-config` of a canonical host, or None
    when the fetch failed now (Warn, remembered 60 s) or within the last 60 s (silent)."""
    if host in _host_metadata_memo:
        return _host_metadata_memo[host]
    import hashlib

    key = hashlib.sha256(go_json({"host": host}, indent=False).encode()).hexdigest()
    positive = FileCache("host-metadata", HOST_METADATA_TTL)
    meta: dict[str, Any] | None = None
    cached = positive.get(key)
    if cached is not None:
        try:
            meta = dict(json.loads(cached))
        except (ValueError, TypeError):
            meta = None
    if meta is None:
        negative = FileCache("host-metadata-negative", HOST_METADATA_NEGATIVE_TTL)
        sentinel = negative.get(key)
        if sentinel is not None and b'"error":true' in sentinel.replace(b" ", b""):
            _host_metadata_memo[host] = None
            return None
        meta = fetch_host_metadata(host)
        if meta is None:
            sys.stderr.write(
                f"Warn: [hostmetadata] failed to fetch host metadata for {host}, "
                "will skip for 1m0s\n"
            )
            negative.put(key, b'{"error":true}')
        else:
            positive.put(key, go_json(meta, indent=False).encode())
    _host_metadata_memo[host] = meta
    return meta


def fetch_host_metadata(host: str) -> dict[str, Any] | None:
    try:
        status, body = http_request("GET", f"{host}/.well-known/databricks-config", timeout=5)
    except NetError:
        return None
    if status >= 400:
        return None
    try:
        raw = json.loads(body) if body.strip() else {}
    except ValueError:
        return None
    if not isinstance(raw, dict):
        return None
    cloud = str(raw.get("cloud") or "")
    audiences = raw.get("token_federation_default_oidc_audiences")
    return {
        "oidc_endpoint": str(raw.get("oidc_endpoint") or ""),
        "account_id": str(raw.get("account_id") or ""),
        "workspace_id": str(raw.get("workspace_id") or ""),
        "cloud": _CLOUDS.get(cloud.upper(), cloud),
        "host_type": _HOST_TYPES.get(str(raw.get("host_type") or "").lower(), ""),
        "token_federation_default_oidc_audiences": audiences
        if isinstance(audiences, list)
        else None,
    }


# --------------------------------------------------------------------------- auth arguments


class AuthArgs:
    def __init__(self, flags: dict[str, Any]) -> None:
        self.host: str = flags.get("host", "")
        self.account_id: str = flags.get("account-id", "")
        self.workspace_id: str = flags.get("workspace-id", "")
        self.is_unified_host = bool(flags.get("experimental-is-unified-host"))
        self.profile = ""
        self.discovery_url = ""


def looks_like_host(arg: str) -> bool:
    if "." in arg or arg.startswith(("http://", "https://")):
        return True
    i = arg.rfind(":")
    return i > 0 and arg[i + 1 :].isdigit()


def resolve_positional(arg: str) -> tuple[str, str]:
    """(profile, host) of `auth token X` / `auth login X`: a profile first, then a host."""
    if load_profile_by_name(arg) is not None:
        return arg, ""
    if looks_like_host(arg):
        return "", arg
    fail(f"no matching profile found: {go_quote(arg)}")


def extract_host_query_params(host: str) -> tuple[str, str, str]:
    """(host, workspace_id, account_id): ?o= / ?workspace_id= / ?a= / ?account_id= moved out."""
    import urllib.parse

    try:
        u = urllib.parse.urlsplit(host)
    except ValueError:
        return host, "", ""
    if not u.query:
        return host, "", ""
    q = urllib.parse.parse_qs(u.query)
    ws = (q.get("o") or q.get("workspace_id") or [""])[0]
    if ws and not ws.lstrip("-").isdigit():
        ws = ""
    acct = (q.get("a") or q.get("account_id") or [""])[0]
    path = u.path[:-1] if u.path.endswith("/") else u.path
    return urllib.parse.urlunsplit((u.scheme, u.netloc, path, "", "")), ws, acct


def set_host_and_account_id(existing: Profile | None, auth: AuthArgs, args: list[str]) -> None:
    host = auth.host
    if args and host:
        fail("please only provide a host as an argument or a flag, not both")
    if not host:
        if args:
            auth.host = args[0]
        elif existing is not None and existing.host:
            auth.host = existing.host
        else:
            fail(
                "the command is being run in a non-interactive environment, please specify a "
                "host using --host"
            )
    if auth.host.endswith("/"):
        auth.host = auth.host[:-1]
    auth.host, ws, acct = extract_host_query_params(auth.host)
    auth.workspace_id = auth.workspace_id or ws
    auth.account_id = auth.account_id or acct
    if not auth.workspace_id and existing is not None and existing.workspace_id:
        auth.workspace_id = existing.workspace_id
    meta = host_metadata(canonical_host(auth.host)) if auth.host else None
    if meta:
        auth.account_id = auth.account_id or meta["account_id"]
        auth.workspace_id = auth.workspace_id or meta["workspace_id"]
        if meta["oidc_endpoint"] and not auth.discovery_url:
            oidc = meta["oidc_endpoint"].replace("{account_id}", auth.account_id).rstrip("/")
            if "{account_id}" not in oidc:
                auth.discovery_url = oidc + "/.well-known/oauth-authorization-server"


def oauth_host(auth: AuthArgs) -> str:
    """AuthArguments.ToOAuthArgument for a workspace host: the canonical host, validated."""
    if not auth.discovery_url and auth.host:
        host_metadata(canonical_host(auth.host))  # EnsureResolved: a negative hit at most
    host = canonical_host(auth.host)
    if host.startswith("http://127.0.0.1"):
        return host
    if not host.startswith("https://"):
        fail(f"host must start with 'https://': {host}")
    if host.endswith("/"):
        fail(f"host must not have a trailing slash: {host}")
    return host


def login_command(profile: str, host: str) -> str:
    if profile:
        return f"databricks auth login --profile {profile}"
    return f"databricks auth login --host {host}"


def helpful(profile: str, host: str) -> str:
    return (
        f"Try logging in again with `{login_command(profile, host)}` before retrying. If this "
        f"fails, please report this issue to the Databricks CLI maintainers at {ISSUES_URL}"
    )


def check_profile_host_conflict(flags: dict[str, Any]) -> None:
    """PreRunE of login and token: --profile and --host both given must agree."""
    if "profile" not in flags or "host" not in flags:
        return
    profile = load_profile_by_name(flags["profile"])
    if profile is None or not profile.host:
        return
    if canonical_host(profile.host) != canonical_host(flags["host"]):
        fail(
            f"--profile {go_quote(flags['profile'])} has host {go_quote(profile.host)}, which "
            f"conflicts with --host {go_quote(flags['host'])}. Use --profile only to select a "
            "profile"
        )


# --------------------------------------------------------------------------- OAuth


def oauth_endpoints(host: str, timeout: float) -> dict[str, Any]:
    url = f"{host}/oidc/.well-known/oauth-authorization-server"
    try:
        status, body = http_request("GET", url, timeout=timeout)
    except NetError as exc:
        raise SdkError(f"fetching OAuth endpoints: failed to get OAuth endpoints: {exc}") from None
    if status >= 400:
        text = body.decode("utf-8", "replace")
        raise SdkError(
            f"fetching OAuth endpoints: failed to get OAuth endpoints: http {status}: {text}"
        )
    try:
        meta = json.loads(body)
    except ValueError:
        raise SdkError(
            "fetching OAuth endpoints: failed to get OAuth endpoints: "
            + go_json_error(body.decode("utf-8", "replace"))
        ) from None
    return dict(meta) if isinstance(meta, dict) else {}


def token_request(url: str, form: dict[str, str], timeout: float) -> tuple[int, bytes]:
    return http_request("POST", url, form=form, timeout=timeout)


def token_from_response(body: bytes, old_refresh: str = "") -> Token:
    text = body.decode("utf-8", "replace")
    try:
        payload = json.loads(text)
    except ValueError:
        raise SdkError(f"oauth2: cannot parse json: {go_json_error(text)}") from None
    if not isinstance(payload, dict) or not payload.get("access_token"):
        raise SdkError("oauth2: server response missing access_token")
    expires_in = payload.get("expires_in")
    expires_in = int(expires_in) if isinstance(expires_in, (int, float)) else 0
    expiry = time.time_ns() + expires_in * 1_000_000_000 if expires_in else None
    return Token(
        str(payload["access_token"]),
        str(payload.get("token_type") or ""),
        str(payload.get("refresh_token") or old_refresh),
        expiry,
        None,
        expires_in,
    )


class PersistentAuth:
    """databricks-sdk-go credentials/u2m.PersistentAuth for a workspace host."""

    def __init__(
        self, host: str, profile: str, deadline: float, store: Any = None, mode: str = ""
    ) -> None:
        self.host = host
        self.profile = profile
        self.deadline = deadline
        self.cache = store if store is not None else TokenCache()
        self.mode = mode  # v1.x: the storage mode ("" before v1)

    @property
    def key(self) -> str:
        return self.profile or self.host

    def timeout(self) -> float:
        return min(30.0, self.deadline - time.monotonic())

    def load(self) -> Token:
        try:
            try:
                return self.cache.lookup(self.key)
            except NotFound:
                if self.mode:  # v1.x: the profile's entry only, no host-key fallback
                    raise not_found_hint(self.mode) from None
                if self.host == self.key:
                    raise
                return self.cache.lookup(self.host)
        except NotFound:
            raise
        except SdkError as exc:
            raise SdkError(f"cache: {exc}") from None

    def token(self) -> Token:
        tok = self.load()
        left = tok.seconds_left()
        near = left is not None and left < refresh_window()
        if not tok.valid() or near:
            try:
                tok = self.refresh(tok)
            except SdkError as exc:
                if not tok.valid():
                    raise SdkError(f"token refresh: {exc}", exc.invalid_refresh_token) from None
        return tok

    def force_refresh(self) -> Token:
        tok = self.load()
        try:
            return self.refresh(tok)
        except SdkError as exc:
            raise SdkError(f"forced token refresh: {exc}", exc.invalid_refresh_token) from None

    def refresh(self, old: Token) -> Token:
        if not old.refresh_token:
            raise SdkError("cached token has no refresh token")
        endpoints = oauth_endpoints(self.host, self.timeout())
        form = {
            "client_id": CLIENT_ID,
            "grant_type": "refresh_token",
            "refresh_token": old.refresh_token,
        }
        try:
            status, body = token_request(str(endpoints.get("token_endpoint")), form, self.timeout())
        except NetError as exc:
            raise SdkError(str(exc)) from None
        if status >= 400:
            text = body.decode("utf-8", "replace")
            try:
                err = json.loads(text)
            except ValueError:
                raise SdkError(f"unmarshal: {go_json_error(text)}") from None
            if not isinstance(err, dict):
                err = {}
            desc = str(err.get("error_description") or "")
            if desc == "Refresh token is invalid":
                raise SdkError(desc, invalid_refresh_token=True)
            raise SdkError(f"{desc} (error code: {err.get('error') or ''})")
        new = token_from_response(body, old.refresh_token)
        try:
            self.dual_write(new)
        except SdkError as exc:
            raise SdkError(f"cache update: {exc}") from None
        return new

    def dual_write(self, tok: Token) -> None:
        if self.mode:  # v1.x `auth token`: the profile's entry only (no dual write on refresh)
            try:
                self.cache.store(self.key, tok)
            except OSError as exc:
                raise SdkError(f"error storing token in local cache: {exc}") from None
            return
        if os.environ.get("FAKE_DATABRICKS_KEYRING_FAIL") == "1":
            raise SdkError(KEYRING_ERROR)
        try:
            self.cache.store(self.key, tok)
            if self.host != self.key:
                self.cache.store(self.host, tok)
        except OSError as exc:
            raise SdkError(f"error storing token in local cache: {exc}") from None


def refresh_window() -> float:
    raw = os.environ.get("FAKE_DATABRICKS_REFRESH_WINDOW")
    if raw:
        try:
            return float(raw)
        except ValueError:
            pass
    return REFRESH_BUFFER if has_force_refresh() else 0.0


# --------------------------------------------------------------------------- auth token


def load_token(
    flags: dict[str, Any],
    args: list[str],
    timeout: float,
    force: bool,
    store: tuple[Any, str] | None = None,
) -> Token:
    """cmd/auth/token.go loadToken (`store`: v1.x's resolved token store and mode)."""
    auth = AuthArgs(flags)
    profile: str = flags.get("profile", "")
    if args and (auth.host or profile):
        fail(
            f"argument {go_quote(args[0])} cannot be combined with --host or --profile. Use the "
            "--host and --profile flags instead"
        )
    if len(args) == 1:
        resolved_profile, resolved_host = resolve_positional(args[0])
        if resolved_profile:
            profile = resolved_profile
        else:
            auth.host = resolved_host
        args = []
    if not profile:
        profile = os.environ.get("DATABRICKS_CONFIG_PROFILE", "")
    existing = load_profile_by_name(profile)
    if not profile and not auth.host and not args:
        if os.environ.get("DATABRICKS_HOST"):
            auth.host = os.environ["DATABRICKS_HOST"]
            auth.account_id = os.environ.get("DATABRICKS_ACCOUNT_ID") or auth.account_id
            auth.workspace_id = os.environ.get("DATABRICKS_WORKSPACE_ID") or auth.workspace_id
        elif load_profiles():
            fail("no profile specified. Use --profile <name> to specify which profile to use")
        else:
            fail("no profiles configured. Run 'databricks auth login' to create a profile")
    set_host_and_account_id(existing, auth, args)
    if not profile and auth.host:
        target = canonical_host(auth.host)
        matching = [
            p
            for p in load_profiles()
            if p.host
            and canonical_host(p.host) == target
            and (not auth.account_id or p.account_id == auth.account_id)
            and (not (auth.account_id and auth.workspace_id) or p.workspace_id == auth.workspace_id)
        ]
        if len(matching) > 1:
            names = " and ".join(p.name for p in matching)
            fail(
                f"{names} match {auth.host} in {config_display_path()}. Use --profile to "
                "specify which profile to use"
            )
        if len(matching) == 1:
            profile, existing = matching[0].name, matching[0]
    if existing is not None and existing.has_client_credentials:
        fail(
            f"profile {go_quote(profile)} uses M2M authentication (client_id/client_secret). "
            "`databricks auth token` only supports U2M (user-to-machine) authentication tokens. "
            "To authenticate as a service principal, use the Databricks SDK directly"
        )
    auth.profile = profile
    deadline = time.monotonic() + timeout
    host = oauth_host(auth)
    try:
        pa = PersistentAuth(host, profile, deadline, *(store or (None, "")))
    except SdkError as exc:
        fail(f"cache: {exc}. {helpful(profile, host)}")
    try:
        tok = pa.force_refresh() if force else pa.token()
    except NotFoundHint as exc:
        fail(f"cache: databricks OAuth is not configured for this host. {exc}")
    except NotFound:
        fail(f"cache: databricks OAuth is not configured for this host. {helpful(profile, host)}")
    except SdkError as exc:
        if exc.invalid_refresh_token:
            fail(
                "A new access token could not be retrieved because the refresh token is invalid. "
                f"To reauthenticate, run the following command:\n  $ {login_command(profile, host)}"
            )
        fail(f"{exc}. {helpful(profile, host)}")
    return tok


def cmd_auth_token(flags: dict[str, Any], args: list[str]) -> int:
    if os.environ.get("FAKE_DATABRICKS_GARBAGE") == "1":
        sys.stdout.write("Databricks CLI: <html>garbage, not JSON}\n")
        return 0
    check_profile_host_conflict(flags)
    store = resolve_store_for_read() if is_v1() else None  # RunE's first step in v1.x
    tok = load_token(
        flags, args, flags.get("timeout", 3600.0), bool(flags.get("force-refresh")), store
    )
    if flags.get("output") == "text":
        sys.stdout.write(tok.access_token + "\n")
    else:
        sys.stdout.write(go_json(tok.to_json(with_refresh=False)))
    sys.stdout.flush()
    return 0


# --------------------------------------------------------------------------- auth login


def open_browser(url: str) -> None:
    """getBrowserFunc: BROWSER=none prints the link; BROWSER=prog runs `prog URL` and waits;
    unset tries xdg-open and friends. When the browser fails the SDK prints the link on stdout."""
    import shutil
    import subprocess

    browser = os.environ.get("BROWSER", "")
    if browser == "none":
        sys.stderr.write(
            f"Please complete authentication by opening this link in your browser:\n{url}\n"
        )
        sys.stderr.flush()
        return
    if browser:
        argv = [browser, url]
    else:
        opener = next(
            (p for p in map(shutil.which, ("xdg-open", "x-www-browser", "www-browser")) if p), None
        )
        argv = [opener, url] if opener else []
    ok = False
    if argv:
        try:
            # close_fds=False: like the real CLI (Go), the browser inherits what the CLI
            # inherited (the rig's login lock among them), never the CLI's own files
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, close_fds=False, check=False)
            ok = proc.returncode == 0
        except OSError:
            ok = False
    if not ok:
        sys.stdout.write(f"Please continue the authentication process in your browser:\n{url}\n")
        sys.stdout.flush()


def _callback_handler(done: Any) -> type[http.server.BaseHTTPRequestHandler]:
    import http.server
    import urllib.parse

    class Handler(http.server.BaseHTTPRequestHandler):
        result: dict[str, str] | None = None

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            params = {k: v[0] for k, v in q.items()}
            failed = bool(params.get("error"))
            title = "Error" if failed else "Success"
            page = (
                f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
                f"<p>{params.get('error_description', '')}</p></body></html>"
            ).encode()
            self.send_response(400 if failed else 200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            if type(self).result is None:
                type(self).result = params
                done.set()

    return Handler


def _listen(handler: type[http.server.BaseHTTPRequestHandler]) -> tuple[Any, int]:
    import http.server

    for port in CALLBACK_PORTS:
        try:
            server = http.server.HTTPServer(("127.0.0.1", port), handler)
        except OSError:
            continue
        return server, port
    raise SdkError("starting listener: no port available to listen on")


def _random(n: int) -> str:
    import base64
    import secrets

    return base64.urlsafe_b64encode(secrets.token_bytes(n)).rstrip(b"=").decode()


def challenge(
    cache: Any, host: str, profile: str, scopes: list[str], timeout: float | None, mode: str = ""
) -> Token:
    """PersistentAuth.Challenge: PKCE in the browser, the code exchanged, the token stored under
    the profile and the host. The real CLI waits for the browser with no deadline (login's
    --timeout never reaches it), so timeout is None here; the discovery flow passes one."""
    import base64
    import hashlib
    import threading
    import urllib.parse

    done = threading.Event()
    handler: Any = _callback_handler(done)
    server, port = _listen(handler)
    redirect_uri = f"http://localhost:{port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        try:
            endpoints = oauth_endpoints(host, 30.0)
        except SdkError as exc:
            raise SdkError(f"fetching oauth config: {exc}") from None
        verifier, state = _random(64), _random(16)
        challenge_ = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        query = urllib.parse.urlencode(
            {
                "client_id": CLIENT_ID,
                "code_challenge": challenge_,
                "code_challenge_method": "S256",
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": " ".join(["offline_access", *scopes]),
                "state": state,
            }
        )
        open_browser(f"{endpoints.get('authorization_endpoint')}?{query}")
        if not done.wait(timeout):
            raise SdkError("authorize: context deadline exceeded")
        time.sleep(0.05)  # let the page go out
    finally:
        server.shutdown()
        server.server_close()
    result = handler.result or {}
    if result.get("error"):
        raise SdkError(f"authorize: {result['error']}: {result.get('error_description', '')}")
    if result.get("state") != state:
        raise SdkError("authorize: state mismatch in 3-legged-OAuth flow")
    token_url = str(endpoints.get("token_endpoint"))
    form = {
        "client_id": CLIENT_ID,
        "code": result.get("code", ""),
        "code_verifier": verifier,
        "grant_type": "authorization_code",
        "redirect_uri": redirect_uri,
    }
    try:
        status, body = token_request(token_url, form, 30.0)
    except NetError as exc:
        raise SdkError(f"authorize: {exc}") from None
    if status >= 400:
        raise SdkError(
            f'authorize: Post "{token_url}": http {status}: {body.decode("utf-8", "replace")}'
        )
    try:
        tok = token_from_response(body)
    except SdkError as exc:
        raise SdkError(f"authorize: {exc}") from None
    try:
        cache.store(profile or host, tok)
        if profile and mode != "secure":  # v1.x: no host key in the keyring
            cache.store(host, tok)
    except (OSError, SdkError) as exc:
        raise SdkError(f"store: {exc}") from None
    if profile and not mode and os.environ.get("FAKE_DATABRICKS_KEYRING_FAIL") == "1":
        # v1.x, keyring unreachable at login: the token goes to the file and the config says so
        # (wording and behaviour from the notes, see KEYRING_ERROR)
        keyring_fallback()
    return tok


def keyring_fallback() -> None:
    path = config_path()
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            cfg = IniFile.parse(path, f.read())
    except (OSError, IniError):
        cfg = IniFile(path)
    cfg.new_section("__settings__").set("auth_storage", "plaintext")
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(cfg.render())


def discovery_login(profile: str, timeout: float, scopes: list[str]) -> int:
    """Login with no host anywhere: the real CLI sends the browser to login.databricks.com, which
    a sandbox cannot reach; this prints what the real one prints and then times out like it."""
    import threading
    import urllib.parse

    if not profile:
        fail(
            "setting up login.databricks.com: profile name must not be empty for discovery login"
            + DISCOVERY_TIP
        )
    try:
        TokenCache()
    except SdkError as exc:
        fail(f"setting up login.databricks.com: cache: {exc}" + DISCOVERY_TIP)
    done = threading.Event()
    handler: Any = _callback_handler(done)
    server, port = _listen(handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        sys.stderr.write("Opening login.databricks.com in your browser...\n")
        sys.stderr.flush()
        query = urllib.parse.urlencode(
            {
                "client_id": CLIENT_ID,
                "code_challenge": _random(32),
                "code_challenge_method": "S256",
                "redirect_uri": f"http://localhost:{port}",
                "response_type": "code",
                "scope": " ".join(["offline_access", *scopes]),
                "state": _random(16),
            }
        )
        dest = urllib.parse.urlencode({"destination_url": f"/oidc/v1/authorize?{query}"})
        open_browser(f"https://login.databricks.com/?{dest}")
        if not done.wait(timeout):
            fail(
                "login via login.databricks.com failed: authorize: context deadline exceeded"
                + DISCOVERY_TIP
            )
    finally:
        server.shutdown()
        server.server_close()
    result = handler.result or {}
    if result.get("error"):
        fail(
            f"login via login.databricks.com failed: authorize: {result['error']}: "
            f"{result.get('error_description', '')}" + DISCOVERY_TIP
        )
    fail("fake databricks: a discovery login cannot complete here (no login.databricks.com)")


def cmd_auth_login(flags: dict[str, Any], args: list[str]) -> int:
    check_profile_host_conflict(flags)
    if flags.get("configure-cluster") and flags.get("configure-serverless"):
        fail("please either configure serverless or cluster, not both")
    if flags.get("configure-cluster"):
        fail("fake databricks: --configure-cluster is not implemented")
    auth = AuthArgs(flags)
    profile: str = flags.get("profile", "")
    if args and (auth.host or profile):
        fail(
            f"argument {go_quote(args[0])} cannot be combined with --host or --profile. Use the "
            "--host and --profile flags instead"
        )
    if len(args) == 1:
        resolved_profile, resolved_host = resolve_positional(args[0])
        if resolved_profile:
            profile = resolved_profile
        else:
            auth.host = resolved_host
        args = []
    # v1.x resolves (and probes) its token store before the browser step
    v1_store = resolve_store_for_login() if is_v1() else None
    # Without --profile the real CLI would prompt for a name; with no terminal it keeps none.
    existing = load_profile_by_name(profile)
    flag_scopes = [s.strip() for s in str(flags.get("scopes", "")).split(",") if s.strip()]
    timeout = float(flags.get("timeout", 3600.0))
    if not auth.host and not args and (existing is None or not existing.host):
        for name in ("account-id", "workspace-id", "experimental-is-unified-host"):
            if name in flags:
                fail(f"--{name} requires --host to be specified")
        if flags.get("configure-serverless"):
            fail("--configure-serverless requires --host to be specified")
        scopes = flag_scopes or (
            [s.strip() for s in existing.scopes.split(",") if s.strip()] if existing else []
        )
        return discovery_login(profile, timeout, scopes or DEFAULT_SCOPES)
    if "experimental-is-unified-host" not in flags and existing is not None:
        auth.is_unified_host = existing.is_unified_host
    set_host_and_account_id(existing, auth, args)
    auth.profile = profile
    scopes = flag_scopes
    if not scopes and existing is not None and existing.scopes:
        scopes = [s.strip() for s in existing.scopes.split(",") if s.strip()]
    host = oauth_host(auth)
    mode, explicit = "", False
    if v1_store is not None:
        cache, mode, explicit = v1_store
    else:
        try:
            cache = TokenCache()
        except SdkError as exc:
            fail(f"cache: {exc}")
    try:
        challenge(cache, host, profile, scopes or DEFAULT_SCOPES, None, mode)
    except SdkError as exc:
        fail(str(exc))
    if mode == "secure" and not explicit:
        set_auth_storage("secure")  # PinSecureMode, before the profile is saved
    if flags.get("skip-workspace") and not auth.workspace_id:
        auth.workspace_id = "none"
    if auth.account_id and not auth.workspace_id and not flags.get("skip-workspace"):
        sys.stderr.write(
            "To use workspace commands, set workspace_id in your profile or pass --workspace-id.\n"
        )
        auth.workspace_id = "none"
    clear = list(AUTH_CREDENTIAL_KEYS)
    if not auth.is_unified_host:
        clear.append("experimental_is_unified_host")
    values = {
        "host": auth.host,
        "account_id": auth.account_id,
        "workspace_id": auth.workspace_id,
        "auth_type": "databricks-cli",
        "scopes": ",".join(scopes),
        "experimental_is_unified_host": "true" if auth.is_unified_host else "",
    }
    if flags.get("configure-serverless"):
        values["serverless_compute_id"] = "auto"
        clear.append("cluster_id")
    if profile:
        save_profile(profile, values, clear)
        sys.stderr.write(f"Profile {profile} was successfully saved\n")
    return 0


# --------------------------------------------------------------------------- argv (cobra, pflag)

# name -> (kind, shorthand); kinds: bool, string, duration, output
ROOT_FLAGS = {
    "debug": ("bool", ""),
    "output": ("output", "o"),
    "profile": ("string", "p"),
    "target": ("string", "t"),
    "help": ("bool", "h"),
}
AUTH_FLAGS = {
    "host": ("string", ""),
    "account-id": ("string", ""),
    "experimental-is-unified-host": ("bool", ""),
    "workspace-id": ("string", ""),
}
TOKEN_FLAGS = {"force-refresh": ("bool", ""), "timeout": ("duration", "")}
LOGIN_FLAGS = {
    "configure-cluster": ("bool", ""),
    "configure-serverless": ("bool", ""),
    "skip-workspace": ("bool", ""),
    "scopes": ("string", ""),
    "timeout": ("duration", ""),
}
ALL_VALUE_FLAGS = {"output", "profile", "target", "host", "account-id", "workspace-id"} | {
    "timeout",
    "scopes",
}


def command_path(argv: list[str]) -> list[str]:
    """The command words (cobra's stripFlags: flags and their values skipped)."""
    words = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            break
        if a.startswith("--"):
            if "=" not in a and a[2:] in ALL_VALUE_FLAGS:
                i += 1
        elif a.startswith("-") and len(a) > 1:
            if len(a) == 2 and a[1] in "opt":
                i += 1
        else:
            words.append(a)
            if len(words) == 2:
                break
        i += 1
    return words


def parse_flags(
    argv: list[str], known: dict[str, tuple[str, str]], usage: str | None
) -> tuple[dict[str, Any], list[str]]:
    """pflag: (flags explicitly set, positional arguments), with pflag's errors."""
    flags: dict[str, Any] = {}
    args: list[str] = []
    short = {s: n for n, (_, s) in known.items() if s}

    def err(message: str) -> NoReturn:
        raise CliError(message, usage)

    def setv(name: str, kind: str, value: str, shown: str) -> None:
        if kind == "bool":
            if value in ("1", "t", "T", "TRUE", "true", "True"):
                flags[name] = True
            elif value in ("0", "f", "F", "FALSE", "false", "False"):
                flags[name] = False
            else:
                err(
                    f'invalid argument "{value}" for "{shown}" flag: strconv.ParseBool: parsing '
                    f'"{value}": invalid syntax'
                )
        elif kind == "duration":
            flags[name] = parse_duration(value, name, usage or "")
        elif kind == "output":
            if value not in ("json", "text"):
                err(
                    f'invalid argument "{value}" for "{shown}" flag: accepted arguments are json '
                    "and text"
                )
            flags[name] = value
        else:
            flags[name] = value

    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            args.extend(argv[i:])
            break
        if a.startswith("--") and len(a) > 2:
            name, eq, value = a[2:].partition("=")
            if name not in known:
                err(f"unknown flag: --{name}")
            kind, sh = known[name]
            shown = f"-{sh}, --{name}" if sh else f"--{name}"
            if not eq and kind != "bool":
                if i >= len(argv):
                    err(f"flag needs an argument: --{name}")
                value = argv[i]
                i += 1
            setv(name, kind, value if eq or kind != "bool" else "true", shown)
        elif a.startswith("-") and len(a) > 1:
            letters = a[1:]
            while letters:
                c, letters = letters[0], letters[1:]
                if c not in short:
                    err(f"unknown shorthand flag: '{c}' in -{a[1:]}")
                name = short[c]
                kind, _ = known[name]
                shown = f"-{c}, --{name}"
                if kind == "bool":
                    if letters.startswith("="):
                        setv(name, kind, letters[1:], shown)
                        letters = ""
                    else:
                        setv(name, kind, "true", shown)
                    continue
                if letters:
                    setv(name, kind, letters[1:] if letters.startswith("=") else letters, shown)
                elif i < len(argv):
                    setv(name, kind, argv[i], shown)
                    i += 1
                else:
                    err(f"flag needs an argument: '{c}' in -{c}")
                letters = ""
        else:
            args.append(a)
    return flags, args


def log_invocation(argv: list[str]) -> None:
    path = os.environ.get("FAKE_DATABRICKS_LOG")
    if not path:
        return
    line = json.dumps({"argv": argv, "time": time.time(), "pid": os.getpid()})
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def run(argv: list[str]) -> int:
    words = command_path(argv)
    if not words or words[0] == "version":
        flags, _ = parse_flags(
            [a for a in argv if a != "version"],
            {**ROOT_FLAGS, "version": ("bool", "v")},
            None,
        )
        if flags.get("version") or words:
            print(f"Databricks CLI v{version()}")
            return 0
        print("Databricks CLI\n\nUsage:\n  databricks [command]\n")
        return 0
    maybe_aitools_hint(words)  # v1.x, inside Claude Code: the root command's PreRun
    if words[0] != "auth":
        fail(f'unknown command "{words[0]}" for "databricks"')
    rest = list(argv)
    rest.remove("auth")
    sub = words[1] if len(words) > 1 else ""
    if sub == "token":
        rest.remove("token")
        known = {**ROOT_FLAGS, **AUTH_FLAGS, **TOKEN_FLAGS}
        usage = TOKEN_USAGE
        if not has_force_refresh():
            del known["force-refresh"]
            usage = OLD_TOKEN_USAGE
        flags, args = parse_flags(rest, known, usage)
        if flags.get("help"):
            sys.stdout.write("Get authentication token\n\n" + usage)
            return 0
        return cmd_auth_token(flags, args)
    if sub == "login":
        rest.remove("login")
        flags, args = parse_flags(rest, {**ROOT_FLAGS, **AUTH_FLAGS, **LOGIN_FLAGS}, LOGIN_USAGE)
        if flags.get("help"):
            sys.stdout.write("Log into a Databricks workspace or account\n\n" + LOGIN_USAGE)
            return 0
        return cmd_auth_login(flags, args)
    if sub in ("describe", "env", "logout", "profiles", "switch"):
        fail(f"fake databricks: `auth {sub}` is not implemented (tests/rig/fake_databricks.py)")
    sys.stdout.write(AUTH_HELP)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    log_invocation(argv)
    hang = os.environ.get("FAKE_DATABRICKS_HANG")
    if hang:
        time.sleep(float(hang))
    try:
        return run(argv)
    except CliError as exc:
        sys.stdout.flush()
        sys.stderr.write(f"Error: {exc}\n")
        if exc.usage:
            sys.stderr.write("\n" + exc.usage + "\n")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
