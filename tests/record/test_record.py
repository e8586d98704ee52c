"""Setup's record (`~/.config/dbx-fmapi-claude/config.json`): typed, versioned, checked on load.

A damaged record (a key holding what no setup writes, static mode without its settings file, a
version this release does not know) is one line naming the file, the key and the fix, exit 1,
from every entry point (`status`, `doctor`, `token`, `dbx-fmapi-claude`), and changes no file.
A record from before the version key, or as the current release writes it, keeps working and is
never rewritten by reading it. Setup and uninstall go on without just the damaged keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dbx_fmapi_claude.core.errors import UserError
from dbx_fmapi_claude.core.paths import Paths
from dbx_fmapi_claude.record import config
from tests.helpers.mgmt import ANSI, VOLATILE, config_of, fake_claude, record_of
from tests.rig.sandbox import Result, Sandbox
from tests.rig.workspace import FakeWorkspace

RECORD = Path(".config/dbx-fmapi-claude/config.json")
REPAIR = "fix: re-run setup to rewrite it: setup-fmapi-claudecode"
UPGRADE = (
    "fix: update dbx-fmapi-claude: git pull in your clone, then bash setup-fmapi-claudecode.sh"
)

# A record as release 8e2686a wrote it (version 1: one configuration, flat), for the in-process
# checks; it migrates to version 3 in memory.
TODAY: dict[str, Any] = {
    "api_key_helper": "'/home/u/.local/bin/dbx-fmapi' token --profile 'DEFAULT'",
    "env_existed": False,
    "executable": "/home/u/.local/bin/dbx-fmapi-claude",
    "haiku": "databricks-claude-haiku-4-5",
    "host": "https://x.cloud.databricks.com",
    "margin_seconds": 300,
    "model": "databricks-claude-opus-4-6",
    "onboarding_added": True,
    "opus": "databricks-claude-opus-4-6",
    "profile": "DEFAULT",
    "rc_file": None,
    "replaced": {"ANTHROPIC_MODEL": {"value": "claude-opus-4"}},
    "settings_created": True,
    "settings_file": "/home/u/.claude/settings.json",
    "settings_location": "home",
    "shell": "none",
    "sonnet": "databricks-claude-sonnet-4-5",
    "token_mode": "helper",
    "ttl_seconds": 900,
    "version": 1,
}


def _paths(tmp_path: Path, record: Any) -> Paths:
    paths = Paths(home=tmp_path, config_dir=tmp_path / "cfg")
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    text = record if isinstance(record, str) else json.dumps(record, indent=2, sort_keys=True)
    paths.config_file.write_text(text + "\n")
    return paths


# --- the fast layer: load, migrate, check ---------------------------------------------------------


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    """A version-1 record as readers see it: one configuration, without the version key."""
    return {k: v for k, v in record.items() if k != "version"}


def test_a_version_1_record_migrates_in_memory_and_is_never_rewritten(tmp_path: Path) -> None:
    paths = _paths(tmp_path, TODAY)
    before = paths.config_file.read_bytes()
    assert config.load(paths) == _flat(TODAY)
    home_u = Paths(home="/home/u", config_dir=paths.config_dir)  # the home TODAY was set up in
    assert config.in_effect(config.load_record(paths), home_u, "/srv") == _flat(TODAY)
    shared = {k: TODAY[k] for k in config.SHARED}
    one = _v3({k: v for k, v in _flat(TODAY).items() if k not in config.SHARED})
    assert config.load_record(paths) == {**shared, "version": 3, "configs": [one]}
    assert config.salvage(paths) == ({**shared, "version": 3, "configs": [one]}, [])
    assert paths.config_file.read_bytes() == before


def _v3(one: dict[str, Any]) -> dict[str, Any]:
    """A configuration as version 3 keeps it: Claude Code's keys under "claude"."""
    claude = {k: one.pop(k) for k in list(one) if k in config.CLAUDE_KEYS}
    return {**one, "claude": claude}


