"""Doctor's check graph, in process: the registry is a graph the walk can run (checked here,
not in a user's report), an unmet requirement SKIPs its dependents with the text doctor prints,
a WARN skips nothing, and the report lists checks in declaration order. The check bodies are
stubs: what each check finds is tested on the rig (test_doctor.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from dbx_fmapi_claude import agents
from dbx_fmapi_claude.agents.aspects import Aspect, Verdict
from dbx_fmapi_claude.agents.base import Agent, Finding
from dbx_fmapi_claude.core.paths import Paths
from dbx_fmapi_claude.doctor import checks
from dbx_fmapi_claude.doctor.graph import GraphError, Spec, validate, walk
from dbx_fmapi_claude.doctor.report import Report, Run
from tests.helpers.contexts import quiet_context

Line = tuple[str, str, str]  # (id, status, detail)


def _run(tmp_path: Path) -> Run:
    env = {"HOME": str(tmp_path)}
    ctx = quiet_context(env, tmp_path)
    return Run(ctx, Report(ctx, live=False))


def _says(status: str, said: bool | None = None) -> Callable[[Run], bool | None]:
    def check(r: Run) -> bool | None:
        r.add(status, f"{r.title} {status}", "the fix")
        return said

    return check


def _lines(run: Run) -> list[Line]:
    return [(c.id, c.status, c.detail) for c in run.report.checks]


def _walk(tmp_path: Path, specs: list[Spec]) -> list[Line]:
    validate(specs)
    run = _run(tmp_path)
    walk(specs, run)
    return _lines(run)


# --- the walk --------------------------------------------------------------------------------


def test_a_failed_requirement_skips_its_dependents_transitively(tmp_path: Path) -> None:
    specs = [
        Spec("a", "A", _says("FAIL"), needed_as="an a"),
        Spec("b", "B", _says("PASS"), needed_as="a b", requires=("a",)),
        Spec("c", "C", _says("PASS"), requires=("b",)),
        Spec("d", "D", _says("PASS")),
    ]
    assert _walk(tmp_path, specs) == [
        ("a", "FAIL", "A FAIL"),
        ("b", "SKIP", "needs an a"),
        ("c", "SKIP", "needs a b"),  # the requirement it names is its own, skipped one
        ("d", "PASS", "D PASS"),
    ]


def test_the_first_unmet_requirement_in_declared_order_is_named(tmp_path: Path) -> None:
    specs = [
        Spec("a", "A", _says("FAIL"), needed_as="an a"),
        Spec("b", "B", _says("FAIL"), needed_as="a b"),
        Spec("c", "C", _says("PASS"), requires=("b", "a")),
        Spec("d", "D", _says("PASS"), requires=("a", "b")),
    ]
    lines = _walk(tmp_path, specs)
    assert lines[2:] == [("c", "SKIP", "needs a b"), ("d", "SKIP", "needs an a")]


def test_a_warn_does_not_skip(tmp_path: Path) -> None:
    specs = [
        Spec("a", "A", _says("WARN"), needed_as="an a"),
        Spec("b", "B", _says("PASS"), needed_as="a b", requires=("a",)),
        Spec("c", "C", _says("PASS"), requires=("a", "b")),
    ]
    assert [status for _, status, _ in _walk(tmp_path, specs)] == ["WARN", "PASS", "PASS"]


def test_a_check_may_say_it_does_not_hold(tmp_path: Path) -> None:
    specs = [
        Spec("a", "A", _says("WARN", said=False), needed_as="an a"),
        Spec("b", "B", _says("PASS"), requires=("a",)),
    ]
    assert _walk(tmp_path, specs)[1] == ("b", "SKIP", "needs an a")


def test_within_leaves_a_check_out_and_when_too(tmp_path: Path) -> None:
    specs = [
        Spec("a", "A", _says("FAIL"), needed_as="an a"),
        Spec("b", "B", _says("PASS"), within=("a",)),
        Spec("c", "C", _says("PASS"), when=lambda r: False),
        Spec("d", "D", _says("PASS"), requires=("a",)),
    ]
    assert [cid for cid, _, _ in _walk(tmp_path, specs)] == ["a", "d"]


def test_the_report_lists_checks_in_declaration_order(tmp_path: Path) -> None:
    # Declared before what they require would be refused; declared after, in any order.
    specs = [
        Spec("z", "Z", _says("PASS"), needed_as="a z"),
        Spec("y", "Y", _says("FAIL"), needed_as="a y"),
        Spec("x", "X", _says("PASS"), requires=("z",)),
        Spec("w", "W", _says("PASS"), requires=("y",)),
        Spec("v", "V", _says("WARN")),
    ]
    assert [cid for cid, _, _ in _walk(tmp_path, specs)] == ["z", "y", "x", "w", "v"]


def test_per_item_checks_list_what_ran_then_their_skips(tmp_path: Path) -> None:
    def ready_unless_b(r: Run) -> None:
        r.add("FAIL" if r.item == "b" else "PASS", r.item)

    specs = [
        Spec(
            "m",
            "Model {}",
            ready_unless_b,
            needed_as="model {} READY",
            each=lambda r: ["a", "b", "c"],
        ),
        Spec("q", "Ask {}", _says("PASS"), requires=("m:{}",), each=lambda r: ["a", "b", "c"]),
    ]
    assert _walk(tmp_path, specs) == [
        ("m:a", "PASS", "a"),
        ("m:b", "FAIL", "b"),
        ("m:c", "PASS", "c"),
        ("q:a", "PASS", "Ask a PASS"),
        ("q:c", "PASS", "Ask c PASS"),
        ("q:b", "SKIP", "needs model b READY"),
    ]


# --- the registry, checked without running anything -----------------------------------------


def test_the_registry_is_a_graph_the_walk_can_run() -> None:
    validate(checks.CHECKS)


@pytest.mark.parametrize(
    ("after", "ids"),
    [("config", ["settings", "effective", "helper"]), ("token", ["helper-run", "static-token"])],
)
def test_the_required_agents_aspects_are_its_checks_where_it_declares(
    after: str, ids: list[str]
) -> None:
    # Claude Code's settings file, what overrides it and its apiKeyHelper, and the helper's run
    # or the token stored in the file, are its Agent's (Agent.aspects), not doctor's: doctor
    # lists them after the setup record and after the token, as declared.
    core = agents.get("claude")
    declared = [a for a in core.aspects if a.after == after]
    assert [a.id for a in declared] == ids
    at = [s.id for s in checks.CHECKS].index(after) + 1
    for spec, aspect in zip(checks.CHECKS[at : at + len(ids)], declared, strict=True):
        assert (spec.id, spec.title, spec.needed_as) == (aspect.id, aspect.title, aspect.needed_as)
        assert (spec.requires, spec.within) == (aspect.requires, aspect.within)


class _Toy(Agent):
    name, label = "toy", "Toy"
    aspects = (
        Aspect("file", "Toy file", "a toy file"),
        Aspect("key", "Toy key", requires=("file",), when=lambda cfg: cfg.get("key") == "on"),
    )

    def examine(
        self,
        aspect: str,
        cfg: Any,
        paths: Paths,
        env: Mapping[str, str],
        cwd: Path,
        found: Mapping[str, Any],
    ) -> Verdict:
        if aspect == "file":
            return Verdict(passed="there", value="/toy/file")
        warn = Finding(f"{found['file']} has no key", "toy --key", warn=True)
        return Verdict((warn, Finding("and no lock", id="lock")), value="k")


def test_an_agents_aspects_run_as_checks_and_hand_on_what_they_found(tmp_path: Path) -> None:
    from dbx_fmapi_claude.doctor import agent_checks
    from dbx_fmapi_claude.record.view import Configuration

    specs = list(agent_checks.aspect_specs(_Toy()))
    validate(specs)
    run = _run(tmp_path)
    run.cfg = Configuration({"key": "on", "agents": ["claude"]})
    walk(specs, run)
    assert [(c.id, c.status, c.detail, c.fix) for c in run.report.checks] == [
        ("file", "PASS", "there", None),
        ("key", "WARN", "/toy/file has no key", "toy --key"),
        ("key:lock", "FAIL", "and no lock", "setup-fmapi-claudecode --agents claude"),
    ]
    assert run.found == {"file": "/toy/file", "key": "k"}
    run = _run(tmp_path)
    run.cfg = Configuration({"key": "off"})
    walk(specs, run)
    assert [c.id for c in run.report.checks] == ["file"]


def test_a_single_checks_id_may_have_colons(tmp_path: Path) -> None:
    specs = [
        Spec("x:a:one", "One", _says("FAIL"), needed_as="one"),
        Spec("x:a:two", "Two", _says("PASS"), requires=("x:a:one",)),
    ]
    assert _walk(tmp_path, specs)[1] == ("x:a:two", "SKIP", "needs one")


def _noop(r: Run) -> None:
    return None


@pytest.mark.parametrize(
    ("specs", "says"),
    [
        (
            [
                Spec("a", "A", _noop, needed_as="an a", requires=("b",)),
                Spec("b", "B", _noop, needed_as="a b", requires=("a",)),
            ],
            "requirement cycle: a -> b -> a",
        ),
        ([Spec("a", "A", _noop, needed_as="an a", requires=("a",))], "cycle: a -> a"),
        ([Spec("a", "A", _noop, requires=("nope",))], "'nope', which no check declares"),
        ([Spec("a", "A", _noop, within=("nope",))], "'nope', which no check declares"),
        (
            [Spec("a", "A", _noop, requires=("b",)), Spec("b", "B", _noop, needed_as="a b")],
            "a requires b, declared after it",
        ),
        ([Spec("a", "A", _noop), Spec("b", "B", _noop, requires=("a",))], "has no needed_as"),
        ([Spec("a", "A", _noop), Spec("a", "A", _noop)], "declared twice"),
        ([Spec("a{}", "A {}", _noop, each=lambda r: [])], "holds {} or is declared twice"),
        (
            [Spec("m", "M {}", _noop, each=lambda r: []), Spec("m:x", "A", _noop)],
            "'m:x' has a colon where a per-item id would",
        ),
        ([Spec("a:b", "A {}", _noop, each=lambda r: [])], "'a:b' has a colon"),
        ([Spec("a", "A {}", _noop)], "title, and only its"),
        (
            [
                Spec("m", "M {}", _noop, needed_as="m", each=lambda r: []),
                Spec("a", "A", _noop, requires=("m",)),
            ],
            "name one item, m:{}",
        ),
        (
            [
                Spec("m", "M {}", _noop, needed_as="m", each=lambda r: []),
                Spec("a", "A", _noop, requires=("m:{}",)),
            ],
            "joins two per-item checks only",
        ),
    ],
)
def test_a_broken_registry_is_refused(specs: list[Spec], says: str) -> None:
    with pytest.raises(GraphError) as caught:
        validate(specs)
    assert says in str(caught.value)


# --- the real registry, with stubbed bodies: which lines a situation prints ------------------


def _play(
    tmp_path: Path,
    outcomes: Mapping[str, str],
    *,
    mode: str = "helper",
    models: tuple[str, ...] = ("a", "b"),
) -> list[Line]:
    """Run the real registry with each check printing outcomes[id] (PASS by default) and,
    when it holds, handing on a stand-in for the value it finds."""
    cfg: dict[str, Any] = {"token_mode": mode}
    for role, name in zip(("opus", "sonnet", "haiku"), models, strict=False):
        cfg[role] = name
    values = {"token": "token", "workspace": "ws"}

    def stub(spec: Spec) -> Callable[[Run], bool | None]:
        def check(r: Run) -> bool | None:
            status = outcomes.get(r.id, "PASS")
            r.add(status, f"{r.id} {status}", "the fix")
            if status in ("PASS", "WARN"):
                if spec.id == "config":
                    r.cfg = cfg
                elif spec.id in ("settings", "helper"):  # the required agent's aspects
                    r.found[spec.id] = object()
                elif spec.id in values:
                    setattr(r, values[spec.id], object())
            return None

        return check

    specs = [dataclasses.replace(spec, run=stub(spec)) for spec in checks.CHECKS]
    run = _run(tmp_path)
    walk(specs, run)
    return _lines(run)


def test_without_a_setup_record_the_path_to_one_is_listed_as_skips(tmp_path: Path) -> None:
    assert _play(tmp_path, {"config": "FAIL"}) == [
        ("claude", "PASS", "claude PASS"),
        ("databricks-cli", "PASS", "databricks-cli PASS"),
        ("config", "FAIL", "config FAIL"),
        ("settings", "SKIP", "needs setup"),
        ("profile", "SKIP", "needs setup"),
        ("token", "SKIP", "needs setup"),
        ("workspace", "SKIP", "needs setup"),
    ]


def test_a_healthy_helper_setup_runs_every_check_in_order(tmp_path: Path) -> None:
    assert [cid for cid, status, _ in _play(tmp_path, {}) if status == "PASS"] == [
        "claude",
        "databricks-cli",
        "config",
        "settings",
        "effective",
        "helper",
        "shell",
        "profile",
        "token",
        "helper-run",
        "workspace",
        "route",
        "model:a",
        "model:b",
        "request:a",
        "request:b",
    ]


def test_static_mode_checks_the_stored_token_instead_of_the_helper(tmp_path: Path) -> None:
    ids = [cid for cid, _, _ in _play(tmp_path, {}, mode="static")]
    assert "static-token" in ids and "helper" not in ids and "helper-run" not in ids
    assert ids.index("token") < ids.index("static-token") < ids.index("workspace")


def test_a_broken_settings_file_skips_what_reads_it(tmp_path: Path) -> None:
    lines = _play(tmp_path, {"settings": "FAIL"})
    assert ("effective", "SKIP", "needs a valid settings file") in lines
    assert ("helper", "SKIP", "needs a valid settings file") in lines
    assert "helper-run" not in [cid for cid, _, _ in lines]  # nothing to run it with
    assert ("token", "PASS", "token PASS") in lines


def test_the_token_names_the_cli_before_the_profile(tmp_path: Path) -> None:
    lines = _play(tmp_path, {"databricks-cli": "FAIL", "profile": "FAIL"})
    assert ("token", "SKIP", "needs the Databricks CLI") in lines
    lines = _play(tmp_path, {"profile": "FAIL"})
    assert ("token", "SKIP", "needs the CLI profile") in lines
    assert ("helper-run", "SKIP", "needs a token") in lines
    assert ("workspace", "SKIP", "needs a token") in lines
    assert lines[-4:] == [
        ("model:a", "SKIP", "needs the workspace"),
        ("model:b", "SKIP", "needs the workspace"),
        ("request:a", "SKIP", "needs the workspace"),
        ("request:b", "SKIP", "needs the workspace"),
    ]
    assert "route" not in [cid for cid, _, _ in lines]


def test_a_broken_helper_skips_its_run(tmp_path: Path) -> None:
    lines = _play(tmp_path, {"helper": "FAIL", "token": "FAIL"})
    assert ("helper-run", "SKIP", "needs a working apiKeyHelper") in lines


def test_requests_wait_for_the_route_and_their_model(tmp_path: Path) -> None:
    lines = _play(tmp_path, {"route": "FAIL", "model:a": "FAIL"})
    assert lines[-2:] == [
        ("request:a", "SKIP", "needs a route that answers"),
        ("request:b", "SKIP", "needs a route that answers"),
    ]
    lines = _play(tmp_path, {"model:a": "FAIL", "model:b": "WARN"})
    assert lines[-2:] == [
        ("request:b", "PASS", "request:b PASS"),
        ("request:a", "SKIP", "needs model a READY"),
    ]
