"""Workspace URL rules: https required, http only for loopback, browser junk stripped."""

from __future__ import annotations

import ipaddress
import urllib.parse

from ..core.errors import ExitCode, UserError

EXAMPLE = "https://my-workspace.cloud.databricks.com"


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def normalize_host(raw: str) -> str:
    """`https://host[:port]` from what a user typed or pasted; UserError (exit 2) otherwise."""
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
