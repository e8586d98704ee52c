"""The SDKs' profile rules as a user meets them (issue 19 item 3): setup and the token helper,
real processes in the sandbox against the fake workspace."""

from __future__ import annotations

from tests.helpers.credentials import (
    DESKTOP,
    SP_ID,
    SP_SECRET,
    no_login_happened,
    setup,
    write_profile,
)
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace


def test_an_unparseable_databrickscfg_stops_setup_naming_its_line(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    cfg = sandbox.home / ".databrickscfg"
    cfg.write_text(f"[dev]\nhost = {workspace.url}\nthis line has no equals sign\n")
    before = cfg.read_bytes()
    result = setup(sandbox, "--host", workspace.url, "--profile", "dev", env=DESKTOP)
    assert result.code == 1, result
    assert f"{cfg} cannot be read: line 3: no `=`" in result.stderr
    assert f'fix: fix line 3 of it in an editor: "${{EDITOR:-vi}}" {cfg}' in result.stderr
    assert "this line has no equals sign" not in result.output  # never quoted: may be a secret
    no_login_happened(sandbox)
    assert cfg.read_bytes() == before
    assert not (sandbox.home / ".claude").exists()


def test_doctor_names_the_line_of_an_unparseable_databrickscfg_as_setup_does(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """One rule for reading ~/.databrickscfg: doctor says what setup says of a broken file."""
    sandbox.signed_in(workspace)
    assert setup(sandbox, "--host", workspace.url, "--no-verify").code == 0
    cfg = sandbox.home / ".databrickscfg"
    cfg.write_text(cfg.read_text() + "this line has no equals sign\n")
    before = cfg.read_bytes()
    line = before.decode().splitlines().index("this line has no equals sign") + 1
    result = sandbox.run_here(["dbx-fmapi", "doctor"])
    assert result.code == 1, result
    assert f"{cfg} cannot be read: line {line}: no `=`" in result.output
    assert "(the Databricks CLI refuses it too)" in result.output
    assert f'fix line {line} of it in an editor: "${{EDITOR:-vi}}" {cfg}' in result.output
    assert "this line has no equals sign" not in result.output
    assert cfg.read_bytes() == before


def test_databricks_config_profile_names_the_profile_setup_uses(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    pat = workspace.issue_pat()
    write_profile(sandbox, "DEFAULT", host=workspace.url)
    write_profile(sandbox, "ci", host=workspace.url, token=pat)
    result = setup(
        sandbox, "--host", workspace.url, "--no-verify", env={"DATABRICKS_CONFIG_PROFILE": "ci"}
    )
    assert result.code == 0, result
    assert "credential: personal access token from profile 'ci'" in result.stdout
    no_login_happened(sandbox)


def test_the_clis_default_profile_is_the_one_setup_offers(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    pat = workspace.issue_pat()
    write_profile(sandbox, "__settings__", default_profile="mine")
    write_profile(sandbox, "DEFAULT", host=workspace.url)
    write_profile(sandbox, "mine", host=workspace.url, token=pat)
    result = setup(sandbox, "--host", workspace.url, "--no-verify")
    assert result.code == 0, result
    assert "credential: personal access token from profile 'mine'" in result.stdout
    no_login_happened(sandbox)


def test_two_credentials_at_once_are_refused_by_setup_and_the_helper(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    pat = workspace.issue_pat()
    both = {"DATABRICKS_HOST": workspace.url, "DATABRICKS_TOKEN": pat}
    both.update(DATABRICKS_CLIENT_ID=SP_ID, DATABRICKS_CLIENT_SECRET=SP_SECRET)
    result = setup(sandbox, "--no-verify", env=dict(both))
    assert result.code == 1, result
    assert "more than one authorization method configured: " in result.stderr
    assert "(DATABRICKS_TOKEN)" in result.stderr
    assert "(DATABRICKS_CLIENT_ID, DATABRICKS_CLIENT_SECRET)" in result.stderr
    assert pat not in result.output and SP_SECRET not in result.output
    assert not (sandbox.home / ".claude").exists()
    # A PAT profile set up, then a service principal's variables in the shell Claude Code
    # inherits: the helper refuses rather than pick one silently.
    cfg = write_profile(sandbox, "pat", host=workspace.url, token=pat)
    assert setup(sandbox, "--host", workspace.url, "--profile", "pat", "--no-verify").code == 0
    helper = sandbox.run_here(
        ["dbx-fmapi", "token"],
        env={"DATABRICKS_CLIENT_ID": SP_ID, "DATABRICKS_CLIENT_SECRET": SP_SECRET},
    )
    assert helper.code == 1 and helper.stdout == "", helper
    assert "more than one authorization method configured" in helper.stderr
    assert "(token in profile 'pat')" in helper.stderr
    assert (sandbox.home / ".databrickscfg").read_bytes() == cfg
    no_login_happened(sandbox)


def test_doctor_names_both_credentials_of_a_profile(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    pat = workspace.issue_pat()
    write_profile(sandbox, "pat", host=workspace.url, token=pat)
    assert setup(sandbox, "--host", workspace.url, "--profile", "pat", "--no-verify").code == 0
    cfg = sandbox.home / ".databrickscfg"
    cfg.write_text(cfg.read_text() + f"client_id = {SP_ID}\nclient_secret = {SP_SECRET}\n")
    before = cfg.read_bytes()
    doctor = sandbox.run(["dbx-fmapi", "doctor"], timeout=120)
    assert doctor.code == 1, doctor
    assert "more than one authorization method configured" in doctor.stdout
    assert "uses a non-OAuth credential" not in doctor.stdout
    assert pat not in doctor.output and SP_SECRET not in doctor.output
    assert cfg.read_bytes() == before
