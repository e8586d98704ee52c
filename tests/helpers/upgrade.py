"""Running an old release's installed commands beside this code's in one sandbox, and the
comparison of what each says: for the upgrade tests."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from tests.rig.sandbox import Result, Sandbox

PROGRAMS = ("dbx-fmapi", "dbx-fmapi-claude", "setup-fmapi-claudecode")


def _install_switch(sandbox: Sandbox) -> None:
    """The installed commands, at one path for both releases (as after a `git pull` and the
    bootstrap): with OLD_RELEASE set they run that release, else this code. The variable is
    inherited, so what the release runs (doctor runs the apiKeyHelper) is the release too."""
    venv_bin = Path(sys.executable).parent
    for name in PROGRAMS:
        # The release's package goes first on sys.path in that process only: PYTHONPATH would
        # leak into what it runs (doctor runs the apiKeyHelper, this code's script).
        run_old = (
            "import runpy, sys; root = sys.argv.pop(1); sys.path.insert(0, root + '/src'); "
            f"sys.argv[0] = '{name}'; runpy.run_path(root + '/bin/{name}', run_name='__main__')"
        )
        sandbox.fake_program(
            name,
            'if [ -n "$OLD_RELEASE" ]; then\n'
            f'  exec {sys.executable} -c "{run_old}" "$OLD_RELEASE" "$@"\n'
            "fi\n"
            f'exec {venv_bin / name} "$@"\n',
        )


def _old(sandbox: Sandbox, release: Path, program: str, *args: str, **kw: Any) -> Result:
    """`program` as the release installed it."""
    return sandbox.run([program, *args], env={"OLD_RELEASE": str(release)}, **kw)


_LEFT = re.compile(r"\d+m left \(until \d\d:\d\d\)")


def _json(result: Result) -> dict[str, Any]:
    data = dict(json.loads(result.stdout))
    if isinstance(data.get("token"), dict):
        data["token"].pop("seconds_left", None)  # moves with the clock between two reads
    return data


def _kept(was: Any, now: Any) -> Any:
    """`now` reduced to the keys `was` had, at every depth: keys added since come on top."""
    if isinstance(was, dict) and isinstance(now, dict):
        return {k: _kept(v, now.get(k)) for k, v in was.items()}
    return now


def _same_as_before(name: str, old: Result, new: Result) -> None:
    """This code says at least what the release said: the same exit code, every line (status),
    every key with the same value (status --json), every check with the same verdict (doctor),
    the same files to change (uninstall). Lines and checks added since (the credential, the
    route) come on top."""
    assert new.code == old.code, (name, old, new)
    if name == "status":
        lines = {_LEFT.sub("left", line) for line in new.stdout.splitlines()}
        missing = [x for x in old.stdout.splitlines() if _LEFT.sub("left", x) not in lines]
        assert not missing, (missing, new.stdout)
    elif name == "status --json":
        was, now = _json(old), _json(new)
        assert now.pop("version") >= was.pop("version")  # the schema's, raised as keys came
        assert _kept(was, now) == was
    elif name == "doctor --json":
        verdicts = {c["id"]: c["status"] for c in _json(new)["checks"]}
        was = {c["id"]: c["status"] for c in _json(old)["checks"]}
        assert {k: verdicts.get(k) for k in was} == was
    elif name == "uninstall --dry-run":
        files = re.compile(r"^\+\+\+ (\S+)", re.M)
        assert files.findall(new.stdout) == files.findall(old.stdout), (old.stdout, new.stdout)
    else:
        assert (new.stdout, new.stderr) == (old.stdout, old.stderr), name


COMMANDS = {
    "status": ("dbx-fmapi", "status"),
    "status --json": ("dbx-fmapi", "status", "--json"),
    "doctor --json": ("dbx-fmapi", "doctor", "--json"),
    "token": ("dbx-fmapi", "token"),
    "wrapper": ("dbx-fmapi-claude", "--version"),
    "uninstall --dry-run": ("dbx-fmapi", "uninstall", "--dry-run"),
}
