"""A private HOME and PATH for running programs (the product, the real `databricks` CLI, the real
`claude`) as a user would, without touching the real home. See tests/conftest.py for fixtures.

`databricks` on the sandbox's PATH is a /bin/sh shim that logs each call (databricks_calls())
and execs the real CLI ($DBX_TEST_DATABRICKS_BIN, built by scripts/test). use_fake_cli() swaps
in the fake CLI (tests/rig/fake_databricks.py), only for faults the real one cannot be made to
show: hanging, garbage output, a CLI too old for --force-refresh, a failing keyring. With
DBX_TEST_DATABRICKS_BIN unset (pytest run directly) every sandbox falls back to the fake;
conftest says so in pytest's header and summary.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from tests.rig.logins import LOGIN_LOCK as LOGIN_LOCK  # tests import the lock from here
from tests.rig.logins import LOGIN_LOCK_LOG_ENV as LOGIN_LOCK_LOG_ENV
from tests.rig.logins import LOGIN_LOCK_WAIT as LOGIN_LOCK_WAIT
from tests.rig.logins import LOGIN_SLACK, _metered_exec, end_logins, login_lock_sh, login_pdeath_sh
from tests.rig.logins import login_lock as login_lock

RIG_DIR = Path(__file__).resolve().parent
REPO_ROOT = RIG_DIR.parent.parent
SYSTEM_PATH = ("/usr/bin", "/bin")
ENTRY_POINTS = ("dbx-fmapi", "dbx-fmapi-claude", "setup-fmapi-claudecode")
BLOCKED_INSTALLERS = ("curl", "npm", "brew")

CODING_AGENT_HEADER = "x-databricks-use-coding-agent-mode: true"
DEFAULT_MODEL = "databricks-claude-sonnet-4-5"
LOCAL_TZ = "CET-1CEST,M3.5.0,M10.5.0/3"  # POSIX form: needs no tzdata
# The product's "today" for model retirements (DBX_FMAPI_TODAY): before sonnet-4-5's retirement
# week, the world the 2025 catalogue (default_endpoints) was written for. ISSUE_13_TODAY is the
# day the current catalogue's tests run at.
RIG_TODAY = "2026-10-01"
ISSUE_13_TODAY = "2026-11-29"
DATABRICKS_BIN_ENV = "DBX_TEST_DATABRICKS_BIN"
# Knobs only the fake CLI has: the shim in front of the real one refuses to run with them set,
# so a test that forgot use_fake_cli() fails loudly instead of testing nothing.
FAKE_ONLY_KNOBS = (
    "FAKE_DATABRICKS_HANG",
    "FAKE_DATABRICKS_GARBAGE",
    "FAKE_DATABRICKS_REFRESH_WINDOW",
    "FAKE_DATABRICKS_VERSION",
    "FAKE_DATABRICKS_KEYRING_FAIL",
    "FAKE_DATABRICKS_KEYRING",
)
V1_VERSION = "1.13.0"  # use_fake_cli(version=V1_VERSION): the fake plays the CLI users run
_US, _RS = "\x1f", "\x1e"  # field and record separators of the call logs


def real_databricks_bin() -> str | None:
    """The real Databricks CLI the tests use ($DBX_TEST_DATABRICKS_BIN), or None."""
    return os.environ.get(DATABRICKS_BIN_ENV) or None


_versions: dict[str, str] = {}


def databricks_version(exe: str | None = None) -> str:
    """`databricks --version` of the real CLI (e.g. "0.298.0"), of the fake when there is none."""
    exe = exe or real_databricks_bin()
    if exe is None:
        from tests.rig.fake_databricks import VERSION

        return VERSION
    if exe not in _versions:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
        _versions[exe] = out.stdout.strip().rsplit(" ", 1)[-1].lstrip("v")
    return _versions[exe]


def go_time(ts: float) -> str:
    """A time as Go's encoding/json writes time.Time (RFC 3339, up to 9 fraction digits with
    trailing zeros trimmed, Z or the local offset), which the CLI reads back from its cache."""
    import datetime as dt

    ns = int(round(ts * 1e9))
    secs, frac = divmod(ns, 1_000_000_000)
    local = dt.datetime.fromtimestamp(secs).astimezone()
    offset = local.strftime("%z")
    tz = "Z" if offset in ("+0000", "-0000") else f"{offset[:3]}:{offset[3:]}"
    digits = f"{frac:09d}".rstrip("0")
    return local.strftime("%Y-%m-%dT%H:%M:%S") + (f".{digits}" if digits else "") + tz


def parse_go_time(text: str) -> float:
    """Epoch seconds of a time Go wrote (go_time's format; any offset, 0-9 fraction digits)."""
    import datetime as dt

    m = re.fullmatch(r"(.+T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text.strip())
    if not m:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    base, frac, rest = m.group(1), m.group(2) or "", m.group(3)
    whole = dt.datetime.fromisoformat(base + ("+00:00" if rest == "Z" else rest)).timestamp()
    return whole + (int(frac) / 10 ** len(frac) if frac else 0.0)


def tzif(posix: str, std: tuple[str, int], dst: tuple[str, int]) -> bytes:
    """A TZif (v2) file for a POSIX TZ rule: one transition at the epoch, then the rule as the
    footer. Go reads TZ only as a zone name or file (never a POSIX rule, it falls back to UTC),
    so the real CLI gets LOCAL_TZ as this file to print expiry with a local offset."""
    chars = f"{std[0]}\0{dst[0]}\0".encode()

    def header(timecnt: int, typecnt: int) -> bytes:
        return b"TZif2" + b"\0" * 15 + struct.pack(">6l", 0, 0, 0, timecnt, typecnt, len(chars))

    v1 = header(0, 1) + struct.pack(">lBB", std[1], 0, 0) + chars
    v2 = header(1, 2) + struct.pack(">qB", 0, 0)
    v2 += struct.pack(">lBB", std[1], 0, 0) + struct.pack(">lBB", dst[1], 1, len(std[0]) + 1)
    return v1 + v2 + chars + f"\n{posix}\n".encode()


def python_launcher(path: Path, module_file: Path) -> Path:
    """Write an executable shell script at `path` that runs `module_file` with this Python."""
    script = (
        f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -I {shlex.quote(str(module_file))} "$@"\n'
    )
    path.write_text(script)
    path.chmod(0o755)
    return path


def foreground_job() -> None:
    """preexec_fn for a program a test types Ctrl-C into: SIGINT as a terminal's foreground job
    has it. A test run started as a background job of a non-interactive shell (`./scripts/test &`
    beside other suites) has SIGINT ignored, and every child inherits that; Ctrl-C then did
    nothing and the test waited for its timeout. test_setup_interactive covers the inherited
    case on purpose."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def install_fake_databricks(bin_dir: Path) -> Path:
    """Put an executable `databricks` (the fake CLI) into bin_dir."""
    return python_launcher(bin_dir / "databricks", RIG_DIR / "fake_databricks.py")


def install_browser(bin_dir: Path) -> Path:
    """Put the test browser (`rig-browser URL`) into bin_dir."""
    return python_launcher(bin_dir / "rig-browser", RIG_DIR / "browser.py")


def claude_env(
    base_url: str,
    token: str | None = None,
    model: str = DEFAULT_MODEL,
    **extra: str,
) -> dict[str, str]:
    """The `env` block the product writes into Claude settings (the seed's variables)."""
    env = {
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_MODEL": model,
        "ANTHROPIC_CUSTOM_HEADERS": CODING_AGENT_HEADER,
        "CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS": "1",
    }
    if token is not None:
        env["ANTHROPIC_AUTH_TOKEN"] = token
    env.update(extra)
    return env


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    argv: list[str] = field(default_factory=list)
    duration: float = 0.0

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __repr__(self) -> str:
        return (
            f"Result(code={self.code}, argv={self.argv!r}, {self.duration:.2f}s,\n"
            f"  stdout={self.stdout[-2000:]!r},\n  stderr={self.stderr[-2000:]!r})"
        )


class RunTimeout(AssertionError):
    def __init__(self, argv: list[str], timeout: float, stdout: str, stderr: str) -> None:
        super().__init__(
            f"{argv!r} did not finish in {timeout}s\n"
            f"stdout: {stdout[-2000:]!r}\nstderr: {stderr[-2000:]!r}"
        )
        self.stdout = stdout
        self.stderr = stderr


class Sandbox:
    """tmp/home (HOME), tmp/bin (first on PATH), a clean environment for subprocesses."""

    def __init__(
        self,
        root: Path,
        claude_bin: str | None = None,
        home: Path | None = None,
        databricks_bin: str | None = "",
    ):
        """databricks_bin: the real CLI ("" = $DBX_TEST_DATABRICKS_BIN; None = the fake)."""
        self.root = root
        self.home = home or root / "home"
        self.bin = root / "bin"
        self.tmp = root / "tmp"
        self.rig = root / "rig"  # rig's own files: logs, the browser, fake program call logs
        for d in (self.home, self.bin, self.tmp, self.rig):
            d.mkdir(parents=True, exist_ok=True)
        self.claude_bin = claude_bin
        self.databricks_log = self.rig / "databricks.log"
        self.browser_log = self.rig / "browser.log"
        self.databricks_bin = real_databricks_bin() if databricks_bin == "" else databricks_bin
        self.databricks_cache = self.rig / "databricks-cache"
        self.fake_cli = False
        self.fake_knobs: dict[str, str] = {}  # exported to the fake CLI by the shim
        self._install_cli()
        self.browser = install_browser(self.rig)
        if claude_bin:
            (self.bin / "claude").symlink_to(claude_bin)
        venv_bin = Path(sys.executable).parent
        for name in ENTRY_POINTS:
            if (venv_bin / name).exists():
                (self.bin / name).symlink_to(venv_bin / name)
        self._system_path: list[str] = list(SYSTEM_PATH)
        self._removed: set[str] = set()
        # Installers never reach the real machine from a test: a setup run that decides Claude
        # Code or the CLI is missing gets these refusing fakes (tests replace them as needed).
        for name in BLOCKED_INSTALLERS:
            self.fake_program(name, f'echo "{name}: not available in tests" >&2\nexit 127\n')
        self.env: dict[str, str] = {
            "HOME": str(self.home),
            "USER": os.environ.get("USER", "tester"),
            "LOGNAME": os.environ.get("LOGNAME", os.environ.get("USER", "tester")),
            "SHELL": "/bin/bash",
            "PATH": "",
            "TMPDIR": str(self.tmp),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TERM": "dumb",
            # A non-UTC zone: the fake CLI prints expiry with the local offset, like the real one.
            "TZ": LOCAL_TZ,
            "DISABLE_AUTOUPDATER": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "BROWSER": str(self.browser),
            "RIG_BROWSER_LOG": str(self.browser_log),
            # The real CLI (needed from v1.0, harmless before): tokens in the plaintext file
            # under HOME, never the machine's keyring; its host-metadata cache in the sandbox.
            "DATABRICKS_AUTH_STORAGE": "plaintext",
            "DATABRICKS_CACHE_DIR": str(self.databricks_cache),
            # The date the model-retirement rules use: fixed, so no test changes with the
            # calendar (tests of those rules set their own).
            "DBX_FMAPI_TODAY": RIG_TODAY,
            # Managed settings (an administrator's) are looked for here, not in /etc/claude-code.
            "DBX_FMAPI_MANAGED_SETTINGS_DIR": str(self.rig / "managed-settings"),
        }
        self._update_path()

    # ------------------------------------------------------------------ PATH

    def _update_path(self) -> None:
        self.env["PATH"] = os.pathsep.join([str(self.bin), *self._system_path])

    def which(self, name: str) -> str | None:
        return shutil.which(name, path=self.env["PATH"])

    def fake_program(self, name: str, script_body: str = "exit 0\n") -> Path:
        """Put a recording fake `name` first on PATH: it logs its argv (see .calls) and then
        runs script_body with /bin/sh."""
        log = self.rig / f"calls-{name}.log"
        header = (
            "#!/bin/sh\n"
            f'{{ for a in "$@"; do printf "%s\\037" "$a"; done; printf "\\036"; }}'
            f" >> {shlex.quote(str(log))}\n"
        )
        path = self.bin / name
        if path.is_symlink() or path.exists():
            path.unlink()
        path.write_text(header + script_body + ("\n" if not script_body.endswith("\n") else ""))
        path.chmod(0o755)
        self._removed.discard(name)
        return path

    def calls(self, name: str) -> list[list[str]]:
        """argv (without the program name) of each call of a fake_program, in order."""
        log = self.rig / f"calls-{name}.log"
        if not log.exists():
            return []
        records = log.read_bytes().decode("utf-8", "surrogateescape").split("\x1e")
        return [r.split("\x1f")[:-1] for r in records[:-1]]

    def remove(self, name: str) -> None:
        """Take a program off PATH (also one that lives in /usr/bin or /bin)."""
        path = self.bin / name
        if path.is_symlink() or path.exists():
            path.unlink()
        if any(os.path.exists(os.path.join(d, name)) for d in SYSTEM_PATH):
            self._removed.add(name)
            sysbin = self.root / "sysbin"
            if self._system_path == [str(sysbin)]:  # built already: one link less
                with contextlib.suppress(FileNotFoundError):
                    (sysbin / name).unlink()
            else:
                self._build_sysbin()

    def _build_sysbin(self) -> None:
        """Replace /usr/bin:/bin on PATH by a folder of links to them, minus removed names."""
        sysbin = self.root / "sysbin"
        if sysbin.exists():
            shutil.rmtree(sysbin)
        sysbin.mkdir()
        for d in SYSTEM_PATH:
            for entry in os.scandir(d):
                if entry.name in self._removed:
                    continue
                link = sysbin / entry.name
                if not os.path.lexists(link):
                    link.symlink_to(entry.path)
        self._system_path = [str(sysbin)]
        self._update_path()

    # ------------------------------------------------------------------ running

    def _env(self, extra: Mapping[str, str | None] | None) -> dict[str, str]:
        env = dict(self.env)
        for k, v in (extra or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def run(
        self,
        argv: list[str] | str,
        *,
        input: str | None = None,
        timeout: float = 60,
        env: Mapping[str, str | None] | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ) -> Result:
        """Run a program with the sandbox environment (stdin: `input`, else /dev/null)."""
        if isinstance(argv, str):
            argv = shlex.split(argv)
        argv = [str(a) for a in argv]
        full_env = self._env(env)
        exe = argv[0]
        if "/" not in exe:
            found = shutil.which(exe, path=full_env.get("PATH", ""))
            if found is None:
                return Result(127, "", f"{exe}: command not found\n", argv)
            exe = found
        start = time.monotonic()
        proc = subprocess.Popen(
            [exe, *argv[1:]],
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            cwd=str(cwd or self.home),
            start_new_session=True,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            raise RunTimeout(argv, timeout, out, err) from None
        return Result(proc.returncode, out, err, argv, time.monotonic() - start)

    def run_here(
        self,
        argv: list[str],
        *,
        input: str | None = None,
        env: Mapping[str, str | None] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        timeout: float = 120,
    ) -> Result:
        """.run(argv) for `dbx-fmapi COMMAND` or `setup-fmapi-claudecode`, inside the test
        process (tests/rig/inprocess.py): for tests about what a command does, not about the
        program's start, exit or signals. Any other program (the wrapper, an agent, a test's
        stand-in) runs as .run would run it, `timeout` its bound; in-process there is none: a
        command that may hang runs with .run."""
        from tests.rig.inprocess import run_in_process

        return run_in_process(self, argv, input=input, env=env, cwd=cwd, timeout=timeout)

    # ------------------------------------------------------------------ databricks

    def _install_cli(self) -> None:
        self.write_cli(self.bin / "databricks")

    def write_cli(self, path: Path) -> Path:
        """Write the `databricks` shim at `path` (bin/databricks, or where a test's fake
        installer puts the CLI): it appends "pid US time US argv... RS" to databricks_log in one
        write (to $RIG_DATABRICKS_LOG instead when set: /dev/null under a file-size limit), then
        execs the real CLI, or the fake one (use_fake_cli(), or no real CLI)."""
        log = shlex.quote(str(self.databricks_log))
        record = (
            f'rec="$${_US}$(date +%s.%N)"\n'
            f'for a in "$@"; do rec="$rec{_US}$a"; done\n'
            f'printf \'%s{_RS}\' "$rec" >> "${{RIG_DATABRICKS_LOG:-{log}}}"\n'
        )
        zone = self.rig / "localtime.tzif"
        if not zone.exists():
            zone.write_bytes(tzif(LOCAL_TZ, ("CET", 3600), ("CEST", 7200)))
        # Go reads no POSIX TZ rule (it takes it for UTC): give it the same zone as a file.
        body = f'[ "${{TZ-}}" = {shlex.quote(LOCAL_TZ)} ] && TZ={shlex.quote(str(zone))}\n'
        body += login_lock_sh()
        if self.real_cli:
            assert self.databricks_bin is not None
            knobs = "".join(f"${{{k}-}}" for k in FAKE_ONLY_KNOBS)
            body += (
                f'if [ -n "{knobs}" ]; then\n'
                "  echo 'rig: FAKE_DATABRICKS_* knobs set, but this is the real CLI: "
                "call sandbox.use_fake_cli()' >&2\n"
                "  exit 97\n"
                "fi\n" + _metered_exec(shlex.quote(self.databricks_bin))
            )
        else:
            for knob, value in self.fake_knobs.items():
                body += f"{knob}={shlex.quote(value)}; export {knob}\n"
            fake = RIG_DIR / "fake_databricks.py"
            body += _metered_exec(f"{shlex.quote(sys.executable)} -I {shlex.quote(str(fake))}")
        if path.is_symlink() or path.exists():
            path.unlink()
        path.write_text("#!/bin/sh\n" + login_pdeath_sh() + record + body)
        path.chmod(0o755)
        return path

    @property
    def real_cli(self) -> bool:
        """Is `databricks` the real CLI (not the fake)?"""
        return bool(self.databricks_bin) and not self.fake_cli

    def use_fake_cli(self, version: str | None = None, keyring_fail: bool | str = False) -> None:
        """Put the fake CLI behind bin/databricks (still logged), for the faults only it can
        show: FAKE_DATABRICKS_HANG / _GARBAGE / _REFRESH_WINDOW in a run's env, a CLI older than
        v0.296 (`version`: no --force-refresh), v1.x (`version=V1_VERSION`: its OS keyring is
        the file `keyring_path`), the keyring failing (`keyring_fail`: True for the Keychain's
        `exit status 45` on a store, "unreachable" or "timeout" for every operation). It reads
        and writes the same ~/.databrickscfg and token cache as the real one."""
        self.fake_cli = True
        self.fake_knobs = {"FAKE_DATABRICKS_KEYRING": str(self.keyring_path)}
        if version:
            self.fake_knobs["FAKE_DATABRICKS_VERSION"] = version
        if keyring_fail:
            self.fake_knobs["FAKE_DATABRICKS_KEYRING_FAIL"] = (
                "1" if keyring_fail is True else str(keyring_fail)
            )
        self._install_cli()

    @property
    def keyring_path(self) -> Path:
        """The fake v1.x CLI's OS keyring (outside HOME, as a real keyring is)."""
        return self.rig / "os-keyring.json"

    def keyring(self) -> dict[str, Any]:
        """{account: token entry} the fake v1.x CLI keeps in its keyring ({} when none)."""
        if not self.keyring_path.exists():
            return {}
        items = json.loads(self.keyring_path.read_text())
        return {k.split("/", 1)[1]: json.loads(v)["token"] for k, v in items.items()}

    def use_real_cli(self) -> None:
        """Back to the real CLI after use_fake_cli() (the fake when there is no real one)."""
        self.fake_cli = False
        self.fake_knobs = {}
        self._install_cli()

    def databricks_calls(self) -> list[dict[str, Any]]:
        """One {"argv", "time", "pid"} per invocation of `databricks` (real or fake)."""
        if not self.databricks_log.exists():
            return []
        records = self.databricks_log.read_bytes().decode("utf-8", "surrogateescape")
        calls = []
        for rec in records.split(_RS)[:-1]:
            pid, when, *argv = rec.split(_US)
            calls.append({"argv": argv, "time": float(when), "pid": int(pid)})
        return calls

    def logins(self) -> int:
        """How many `databricks auth login` runs the sandbox saw (setup's, the wrapper's, the
        tests' own .login; not .signed_in's replays)."""
        return len([c for c in self.databricks_calls() if c["argv"][:2] == ["auth", "login"]])

    def link_program(self, name: str, exe: str) -> None:
        """Put a real program (an agent) on the sandbox's PATH under `name`, unless one is."""
        target = self.bin / name
        if not target.exists():
            target.symlink_to(exe)

    def browser_visits(self, wait: float = 2.0) -> list[dict[str, Any]]:
        """The test browser's visits ({"url", "status", "final", "error"}). The browser runs
        detached, so this waits up to `wait` seconds for a first record."""
        deadline = time.monotonic() + wait
        while not self.browser_log.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self.browser_log.exists():
            return []
        lines = self.browser_log.read_text().splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]

    def trust(self, workspace: Any) -> None:
        """Trust a TLS workspace's CA in every later run (Python and Node)."""
        if getattr(workspace, "ca_file", None):
            self.env["SSL_CERT_FILE"] = workspace.ca_file
            self.env["NODE_EXTRA_CA_CERTS"] = workspace.ca_file

    def login(self, workspace: Any, profile: str = "DEFAULT", timeout: float = 30) -> Result:
        """`databricks auth login` against the workspace, so the profile and token cache exist.
        A TLS workspace's CA gets trusted first (see .trust)."""
        self.trust(workspace)
        visits = len(self.browser_visits(wait=0))
        result = self.run(
            [
                "databricks",
                "auth",
                "login",
                "--host",
                workspace.url,
                "--profile",
                profile,
                "--timeout",
                f"{int(timeout)}s",
            ],
            # The shim waits up to LOGIN_LOCK_WAIT for the machine-wide lock before the CLI
            # starts its --timeout: giving up sooner left the login running, holding the lock.
            timeout=LOGIN_LOCK_WAIT + timeout + LOGIN_SLACK,
        )
        assert result.code == 0, result
        # The CLI is done once the callback came; its detached browser logs the visit after
        # that. Wait for the record, so a test that counts visits from here counts from after it.
        deadline = time.monotonic() + timeout
        while len(self.browser_visits(wait=0)) == visits and time.monotonic() < deadline:
            time.sleep(0.02)
        return result

    def end_logins(self) -> list[int]:
        """Kill the logins this sandbox left running (they hold or wait for the machine-wide
        login lock); the `sandbox` fixture calls it when its test ends. Their pids."""
        return end_logins(self.home)

    def signed_in(self, workspace: Any, profile: str = "DEFAULT") -> None:
        """As after .login(workspace, profile), without a browser or the login lock: the
        profile and the real CLI's token cache as one real `auth login` wrote them (in a sandbox
        of its own, once per test process, see _login_template), for this workspace's URL, with
        a fresh access and refresh token this workspace issued. For tests that need a signed-in
        CLI, not a login. Falls back to .login() where a replay would not be faithful: the fake
        CLI, a profile or token cache already there, a workspace with other ids."""
        from tests.rig.logins import replay_login

        replay_login(self, workspace, profile)

    @property
    def token_cache_path(self) -> Path:
        """The CLI's plaintext token store (DATABRICKS_AUTH_STORAGE=plaintext)."""
        return self.home / ".databricks" / "token-cache.json"

    def token_cache(self) -> dict[str, Any]:
        """{"version": 1, "tokens": {profile or host URL: {access_token, token_type,
        refresh_token, expiry, expires_in}}}, as the CLI wrote it; {} when absent."""
        path = self.token_cache_path
        return dict(json.loads(path.read_text())) if path.exists() else {}

    def cached_token(self, profile: str = "DEFAULT") -> str:
        """The access token the CLI holds for a profile (raw: do not print it)."""
        return str(self.token_cache()["tokens"][profile]["access_token"])

    def set_token_expiry(self, seconds_left: float, profile: str = "DEFAULT") -> None:
        """Make the CLI's cached token for `profile` (and the same token under its host key)
        expire in `seconds_left` seconds (negative: already expired) - client side only; see
        FakeWorkspace.expire_access_tokens for the server side. Written as Go writes it
        (RFC 3339, nanoseconds, local offset); the file keeps its mode (0600)."""
        path = self.token_cache_path
        cache = json.loads(path.read_text())
        access = cache["tokens"][profile]["access_token"]
        for entry in cache["tokens"].values():
            if entry.get("access_token") == access:
                entry["expiry"] = go_time(time.time() + seconds_left)
        path.write_text(json.dumps(cache, indent=2))

    def apply_env(self, monkeypatch: Any) -> None:
        """Make in-process code see the sandbox environment (PATH with the fake CLI, HOME...)."""
        for key in list(os.environ):
            if key not in self.env and key.startswith(("DATABRICKS_", "ANTHROPIC_", "BROWSER")):
                monkeypatch.delenv(key, raising=False)
        for key, value in self.env.items():
            monkeypatch.setenv(key, value)

    # ------------------------------------------------------------------ claude

    def write_claude_settings(
        self, settings: Mapping[str, Any], path: str | os.PathLike[str] | None = None
    ) -> Path:
        target = Path(path) if path else self.home / ".claude" / "settings.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(settings, indent=2) + "\n")
        return target

    def seed_onboarding(self) -> None:
        """~/.claude.json with hasCompletedOnboarding: true (when absent)."""
        path = self.home / ".claude.json"
        if not path.exists():
            path.write_text(json.dumps({"hasCompletedOnboarding": True}) + "\n")

    def claude(
        self,
        args: list[str],
        *,
        settings: Mapping[str, Any] | None = None,
        timeout: float = 120,
        env: Mapping[str, str | None] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        input: str | None = None,
        onboarded: bool = True,
    ) -> Result:
        """Run the real claude (private HOME, no autoupdate, no nonessential traffic).

        settings: written to ~/.claude/settings.json first (replacing it) when given.
        """
        if not self.claude_bin:
            raise RuntimeError("no claude binary (DBX_TEST_CLAUDE_BIN unset)")
        if settings is not None:
            self.write_claude_settings(settings)
        if onboarded:
            self.seed_onboarding()
        extra: dict[str, str | None] = {
            "DISABLE_AUTOUPDATER": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        }
        extra.update(env or {})
        return self.run([self.claude_bin, *args], input=input, timeout=timeout, env=extra, cwd=cwd)

    # ------------------------------------------------------------------ files

    def snapshot(self, exclude: Iterable[str] = ()) -> dict[str, bytes]:
        """{relative path: bytes} of every file under home; a symlink is recorded as
        b"symlink -> <target>". `exclude`: glob patterns on the relative path."""
        patterns = list(exclude)
        out: dict[str, bytes] = {}
        for dirpath, dirnames, filenames in os.walk(self.home):
            base = Path(dirpath)
            for name in list(dirnames):
                p = base / name
                if p.is_symlink():
                    rel = p.relative_to(self.home).as_posix()
                    if not any(fnmatch(rel, pat) for pat in patterns):
                        out[rel] = b"symlink -> " + os.fsencode(os.readlink(p))
            for name in filenames:
                p = base / name
                rel = p.relative_to(self.home).as_posix()
                if any(fnmatch(rel, pat) for pat in patterns):
                    continue
                if p.is_symlink():
                    out[rel] = b"symlink -> " + os.fsencode(os.readlink(p))
                else:
                    out[rel] = p.read_bytes()
        return dict(sorted(out.items()))