def test_a_version_2_record_moves_claude_codes_keys_under_claude_in_memory(
    tmp_path: Path,
) -> None:
    record = _two(tmp_path)
    record["configs"][0]["codex"] = {"file": "/home/u/.codex/config.toml", "model": "gpt-5"}
    record["configs"][0]["agents"] = ["claude", "codex"]
    paths = _paths(tmp_path, record)
    before = paths.config_file.read_bytes()
    loaded = config.load_record(paths)
    assert loaded == {**record, "version": 3, "configs": [_v3(dict(c)) for c in record["configs"]]}
    assert loaded["configs"][0]["claude"]["model"] == TODAY["model"]
    assert loaded["configs"][0]["codex"] == record["configs"][0]["codex"]  # the others' stay
    # Readers see what they saw in version 2, typed.
    shared = {k: record[k] for k in config.SHARED}
    assert config.views(loaded) == [{**shared, **c} for c in record["configs"]]
    home = config.views(loaded)[0]
    assert (home.model, home.token_mode, home.profile) == (TODAY["model"], "helper", "DEFAULT")
    assert home.agents == ["claude", "codex"]
    assert home.replaced == TODAY["replaced"] and home.settings_created
    assert home.state("codex") == record["configs"][0]["codex"]
    assert home.state("claude") == {
        "file": record["configs"][0]["settings_file"],
        "settings_file": record["configs"][0]["settings_file"],
        **{k: TODAY[k] for k in config.CLAUDE_KEYS if k in TODAY},
    }
    assert paths.config_file.read_bytes() == before  # migrated in memory only


def test_a_damaged_claude_key_in_a_version_3_record_is_named_and_salvaged(tmp_path: Path) -> None:
    record = _two(tmp_path)
    v3 = {**record, "version": 3, "configs": [_v3(dict(c)) for c in record["configs"]]}
    v3["configs"][1]["claude"]["token_mode"] = "later"
    paths = _paths(tmp_path, v3)
    with pytest.raises(UserError) as caught:
        config.load(paths)
    project = v3["configs"][1]["settings_file"]
    assert caught.value.message == (
        f'{paths.config_path} is damaged: "token_mode" (the configuration for {project}) must be '
        '"helper" or "static", not "later"'
    )
    salvaged, notes = config.salvage(paths)
    assert salvaged is not None and "token_mode" not in salvaged["configs"][1]["claude"]
    assert len(notes) == 1 and "(left out)" in notes[0]
    v3["configs"][1]["claude"] = "opus"
    with pytest.raises(UserError) as caught:
        config.load(_paths(tmp_path, v3))
    assert caught.value.message.endswith(
        '"claude" (the configuration for '
        f"{project}) must be an object (the Claude Code state), not a string"
    )


def test_a_record_without_a_version_is_version_1(tmp_path: Path) -> None:
    legacy = _flat(TODAY)
    paths = _paths(tmp_path, legacy)
    before = paths.config_file.read_bytes()
    assert config.load(paths) == legacy
    assert config.load_record(paths)["version"] == 3
    assert paths.config_file.read_bytes() == before  # migrated in memory only


def test_null_means_not_recorded_and_unknown_keys_are_kept(tmp_path: Path) -> None:
    record = {**TODAY, "model": None, "ttl_seconds": None, "added_later": [1, 2]}
    assert config.load(_paths(tmp_path, record)) == _flat(record)


def _two(tmp_path: Path) -> dict[str, Any]:
    """Version 2 with two configurations: the home one (workspace A) and a project's (B)."""
    shared = {k: TODAY[k] for k in config.SHARED}
    home = {k: v for k, v in _flat(TODAY).items() if k not in config.SHARED}
    project = {
        **home,
        "host": "https://b.cloud.databricks.com",
        "profile": "b",
        "settings_location": str(tmp_path / "proj"),
        "settings_file": str(tmp_path / "proj/.claude/settings.json"),
    }
    home["settings_file"] = str(tmp_path / ".claude/settings.json")
    return {**shared, "version": 2, "configs": [home, project]}


def test_the_configuration_in_effect_is_the_one_claude_code_reads_there(tmp_path: Path) -> None:
    record = _two(tmp_path)
    paths = _paths(tmp_path, record)
    (tmp_path / "proj/sub").mkdir(parents=True)
    assert config.load(paths, tmp_path / "proj")["host"] == "https://b.cloud.databricks.com"
    # Claude Code reads project settings from the folder it starts in only: a subfolder and any
    # other folder get the home configuration.
    for cwd in (tmp_path / "proj/sub", tmp_path, "/"):
        assert config.load(paths, cwd)["host"] == "https://x.cloud.databricks.com"
    assert config.load(paths)["profile"] == "b"  # without a folder: the one written last
    views = config.views(config.load_record(paths))
    assert [v["profile"] for v in views] == ["DEFAULT", "b"]
    assert all(v["executable"] == TODAY["executable"] for v in views)  # shared keys in each
    local = tmp_path / "proj/.claude/settings.local.json"
    record["configs"][1]["settings_file"] = str(local)  # static mode's git-ignored file
    paths = _paths(tmp_path, record)
    assert config.load(paths, tmp_path / "proj")["profile"] == "b"


