"""Setup's whole run as declared steps (setup/flow.py): the plan needs the sign-in, the models,
the location and every agent's route; verify runs after the plan and before anything is
written; a dry run declares a step that shows the changes and none that writes them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from dbx_fmapi_claude.core.context import Context
from dbx_fmapi_claude.core.paths import Paths
from dbx_fmapi_claude.setup import steps
from dbx_fmapi_claude.setup.flow import Setup
from dbx_fmapi_claude.setup.options import SetupOptions
from dbx_fmapi_claude.setup.steps import Step


def _declared(tmp_path: Path, dry_run: bool) -> list[Step]:
    env = {"HOME": str(tmp_path)}
    ctx = Context(
        env=env,
        stdin=io.StringIO(),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        cwd=tmp_path,
        paths=Paths.from_env(env),
    )
    setup = Setup(ctx, SetupOptions(dry_run=dry_run))
    return [*setup.declared_steps(), *setup.finish_steps()]


@pytest.mark.parametrize("dry_run", [False, True])
def test_the_plan_verify_and_the_write_are_declared_steps(tmp_path: Path, dry_run: bool) -> None:
    declared = _declared(tmp_path, dry_run)
    needs = {s.name: set(s.needs) for s in declared}
    assert {"signin", "models", "location", "agent_routes", "mlflow"} <= needs["plan"]
    assert "plan" in needs["verify"]
    last = "show" if dry_run else "apply"
    assert "verify" in needs[last]
    for order in (declared, list(reversed(declared))):
        names = [s.name for s in steps.order(order)]
        assert names[-3:] == ["plan", "verify", last]
    assert ("apply" in needs) is not dry_run
    assert ("show" in needs) is dry_run


def test_the_sign_in_result_never_shows_the_token() -> None:
    from dbx_fmapi_claude.setup.results import SignedIn

    signed = SignedIn("dapi-secret-value")
    assert steps.frozen(signed)
    assert "dapi-secret-value" not in repr(signed)
