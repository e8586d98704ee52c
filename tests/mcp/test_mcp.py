"""`dbx-fmapi mcp add|list|remove`: the workspace's managed MCP servers in Claude Code with a
token that never goes stale (a headersHelper running `dbx-fmapi token --mcp-headers`), doctor's
check of each, status, and uninstall taking exactly them back out. The fake workspace serves
MCP through the official SDK (tests/rig/mcp_api.py); Claude Code and the Databricks CLI are
the real ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.mgmt import VOLATILE, checks_by_id, doctor_json, fake_claude, set_up
from tests.rig.sandbox import Result, Sandbox
from tests.rig.workspace import FakeWorkspace

SPACE = "01f0c0ffee0000000000000000000001"
GENIE_PATH = f"/api/2.0/mcp/genie/{SPACE}"
USER_CLAUDE_JSON = (
    b'{\n  "numStartups": 3,\n  "mcpServers": {\n    "mine": {"type": "stdio", "command": '
    b'"my-server"}\n  },\n  "projects": {\n    "/home/u/repo": {"allowedTools": []}\n  }\n}'
)


def mcp(sandbox: Sandbox, *args: str, **kw: Any) -> Result:
    return sandbox.run_here(["dbx-fmapi", "mcp", *args], **kw)


def snap(sandbox: Sandbox) -> dict[str, bytes]:
    return sandbox.snapshot(exclude=VOLATILE)


def claude_json(sandbox: Sandbox) -> dict[str, Any]:
    return dict(json.loads((sandbox.home / ".claude.json").read_text()))


def claude_mcp_list(sandbox: Sandbox, workspace: FakeWorkspace, **kw: Any) -> Result:
    """`claude mcp list`, whose health check gives each server MCP_TIMEOUT (30 s by default)
    to connect: a busy machine used that up ("connection timed out after 30000ms"). The MCP
    server is started first and the timeout is raised, so the verdict is about our helper and
    the server, not the machine's load."""
    workspace.start_mcp()
    return sandbox.claude(["mcp", "list"], env={"MCP_TIMEOUT": "600000"}, **kw)


def status_line(listed: Result, name: str) -> str:
    """The health check's line for a server ("" when none). Its tools/list has a fixed 5 s:
    "! Connected \u00b7 tools fetch failed" is connected as well as "\u2714 Connected"."""
    return next((line for line in listed.stdout.splitlines() if line.startswith(f"{name}: ")), "")


