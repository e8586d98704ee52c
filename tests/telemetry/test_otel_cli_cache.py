"""Issue 23: Claude Code runs its otelHeadersHelper at the end of every `claude -p` (its shutdown
flush, in print mode), so the helper's whole process is on the session's critical path. When the
Databricks CLI's own token cache holds exactly the token the apiKeyHelper handed out (same
fingerprint and expiry as our record), known good in the last 10 minutes and living long enough,
the helper hands that token out without running `databricks auth token`; anything else goes to
the CLI as before. With the real Databricks CLI v0.298.0 (its plaintext
~/.databricks/token-cache.json) against the fake workspace; CLI calls counted from the rig's log.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from dbx_fmapi_claude.commands.token import OTEL_FRESH_FOR
from tests.helpers.otel_world import PREFIX, SETTINGS, set_up, tokens_in_files
from tests.rig.sandbox import V1_VERSION, Result, Sandbox, go_time
from tests.rig.workspace import FakeWorkspace

STATE = Path(".config/dbx-fmapi-claude/token-state.json")
AUTH_TOKEN = ["auth", "token", "--profile", "DEFAULT", "-o", "json"]


def otel_helper(
    sandbox: Sandbox, extra: dict[str, str | None] | None = None
) -> tuple[Result, str | None, list[list[str]]]:
    """The otelHeadersHelper as Claude Code runs it (its settings' env, its entry point): the
    result, the token of the header (None without one), and the CLI calls it made."""
    env: dict[str, str | None] = dict(json.loads((sandbox.home / SETTINGS).read_text())["env"])
    env["CLAUDE_CODE_ENTRYPOINT"] = "sdk-cli"
    env.update(extra or {})
    before = len(sandbox.databricks_calls())
    result = sandbox.run(["dbx-fmapi", "token", "--profile", "DEFAULT", "--otel-headers"], env=env)
    calls = [c["argv"] for c in sandbox.databricks_calls()[before:]]
    token = None
    if result.code == 0:
        token = json.loads(result.stdout)["Authorization"].removeprefix("Bearer ")
    return result, token, calls


def api_key_helper(sandbox: Sandbox) -> str:
    """The apiKeyHelper at a session's start: it hands the CLI's token out and records it."""
    result = sandbox.run(["dbx-fmapi", "token", "--profile", "DEFAULT"])
    assert result.code == 0, result
    return result.stdout.strip()


def edit_cache_entry(sandbox: Sandbox, **changes: object) -> None:
    path = sandbox.token_cache_path
    cache = json.loads(path.read_text())
    cache["tokens"]["DEFAULT"].update(changes)
    path.write_text(json.dumps(cache, indent=2))


def record_as_handed_out(sandbox: Sandbox, ok_ago: float = 0.0) -> None:
    """Our record says the CLI's cached token was handed out, known good `ok_ago` seconds ago
    (what the apiKeyHelper leaves; written here to reach states it leaves only with time)."""
    from dbx_fmapi_claude.auth.dbcli import parse_expiry
    from dbx_fmapi_claude.auth.tokens import fingerprint

    entry = sandbox.token_cache()["tokens"]["DEFAULT"]
    path = sandbox.home / STATE
    state = json.loads(path.read_text())
    state["DEFAULT"] = {
        "expiry": parse_expiry(entry["expiry"]),
        "fp": fingerprint(entry["access_token"]),
        "ok": time.time() - ok_ago,
    }
    path.write_text(json.dumps(state))


def test_the_otel_headers_helper_takes_the_token_the_cli_holds_without_running_it(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    set_up(sandbox, workspace, "--otel-tables", PREFIX)
    handed = api_key_helper(sandbox)

    # The CLI's cache holds the token just handed out: no CLI call, that same token.
    result, token, calls = otel_helper(sandbox)
    assert result.code == 0, result
    assert (token, calls) == (handed, [])
    assert workspace.token_state(handed) == "valid"

    # Another token in the CLI's cache than the one handed out (another tool refreshed it; a
    # CLI v1.x keeping its tokens in the keyring beside an old file): the CLI's answer.
    other = workspace.issue_token()
    edit_cache_entry(sandbox, access_token=other, expiry=go_time(time.time() + 3000))
    result, token, calls = otel_helper(sandbox)
    assert (result.code, token, calls) == (0, other, [AUTH_TOKEN]), result
    # ... which is then the one recorded: the next helper needs no CLI call.
    assert otel_helper(sandbox)[1:] == (other, [])

    # Only under the profile's own key: the token under the workspace's URL (the key older
    # CLIs use) is the CLI's business.
    cache = sandbox.token_cache()
    cache["tokens"][workspace.url] = cache["tokens"].pop("DEFAULT")
    sandbox.token_cache_path.write_text(json.dumps(cache, indent=2))
    result, token, calls = otel_helper(sandbox)
    assert (result.code, token, calls) == (0, other, [AUTH_TOKEN]), result
    cache["tokens"]["DEFAULT"] = cache["tokens"].pop(workspace.url)
    sandbox.token_cache_path.write_text(json.dumps(cache, indent=2))

    # A cache file that is not the CLI's format: the CLI runs and says what it says.
    good = sandbox.token_cache_path.read_text()
    for bad in ("{not json", json.dumps({"version": 2, "tokens": json.loads(good)["tokens"]})):
        sandbox.token_cache_path.write_text(bad)
        result, token, calls = otel_helper(sandbox)
        assert calls == [AUTH_TOKEN] and token is None and result.code != 0, result
        assert result.stdout == "" and result.code == 1
        assert result.stderr.startswith(
            "dbx-fmapi: error: `databricks auth token --profile DEFAULT` failed: cache: load: "
        )
        assert "fix: databricks auth describe --profile DEFAULT" in result.stderr
    sandbox.token_cache_path.write_text(good)
    assert tokens_in_files(sandbox, workspace) == []


def test_a_token_near_its_expiry_or_not_known_good_lately_goes_through_the_cli(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    set_up(sandbox, workspace, "--otel-tables", PREFIX)
    api_key_helper(sandbox)

    # Expired, or living less than Claude Code keeps the header (helper TTL + margin): the CLI
    # gives a fresh one, which the workspace takes.
    for left in (-60.0, 600.0):
        old = sandbox.cached_token()
        sandbox.set_token_expiry(left)
        record_as_handed_out(sandbox)
        result, token, calls = otel_helper(sandbox)
        assert result.code == 0, result
        assert calls and calls[0] == AUTH_TOKEN, calls
        assert token != old and workspace.token_state(str(token)) == "valid"

    # Known good longer ago than OTEL_FRESH_FOR, and revoked since: the CLI and one check; the
    # workspace rejects it and a fresh one replaces it.
    record_as_handed_out(sandbox, ok_ago=OTEL_FRESH_FOR + 60)
    old = sandbox.cached_token()
    workspace.revoke_access_tokens()
    result, token, calls = otel_helper(sandbox)
    assert result.code == 0, result
    assert calls == [AUTH_TOKEN, [*AUTH_TOKEN, "--force-refresh"]]
    assert token != old and workspace.token_state(str(token)) == "valid"
    assert "rejected the token" in result.stderr
    assert tokens_in_files(sandbox, workspace) == []


def test_a_cli_keeping_its_tokens_in_the_keyring_is_asked_not_its_old_file(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """CLI v1.x (the rig's fake: the only keyring here): a login into the OS keyring pins
    `auth_storage = secure`, and the plaintext file keeps the token from before, still unexpired
    and the one handed out last. The helper asks the CLI, which hands out the keyring's."""
    set_up(sandbox, workspace, "--otel-tables", PREFIX)
    old = api_key_helper(sandbox)
    assert otel_helper(sandbox)[1:] == (old, [])  # the file, while it is the CLI's store

    sandbox.use_fake_cli(version=V1_VERSION)
    new = workspace.issue_token()
    entry = dict(sandbox.token_cache()["tokens"]["DEFAULT"], access_token=new)
    sandbox.keyring_path.write_text(
        json.dumps({"databricks-cli/DEFAULT": json.dumps({"token": entry})})
    )
    cfg = sandbox.home / ".databrickscfg"
    cfg.write_text(cfg.read_text() + "\n[__settings__]\nauth_storage = secure\n")
    for env in ({"DATABRICKS_AUTH_STORAGE": None}, {"DATABRICKS_AUTH_STORAGE": "secure"}):
        result, token, calls = otel_helper(sandbox, env)
        assert (result.code, token, calls) == (0, new, [AUTH_TOKEN]), result
