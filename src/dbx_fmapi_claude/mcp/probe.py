"""One MCP server asked as an agent would: initialize, notifications/initialized, tools/list,
over streamable HTTP with the current token (doctor's check). Answers come as JSON or as an
event stream; either is read to its end (the server closes each POST's stream)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from ..workspace.client import WorkspaceError, http_timeout, ssl_context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PROTOCOL = "2025-06-18"


def _messages(body: bytes) -> list[dict[str, Any]]:
    text = body.decode("utf-8", "replace")
    if text.lstrip().startswith("{"):
        found = json.loads(text)
        return [found] if isinstance(found, dict) else []
    out = []
    for line in text.splitlines():
        if line.startswith("data:"):
            try:
                found = json.loads(line[5:])
            except ValueError:
                continue
            if isinstance(found, dict):
                out.append(found)
    return out


def _post(
    url: str, token: str, payload: dict[str, Any], env: Mapping[str, str], session: str | None
) -> tuple[int, str | None, list[dict[str, Any]]]:
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "User-Agent": "dbx-fmapi-claude",
    }
    if session:
        headers["Mcp-Session-Id"] = session
        headers["Mcp-Protocol-Version"] = PROTOCOL
    import urllib.error
    import urllib.request  # with http.client and email: only when a server is asked

    req = urllib.request.Request(url, json.dumps(payload).encode(), headers, method="POST")  # noqa: S310 - the workspace's own https (or loopback) URL
    ctx = ssl_context(env) if url.startswith("https:") else None
    host = url.split("/", 3)[2] if "//" in url else url
    timeout = http_timeout(env, 20.0)
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as resp:  # noqa: S310
            return resp.status, resp.headers.get("Mcp-Session-Id"), _messages(resp.read())
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            parsed: Any = json.loads(raw)
        except ValueError:
            parsed = raw.decode("utf-8", "replace")[:200]
        msg = parsed.get("message") if isinstance(parsed, dict) else None
        raise WorkspaceError(
            "http", str(msg or f"HTTP {exc.code} {exc.reason}"), exc.code, parsed
        ) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise WorkspaceError("timeout", f"{host} did not answer within {timeout:g}s") from None
        raise WorkspaceError("unreachable", f"cannot reach {host}: {exc.reason}") from None
    except TimeoutError:
        raise WorkspaceError("timeout", f"{host} did not answer within {timeout:g}s") from None
    except OSError as exc:
        raise WorkspaceError("unreachable", f"cannot reach {host}: {exc}") from None


def _result(messages: list[dict[str, Any]], want: int) -> dict[str, Any]:
    for m in messages:
        if m.get("id") == want:
            if isinstance(m.get("error"), dict):
                err = m["error"]
                raise WorkspaceError("mcp", f"MCP error {err.get('code')}: {err.get('message')}")
            result = m.get("result")
            if isinstance(result, dict):
                return result
    raise WorkspaceError("mcp", "the server's answer holds no MCP result")


def tools(url: str, token: str, env: Mapping[str, str]) -> tuple[str, list[str]]:
    """(server name, tool names) of the MCP server at `url`; WorkspaceError when it fails."""
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL,
            "capabilities": {},
            "clientInfo": {"name": "dbx-fmapi-doctor", "version": "1"},
        },
    }
    _, session, messages = _post(url, token, init, env, None)
    info = _result(messages, 1).get("serverInfo")
    name = str(info.get("name")) if isinstance(info, dict) else "?"
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    _post(url, token, note, env, session)
    listed = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    result = _result(_post(url, token, listed, env, session)[2], 2)
    found = result.get("tools")
    names = [str(t.get("name")) for t in found or [] if isinstance(t, dict)]
    return name, names
