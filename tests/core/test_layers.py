"""Lower layers never import higher ones (docs/architecture.md, "Layers").

Every module of the package is parsed (ast, so an import inside a function counts as much as
one at the top) and each import of another of our packages must point to a lower layer. Packages
of one layer do not import each other either. A module of a package may import its own package
freely. Nothing runs: the test reads the source.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers.sourcetree import PACKAGE, module_name

ROOT = "dbx_fmapi_claude"

# Lowest first. A package may import only packages of lower layers.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"core"}),  # errors, paths, context, files, redaction, prompts
    # the record; HTTP and hosts; the rc block; the OpenTelemetry tables and endpoint; the pinned
    # MLflow and its Stop hook as transforms
    frozenset({"record", "workspace", "shell", "telemetry", "tracing"}),
    frozenset({"auth", "changes"}),  # credentials and tokens; the change engine
    frozenset({"agents"}),  # each agent: its files, its launch, its proxy
    frozenset({"usage", "team", "mcp"}),  # features across agents
    frozenset({"doctor", "setup"}),  # the flows that compose them
    frozenset({"commands"}),  # one module per command
    frozenset({"cli"}),  # the argument parser and dispatch
)
LAYER = {package: i for i, layer in enumerate(LAYERS) for package in layer}

# (importing module, imported module) -> why it must stay. Empty: keep it so.
ALLOWED: dict[tuple[str, str], str] = {
    ("dbx_fmapi_claude.record.fields", "dbx_fmapi_claude.agents"): "the agent registry's names "
    "(agents/__init__.py is data and imports nothing): the record's checks take the agents from "
    "it, so a new agent is one package and one registry line",
}


def imports(path: Path, package: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import of ours in `path`, wherever it stands."""
    name, is_package = module_name(path, package)
    here = name.split(".") if is_package else name.split(".")[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:  # from . import a, b: each a module of its own
                    found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
                    continue
            else:
                target = str(node.module)
            found.append((node.lineno, target))
    return [(line, target) for line, target in found if target.split(".")[0] == ROOT]


def package_of(module: str) -> str | None:
    """Our package `module` is in; None for the top-level module (`__version__`)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYER else None


def upward_imports() -> list[str]:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name, _ = module_name(path)
        mine = package_of(name)
        if mine is None:
            continue
        for line, target in imports(path):
            theirs = package_of(target)
            if theirs is None or theirs == mine or (name, target) in ALLOWED:
                continue
            if LAYER[theirs] >= LAYER[mine]:
                where = f"{path.relative_to(PACKAGE.parent)}:{line}"
                problems.append(f"{where}: {mine} imports {target} ({theirs} is not below it)")
    return problems


def test_every_package_has_a_layer() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(LAYER), "give each package a layer in LAYERS (docs/architecture.md)"
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert modules <= {"__init__", "__main__"}, "a module at the top has no layer: use a package"


def test_no_module_imports_a_layer_above_its_own_or_beside_it() -> None:
    problems = upward_imports()
    assert not problems, "upward imports:\n" + "\n".join(problems)


def test_the_allowed_imports_are_still_there() -> None:
    """An exception nobody needs any more goes from ALLOWED."""
    present = {
        (module_name(path)[0], target)
        for path in PACKAGE.rglob("*.py")
        for _, target in imports(path)
    }
    assert set(ALLOWED) <= present


@pytest.mark.parametrize(
    "source, relative, expected",
    [
        ("core/context.py", "from ..auth.tokens import TokenRequest", "auth"),
        ("core/__init__.py", "from ..auth import tokens", "auth"),
        ("agents/claude/x.py", "from ...usage import prices", "usage"),
        ("record/x.py", "from ..cli import prompts", "cli"),
    ],
)
def test_the_test_sees_an_upward_import_at_any_depth(
    tmp_path: Path, source: str, relative: str, expected: str
) -> None:
    """What the test catches: a relative import in a function body, in a package's __init__,
    in a subpackage."""
    package = tmp_path / ROOT
    fake = package / source
    fake.parent.mkdir(parents=True)
    fake.write_text(f"def f() -> None:\n    {relative}\n")
    assert [package_of(target) for _, target in imports(fake, package)] == [expected]
