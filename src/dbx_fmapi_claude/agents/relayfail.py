"""What the proxy answers itself when it cannot relay a request: a status and a one-line
message, for a workspace it cannot reach (network, DNS, TLS, timeout) and for a token source
that gave no token (with the command that fixes it, the per-launch secret and anything
credential-shaped taken out). relay.py raises these; its handler turns them into the JSON
error the agent shows."""

from __future__ import annotations

import socket
import ssl
from http import HTTPStatus

from ..core import redact
from ..core.errors import ExitCode
from .upstream import Upstream


class Failure(Exception):
    """A request the proxy answers itself, with a status and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def upstream_failure(up: Upstream, exc: BaseException) -> Failure:
    if isinstance(exc, TimeoutError):
        return Failure(
            HTTPStatus.GATEWAY_TIMEOUT,
            f"the workspace {up.origin} did not answer in time; check the network or VPN and retry",
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = (
            f"{exc.verify_message}; if your company inspects TLS, export SSL_CERT_FILE="
            "/path/to/company-ca.pem"
        )
    elif isinstance(exc, socket.gaierror):
        reason = "cannot resolve its host name (DNS)"
    else:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        reason = reason or type(exc).__name__
    return Failure(HTTPStatus.BAD_GATEWAY, f"cannot reach the workspace {up.origin}: {reason}")


def token_error(exc: Exception, secret: str, login_status: int = 401) -> Failure:
    """The token source's failure, as the agent will show it. The project's UserError carries
    `message`, `fix` and `code` (4: a login is needed); anything else is reported by its text."""
    message = str(getattr(exc, "message", "") or exc) or type(exc).__name__
    fix = getattr(exc, "fix", None)
    if fix:
        message = f"{message}; run: {fix}"
    message = redact.message(message.replace(secret, redact.MESSAGE_MARK))
    message = " ".join(message.split())  # one line
    status = login_status if getattr(exc, "code", None) == ExitCode.AUTH_NEEDED else 503
    return Failure(status, f"no Databricks token: {message}")
