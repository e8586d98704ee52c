"""Databricks profiles written by hand, setup without installs, and the check that no browser
login happened: for the credential tests."""

from __future__ import annotations

from tests.rig.sandbox import Result, Sandbox

SP_ID, SP_SECRET = "test-sp", "test-sp-secret"


DESKTOP = {"DISPLAY": ":0"}


def write_profile(sandbox: Sandbox, name: str, **keys: str) -> bytes:
    cfg = sandbox.home / ".databrickscfg"
    text = cfg.read_text() if cfg.exists() else ""
    text += f"\n[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items())
    cfg.write_text(text)
    return cfg.read_bytes()


def setup(sandbox: Sandbox, *args: str, env: dict[str, str | None] | None = None) -> Result:
    return sandbox.run_here(
        ["setup-fmapi-claudecode", "--skip-install", "--shell", "none", *args],
        env=env,
        timeout=120,
    )


def no_login_happened(sandbox: Sandbox) -> None:
    assert [c for c in sandbox.databricks_calls() if c["argv"][:2] == ["auth", "login"]] == []
    assert sandbox.browser_visits(wait=0.2) == []
