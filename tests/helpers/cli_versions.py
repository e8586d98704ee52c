"""`cli`: a fixture that runs a test twice, with the real Databricks CLI v0.298.0 (the newest the
Go module proxy serves) and with the fake playing v1.13.0 (what users run; read from its source).
Import it into a test module (`from tests.helpers.cli_versions import CLI_VERSIONS, cli`) and mark
the tests with @CLI_VERSIONS.
"""

from __future__ import annotations

import pytest

from tests.rig.sandbox import V1_VERSION, Sandbox


@pytest.fixture(params=["v0.298-real", "v1-fake"])
def cli(request: pytest.FixtureRequest, sandbox: Sandbox) -> str:
    if request.param == "v1-fake":
        sandbox.use_fake_cli(version=V1_VERSION)
    return str(request.param)


CLI_VERSIONS = pytest.mark.usefixtures("cli")
