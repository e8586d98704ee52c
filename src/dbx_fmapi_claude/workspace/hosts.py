"""Workspace URL rules: https required, http only for loopback, browser junk stripped.

The one host rule for every source: the --host flag and the prompt (`normalize_host`), a
profile's `host` and DATABRICKS_HOST (`host_from`). The token helper reads a profile's host on
every call, so a host already in canonical form is recognised with string methods alone;
urllib.parse and ipaddress load only for anything else.
"""

from __future__ import annotations

from ..core.errors import ExitCode, UserError

EXAMPLE = "https://my-workspace.cloud.databricks.com"
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")


def _is_loopback(hostname: str) -> bool:
    import ipaddress

    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def normalize_host(raw: str) -> str:
    """`https://host[:port]` from what a user typed or pasted; UserError (exit 2) otherwise."""
    import urllib.parse

    text = raw.strip()
    fix = f"pass the full URL, e.g. --host {EXAMPLE}"
    if not text:
        raise UserError("Workspace URL is empty", fix, ExitCode.USAGE)
    if any(c.isspace() or ord(c) < 32 for c in text):
        raise UserError("Workspace URL must not contain spaces or control characters", fix, 2)
    lower = text.lower()
    if not (lower.startswith("https://") or lower.startswith("http://")):
        raise UserError("Workspace URL must start with https://", fix, ExitCode.USAGE)
    try:
        parts = urllib.parse.urlsplit(text)
        hostname = parts.hostname or ""
        port = parts.port
    except ValueError as exc:
        raise UserError(f"Workspace URL is not valid: {exc}", fix, ExitCode.USAGE) from None
    if not hostname or parts.username or parts.password or "@" in parts.netloc:
        raise UserError("Workspace URL has no valid host name", fix, ExitCode.USAGE)
    if not all(c.isascii() for c in hostname):
        raise UserError(
            "Workspace URL host must be ASCII (use its punycode form)", fix, ExitCode.USAGE
        )
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789-.:")
    if not set(hostname.lower()) <= allowed:
        raise UserError("Workspace URL has an invalid host name", fix, ExitCode.USAGE)
    scheme = parts.scheme.lower()
    if scheme == "http" and not _is_loopback(hostname):
        raise UserError(
            "Workspace URL must start with https:// (http:// only for a local test server)",
            fix,
            ExitCode.USAGE,
        )
    if scheme == "http" and hostname.lower() != "127.0.0.1":
        # The Databricks CLI (its SDK) logs in over http:// only to hosts starting
        # http://127.0.0.1: a test server on localhost or ::1 would fail at the login.
        port_part = f":{port}" if port is not None else ""
        raise UserError(
            "Workspace URL: http:// works only as http://127.0.0.1 (the Databricks CLI refuses "
            "other loopback names)",
            f"--host http://127.0.0.1{port_part}",
            ExitCode.USAGE,
        )
    host = f"[{hostname}]" if ":" in hostname else hostname.lower()
    netloc = host if port is None else f"{host}:{port}"
    if len(netloc) > 253 + 6:
        raise UserError("Workspace URL is too long", fix, ExitCode.USAGE)
    return f"{scheme}://{netloc}"


def is_canonical(text: str) -> bool:
    """True when `normalize_host(text)` is `text` itself: `https://name[:port]` in lower case,
    or `http://127.0.0.1[:port]`. String methods only (the token helper's path)."""
    for scheme in ("https://", "http://"):
        if text.startswith(scheme):
            netloc = text[len(scheme) :]
            break
    else:
        return False
    name, colon, port = netloc.partition(":")
    if colon and not (port.isdigit() and port.isascii() and port[0] != "0" and int(port) < 65536):
        return False
    if scheme == "http://":
        return name == "127.0.0.1"
    labels = name.split(".")
    return (
        0 < len(netloc) <= 253
        and set(name) <= _HOST_CHARS
        and all(labels)
        and not any(label.startswith("-") or label.endswith("-") for label in labels)
        and not name.replace(".", "").isdigit()  # an IP address: the full rule decides
    )


def host_from(raw: str, where: str, fix: str) -> str:
    """A host from a profile or an environment variable, under the same rule as --host: the SDKs
    add `https://` to a host without a scheme; a path, `?o=…` or `#…` is dropped; `http://` only
    for a local test server. UserError (exit 1) naming `where`, with `fix`."""
    text = raw.strip()
    if text and "://" not in text:
        text = "https://" + text
    if is_canonical(text):
        return text
    try:
        return normalize_host(text)
    except UserError as exc:
        reason = exc.message[:1].lower() + exc.message[1:]
        raise UserError(f"{where}: {reason}", fix, ExitCode.ERROR) from None


def same_host(a: str, b: str) -> bool:
    """Whether two host strings name the same workspace (as written, when the rule refuses
    one)."""
    try:
        return normalize_host(a) == normalize_host(b)
    except UserError:
        return a.rstrip("/") == b.rstrip("/")
