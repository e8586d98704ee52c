"""The `catalogue(category, group)` marker (which row of docs/catalogue.md a case counts in) and
`shared_workspace`: one fake workspace per module for the cases that only read from it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.rig.workspace import FakeWorkspace


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "catalogue(category, group): a case of the reliability and security catalogue "
        "(counted in docs/catalogue.md)",
    )


@pytest.fixture(scope="module")
def shared_workspace() -> Iterator[FakeWorkspace]:
    """A workspace shared by a module's tests: for cases that change nothing on it (no faults,
    no latency, no token lifetimes). Use `signed_in` to log a sandbox in quickly."""
    with FakeWorkspace() as ws:
        yield ws
