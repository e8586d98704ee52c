"""The checks as a graph: each declares what it requires, and one walk in declaration order
decides, from what came before, whether a check runs, prints SKIP, or is left out.

Two kinds of dependency, because the report has always made two kinds of promise:
- `requires`: the check is listed, as SKIP "needs <what>", when something it requires did not
  hold; the first unmet requirement, in the order declared, is the one named.
- `within`: the check is left out when one of these did not hold, because what it would look at
  does not exist then (no setup record: no token mode, no list of models; no workspace: no
  route to ask).
A check holds when it ran and nothing it printed is a FAIL (a WARN holds); a check may say
otherwise by returning False (a model the workspace rate-limited: a WARN, but its request
cannot be tried).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..core import ui
from .report import Run

ITEM = "{}"  # in a per-item check's title, needs and requirements: the item (a model name)


class GraphError(ValueError):
    """The declared checks do not form a graph the walk can run."""


@dataclass(frozen=True)
class Spec:
    id: str
    title: str
    run: Callable[[Run], bool | None]
    needed_as: str = ""  # how a dependent's SKIP names this check: "needs a token"
    requires: tuple[str, ...] = ()  # "model:{}": the same item of an earlier per-item check
    within: tuple[str, ...] = ()
    when: Callable[[Run], bool] | None = None  # also left out unless this says yes
    each: Callable[[Run], list[str]] | None = None  # one check per item: id "<id>:<item>"


def _target(requirement: str) -> str:
    """The check a requirement names: `model:{}` names the per-item check `model`."""
    return requirement.removesuffix(":" + ITEM)


def validate(specs: Sequence[Spec]) -> None:
    """Raise GraphError unless every requirement names a check declared before the one that
    requires it (so no cycle), in the form its kind allows. Pure: the tests run it on the
    registry, so a mistake shows there and not in a user's report."""
    by_id: dict[str, Spec] = {}
    per_item = {spec.id for spec in specs if spec.each is not None}
    for spec in specs:
        if not spec.id or ITEM in spec.id or spec.id in by_id:
            raise GraphError(f"check id {spec.id!r} is empty, holds {ITEM} or is declared twice")
        # A per-item check's lines are "<id>:<item>": no other id may look like one of them.
        if ":" in spec.id and (spec.each is not None or spec.id.split(":")[0] in per_item):
            raise GraphError(f"check id {spec.id!r} has a colon where a per-item id would")
        if (spec.each is None) == (ITEM in spec.title):
            raise GraphError(f"{spec.id}: a per-item check's title, and only its, holds {ITEM}")
        by_id[spec.id] = spec
    for spec in specs:
        for req in (*spec.requires, *spec.within):
            if _target(req) not in by_id:
                raise GraphError(f"{spec.id} requires {req!r}, which no check declares")
        for req in spec.within:
            if req != _target(req) or by_id[req].each is not None:
                raise GraphError(f"{spec.id}: `within` takes checks with one outcome, not {req!r}")
        for req in spec.requires:
            name = _target(req)
            if req != name and (spec.each is None or by_id[name].each is None):
                raise GraphError(f"{spec.id}: {req!r} joins two per-item checks only")
            if req == name and by_id[name].each is not None:
                raise GraphError(f"{spec.id} requires {req!r}: name one item, {name}:{ITEM}")
            if not by_id[name].needed_as:
                raise GraphError(f"{name} is required by {spec.id} but has no needed_as")
    cycle = _cycle(specs, by_id)
    if cycle:
        raise GraphError("requirement cycle: " + " -> ".join(cycle))
    seen: set[str] = set()
    for spec in specs:
        for req in (*spec.requires, *spec.within):
            if _target(req) not in seen:
                raise GraphError(f"{spec.id} requires {_target(req)}, declared after it")
        seen.add(spec.id)


def _cycle(specs: Sequence[Spec], by_id: dict[str, Spec]) -> list[str]:
    """One requirement cycle as a path that ends where it starts, or []."""
    done: set[str] = set()

    def visit(sid: str, path: list[str]) -> list[str]:
        if sid in path:
            return [*path[path.index(sid) :], sid]
        if sid in done:
            return []
        spec = by_id[sid]
        for req in (*spec.requires, *spec.within):
            found = visit(_target(req), [*path, sid])
            if found:
                return found
        done.add(sid)
        return []

    for spec in specs:
        found = visit(spec.id, [])
        if found:
            return found
    return []


def walk(specs: Sequence[Spec], run: Run) -> None:
    """Run the checks in declaration order. A per-item check lists the items that ran first and
    their SKIPs after them, so the answers stay together."""
    by_id = {spec.id: spec for spec in specs}
    holds: dict[str, bool] = {}
    for spec in specs:
        if not all(holds.get(req, False) for req in spec.within):
            continue
        if spec.when is not None and not spec.when(run):
            continue
        if spec.each is None:
            needs = _unmet(spec, "", holds, by_id)
            if needs is None:
                _run(spec, spec.id, spec.title, "", run, holds)
            else:
                _skip(spec.id, spec.title, needs, run, holds)
            continue
        items = [(item, _unmet(spec, item, holds, by_id)) for item in spec.each(run)]
        for item, needs in items:
            if needs is None:
                _run(spec, f"{spec.id}:{item}", spec.title.replace(ITEM, item), item, run, holds)
        for item, needs in items:
            if needs is not None:
                _skip(f"{spec.id}:{item}", spec.title.replace(ITEM, item), needs, run, holds)


def _unmet(spec: Spec, item: str, holds: dict[str, bool], by_id: dict[str, Spec]) -> str | None:
    """How the first requirement that did not hold is named, or None when all held."""
    for req in spec.requires:
        if not holds.get(req.replace(ITEM, item), False):
            return by_id[_target(req)].needed_as.replace(ITEM, item)
    return None


def _run(spec: Spec, id: str, title: str, item: str, run: Run, holds: dict[str, bool]) -> None:
    run.id, run.title, run.item = id, title, item
    before = len(run.report.checks)
    said = spec.run(run)
    printed = run.report.checks[before:]
    holds[id] = said if said is not None else all(c.status != ui.FAIL for c in printed)


def _skip(id: str, title: str, needs: str, run: Run, holds: dict[str, bool]) -> None:
    run.report.add(id, title, ui.SKIP, f"needs {needs}")
    holds[id] = False
