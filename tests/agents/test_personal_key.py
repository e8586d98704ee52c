"""A personal ANTHROPIC_API_KEY never reaches the company workspace (issue 12).

Measured with the real Claude Code: beside an apiKeyHelper, a key in the shell or in a settings
file is sent as `x-api-key` on every request. Setup blanks it in the settings it writes (an
empty value wins over the shell and lower levels), dbx-fmapi-claude drops it from claude's
environment, and uninstall puts the user's files back byte for byte."""

from __future__ import annotations

import json

import pytest

from tests.helpers.mgmt import run_setup
from tests.rig.sandbox import Result, Sandbox
from tests.rig.workspace import FakeWorkspace

KEY = "sk-ant-api03-" + "PERSONAL" * 6
QUICK = {"CLAUDE_CODE_MAX_RETRIES": "0"}


def setup(sandbox: Sandbox, workspace: FakeWorkspace, *args: str, **env: str) -> Result:
    sandbox.signed_in(workspace)
    return run_setup(sandbox, workspace, *args, env=env)


def api_keys_sent(workspace: FakeWorkspace) -> list[str]:
    """For each Messages request, what its x-api-key was: a token the workspace issued, or
    something else (the personal key)."""
    out = []
    for rec in workspace.messages_requests():
        ref = rec.api_key
        out.append("none" if ref is None else "issued" if ref.state != "unknown" else "foreign")
    return out


