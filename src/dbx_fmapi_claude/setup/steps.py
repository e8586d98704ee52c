"""Setup's steps as a graph: each step names the steps it needs and returns a frozen result; the
runner orders them by those needs (as the doctor orders its checks by `requires`, doctor/graph.py)
and gives each step only the results it declared.

Refused before anything runs (StepError, a programming error): a step declared twice, a need no
step declares, a cycle. Refused when a step returns: a result that could change afterwards (a
result is None, an immutable value, or a frozen dataclass, tuple, frozenset or read-only
mapping of those, all the way down: `frozen`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from types import FunctionType, MappingProxyType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class StepError(ValueError):
    """The declared steps cannot run: a missing need, a cycle, a name twice, a mutable result."""


class Results(Mapping[str, "Any"]):  # a string: typing loads only for the type checker
    """The results a step may read: those of the steps it needs (reading another is an error)."""

    def __init__(self, step: str, values: Mapping[str, Any]) -> None:
        self._step = step
        self._values = dict(values)

    def __getitem__(self, name: str) -> Any:
        if name not in self._values:
            raise StepError(f"step {self._step!r} reads {name!r}, which it does not need")
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Results], Any]
    needs: tuple[str, ...] = ()


def order(steps: Sequence[Step]) -> list[Step]:
    """The steps, each after every step it needs; steps the needs leave unordered keep the
    order they were declared in."""
    by_name: dict[str, Step] = {}
    for step in steps:
        if not step.name or step.name in by_name:
            raise StepError(f"step name {step.name!r} is empty or declared twice")
        by_name[step.name] = step
    for step in steps:
        for need in step.needs:
            if need not in by_name:
                raise StepError(f"step {step.name!r} needs {need!r}, which no step declares")
    done: list[Step] = []
    placed: set[str] = set()
    visiting: list[str] = []

    def place(step: Step) -> None:
        if step.name in placed:
            return
        if step.name in visiting:
            cycle = visiting[visiting.index(step.name) :] + [step.name]
            raise StepError("step cycle: " + " -> ".join(cycle))
        visiting.append(step.name)
        for need in step.needs:
            place(by_name[need])
        visiting.pop()
        placed.add(step.name)
        done.append(step)

    for step in steps:
        place(step)
    return done


# A function counts as a value: a change's redo is the edit to make again, not state.
_IMMUTABLE = (str, int, float, bool, bytes, PurePath, type(None), FunctionType)

# Types a result may hold although they are not frozen, each read-only by contract: no step
# changes one after the step that made it returned (setup/results.py registers them).
READ_ONLY: set[type] = set()


def frozen(value: Any) -> bool:
    """Can `value` not change after the step that made it returns? Deep: a frozen dataclass
    whose fields are all frozen, a tuple or frozenset of frozen values, a read-only mapping
    (MappingProxyType) of frozen values, an immutable value (str, int, float, bool, bytes,
    Path, None, a function), or a type in READ_ONLY."""
    if isinstance(value, _IMMUTABLE) or type(value) in READ_ONLY:
        return True
    if isinstance(value, (tuple, frozenset)):
        return all(frozen(v) for v in value)
    if isinstance(value, MappingProxyType):
        return all(frozen(k) and frozen(v) for k, v in value.items())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        params = getattr(value, "__dataclass_params__", None)
        if not (params and params.frozen):
            return False
        return all(frozen(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False


def run(steps: Sequence[Step]) -> dict[str, Any]:
    """Run every step in order(steps); returns each step's result by name."""
    results: dict[str, Any] = {}
    for step in order(steps):
        result = step.run(Results(step.name, {n: results[n] for n in step.needs}))
        if not frozen(result):
            raise StepError(f"step {step.name!r} returned a result that can change: {result!r}")
        results[step.name] = result
    return results
