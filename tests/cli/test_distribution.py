"""The versioned package, as a fleet installs it: `python -m build` makes a wheel and an sdist,
pipx installs the wheel into a clean HOME, the installed programs report the version and set up
from a team file against the fake workspace (with the real Databricks CLI), and an upgrade to a
newer wheel keeps the configuration: the same answers, no file changed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from dbx_fmapi_claude import __version__
from tests.helpers.mgmt import VOLATILE
from tests.rig.sandbox import Sandbox
from tests.rig.workspace import FakeWorkspace

ROOT = Path(__file__).resolve().parents[2]
TRACKED = ("pyproject.toml", "README.md", "bin", "src")


def _build(tree: Path, out: Path) -> tuple[Path, Path]:
    """sdist and wheel of `tree` (python -m build: the wheel is built from the sdist)."""
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(tree)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    [wheel] = out.glob("*.whl")
    [sdist] = out.glob("*.tar.gz")
    return sdist, wheel


def _copy(dest: Path, version: str | None = None) -> Path:
    """The package's own files in a fresh folder (no build output of the work tree)."""
    dest.mkdir(parents=True)
    for name in TRACKED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(
                src, dest / name, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__")
            )
        else:
            shutil.copy2(src, dest / name)
    if version is not None:
        init = dest / "src" / "dbx_fmapi_claude" / "__init__.py"
        init.write_text(init.read_text().replace(f'"{__version__}"', f'"{version}"'))
        py = dest / "pyproject.toml"
        py.write_text(
            py.read_text().replace(f'version = "{__version__}"', f'version = "{version}"')
        )
    return dest


def test_the_package_version_is_one_number_everywhere() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'version = "{__version__}"' in pyproject
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## {__version__}" in changelog or "## Unreleased" in changelog


@pytest.mark.skipif(
    shutil.which("pipx", path=os.path.dirname(sys.executable)) is None,
    reason="pipx is a test dependency: ./scripts/test installs it",
)
def test_a_fleet_installs_the_wheel_with_pipx_sets_up_from_a_team_file_and_upgrades(
    sandbox: Sandbox, workspace: FakeWorkspace, tmp_path: Path
) -> None:
    sdist, wheel = _build(_copy(tmp_path / "tree"), tmp_path / "dist")
    assert wheel.name == f"dbx_fmapi_claude-{__version__}-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    for script in ("dbx-fmapi", "dbx-fmapi-claude", "setup-fmapi-claudecode"):
        assert f"dbx_fmapi_claude-{__version__}.data/scripts/{script}" in names
    assert "dbx_fmapi_claude/team/schema.py" in names
    with tarfile.open(sdist) as tar:
        assert any(n.endswith("/bin/dbx-fmapi") for n in tar.getnames())

    pipx = shutil.which("pipx", path=os.path.dirname(sys.executable))
    assert pipx
    pipx_env = {
        "PIPX_HOME": str(tmp_path / "pipx"),
        "PIPX_BIN_DIR": str(sandbox.home / ".local" / "bin"),
        "PIPX_MAN_DIR": str(tmp_path / "man"),
    }
    installed = sandbox.run(
        [pipx, "install", "--python", sys.executable, str(wheel)], env=pipx_env, timeout=300
    )
    assert installed.code == 0, installed
    bin_dir = sandbox.home / ".local" / "bin"
    version = sandbox.run([str(bin_dir / "dbx-fmapi"), "--version"])
    assert version.stdout.strip() == f"dbx-fmapi {__version__}", version

    team = tmp_path / "team.json"
    team.write_text(
        json.dumps(
            {
                "version": 1,
                "host": workspace.url,
                "profile": "acme",
                "route": "serving-endpoints",
                "models": {"model": "databricks-claude-opus-4-6"},
                "ttl": "20m",
            }
        )
    )
    sandbox.signed_in(workspace, profile="acme")
    argv = [str(bin_dir / "setup-fmapi-claudecode"), "--skip-install", "--shell", "none"]
    first = sandbox.run([*argv, "--host", workspace.url, "--team", str(team)], timeout=180)
    assert first.code == 0, first
    settings = json.loads((sandbox.home / ".claude" / "settings.json").read_text())
    assert settings["apiKeyHelper"].startswith(f"'{bin_dir}/dbx-fmapi' token")
    status_before = sandbox.run([str(bin_dir / "dbx-fmapi"), "status", "--json"])
    before = sandbox.snapshot(exclude=(*VOLATILE, ".local/*"))

    newer = "99.0.0"
    _, wheel2 = _build(_copy(tmp_path / "tree2", version=newer), tmp_path / "dist2")
    upgraded = sandbox.run(
        [pipx, "install", "--force", "--python", sys.executable, str(wheel2)],
        env=pipx_env,
        timeout=300,
    )
    assert upgraded.code == 0, upgraded
    assert sandbox.run([str(bin_dir / "dbx-fmapi"), "--version"]).stdout.strip() == (
        f"dbx-fmapi {newer}"
    )
    after_status = sandbox.run([str(bin_dir / "dbx-fmapi"), "status", "--json"])
    old, new = json.loads(status_before.stdout), json.loads(after_status.stdout)
    for data in (old, new):
        data.pop("token")
    assert new == old
    again = sandbox.run([*argv, "--yes"], timeout=180)
    assert again.code == 0, again
    assert "already configured" in again.stdout
    assert sandbox.snapshot(exclude=(*VOLATILE, ".local/*")) == before
    token = sandbox.run([str(bin_dir / "dbx-fmapi"), "token"])
    assert token.code == 0 and workspace.token_state(token.stdout.strip()) == "valid"