@pytest.mark.e2e
def test_a_key_in_the_shell_never_reaches_the_workspace(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    out = setup(sandbox, workspace, ANTHROPIC_API_KEY=KEY)
    assert out.code == 0, out
    assert "a personal ANTHROPIC_API_KEY is set in your shell environment" in out.stdout
    assert KEY not in out.stdout + out.stderr
    data = json.loads((sandbox.home / ".claude/settings.json").read_text())
    assert data["env"]["ANTHROPIC_API_KEY"] == ""
    workspace.clear_log()  # setup's own checks send no x-api-key
    for argv in (["claude", "-p", "hi"], ["dbx-fmapi-claude", "-p", "hi"]):
        res = sandbox.run(argv, env={**QUICK, "ANTHROPIC_API_KEY": KEY}, timeout=120)
        assert res.code == 0 and "pong" in res.stdout, res
    # plain claude sends the helper's token as x-api-key too; the wrapper's relay
    # (agents/claude/relayed.py) sends the workspace only its Authorization header
    assert api_keys_sent(workspace) == ["issued", "none"]
    doctor = sandbox.run(
        ["dbx-fmapi", "doctor", "--json"], env={"ANTHROPIC_API_KEY": KEY}, timeout=120
    )
    checks = {c["id"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert "effective:ANTHROPIC_API_KEY" not in checks, checks.get("effective:ANTHROPIC_API_KEY")
    assert KEY not in doctor.output
    # Without the key any more, a re-run drops the blank.
    again = setup(sandbox, workspace)
    assert again.code == 0, again
    data = json.loads((sandbox.home / ".claude/settings.json").read_text())
    assert "ANTHROPIC_API_KEY" not in data["env"]


@pytest.mark.e2e
def test_a_key_in_the_users_settings_is_blanked_and_uninstall_restores_the_file(
    sandbox: Sandbox, workspace: FakeWorkspace, claude_bin: str
) -> None:
    path = sandbox.home / ".claude/settings.json"
    path.parent.mkdir()
    original = (
        '{\n  "theme": "dark",\n  "env": {"ANTHROPIC_API_KEY": "' + KEY + '", "FOO": "1"}\n}\n'
    ).encode()
    path.write_bytes(original)
    dry = setup(sandbox, workspace, "--dry-run")
    assert dry.code == 0 and KEY not in dry.stdout + dry.stderr, dry
    out = setup(sandbox, workspace)
    assert out.code == 0, out
    data = json.loads(path.read_text())
    assert data["env"]["ANTHROPIC_API_KEY"] == "" and data["env"]["FOO"] == "1"
    assert data["theme"] == "dark"
    workspace.clear_log()
    res = sandbox.run(["claude", "-p", "hi"], env=QUICK, timeout=120)
    assert res.code == 0 and "pong" in res.stdout, res
    assert api_keys_sent(workspace) == ["issued"]
    record = (sandbox.home / ".config/dbx-fmapi-claude/config.json").read_text()
    assert KEY not in record
    un = sandbox.run(["dbx-fmapi", "uninstall", "--yes"])
    assert un.code == 0, un
    assert KEY not in un.output
    assert path.read_bytes() == original


def test_a_key_above_the_settings_setup_writes_is_named_with_its_fix(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    project = sandbox.home / "proj"
    local = project / ".claude" / "settings.local.json"
    local.parent.mkdir(parents=True)
    local.write_text(json.dumps({"env": {"ANTHROPIC_API_KEY": KEY}}))
    sandbox.signed_in(workspace)
    out = run_setup(sandbox, workspace, "--settings-location", "cwd", "--no-verify", cwd=project)
    assert out.code == 0, out
    assert "which Claude Code reads after the settings setup writes" in out.stderr
    assert f'remove it: "${{EDITOR:-vi}}" {local}' in out.stderr
    assert KEY not in out.output
    doctor = sandbox.run(["dbx-fmapi", "doctor"], cwd=project, timeout=120)
    assert doctor.code == 1 and "ANTHROPIC_API_KEY is set in local settings" in doctor.stdout
    assert KEY not in doctor.output


@pytest.mark.parametrize("name", ["managed-settings.json", "managed-settings.d/50-keys.json"])
def test_a_key_in_an_administrators_managed_settings_is_named_with_who_can_remove_it(
    sandbox: Sandbox, workspace: FakeWorkspace, name: str
) -> None:
    """Managed settings beat every level setup can write: our blank cannot stop that key, and
    only an administrator can remove it. Setup and doctor say the same."""
    managed = sandbox.rig / "managed-settings" / name
    managed.parent.mkdir(parents=True)
    managed.write_text(json.dumps({"env": {"ANTHROPIC_API_KEY": KEY}}))
    sandbox.signed_in(workspace)
    out = run_setup(sandbox, workspace, "--no-verify")
    assert out.code == 0, out
    said = " ".join(out.stderr.split())
    assert (
        f"a personal ANTHROPIC_API_KEY is set in managed settings, an administrator's ({managed})"
        in said
    )
    assert "it would still reach the workspace" in said
    assert (
        f"only an administrator can remove it: ask yours to delete ANTHROPIC_API_KEY from {managed}"
        in said
    )
    assert "EDITOR" not in out.output  # not a file the user can fix
    assert KEY not in out.output
    doctor = sandbox.run(["dbx-fmapi", "doctor", "--json"], timeout=120)
    assert doctor.code == 1, doctor
    checks = {c["id"]: c for c in json.loads(doctor.stdout)["checks"]}
    check = checks["effective:ANTHROPIC_API_KEY"]
    assert check["status"] == "FAIL", check
    assert f"managed settings, an administrator's ({managed})" in check["detail"]
    assert "ask your administrator" in check["fix"]
    assert KEY not in doctor.output


SECRETS = {
    "ANTHROPIC_API_KEY": KEY,
    "GITHUB_TOKEN": "plain-words-github",
    "AWS_SECRET_ACCESS_KEY": "plain-words-aws",
    "DB_PASSWORD": "plain-words-db",
    "MY_SECRET": "plain-words-mine",
    "OPENAI_API_KEY": "plain-words-openai",
    "SMTP_PASSWD": "plain-words-smtp",
    "SLACK": "xoxb-1234567890-abcdefghij",
    "GH": "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "GEMINI": "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "OPENAI": "sk-proj-abcdefghijklmnopqrstuvwxyz012345",
    "AWS_ID": "AKIAABCDEFGHIJKLMNOP",
}


@pytest.mark.parametrize("commented", [False, True], ids=["json", "with comments"])
def test_every_secret_in_a_settings_file_is_redacted_in_every_diff_and_message(
    sandbox: Sandbox, workspace: FakeWorkspace, commented: bool
) -> None:
    """Not only Databricks tokens: any value under a secret-looking name, and any string shaped
    like a known credential, stays out of --dry-run diffs (setup and uninstall), status and
    doctor. A file with comments is rewritten whole, so every line passes through a diff."""
    path = sandbox.home / ".claude/settings.json"
    path.parent.mkdir()
    body = json.dumps({"theme": "dark", "env": {**SECRETS, "FOO": "shown"}}, indent=2)
    path.write_text(("// mine\n" if commented else "") + body + "\n")
    shell = {"ANTHROPIC_API_KEY": "sk-ant-api03-" + "SHELLKEY" * 4}
    sandbox.signed_in(workspace)
    outputs = []
    dry = run_setup(sandbox, workspace, "--no-verify", "--dry-run", env=shell)
    assert dry.code == 0, dry
    assert '"FOO": "shown"' in dry.stdout  # the diff is there, only the secrets are not
    outputs.append(dry)
    real = run_setup(sandbox, workspace, "--no-verify", env=shell)
    assert real.code == 0, real
    outputs.append(real)
    for argv in (
        ["dbx-fmapi", "uninstall", "--dry-run"],
        ["dbx-fmapi", "status"],
        ["dbx-fmapi", "status", "--json"],
        ["dbx-fmapi", "doctor"],
        ["dbx-fmapi", "doctor", "--json"],
    ):
        outputs.append(sandbox.run(argv, env=shell, timeout=120))
    assert "<redacted>" in outputs[2].stdout  # uninstall's diff
    for out in outputs:
        for value in [*SECRETS.values(), shell["ANTHROPIC_API_KEY"]]:
            assert value not in out.output, (value, out.argv)
    un = sandbox.run(["dbx-fmapi", "uninstall", "--yes"], env=shell)
    assert un.code == 0, un
    assert ("// mine\n" if commented else "") + body + "\n" == path.read_text()
