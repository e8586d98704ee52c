"""Helpers for the usage, status line and budget tests: agent records written as the pinned
agents write them (shapes measured, docs/usage.md), and the commands run in-process."""

from __future__ import annotations

import io
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from dbx_fmapi_claude.cli.main import build_parser, dispatch
from dbx_fmapi_claude.core.context import Context
from dbx_fmapi_claude.core.errors import UserError
from dbx_fmapi_claude.core.paths import Paths

SONNET = "databricks-claude-sonnet-4-5"
OPUS = "databricks-claude-opus-4-6"
PRICES = {  # a team file with prices only (docs/teams.md)
    "version": 1,
    "prices": {
        SONNET: {"input": 3.0, "output": 15.0, "cache_read": 0.3, "cache_write": 3.75},
        OPUS: {"input": 5.0, "output": 25.0, "cache_read": 0.5, "cache_write": 6.25,
               "currency": "USD"},
    },
}  # fmt: skip


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch))


def claude_line(
    mid: str,
    model: str,
    usage: dict[str, int],
    when: float,
    session: str = "s1",
    request: str | None = "req_1",
) -> dict[str, Any]:
    full = {
        "input_tokens": 0,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": 0,
        **usage,
    }
    return {
        "type": "assistant",
        "sessionId": session,
        "timestamp": iso(when),
        "requestId": request,
        "message": {"id": mid, "model": model, "role": "assistant", "usage": full},
    }


def write_transcript(home: Path, session: str, lines: list[dict[str, Any]]) -> Path:
    path = home / ".claude" / "projects" / "-work-project" / f"{session}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")
    return path


def write_codex(home: Path, when: float, model: str, usage: dict[str, int], rid: str) -> Path:
    day = time.strftime("%Y/%m/%d", time.localtime(when))
    path = home / ".codex" / "sessions" / day / "rollout-2026-12-06T08-00-50-c1.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        {"timestamp": iso(when), "type": "session_meta", "payload": {"id": "c1"}},
        {"timestamp": iso(when), "type": "turn_context", "payload": {"model": model}},
        {
            "timestamp": iso(when),
            "type": "token_usage_record",
            "payload": {"response_id": rid, "usage": usage},
        },
        {"timestamp": iso(when), "type": "event_msg", "payload": {"type": "token_count"}},
    ]
    with path.open("a") as f:
        f.write("".join(json.dumps(x) + "\n" for x in lines))
    return path


def write_gemini(home: Path, when: float, model: str, tokens: dict[str, int]) -> Path:
    path = home / ".gemini" / "tmp" / "project" / "chats" / "session-2026-12-06T07-00-g1.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        {"sessionId": "g1", "projectHash": "ab", "startTime": iso(when), "kind": "main"},
        {"id": "u1", "timestamp": iso(when), "type": "user", "content": [{"text": "hi"}]},
        {"id": "m1", "timestamp": iso(when), "type": "gemini", "content": "x", "tokens": tokens,
         "model": model},
        {"$set": {"lastUpdated": iso(when)}},
    ]  # fmt: skip
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def write_opencode(home: Path, when: float, model: str, tokens: dict[str, Any]) -> Path:
    path = home / ".local" / "share" / "opencode" / "opencode.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS message (id text PRIMARY KEY, session_id text NOT NULL, "
        "time_created integer NOT NULL, time_updated integer NOT NULL, data text NOT NULL)"
    )
    ms = int(when * 1000)
    for mid, data in (
        ("msg_u", {"role": "user", "time": {"created": ms}}),
        ("msg_a", {"role": "assistant", "modelID": model, "tokens": tokens,
                   "time": {"created": ms}}),
    ):  # fmt: skip
        conn.execute(
            "INSERT INTO message VALUES (?, ?, ?, ?, ?)", (mid, "ses_1", ms, ms, json.dumps(data))
        )
    conn.commit()
    conn.close()
    return path


def write_prices(path: Path, budget: dict[str, Any] | None = None, **extra: Any) -> Path:
    data: dict[str, Any] = json.loads(json.dumps(PRICES))
    if budget is not None:
        data["budget"] = budget
    data.update(extra)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def run(home: Path, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    """`dbx-fmapi ARGV` in this process with HOME=home: (exit code, stdout, stderr)."""
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "TZ": "UTC"}
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(
        env=env,
        stdin=io.StringIO(stdin),
        stdout=out,
        stderr=err,
        cwd=home,
        paths=Paths.from_env(env),
    )
    try:
        args = vars(build_parser().parse_args(list(argv)))
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    name = args.pop("command")
    args.pop("debug", None)
    try:
        code = dispatch(name, ctx, args)
    except UserError as exc:
        err.write(exc.render("dbx-fmapi") + "\n")
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def files_under(home: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(home)): p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file()
    }


def pat_setup(sandbox: Any, workspace: Any, *args: str) -> Any:
    """Setup with a personal access token profile (no browser login: the machine-wide login
    lock stays free), helper mode, no shell block, no verify request."""
    cfg = sandbox.home / ".databrickscfg"
    if not cfg.exists():
        cfg.write_text(f"[DEFAULT]\nhost = {workspace.url}\ntoken = {workspace.issue_pat()}\n")
    result = sandbox.run(
        ["setup-fmapi-claudecode", "--skip-install", "--host", workspace.url, "--shell", "none"]
        + ["--no-verify", *args],
        timeout=120,
    )
    assert result.code == 0, result
    return result