def test_without_a_home_configuration_another_folder_has_none(tmp_path: Path) -> None:
    record = _two(tmp_path)
    del record["configs"][0]
    paths = _paths(tmp_path, record)
    assert config.load(paths, tmp_path) is None
    with pytest.raises(UserError) as info:
        config.require(paths, tmp_path)
    assert info.value.message == (
        f"no dbx-fmapi-claude setup applies in {tmp_path}: Claude Code here reads none of the "
        f"settings files set up ({tmp_path}/proj/.claude/settings.json)"
    )
    assert info.value.fix.startswith(f"cd {tmp_path}/proj, or set this folder up: ")


def test_a_damaged_key_of_one_of_several_configurations_says_whose(tmp_path: Path) -> None:
    record = _two(tmp_path)
    record["configs"][1]["ttl_seconds"] = "abc"
    paths = _paths(tmp_path, record)
    with pytest.raises(config.RecordDamaged) as info:
        config.load(paths, tmp_path)
    where = tmp_path / "proj/.claude/settings.json"
    assert info.value.message == (
        f'{paths.config_path} is damaged: "ttl_seconds" (the configuration for {where}) must be '
        "a number of seconds above 0, not a string"
    )
    salvaged, notes = config.salvage(paths)
    assert "ttl_seconds" not in salvaged["configs"][1]
    assert salvaged["configs"][0] == _v3(dict(record["configs"][0])) and len(notes) == 1


def test_a_newer_version_is_refused(tmp_path: Path) -> None:
    paths = _paths(tmp_path, {**TODAY, "version": config.RECORD_VERSION + 1})
    with pytest.raises(config.RecordTooNew) as info:
        config.load(paths)
    assert info.value.message == (
        f"{paths.config_path} was written by a newer dbx-fmapi-claude (record version 4; this one "
        "reads up to version 3); nothing was changed"
    )
    assert info.value.code == 1
    with pytest.raises(config.RecordTooNew):
        config.salvage(paths)  # nor repaired nor removed by this release


# key -> (bad value, what the message says after the key); None: the key is removed
BAD_VALUES: dict[str, tuple[Any, str]] = {
    "ttl_seconds": ("abc", "must be a number of seconds above 0, not a string"),
    "margin_seconds": (-5, "must be a number of seconds, 0 or more, not -5"),
    "host": (42, "must be a workspace URL, not 42"),
    "profile": (["DEFAULT"], "must be a Databricks CLI profile name, not a list"),
    "token_mode": ("turbo", 'must be "helper" or "static", not "turbo"'),
    "auth": ("sso", 'must be "oauth", "m2m" or "pat", not "sso"'),
    "shell": (True, 'must be "zsh", "bash", "fish" or "none", not true'),
    "replaced": (
        {"ANTHROPIC_MODEL": "x"},
        'must be an object of {"value": ...} objects, not an object',
    ),
    "onboarding_added": ("yes", "must be true or false, not a string"),
    "version": ("1", "must be a whole number from 1, not a string"),
}


@pytest.mark.parametrize("key", list(BAD_VALUES))
def test_a_bad_value_names_the_file_the_key_and_the_fix(tmp_path: Path, key: str) -> None:
    value, says = BAD_VALUES[key]
    paths = _paths(tmp_path, {**TODAY, key: value})
    with pytest.raises(config.RecordDamaged) as info:
        config.load(paths)
    assert info.value.render("dbx-fmapi") == (
        f'dbx-fmapi: error: {paths.config_path} is damaged: "{key}" {says}\n'
        "  fix: re-run setup to rewrite it: setup-fmapi-claudecode"
    )
    assert info.value.code == 1 and info.value.key == key
    if key != "version":
        salvaged, notes = config.salvage(paths)
        assert config.views(salvaged) == [{k: v for k, v in _flat(TODAY).items() if k != key}]
        assert notes == [f'{paths.config_path}: "{key}" {says} (left out)']


