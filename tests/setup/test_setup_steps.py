"""Setup's step runner (setup/steps.py): the order follows the declared needs; a missing need,
a cycle, a name declared twice, an undeclared read and a mutable result are refused; and setup's
own steps are ordered by their needs alone."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dbx_fmapi_claude.core.context import Context
from dbx_fmapi_claude.core.paths import Paths
from dbx_fmapi_claude.setup import steps
from dbx_fmapi_claude.setup.flow import Setup
from dbx_fmapi_claude.setup.options import SetupOptions
from dbx_fmapi_claude.setup.steps import Step, StepError


@dataclass(frozen=True)
class Token:
    value: str


def _names(declared: list[Step]) -> list[str]:
    return [s.name for s in steps.order(declared)]


def test_the_order_follows_the_needs_not_the_declaration() -> None:
    ran: list[str] = []

    def step(name: str, *needs: str) -> Step:
        return Step(name, lambda r: ran.append(name), needs)

    declared = [step("verify", "models"), step("models", "signin"), step("signin")]
    steps.run(declared)
    assert ran == ["signin", "models", "verify"]
    assert _names(list(reversed(declared))) == ["signin", "models", "verify"]


def test_steps_the_needs_leave_unordered_keep_their_declared_order() -> None:
    declared = [Step("b", lambda r: None), Step("a", lambda r: None), Step("c", lambda r: None)]
    assert _names(declared) == ["b", "a", "c"]


def test_a_step_gets_the_frozen_results_it_needs() -> None:
    seen: dict[str, Any] = {}
    declared = [
        Step("login", lambda r: Token("t0")),
        Step("host", lambda r: "https://example"),
        Step("use", lambda r: seen.update(r), ("login",)),
    ]
    results = steps.run(declared)
    assert seen == {"login": Token("t0")}
    assert results["host"] == "https://example"


def test_a_step_reading_a_result_it_did_not_declare_is_refused() -> None:
    declared = [Step("host", lambda r: "h"), Step("use", lambda r: r["host"])]
    with pytest.raises(StepError, match="'use' reads 'host', which it does not need"):
        steps.run(declared)


def test_a_missing_need_is_refused_before_any_step_runs() -> None:
    ran: list[str] = []
    declared = [Step("a", lambda r: ran.append("a")), Step("b", lambda r: None, ("nope",))]
    with pytest.raises(StepError, match="'b' needs 'nope', which no step declares"):
        steps.run(declared)
    assert ran == []


def test_a_cycle_is_refused_before_any_step_runs() -> None:
    ran: list[str] = []
    declared = [
        Step("first", lambda r: ran.append("first")),
        Step("a", lambda r: None, ("c",)),
        Step("b", lambda r: None, ("a",)),
        Step("c", lambda r: None, ("b",)),
    ]
    with pytest.raises(StepError, match="step cycle: a -> c -> b -> a"):
        steps.run(declared)
    assert ran == []


def test_a_name_declared_twice_is_refused() -> None:
    with pytest.raises(StepError, match="'a' is empty or declared twice"):
        steps.order([Step("a", lambda r: None), Step("a", lambda r: None)])


@pytest.mark.parametrize("result", [{"a": 1}, ["x"], ("ok", ["x"])])
def test_a_result_that_can_change_is_refused(result: Any) -> None:
    with pytest.raises(StepError, match="'a' returned a result that can change"):
        steps.run([Step("a", lambda r: result)])


def test_frozen_results_pass() -> None:
    for result in (None, "s", 3, Token("t"), ("a", Token("b")), frozenset({"x"})):
        assert steps.frozen(result)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("interactive", [False, True])
def test_setups_own_steps_are_ordered_by_their_needs_alone(
    tmp_path: Path, interactive: bool
) -> None:
    """Declared backwards, setup's steps still run in the order of every prompt and message:
    with flags only the settings location before signing in, interactive after the models."""
    env = {"HOME": str(tmp_path)}
    ctx = Context(
        env=env,
        stdin=_Terminal() if interactive else io.StringIO(),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        cwd=tmp_path,
        paths=Paths.from_env(env),
    )
    declared = Setup(ctx, SetupOptions()).declared_steps()
    early = ["location"] if not interactive else []
    late = ["location"] if interactive else []
    want = [
        "previous",
        "flags",
        "mlflow",
        "mode",
        "host",
        "agents",
        "executables",
        *early,
        "workspace",
        "dependencies",
        "agent_dependencies",
        "mlflow_dependency",
        "signin",
        "endpoints",
        "route",
        "models",
        "agent_models",
        "agent_routes",
        *late,
    ]
    assert _names(declared) == want
    assert _names(list(reversed(declared))) == want
