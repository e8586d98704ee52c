"""The setup tests' fixtures: `spawn`, the interactive setup in a real pseudo-terminal."""

from tests.helpers.pty import spawn  # noqa: F401 - a fixture, for every test in this folder
