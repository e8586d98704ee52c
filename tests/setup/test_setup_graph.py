"""Setup's whole run as declared steps (setup/flow.py): the plan needs the sign-in, the models,
the location and every agent's route; verify runs after the plan and before anything is
written; a dry run declares a step that shows the changes and none that writes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbx_fmapi_claude.setup import steps
from dbx_fmapi_claude.setup.flow import Setup
from dbx_fmapi_claude.setup.options import SetupOptions
from dbx_fmapi_claude.setup.steps import Step
from tests.helpers.contexts import quiet_context


def _declared(tmp_path: Path, dry_run: bool) -> list[Step]:
    env = {"HOME": str(tmp_path)}
    ctx = quiet_context(env, tmp_path)
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


def test_setup_composes_its_steps_and_holds_nothing_that_can_change(tmp_path: Path) -> None:
    """No mixins and no shared state: `Setup` inherits nothing and holds one frozen context;
    each step's answers travel only as the results the steps declare."""
    import dataclasses

    assert Setup.__bases__ == (object,)
    from dbx_fmapi_claude.setup.context import SetupContext

    env = {"HOME": str(tmp_path)}
    ctx = quiet_context(env, tmp_path)
    setup = Setup(ctx, SetupOptions())
    assert [f.name for f in dataclasses.fields(setup)] == ["sc"]
    assert isinstance(setup.sc, SetupContext)
    for obj, name in ((setup, "sc"), (setup.sc, "opts"), (setup.sc, "prompter")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, name, None)


def test_a_result_is_refused_when_anything_inside_it_can_change() -> None:
    """Frozen all the way down: a frozen result holding a list, a dict or a mutable
    dataclass could still be changed by a later step."""
    from dataclasses import dataclass, field
    from types import MappingProxyType

    @dataclass
    class Loose:
        value: str = ""

    @dataclass(frozen=True)
    class Holder:
        inside: object = None

    for mutable in ([1], {"a": 1}, Loose(), MappingProxyType({"a": [1]}), (Holder([1]),)):
        with pytest.raises(steps.StepError, match="returned a result that can change"):
            steps.run([Step("a", lambda r, m=mutable: Holder(m))])
    assert steps.frozen(Holder(MappingProxyType({"a": ("b",)})))
    assert steps.frozen(field)  # a function (a change's redo) is a value


def test_a_planned_change_cannot_be_changed_only_made_again(tmp_path: Path) -> None:
    """changes/engine.Change is frozen: the plan a step returns cannot be altered by a later
    one; a change redone on newer bytes is a new Change, the planned one left as it was."""
    import dataclasses

    from dbx_fmapi_claude.changes import engine
    from dbx_fmapi_claude.setup.plan import Planned, SetupPlan

    target = tmp_path / "f"
    change = engine.Change(target, b"old", b"old+ours", "a file", redo=lambda now: now + b"+ours")
    with pytest.raises(dataclasses.FrozenInstanceError):
        change.new = b"other"  # type: ignore[misc]
    again = change.redone(b"newer")
    assert (again.old, again.new) == (b"newer", b"newer+ours")
    assert (change.old, change.new) == (b"old", b"old+ours")
    planned = Planned.of(SetupPlan([change], ["a note"], {"configs": [{"a": 1}]}), target)
    assert steps.frozen(planned)
    plan = planned.plan()
    plan.record["configs"].append({"b": 2})
    assert planned.plan().record == {"configs": [{"a": 1}]}


def test_the_previous_record_gives_each_reader_its_own_copy() -> None:
    from dbx_fmapi_claude.setup.results import Previous

    previous = Previous.of({"configs": [{"host": "https://a"}]}, {"host": "https://a"})
    assert steps.frozen(previous)
    previous.record()["configs"].clear()
    previous.defaults()["host"] = "https://b"
    assert previous.record() == {"configs": [{"host": "https://a"}]}
    assert previous.defaults().get("host") == "https://a"
