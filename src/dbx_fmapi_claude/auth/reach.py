"""Can the workspace be reached the way the Databricks CLI reaches it? A DNS lookup, a TCP
connection and a TLS handshake with the trust Go uses, each bounded. Imported only when a CLI
call is slow or failed, or before a login: never on the token helper's normal path."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
    from collections.abc import Mapping


def reachable(host: str, env: Mapping[str, str], timeout: float = 3.0) -> str | None:
    """None when the workspace answers a TLS handshake the CLI would accept (or a proxy is in the
    way, which we cannot judge), else why not, in words a user knows: "cannot resolve X",
    "cannot connect to X:443 (…)", "the TLS certificate of X is not trusted here (…)".

    The CLI's own errors say the same, but only after minutes of retries in some cases: its SDK
    retries a refused connection, and any error whose text holds "429" (a host or port can)."""
    if any(env.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return None
    import socket
    import urllib.parse

    try:
        parts = urllib.parse.urlsplit(host if "://" in host else "https://" + host)
        name = parts.hostname or ""
        port = parts.port or (80 if parts.scheme == "http" else 443)
    except ValueError:
        return None
    try:
        sock = socket.create_connection((name, port), timeout=timeout)
    except socket.gaierror:
        return f"cannot resolve {name} (no such host: is the URL right?)"
    except TimeoutError:
        return f"cannot connect to {name}:{port} (no answer within {timeout:g}s)"
    except OSError as exc:
        return f"cannot connect to {name}:{port} ({exc.strerror or exc})"
    with sock:
        if parts.scheme != "https":
            return None
        return _tls_problem(sock, name, env)


# Where Go looks for the system's CAs on Linux (crypto/x509 root_linux.go), first file found;
# SSL_CERT_FILE and SSL_CERT_DIR replace them. Python's own default paths may differ (a Python
# built elsewhere), so the probe trusts what the CLI trusts, not what Python would.
GO_CERT_FILES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
)
GO_CERT_DIRS = ("/etc/ssl/certs", "/etc/pki/tls/certs")


def _tls_problem(sock: socket.socket, name: str, env: Mapping[str, str]) -> str | None:
    """A TLS handshake on `sock` with the trust the CLI has: why it fails, None when it does
    not, or when we cannot tell (on macOS Go asks the Keychain, which Python cannot: a company
    CA installed there would look untrusted to us)."""
    import os
    import ssl
    import sys

    cafile, capath = env.get("SSL_CERT_FILE") or None, env.get("SSL_CERT_DIR") or None
    if sys.platform == "darwin" and not (cafile or capath):
        return None
    try:
        if sys.platform.startswith("linux"):
            # Go: SSL_CERT_FILE replaces the files, SSL_CERT_DIR the folders, each on its own
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            cafile = cafile or next((f for f in GO_CERT_FILES if os.path.isfile(f)), None)
            capath = capath or ":".join(d for d in GO_CERT_DIRS if os.path.isdir(d)) or None
        else:
            ctx = ssl.create_default_context()
        if cafile or capath:
            ctx.load_verify_locations(cafile=cafile, capath=capath)
        with ctx.wrap_socket(sock, server_hostname=name):
            return None
    except ssl.SSLCertVerificationError as exc:
        why = exc.verify_message or "certificate verify failed"
        return f"the TLS certificate of {name} is not trusted here ({why})"
    except ssl.SSLError as exc:
        return f"the TLS handshake with {name} failed ({exc.reason or exc})"
    except (OSError, ValueError):
        return None  # a reset, a slow answer, an unreadable CA file: the CLI's own error will say
