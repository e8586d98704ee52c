"""What the `databricks` CLI says, and what we say about it: its last error classified by what
it is (only a missing or rejected refresh token means "log in"), the CliError for each kind with
the fix that fits, and the commands we show (quoted, safe to paste). Stdlib only."""

from __future__ import annotations

import os

from ..core.errors import ExitCode, UserError

MIN_VERSION = (0, 296, 0)  # the first CLI with `auth token --force-refresh`
INSTALL_HINT_LINUX = (
    "curl -fsSL https://raw.githubusercontent.com/databricks/setup-cli/main/install.sh | sh"
)
INSTALL_HINT_MAC = "brew tap databricks/tap && brew install databricks"

# What the CLI's last `Error:` says, mapped to what it is. Almost every `auth token` failure
# ends with "Try logging in again with `databricks auth login …`" (network errors and 5xx
# included), so that trailer means nothing; only these mean a login is really needed.
_LOGIN_MARKERS = (
    "oauth is not configured for this host",  # nothing cached for the profile
    "refresh token is invalid",  # the IdP rejected the refresh token
    "invalid_grant",
    "cached token has no refresh token",
)
_NETWORK_MARKERS = (
    "dial tcp",
    "connection refused",
    "no such host",
    "i/o timeout",
    "network is unreachable",
    "no route to host",
    "connection reset",
    "tls handshake",
    "x509:",
    "certificate",
    "context deadline exceeded",
    "timeout awaiting response headers",
    "temporarily_unavailable",
    "service unavailable",
    "bad gateway",
    "gateway timeout",
    "internal server error",
)
# The CLI's token store failing (v1.x keeps tokens in the OS keyring by default): neither a login
# nor the network. "cache update:" is the store step of a refresh (macOS Keychain races end in
# `exit status 45`); "store:" the one of a login.
_STORAGE_MARKERS = (
    "keyring",
    "cache update:",
    "secure storage",
    "open file token cache",
    "unknown storage mode",  # DATABRICKS_AUTH_STORAGE or auth_storage set to something else
)


class CliError(UserError):
    """A failed CLI call. `kind`: "login" (a browser login would fix it), "network" (the
    workspace or the network is down: retry later, never a login), "storage" (the CLI's token
    store, the OS keyring from v1.0: unlock it or use the file), "nonoauth" (the profile's
    credential is not OAuth U2M: never log in), "profile" (no such profile), "old_cli" (no
    --force-refresh), "missing", "timeout", "garbage" or "failed"."""

    def __init__(self, kind: str, message: str, fix: str | None, code: int = ExitCode.ERROR):
        super().__init__(message, fix, code)
        self.kind = kind


def install_hint() -> str:
    return INSTALL_HINT_MAC if os.uname().sysname == "Darwin" else INSTALL_HINT_LINUX


def scrub(text: str) -> str:
    """One line of CLI output, safe to show: no token-looking strings, no `Error: ` prefix."""
    from ..core.redact import one_line  # only on the error path: it imports re

    return one_line(text)


def last_error(stderr: str) -> str:
    """The CLI's own error: from its last `Error:` line up to the first blank line after it.
    Hints and warnings it prints before (inside Claude Code it may advertise `databricks
    aitools install`) and usage text after are not part of it."""
    lines = stderr.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Error:")]
    if not starts:
        return stderr.strip()
    out = []
    for line in lines[starts[-1] :]:
        if not line.strip():
            break
        out.append(line)
    return "\n".join(out)


def classify(error: str) -> str:
    """The kind of a failed `auth token`, from the CLI's last error (see CliError)."""
    low = error.lower()
    if "unknown flag: --force-refresh" in low:
        return "old_cli"
    if "uses m2m authentication" in low:
        return "nonoauth"
    if any(m in low for m in _STORAGE_MARKERS) and "oauth is not configured" not in low:
        return "storage"
    if any(m in low for m in _LOGIN_MARKERS):
        return "login"
    if "please specify a host using --host" in low or "profile configured" in low:
        return "profile"
    if any(m in low for m in _NETWORK_MARKERS):
        return "network"
    return "failed"


def upgrade_hint() -> str:
    return "brew upgrade databricks" if os.uname().sysname == "Darwin" else INSTALL_HINT_LINUX


def network_fix(profile: str) -> str:
    return "check your network or VPN, then retry: " + command(
        "databricks", "auth", "token", "--profile", profile
    )


def _after(text: str, word: str, stops: str) -> str:
    """The word following `word` in text, cut at the first of `stops`."""
    rest = text.split(word, 1)[1].lstrip()
    end = min((i for i in (rest.find(c) for c in stops) if i >= 0), default=len(rest))
    return rest[:end]


