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
        return f"cannot connect to {name}:{port} ({(exc.strerror or str(exc)).lower()})"
    with sock:
        if parts.scheme != "https":
            return None
        return _tls_problem(sock, name, env)


def _tls_problem(sock: socket.socket, name: str, env: Mapping[str, str]) -> str | None:
    """A TLS handshake on `sock` with the trust the CLI has (the system's, or SSL_CERT_FILE /
    SSL_CERT_DIR, which Go reads): why it fails, None when it does not."""
    import ssl

    ctx = ssl.create_default_context()
    cafile, capath = env.get("SSL_CERT_FILE") or None, env.get("SSL_CERT_DIR") or None
    try:
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
        return None  # a reset or a slow answer: the CLI's own error will say