def test_static_mode_needs_its_settings_file(tmp_path: Path) -> None:
    record = {k: v for k, v in TODAY.items() if k != "settings_file"}
    paths = _paths(tmp_path, {**record, "token_mode": "static"})
    with pytest.raises(config.RecordDamaged, match='"settings_file" is missing, and static'):
        config.load(paths)
    assert config.load(_paths(tmp_path, record)) == _flat(record)  # helper mode does without it


@pytest.mark.parametrize("text", ["NaN", "Infinity", "0", "true"])
def test_ttl_must_be_a_real_duration(tmp_path: Path, text: str) -> None:
    paths = _paths(tmp_path, json.dumps(TODAY)[:-1] + f', "ttl_seconds": {text}}}')
    with pytest.raises(config.RecordDamaged, match='"ttl_seconds" must be a number of seconds'):
        config.load(paths)


def test_a_deeply_nested_record_is_not_valid_json_not_a_crash(tmp_path: Path) -> None:
    paths = _paths(tmp_path, "[" * 100_000 + "]" * 100_000)
    with pytest.raises(config.UserError, match="is not valid JSON"):
        config.load(paths)


# --- every entry point, on a real setup -----------------------------------------------------------


def _set_up(sandbox: Sandbox, ws: FakeWorkspace, mode: str = "helper") -> None:
    sandbox.signed_in(ws)
    argv = ["setup-fmapi-claudecode", "--host", ws.url, "--skip-install", "--no-verify"]
    result = sandbox.run_here([*argv, "--shell", "bash", "--token-mode", mode], timeout=120)
    assert result.code == 0, result


def _edit(sandbox: Sandbox, change: Callable[[dict[str, Any]], None]) -> None:
    path = sandbox.home / RECORD
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _holder(data: dict[str, Any], key: str) -> dict[str, Any]:
    """Where `key` lives in a version-3 record: the top level, Claude Code's state, or the
    configuration."""
    if key == "version" or key in config.SHARED:
        return data
    configs: list[dict[str, Any]] = data["configs"]
    if key in config.CLAUDE_KEYS:
        claude: dict[str, Any] = configs[-1]["claude"]
        return claude
    return configs[-1]


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: _holder(data, key).__setitem__(key, value)


def _static_without_settings_file(data: dict[str, Any]) -> None:
    del data["configs"][-1]["settings_file"]


# case -> (token mode of the setup, the damage, what the error line says)
DAMAGE: dict[str, tuple[str, Callable[[dict[str, Any]], None], str]] = {
    "static mode without settings_file": (
        "static",
        _static_without_settings_file,
        'is damaged: "settings_file" is missing, and static token mode needs it',
    ),
    "ttl_seconds not a number": (
        "helper",
        _set("ttl_seconds", "abc"),
        'is damaged: "ttl_seconds" must be a number of seconds above 0, not a string',
    ),
    "token_mode unknown": (
        "helper",
        _set("token_mode", "turbo"),
        'is damaged: "token_mode" must be "helper" or "static", not "turbo"',
    ),
    "replaced not an object": (
        "helper",
        _set("replaced", []),
        'is damaged: "replaced" must be an object of {"value": ...} objects, not a list',
    ),
    "version from a newer release": (
        "helper",
        _set("version", 7),
        "was written by a newer dbx-fmapi-claude (record version 7; this one reads up to "
        "version 3); nothing was changed",
    ),
}

COMMANDS = {
    "status": ["dbx-fmapi", "status"],
    "status --json": ["dbx-fmapi", "status", "--json"],
    "token": ["dbx-fmapi", "token"],
    "wrapper": ["dbx-fmapi-claude", "--version"],
    "models": ["dbx-fmapi", "models"],
    "login": ["dbx-fmapi", "login"],
}


def _refused(result: Result, prog: str, says: str, path: Path, fix: str) -> None:
    assert result.code == 1, result
    assert "Traceback" not in result.output, result
    assert result.stderr.splitlines() == [f"{prog}: error: {path} {says}", f"  {fix}"], result
    assert result.stdout == "", result


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_record_is_one_line_and_the_fix_everywhere(
    sandbox: Sandbox, workspace: FakeWorkspace, case: str
) -> None:
    mode, damage, says = DAMAGE[case]
    _set_up(sandbox, workspace, mode)
    _edit(sandbox, damage)
    path = sandbox.home / RECORD
    fix = UPGRADE if "newer" in case else REPAIR
    before = sandbox.snapshot()
    workspace.clear_log()
    for name, argv in COMMANDS.items():
        result = sandbox.run_here(argv, timeout=60)
        _refused(result, argv[0], says, path, fix)
        assert sandbox.snapshot() == before, name
    # doctor: the Setup check fails with the same line and fix, exit 1, nothing else depends on it
    result = sandbox.run(["dbx-fmapi", "doctor"], timeout=120)
    assert result.code == 1, result
    assert "Traceback" not in result.output
    out = ANSI.sub("", result.stdout)
    assert f"FAIL  Setup: {path} {says}" in out, out
    assert f"      {fix}" in out, out
    assert sandbox.snapshot(exclude=VOLATILE) == {
        rel: data for rel, data in before.items() if rel in sandbox.snapshot(exclude=VOLATILE)
    }
    assert not any(r.path.startswith("/serving-endpoints") for r in workspace.log)


