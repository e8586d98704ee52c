"""Nothing outside a registry switches on the names it holds (docs/architecture.md, "Adding a
kind").

A credential kind's name ("oauth", "m2m", "pat": auth/source.py BY_NAME) and an agent's name
("claude", "codex", …: agents/__init__.py NAMES) may be spelled in a comparison or a lookup only
in their own package: the credential kinds in auth/, an agent's name in the agent registry and in
that agent's own package. Anywhere else the code asks the registry (a kind's facts, such as
`renewed` or `browser_login`; the record's CLAUDE key; the registry's REQUIRED agent) instead of
typing the name again, so a new kind or agent changes nothing there.

Every module of the package is parsed (ast; nothing runs). What counts as switching on a name:
`==`, `!=`, `in`, `not in` against it (also inside a tuple, list or set), a subscript by it
(`cfg["claude"]`) and `.get`/`.pop`/`.setdefault` with it. Docstrings, messages, dictionary
literals (output fields) and arguments to other programs are not switches and are not checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dbx_fmapi_claude import agents
from dbx_fmapi_claude.auth import credentials
from tests.helpers.sourcetree import PACKAGE

KIND_NAMES = frozenset(credentials.BY_NAME)
AGENT_NAMES = frozenset(agents.NAMES)
LOOKUPS = {"get", "pop", "setdefault"}

# (module, name) -> why it stays. Keep each reason true; an entry nobody needs goes.
ALLOWED: dict[tuple[str, str], str] = {
    ("record/migrations/v2_to_v3.py", "claude"): "a migration step writes the format as it was "
    "when the format changed (its keys spelled out too), whatever the code calls things later",
    ("workspace/catalogue.py", "claude"): "Anthropic's model family in an endpoint's name "
    "(databricks-claude-…, an external model's endpoint): a model, not the agent (the workspace "
    "layer reads no agent; Codex's and Gemini's families are the agents' ModelFamily)",
}


def _home(module: str, name: str) -> bool:
    """Is `module` (a path under the package) the home of `name`?"""
    if name in KIND_NAMES and module.startswith("auth/"):
        return True
    if name in AGENT_NAMES:
        return module == "agents/__init__.py" or module.startswith(f"agents/{name}/")
    return False


def _names(node: ast.expr | None) -> list[str]:
    """The registry names `node` spells: a string, a tuple, list or set of them, or one as the
    default in an `or`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value] if node.value in KIND_NAMES | AGENT_NAMES else []
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [name for element in node.elts for name in _names(element)]
    if isinstance(node, ast.BoolOp):  # `(cfg.get("auth") or "oauth") == …`: the default too
        return [name for value in node.values for name in _names(value)]
    return []


def switches(source: str) -> list[tuple[int, str]]:
    """(line, name) for each comparison or lookup by a registry name in `source`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            for operand in (node.left, *node.comparators):
                found += [(node.lineno, name) for name in _names(operand)]
        elif isinstance(node, ast.Subscript):
            found += [(node.lineno, name) for name in _names(node.slice)]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in LOOKUPS
            and node.args
        ):
            found += [(node.lineno, name) for name in _names(node.args[0])]
    return found


def outside_their_registry(package: Path = PACKAGE) -> list[str]:
    problems = []
    for path in sorted(package.rglob("*.py")):
        module = path.relative_to(package).as_posix()
        for line, name in switches(path.read_text()):
            if not _home(module, name) and (module, name) not in ALLOWED:
                problems.append(f"{module}:{line}: {name!r}")
    return problems


def test_no_kind_or_agent_name_is_switched_on_outside_its_registry() -> None:
    problems = outside_their_registry()
    assert not problems, (
        "ask the registry (auth/source.py's kinds, agents/__init__.py) instead of spelling its "
        "names:\n" + "\n".join(problems)
    )


def test_the_allowed_names_are_still_there() -> None:
    """An exception nobody needs any more goes from ALLOWED."""
    present = {
        (path.relative_to(PACKAGE).as_posix(), name)
        for path in PACKAGE.rglob("*.py")
        for _, name in switches(path.read_text())
    }
    stale = sorted(set(ALLOWED) - present)
    assert not stale, f"no longer switched on there: take these from ALLOWED: {stale}"


@pytest.mark.parametrize(
    "source, expected",
    [
        ('if (cfg.get("auth") or "oauth") == "pat":\n    pass\n', ["oauth", "pat"]),
        ('ok = cfg.get("auth") in ("m2m", "pat")\n', ["m2m", "pat"]),
        ('if name == "claude":\n    pass\n', ["claude"]),
        ('state = one.get("codex")\n', ["codex"]),
        ('one["claude"] = {}\n', ["claude"]),
        ('ok = "claude" not in names\n', ["claude"]),
        ('message = "must be a list such as [\\"claude\\"]"\n', []),
        ('row = {"claude": True}\n', []),
        ('argv = ["mlflow", "autolog", "claude"]\n', []),
    ],
)
def test_the_test_sees_a_switch_on_a_name(source: str, expected: list[str]) -> None:
    assert [name for _, name in switches(source)] == expected


def test_an_agent_name_is_at_home_only_in_the_registry_and_its_own_package() -> None:
    assert _home("agents/__init__.py", "codex") and _home("agents/codex/agent.py", "codex")
    assert not _home("agents/claude/relayed.py", "codex")
    assert not _home("record/view.py", "claude")
    assert _home("auth/unified.py", "pat") and not _home("agents/claude/relayed.py", "pat")
