"""Helpers the tests share: setup and doctor runs, the usage and agent worlds,
the --json shapes, the CLI-versions fixture."""
