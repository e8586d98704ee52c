"""What a failed request to the workspace means: one reading of its errors (`diagnose`: the
message and the fix), for setup, doctor, models and the team file. Pure: it reads the
WorkspaceError client.py raises and makes no request."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .client import WorkspaceError

SETUP = "setup-fmapi-claudecode"
EXAMPLE_HOST = "https://my-workspace.cloud.databricks.com"

# Our requests trust REQUESTS_CA_BUNDLE or SSL_CERT_FILE (ssl_context), the Databricks CLI
# SSL_CERT_FILE, Claude Code NODE_EXTRA_CA_CERTS: the fix names the two that cover all three.
CA_FIX = (
    "point the tools at your company's CA bundle: export SSL_CERT_FILE=/path/to/ca.pem "
    "NODE_EXTRA_CA_CERTS=/path/to/ca.pem   (REQUESTS_CA_BUNDLE works too, for dbx-fmapi only)"
)


def error_label(exc: WorkspaceError) -> str:
    """`403 PERMISSION_DENIED`: the status and the workspace's error code, when it has one."""
    body = exc.body
    code = body.get("error_code") if isinstance(body, dict) else None
    if not isinstance(code, str) or code.isdigit():
        code = ""
    return f"{exc.status} {code}".strip() if code else str(exc.status)


def diagnose(
    exc: WorkspaceError,
    host: str,
    doing: str,
    *,
    login: str = "dbx-fmapi login",
    retry: str = "dbx-fmapi doctor",
    url_checked: bool = False,
) -> tuple[str, str]:
    """(message, fix) for a request to the workspace that failed while trying to `doing` ("list
    the models"): the one reading of workspace errors, for setup, doctor and models. `login`:
    the command that signs in again; `retry`: the command to run once the cause is gone;
    `url_checked`: the URL has worked before (setup verified it), so the fix need not doubt it."""
    msg = exc.message
    if exc.kind == "tls":
        why = f"{host}'s TLS certificate is not trusted here (a company proxy or private CA?)"
        return f"cannot {doing}: {why}: {msg}", CA_FIX
    network = f"check your network or VPN, then: curl -sI {host}"
    if exc.kind == "timeout":
        why = "it did not answer in time; DBX_FMAPI_HTTP_TIMEOUT raises the limit"
        return f"cannot {doing}: {msg} ({why})", network
    if exc.kind == "unreachable":
        url = f"check the URL, your network or VPN: curl -sI {host}"
        return f"cannot {doing}: {msg}", network if url_checked else url
    label, low = error_label(exc), msg.lower()
    # The serving-endpoints route's own requests (not the REST API's listing of endpoints).
    url = exc.url or ""
    serving = not exc.on_gateway and "/serving-endpoints/" in url and "/api/" not in url
    if exc.code == "FEATURE_DISABLED" and serving:
        return (
            f"cannot {doing}: the workspace's serving endpoints route refused it as a feature "
            f"that is not enabled ({label}: {msg})",
            f"use the AI Gateway: {SETUP} --route ai-gateway   (or ask a workspace admin to "
            "enable model serving's pay-per-token endpoints, then re-run setup)",
        )
    if exc.code == "FEATURE_DISABLED":
        return (
            f"cannot {doing}: the AI Gateway is not enabled for this workspace ({label}: {msg})",
            f"use serving endpoints: {SETUP} --route serving-endpoints   (or ask an account "
            "admin to enable the AI Gateway preview, then re-run setup)",
        )
    if exc.status is not None and 300 <= exc.status < 400:
        where = f" to {exc.location.split('?', 1)[0]}" if exc.location else ""
        return (
            f"cannot {doing}: {host} answered HTTP {exc.status} (a redirect{where}), as an "
            "account-level URL does: it is not a workspace URL",
            f"use the workspace's own URL (the address of the workspace in your browser, e.g. "
            f"{EXAMPLE_HOST}): {SETUP} --host URL",
        )
    if exc.status == 400 and "traffic" in low and serving:
        return (
            f"cannot {doing}: the endpoint splits traffic between served entities ({label}: {msg})",
            f"pick an endpoint without traffic splitting: {SETUP} --model NAME   (list them: "
            "dbx-fmapi models)",
        )
    if exc.status == 400 and "traffic" in low:
        return (
            f"cannot {doing}: the endpoint splits traffic between served entities, which the "
            f"AI Gateway's Anthropic route does not serve ({label}: {msg})",
            f"pick an endpoint without traffic splitting ({SETUP} --model NAME; list them: "
            f"dbx-fmapi models), or use serving endpoints: {SETUP} --route serving-endpoints",
        )
    if exc.status == 400 and low.strip(" .") == "invalid token":
        return (
            f"cannot {doing}: the AI Gateway rejected the token ({label}: {msg}); Claude Code "
            "does not retry this, the turn fails",
            login,
        )
    if exc.status in (401, 403) and "invalid" in low and "token" in low:
        return f"cannot {doing}: the workspace rejected the token ({label}: {msg})", login
    if exc.status == 401:
        return f"cannot {doing}: the workspace wants credentials ({label}: {msg})", login
    if exc.status == 429:
        after = f", retry after {exc.retry_after}s" if exc.retry_after else ""
        return (
            f"cannot {doing}: rate limited ({label}{after}): the workspace's limit is used up "
            "right now; Claude Code waits and retries",
            f"wait a minute, then: {retry}   (if it persists, ask a workspace admin to raise "
            "the endpoint's rate limit)",
        )
    if exc.status is not None and exc.status >= 500:
        return (
            f"cannot {doing}: the workspace failed ({label}: {msg})",
            f"try again in a few minutes: {retry}",
        )
    return f"cannot {doing}: the workspace answered {label}: {msg}", "dbx-fmapi doctor --json"
