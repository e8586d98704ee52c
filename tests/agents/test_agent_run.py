"""`dbx-fmapi run`'s parts, in process: the token held behind the proxy (reused while it has
life left, one refresh for many requests) and the agent's environment (ours on top of the
user's, the user's own model choice winning, the secret only in the environment)."""

from __future__ import annotations

import threading
import time

from dbx_fmapi_claude import agents
from dbx_fmapi_claude.agents.freshtoken import FreshToken
from dbx_fmapi_claude.auth.dbcli import Token
from dbx_fmapi_claude.commands.run import launch_env


def test_fresh_token_is_reused_while_it_has_life_left() -> None:
    issued: list[str] = []

    def fetch() -> Token:
        issued.append(f"tok-{len(issued)}")
        return Token(issued[-1], time.time() + 3600)

    fresh = FreshToken(fetch, keep=300)
    assert [fresh() for _ in range(5)] == ["tok-0"] * 5
    assert fresh.fetches == 1
    assert "tok" not in repr(fresh)


def test_the_token_fetched_at_launch_is_used_only_while_it_outlives_keep() -> None:
    """`dbx-fmapi run` gets a token before the agent starts (a login happens on the terminal
    then); an agent slow to start must not send it once it is inside `keep` (with short-lived
    tokens it had expired by OpenCode's first request)."""
    issued: list[str] = []

    def fetch() -> Token:
        issued.append(f"new-{len(issued)}")
        return Token(issued[-1], time.time() + 3600)

    long_lived = FreshToken(fetch, keep=30, held=Token("at-launch", time.time() + 3600))
    assert long_lived() == "at-launch" and long_lived.fetches == 0
    nearly_dead = FreshToken(fetch, keep=30, held=Token("at-launch", time.time() + 5))
    assert nearly_dead() == "new-0" and nearly_dead.fetches == 1


def test_fresh_token_refreshes_one_that_is_about_to_expire_once_for_many_callers() -> None:
    issued: list[str] = []
    gate = threading.Event()

    def fetch() -> Token:
        gate.wait(5)
        issued.append(f"tok-{len(issued)}")
        life = 10 if len(issued) == 1 else 3600  # the first is inside `keep` at once
        return Token(issued[-1], time.time() + life)

    fresh = FreshToken(fetch, keep=60)
    gate.set()
    assert fresh() == "tok-0"
    gate.clear()
    got: list[str] = []
    threads = [threading.Thread(target=lambda: got.append(fresh())) for _ in range(8)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join()
    assert got == ["tok-1"] * 8 and fresh.fetches == 2


def test_gemini_launch_environment() -> None:
    state = {"model": "databricks-gemini-2-5-pro", "base_url": "https://h/serving-endpoints/gemini"}
    ours = agents.get("gemini").launch_env(state, "http://127.0.0.1:5555", "s3cret")
    env = launch_env({"PATH": "/bin", "GEMINI_API_KEY": "personal"}, ours)
    assert env["GOOGLE_GEMINI_BASE_URL"] == "http://127.0.0.1:5555"
    assert env["GEMINI_API_KEY"] == "s3cret"  # never the user's own key, never a token
    assert env["GEMINI_API_KEY_AUTH_MECHANISM"] == "bearer"
    assert env["GEMINI_MODEL"] == "databricks-gemini-2-5-pro" and env["PATH"] == "/bin"
    mine = launch_env({"GEMINI_MODEL": "databricks-gemini-2-5-flash"}, ours)
    assert mine["GEMINI_MODEL"] == "databricks-gemini-2-5-flash"


def test_opencode_launch_environment() -> None:
    state = {"model": "databricks-gpt-5", "provider": "databricks"}
    env = launch_env({}, agents.get("opencode").launch_env(state, "http://127.0.0.1:1", "k"))
    assert env["DBX_FMAPI_OPENCODE_BASE_URL"] == "http://127.0.0.1:1"
    assert env["DBX_FMAPI_OPENCODE_API_KEY"] == "k"
    assert '"model": "databricks/databricks-gpt-5"' in env["OPENCODE_CONFIG_CONTENT"]