def test_bad_input_is_refused_before_anything_is_written(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    unknown = mcp(sandbox, "add", "frobnicate", "x")  # refused before setup is even looked at
    assert unknown.code == 2, unknown
    assert "unknown kind of MCP server 'frobnicate'" in unknown.stderr
    assert "genie, sql, functions, ai-search, external, url" in unknown.stderr
    set_up(sandbox, workspace)
    assert mcp(sandbox, "add", "sql").code == 0  # named databricks-sql
    host = workspace.url
    cases: list[tuple[list[str], str]] = [
        (["add", "frobnicate", "x"], "unknown kind of MCP server 'frobnicate'"),
        (["add", "genie", "not-a-space"], "'not-a-space' is not a Genie space id"),
        (["add", "genie", SPACE, "--name", "bad name!"], "'bad name!' is not a server name"),
        (["add", "genie", SPACE, "--name", "x" * 65], "is not a server name"),
        (["add", "genie", SPACE, "--name", "databricks-sql"], "already configured"),
        (["add", "sql", "extra"], "mcp add sql takes no argument"),
        (["add", "functions"], "mcp add functions needs CATALOG.SCHEMA"),
        (["add", "functions", "main"], "'main' is not CATALOG.SCHEMA"),
        (["add", "functions", "main.to ols"], "is not CATALOG.SCHEMA"),
        (["add", "ai-search", "main.docs"], "'main.docs' is not CATALOG.SCHEMA.INDEX"),
        (["add", "external", "a/b"], "'a/b' is not CONNECTION"),
        (
            ["add", "url", "https://evil.example.com/api/2.0/mcp/sql", "--name", "x"],
            "is not this configuration's workspace",
        ),
        (["add", "url", f"{host}/api/2.0/serving-endpoints"], "is not a managed MCP path"),
        (["add", "url", f"{host}/api/2.0/mcp/sql?x=1"], "must not carry credentials, a query"),
        (["add", "url", "not a url"], "is not a URL"),
        (["remove", "nope"], "no MCP server called nope is configured here"),
        (["remove", "bad/name"], "'bad/name' is not a server name"),
    ]
    before = snap(sandbox)
    for args, message in cases:
        result = mcp(sandbox, *args)
        assert result.code == 2, (args, result)
        assert message in result.stderr, (args, result)
        assert "fix:" in result.stderr and "Traceback" not in result.stderr, result
        assert snap(sandbox) == before, args
    # The dry run shows the change and writes nothing.
    dry = mcp(sandbox, "add", "genie", SPACE, "--dry-run")
    assert dry.code == 0 and "Dry run: nothing was written." in dry.stdout, dry
    assert f'"url": "{host}{GENIE_PATH}"' in dry.stdout.replace("+", "")
    assert snap(sandbox) == before


@pytest.mark.e2e
def test_an_added_server_connects_in_claude_code_with_our_helper(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    set_up(sandbox, workspace)
    added = mcp(sandbox, "add", "genie", SPACE, "--name", "sales")
    assert added.code == 0, added
    assert f"Added MCP server sales: {workspace.url}{GENIE_PATH}" in added.stdout
    assert mcp(sandbox, "add", "ai-search", "main.docs.handbook_index").code == 0
    server = claude_json(sandbox)["mcpServers"]["sales"]
    assert server["type"] == "http" and server["url"] == workspace.url + GENIE_PATH
    assert server["headersHelper"].endswith("token --profile 'DEFAULT' --mcp-headers")
    assert "Authorization" not in json.dumps(claude_json(sandbox))  # no token in the file

    listed = claude_mcp_list(sandbox, workspace)
    assert listed.code == 0, listed
    sales = status_line(listed, "sales")
    assert sales.startswith(f"sales: {workspace.url}{GENIE_PATH} (HTTP) - "), listed
    assert "Connected" in sales, listed
    assert "Connected" in status_line(listed, "search-handbook_index"), listed
    records = workspace.mcp_requests()
    assert records and all(r.status == 200 and r.token and r.token.valid for r in records)

    out = mcp(sandbox, "list", "--json")
    rows = json.loads(out.stdout)["servers"]
    assert [(r["name"], r["kind"], r["claude"]) for r in rows] == [
        ("sales", "genie", True),
        ("search-handbook_index", "ai-search", True),
    ]
    status = sandbox.run_here(["dbx-fmapi", "status", "--json"])
    assert [s["name"] for s in json.loads(status.stdout)["mcp"]] == [
        "sales",
        "search-handbook_index",
    ]
    headers = sandbox.run_here(["dbx-fmapi", "token", "--mcp-headers"])
    assert headers.code == 0, headers
    assert json.loads(headers.stdout) == {"Authorization": f"Bearer {sandbox.cached_token()}"}
    # A server whose URL was since edited to another host gets no token from our helper.
    elsewhere = {"CLAUDE_CODE_MCP_SERVER_URL": "https://evil.example.com/api/2.0/mcp/sql"}
    refused = sandbox.run_here(["dbx-fmapi", "token", "--mcp-headers"], env=elsewhere)
    assert refused.code == 1 and refused.stdout == "", refused
    assert "is at https://evil.example.com/api/2.0/mcp/sql, not on the workspace" in refused.stderr

    removed = mcp(sandbox, "remove", "sales")
    assert removed.code == 0 and "Removed MCP server sales." in removed.stdout
    assert list(claude_json(sandbox)["mcpServers"]) == ["search-handbook_index"]


@pytest.mark.e2e
def test_a_project_configuration_gives_its_servers_to_that_folder_only(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str, tmp_path: Path
) -> None:
    project = sandbox.home / "work" / "repo"
    project.mkdir(parents=True)
    (sandbox.home / ".claude.json").write_bytes(USER_CLAUDE_JSON)
    before = snap(sandbox)
    set_up(sandbox, workspace, "--settings-location", "cwd", cwd=project)
    added = mcp(sandbox, "add", "sql", cwd=project)
    assert added.code == 0, added
    assert f"for {project} only" in added.stdout
    assert "once you trust this folder: start claude in it once and accept" in added.stdout
    data = claude_json(sandbox)
    assert "databricks-sql" in data["projects"][str(project)]["mcpServers"]
    assert "databricks-sql" not in data["mcpServers"]  # the user's own server stays alone there

    # Measured: Claude Code runs a local-scope server's headersHelper only in a trusted folder.
    untrusted = claude_mcp_list(sandbox, workspace, cwd=project)
    assert "headersHelper not run" in untrusted.stdout + untrusted.stderr, untrusted
    data["projects"][str(project)]["hasTrustDialogAccepted"] = True  # the user accepts it
    (sandbox.home / ".claude.json").write_text(json.dumps(data, indent=2))
    workspace.clear_log()
    here = claude_mcp_list(sandbox, workspace, cwd=project)
    line = status_line(here, "databricks-sql")
    assert line.startswith(f"databricks-sql: {workspace.url}/api/2.0/mcp/sql (HTTP) - "), here
    assert "Connected" in line, here
    records = workspace.mcp_requests()  # our helper's token reached the server
    assert records and all(r.status == 200 and r.token and r.token.valid for r in records)
    home = sandbox.claude(["mcp", "list"], cwd=sandbox.home)
    assert "databricks-sql" not in home.stdout, home

    result = sandbox.run_here(["dbx-fmapi", "uninstall", "--yes"], cwd=project)
    assert result.code == 0, result
    after = snap(sandbox)
    assert after[".claude.json"] != before[".claude.json"]  # Claude Code wrote it (startups)
    data = claude_json(sandbox)
    assert "databricks-sql" not in json.dumps(data)
    assert data["mcpServers"] == {"mine": {"type": "stdio", "command": "my-server"}}


def test_uninstall_takes_the_servers_out_and_leaves_claude_json_byte_identical(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    sandbox.signed_in(workspace)  # the CLI's profile stays after uninstall: not compared
    (sandbox.home / ".claude.json").write_bytes(USER_CLAUDE_JSON)
    before = snap(sandbox)
    set_up(sandbox, workspace)
    assert mcp(sandbox, "add", "genie", SPACE).code == 0
    assert mcp(sandbox, "add", "external", "github_conn").code == 0
    assert set(claude_json(sandbox)["mcpServers"]) == {"mine", f"genie-{SPACE[:8]}", "github_conn"}
    result = sandbox.run_here(["dbx-fmapi", "uninstall", "--yes"])
    assert result.code == 0, result
    assert snap(sandbox) == before


@pytest.fixture
def genie_doctor(sandbox: Sandbox, workspace: FakeWorkspace) -> Sandbox:
    set_up(sandbox, workspace)
    fake_claude(sandbox)
    assert mcp(sandbox, "add", "genie", SPACE, "--name", "sales").code == 0
    return sandbox


def test_doctor_checks_each_server_with_the_current_token(
    genie_doctor: Sandbox, workspace: FakeWorkspace
) -> None:
    code, report = doctor_json(genie_doctor)
    check = checks_by_id(report)["mcp:sales"]
    assert check["status"] == "PASS", check
    assert f"query_space_{SPACE}" in check["detail"] and code == 0


def test_doctor_names_the_permission_a_refusing_server_needs(
    genie_doctor: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.fail(
        GENIE_PATH,
        403,
        times=None,
        body={"error_code": "PERMISSION_DENIED", "message": "You do not have access to this space"},
    )
    before = snap(genie_doctor)
    code, report = doctor_json(genie_doctor)
    check = checks_by_id(report)["mcp:sales"]
    assert code == 1 and check["status"] == "FAIL", check
    assert "403 PERMISSION_DENIED: You do not have access to this space" in check["detail"]
    assert "needs CAN RUN on the Genie space" in check["detail"]
    assert check["fix"].startswith("ask a workspace admin to grant it")
    assert snap(genie_doctor) == before


def test_doctor_says_when_the_server_does_not_exist(
    genie_doctor: Sandbox, workspace: FakeWorkspace
) -> None:
    workspace.mcp.genie_spaces.clear()
    code, report = doctor_json(genie_doctor)
    check = checks_by_id(report)["mcp:sales"]
    assert code == 1 and check["status"] == "FAIL", check
    assert "the workspace has no such genie server (404 RESOURCE_DOES_NOT_EXIST" in check["detail"]
    assert check["fix"].endswith(f"dbx-fmapi mcp add genie {SPACE} --name sales")


def test_doctor_with_the_workspace_down_names_the_network(
    genie_doctor: Sandbox, workspace: FakeWorkspace
) -> None:
    # A token in the CLI's cache: only the host is down.
    genie_doctor.run_here(["dbx-fmapi", "token"])
    workspace.down()
    code, report = doctor_json(genie_doctor)
    checks = checks_by_id(report)
    assert code == 1
    assert checks["workspace"]["status"] == "FAIL", checks["workspace"]
    assert "cannot reach" in checks["workspace"]["detail"]
    assert checks["mcp:sales"]["status"] == "SKIP"
    assert "needs the workspace" in checks["mcp:sales"]["detail"]


def test_doctor_says_when_claude_code_wrote_the_server_away(
    genie_doctor: Sandbox, workspace: FakeWorkspace
) -> None:
    path = genie_doctor.home / ".claude.json"
    path.write_text(json.dumps({"hasCompletedOnboarding": True}))  # a session's stale copy
    code, report = doctor_json(genie_doctor)
    check = checks_by_id(report)["mcp:sales"]
    assert code == 1 and "not in" in check["detail"], check
    assert check["fix"] == f"add it again: dbx-fmapi mcp add genie {SPACE} --name sales"
    again = mcp(genie_doctor, "add", "genie", SPACE, "--name", "sales")
    assert again.code == 0, again
    assert "sales" in claude_json(genie_doctor)["mcpServers"]
    assert checks_by_id(doctor_json(genie_doctor)[1])["mcp:sales"]["status"] == "PASS"


def _wait_for_tools_list(workspace: FakeWorkspace) -> None:
    """Until an MCP tools/list has been answered (at most 60 s: the run's own bound is 120 s)."""
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for r in workspace.mcp_requests():
            if (
                r.status == 200
                and isinstance(r.json, dict)
                and r.json.get("method") == "tools/list"
            ):
                return
        time.sleep(0.05)


def _has_rejected_check() -> bool:
    import importlib.util

    return importlib.util.find_spec("dbx_fmapi_claude.auth.rejected") is not None


@pytest.mark.e2e
@pytest.mark.parametrize("revoke", [False, True], ids=["plain", "every-token-rejected"])
def test_a_claude_session_gets_the_genie_answer_also_after_every_token_was_rejected(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str, revoke: bool
) -> None:
    """The fake model asks for the Genie tool and gets its answer. With `revoke`, every token
    the workspace handed out is revoked just before: Claude Code's call gets a 403, runs our
    headersHelper again, and the call succeeds with a fresh token (the token helper replaces a
    rejected token: auth/rejected.py): zero failed tool calls for the user."""
    if revoke and not _has_rejected_check():
        pytest.skip("needs the token helper's rejected-token check (auth/rejected.py)")
    set_up(sandbox, workspace)
    assert mcp(sandbox, "add", "genie", SPACE, "--name", "genie").code == 0
    tool = f"mcp__genie__query_space_{SPACE}"

    def reply(parsed: dict[str, Any]) -> str | dict[str, Any]:
        content = parsed["messages"][-1].get("content")
        if isinstance(content, list) and any(
            isinstance(c, dict) and c.get("type") == "tool_result" for c in content
        ):
            [result] = [c for c in content if c.get("type") == "tool_result"]
            return "ANSWER " + json.dumps(result["content"])
        # Claude Code connects to its MCP servers beside the first request: the fake model
        # answers once the tool is listed (on a busy machine it was not yet: "No such tool").
        _wait_for_tools_list(workspace)
        if revoke:
            workspace.revoke_access_tokens()
        return {"tool_use": {"name": tool, "input": {"question": "orders?"}}}

    workspace.reply = reply
    result = sandbox.claude(["-p", "ask genie", "--allowedTools", tool])
    assert result.code == 0, result
    assert "GENIE says: 42 orders match 'orders?'" in result.stdout, result
    assert [c[1] for c in workspace.mcp.calls] == [f"query_space_{SPACE}"]
    statuses = [r.status for r in workspace.mcp_requests()]
    assert (403 in statuses) == revoke and statuses[-1] == 200, statuses


def test_setup_takes_the_team_files_mcp_servers(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    team = tmp_path / "team.json"
    servers = [{"kind": "genie", "target": SPACE, "name": "sales"}, {"kind": "sql"}]
    team.write_text(json.dumps({"version": 1, "host": workspace.url, "mcp": servers}))
    first = set_up(sandbox, workspace, "--team", str(team))
    assert "Added MCP server sales" in first.stdout, first
    assert set(claude_json(sandbox)["mcpServers"]) == {"sales", "databricks-sql"}
    before = snap(sandbox)
    again = set_up(sandbox, workspace)  # a plain re-run reads the team file again
    assert "MCP server sales is already configured" in again.stdout, again
    assert snap(sandbox)[".claude.json"] == before[".claude.json"]

    servers[1] = {"kind": "functions", "target": "main"}
    team.write_text(json.dumps({"version": 1, "host": workspace.url, "mcp": servers}))
    before = snap(sandbox)
    bad = sandbox.run_here(["setup-fmapi-claudecode", "--skip-install", "--shell", "bash"])
    assert bad.code == 2, bad
    assert "the team file's mcp[1]: 'main' is not CATALOG.SCHEMA" in bad.stderr
    assert snap(sandbox) == before


@pytest.mark.e2e
@pytest.mark.slow
def test_a_long_claude_session_keeps_its_genie_tool_across_token_expiry(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    """Tokens of 20 s (TTL 10 s, margin 5 s): the fake model calls the Genie tool, then a shell
    tool that outlasts the token, then Genie again. The MCP session's token has expired by then;
    Claude Code gets a 403, runs our headersHelper again, and the call succeeds: every MCP
    request that was answered carried a token valid when it arrived, and both calls answered."""
    workspace.access_token_lifetime = 20
    set_up(sandbox, workspace, "--ttl", "10s", "--margin", "5s")
    assert mcp(sandbox, "add", "genie", SPACE, "--name", "genie").code == 0
    tool = f"mcp__genie__query_space_{SPACE}"
    steps = [
        {"name": tool, "input": {"question": "first?"}},
        {"name": "Bash", "input": {"command": "sleep 22", "description": "wait"}},
        {"name": tool, "input": {"question": "second?"}},
    ]

    def reply(parsed: dict[str, Any]) -> str | dict[str, Any]:
        done = [
            c
            for m in parsed["messages"]
            if isinstance(m.get("content"), list)
            for c in m["content"]
            if isinstance(c, dict) and c.get("type") == "tool_result"
        ]
        if len(done) < len(steps):
            _wait_for_tools_list(workspace)  # Claude Code connects beside the first request
            return {"tool_use": steps[len(done)]}
        return "ANSWERS " + json.dumps([c["content"] for c in done])

    workspace.reply = reply
    result = sandbox.claude(
        ["-p", "ask genie twice", "--allowedTools", f"{tool},Bash"], timeout=240
    )
    assert result.code == 0, result
    assert "first?" in result.stdout and "second?" in result.stdout, result
    assert [c[2]["question"] for c in workspace.mcp.calls] == ["first?", "second?"]
    answered = [r for r in workspace.mcp_requests() if r.status == 200]
    assert answered and all(r.token is not None and r.token.valid for r in answered)
    assert len({r.token.id for r in answered if r.token is not None}) >= 2