def test_setup_repairs_a_damaged_record_keeping_the_rest(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    _set_up(sandbox, workspace)
    _edit(sandbox, _set("ttl_seconds", "abc"))
    # An answer to keep (not a retired model: a re-run moves off one of those on purpose).
    _edit(sandbox, _set("opus", "databricks-claude-opus-4-5"))
    argv = ["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install", "--no-verify"]
    result = sandbox.run_here(argv, timeout=120)
    assert result.code == 0, result
    path = sandbox.home / RECORD
    assert f'warning: {path}: "ttl_seconds" must be a number of seconds' in result.stderr
    record = config_of(sandbox)
    assert record["ttl_seconds"] == 900 and record_of(sandbox)["version"] == 3
    assert record["opus"] == "databricks-claude-opus-4-5" and record["host"] == workspace.url
    assert sandbox.run_here(["dbx-fmapi", "status"]).code == 0


def test_setup_and_uninstall_refuse_a_record_from_a_newer_release(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    _set_up(sandbox, workspace)
    _edit(sandbox, _set("version", 4))
    before = sandbox.snapshot(exclude=VOLATILE)
    path = sandbox.home / RECORD
    says = "was written by a newer dbx-fmapi-claude (record version 4; this one reads up to"
    for argv in (
        ["setup-fmapi-claudecode", "--host", workspace.url, "--skip-install", "--no-verify"],
        ["dbx-fmapi", "uninstall", "--yes"],
    ):
        result = sandbox.run_here(argv, timeout=120)
        assert result.code == 1, result
        assert f"{argv[0]}: error: {path} {says}" in result.stderr, result
        assert UPGRADE in result.stderr and "Traceback" not in result.output
        assert sandbox.snapshot(exclude=VOLATILE) == before


def test_uninstall_goes_on_without_a_damaged_key(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    seeded = b'{\n  "env": {"FOO": "bar"}\n}\n'
    settings = sandbox.home / ".claude/settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_bytes(seeded)
    _set_up(sandbox, workspace)
    _edit(sandbox, _set("ttl_seconds", "abc"))
    result = sandbox.run_here(["dbx-fmapi", "uninstall", "--yes"])
    assert result.code == 0, result
    assert '"ttl_seconds" must be a number of seconds above 0, not a string (left out)' in (
        result.stdout
    )
    assert settings.read_bytes() == seeded  # restored byte for byte, as with an intact record
    assert not (sandbox.home / ".config/dbx-fmapi-claude").exists()


def test_a_home_set_up_today_keeps_working_and_its_record_is_never_rewritten(
    sandbox: Sandbox, workspace: FakeWorkspace
) -> None:
    """Today's record, and the same record without its version key (as written before the key
    existed): the same output from status, a working helper and wrapper, and no byte changed."""
    fake_claude(sandbox)
    _set_up(sandbox, workspace)
    path = sandbox.home / RECORD
    today = path.read_bytes()
    outputs = []
    for record in (today, today.replace(b'  "version": 1,\n', b"")):
        assert record.count(b'"version"') == (1 if record is today else 0)
        path.write_bytes(record)
        status = sandbox.run_here(["dbx-fmapi", "status", "--json"])
        assert status.code == 0, status
        data = json.loads(status.stdout)
        data["token"].pop("seconds_left")  # the clock moves between the two reads
        outputs.append(data)
        token = sandbox.run_here(["dbx-fmapi", "token"])
        assert token.code == 0 and workspace.token_state(token.stdout.strip()) == "valid", token
        wrapper = sandbox.run(["dbx-fmapi-claude", "--version"])
        assert wrapper.code == 0, wrapper
        assert path.read_bytes() == record
    assert outputs[0] == outputs[1]