def connect_problem(error: str) -> str | None:
    """What keeps the CLI from the workspace, in words a user knows ("cannot resolve X", "cannot
    connect to X", "the TLS certificate … is not trusted"), from Go's wording in its error;
    None when the error is not one of those (a 5xx, a token rejected, …)."""
    error = error.split(". Try logging in again with ")[0]  # the CLI's trailer: not advice
    low = error.lower()
    if "no such host" in low or "server misbehaving" in low:
        name = _after(error, "lookup ", ": ") if "lookup " in error else "the workspace host"
        return f"cannot resolve {name.split(' on ')[0]} (no such host: is the URL right?)"
    if "connection refused" in low:
        where = _after(error, "dial tcp ", ": ") if "dial tcp " in error else "the workspace"
        return f"cannot connect to {where} (connection refused)"
    if "x509:" in low or "certificate" in low:
        why = error[low.index("x509:") :] if "x509:" in low else "certificate verify failed"
        return f"the workspace's TLS certificate is not trusted here ({why.rstrip('.')})"
    if "no route to host" in low or "network is unreachable" in low or "i/o timeout" in low:
        return "cannot connect to the workspace (no route, or no answer)"
    return None


def network_error(host: str | None, problem: str, retry: str | None = None) -> CliError:
    """The workspace cannot be reached (DNS, connection, TLS): exit 1, the fix checks the URL
    and the network, never a login (a login cannot get past any of these)."""
    where = f"the workspace {host}" if host else "the workspace"
    then = f", then retry: {retry}" if retry else ""
    if "certificate" in problem:
        fix = (
            f"check the URL {host or ''} (or your network, VPN, CA bundle: a company proxy's CA "
            f"goes in export SSL_CERT_FILE=/path/to/ca.pem){then}"
        )
    else:
        fix = f"check the URL {host or ''} (or your network, VPN, CA bundle){then}"
    return CliError("network", f"{where} cannot be reached: {problem}", " ".join(fix.split()))


STORAGE_FIX = (
    "unlock your OS keyring and retry, or keep the CLI's tokens in a file instead: "
    "export DATABRICKS_AUTH_STORAGE=plaintext"
)


def command(*parts: str) -> str:
    """A command line to show the user, each part shell-quoted: safe to paste."""
    import shlex

    return " ".join(shlex.quote(p) for p in parts)


def login_command(host: str | None, profile: str) -> str:
    return command(
        "databricks", "auth", "login", *(["--host", host] if host else []), "--profile", profile
    )


def token_error(kind: str, reason: str, profile: str, host: str | None, full: str) -> CliError:
    """The CliError for a failed `auth token`: one line saying what it is, the fix that fits."""
    token_cmd = command("databricks", "auth", "token", "--profile", profile)
    # The CLI's "Try logging in again with …" trailer is on nearly every error: not advice.
    reason = reason.split(" Try logging in again with ")[0].rstrip(".")
    if kind == "login":
        if "refresh token is invalid" in full.lower():
            reason = "the refresh token is invalid or expired"
        return CliError(
            "login",
            f"Databricks login needed for profile {profile!r}: {reason}",
            login_command(host, profile),
            ExitCode.AUTH_NEEDED,
        )
    if kind == "network":
        problem = connect_problem(full)
        if problem is not None:
            return network_error(host, problem, token_cmd)
        return CliError(
            "network",
            f"the workspace{' ' + host if host else ''} did not give a token (network or "
            f"service problem, not a login problem): {reason}",
            network_fix(profile),
        )
    if kind == "storage":
        return CliError(
            "storage",
            "the Databricks CLI cannot use its token store (the OS keyring: not a login or "
            f"network problem): {reason.split(' (set DATABRICKS_AUTH_STORAGE')[0]}",
            STORAGE_FIX,
        )
    if kind == "old_cli":
        return CliError(
            "old_cli",
            "this Databricks CLI has no `auth token --force-refresh` "
            f"(needs v{'.'.join(map(str, MIN_VERSION))} or newer)",
            "upgrade it: " + upgrade_hint(),
        )
    if kind == "nonoauth":
        return nonoauth_error(profile, "m2m", host)
    if kind == "profile":
        return CliError(
            "profile",
            f"the Databricks CLI has no profile {profile!r}: {reason}",
            login_command(host, profile) if host else "databricks auth profiles",
            ExitCode.AUTH_NEEDED if host else ExitCode.ERROR,
        )
    return CliError(
        "failed",
        f"`{token_cmd}` failed: {reason}",
        command("databricks", "auth", "describe", "--profile", profile),
    )


def nonoauth_error(profile: str, kind: str, host: str | None) -> CliError:
    """A profile whose credential is not OAuth U2M: we never log in on it (a login rewrites the
    profile and deletes its token or secret)."""
    from .source import BY_NAME

    known = BY_NAME.get(kind)
    what = known.in_profile if known is not None and known.in_profile else "a non-OAuth credential"
    return CliError(
        "nonoauth",
        f"profile {profile!r} uses {what}; dbx-fmapi supports only OAuth (browser login) "
        "profiles so far, and never logs in on this one (a login would replace its credential)",
        "use an OAuth profile: "
        + login_command(host or "<workspace-url>", f"{profile}-oauth")
        + " && "
        + command(
            "setup-fmapi-claudecode",
            *(["--host", host] if host else []),
            "--profile",
            f"{profile}-oauth",
        ),
    )
