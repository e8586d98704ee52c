"""Parity: the fake `databricks` CLI (tests/rig/fake_databricks.py) says what the real one says.

Each scenario runs twice, once through the real CLI ($DBX_TEST_DATABRICKS_BIN, else the newest
.cache/databricks-cli/<version>/databricks) and once through the fake, each with its own fresh
HOME, cache folder and FakeWorkspace. Every step's exit code, stdout and stderr is compared, and
so are the files the CLI leaves (~/.databrickscfg and its backup, the token cache with its mode,
the host-metadata cache) and the requests the workspace saw. Only what must differ between two
runs is normalised: the workspace's address, the temporary folder, token values (numbered in
order of appearance, so "the same token again" still shows) and times (numbered the same way,
zone suffix kept). When a scenario's words differ the test fails with a diff of both transcripts.

Scenarios that would take the real CLI minutes (its HTTP client retries a refused connection for
~5 minutes) are run with `--timeout 1s`, or not at all; the fake's own knobs for faults the real
CLI cannot show (hang, garbage, an old version, a failing keyring) are outside parity.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.rig.fake_databricks import VERSION as FAKE_VERSION
from tests.rig.sandbox import RIG_DIR, install_browser, login_lock, python_launcher
from tests.rig.workspace import FakeWorkspace

REPO = Path(__file__).resolve().parent.parent.parent
BIN_ENV = "DBX_TEST_DATABRICKS_BIN"
POSIX_TZ = "CET-1CEST,M3.5.0,M10.5.0/3"  # what the sandbox uses; Go reads it as UTC
ZONE_NAME = "Europe/Berlin"


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in path.parent.name.split("."))


def find_real_cli() -> tuple[str | None, str]:
    """(path of the real CLI, why there is none)."""
    configured = os.environ.get(BIN_ENV)
    if configured:
        if os.access(configured, os.X_OK):
            return configured, ""
        return None, f"{BIN_ENV}={configured} is not an executable file"
    pinned = REPO / ".cache" / "databricks-cli" / FAKE_VERSION / "databricks"
    if os.access(pinned, os.X_OK):
        return str(pinned), ""
    found = sorted(
        (p for p in REPO.glob(".cache/databricks-cli/*/databricks") if os.access(p, os.X_OK)),
        key=_version_key,
    )
    if found:
        return str(found[-1]), ""
    return None, (
        f"no real Databricks CLI: {BIN_ENV} is unset and .cache/databricks-cli/*/databricks is "
        "absent (./scripts/test builds it)"
    )


REAL_CLI, WHY_NOT = find_real_cli()
pytestmark = pytest.mark.skipif(REAL_CLI is None, reason=WHY_NOT)


def zone() -> str | None:
    """A named zone both read the same way (a local offset in every expiry), when tzdata exists;
    else None: both read /etc/localtime."""
    return ZONE_NAME if os.path.isfile(f"/usr/share/zoneinfo/{ZONE_NAME}") else None


@contextlib.contextmanager
def _login_lock(argv: tuple[str, ...]) -> Iterator[tuple[int, ...]]:
    """The rig's login lock (tests.rig.sandbox.login_lock) for `auth login`, handed to the CLI:
    both CLIs listen on the first free port of 8020-8040, shared with every other test."""
    if argv[:2] != ("auth", "login"):
        yield ()
        return
    with login_lock() as fd:
        yield (fd,)


# --------------------------------------------------------------------------- one side of a run


class Side:
    """A fresh HOME, PATH and FakeWorkspace for one CLI; records a transcript of what it saw."""

    def __init__(self, kind: str, root: Path, tls: bool = False) -> None:
        self.kind = kind
        self.root = root
        self.home = root / "home"
        self.bin = root / "bin"
        self.cache = root / "cache"
        for d in (self.home, self.bin, self.cache, root / "rig"):
            d.mkdir(parents=True)
        if kind == "real":
            assert REAL_CLI is not None
            (self.bin / "databricks").symlink_to(REAL_CLI)
        else:
            python_launcher(self.bin / "databricks", RIG_DIR / "fake_databricks.py")
        browser = install_browser(root / "rig")
        self.env: dict[str, str] = {
            "HOME": str(self.home),
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "BROWSER": str(browser),
            "RIG_BROWSER_LOG": str(root / "rig" / "browser.log"),
            "DATABRICKS_AUTH_STORAGE": "plaintext",
            "DATABRICKS_CACHE_DIR": str(self.cache),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TMPDIR": str(root),
        }
        tz = zone()
        if tz:
            self.env["TZ"] = tz
        self.ws = FakeWorkspace(tls=tls).start()
        # Kept from the start: the workspace forgets its address once stopped.
        self.ws_url, self.ws_port = self.ws.url, self.ws.port
        self.transcript: list[str] = []

    def close(self) -> None:
        self.ws.stop()

    @property
    def cfg(self) -> Path:
        return self.home / ".databrickscfg"

    @property
    def token_cache(self) -> Path:
        return self.home / ".databricks" / "token-cache.json"

    def note(self, text: str) -> None:
        self.transcript.append(text)

    # -- actions

    def run(self, *argv: str, env: dict[str, str] | None = None, timeout: float = 60) -> None:
        import subprocess

        full = dict(self.env)
        full.update(env or {})
        with _login_lock(argv) as fds:
            proc = subprocess.run(
                ["databricks", *argv],
                env=full,
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                pass_fds=fds,
            )
        shown = " ".join(argv)
        extra = " ".join(f"{k}={v}" for k, v in sorted((env or {}).items()))
        self.note(
            f"$ {extra + ' ' if extra else ''}databricks {shown}\n"
            f"exit {proc.returncode}\n"
            f"stdout: {proc.stdout!r}\n"
            f"stderr: {proc.stderr!r}"
        )

    def run_until_killed(self, *argv: str, env: dict[str, str] | None = None, after: float) -> None:
        """Run a command that is expected to wait: killed after `after` seconds."""
        import signal
        import subprocess

        full = dict(self.env)
        full.update(env or {})
        with _login_lock(argv) as fds:
            proc = subprocess.Popen(
                ["databricks", *argv],
                env=full,
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
                pass_fds=fds,
            )
        try:
            out, err = proc.communicate(timeout=after)
            status = f"exit {proc.returncode}"
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            status = f"still waiting after {after:g}s (killed)"
        extra = " ".join(f"{k}={v}" for k, v in sorted((env or {}).items()))
        self.note(
            f"$ {extra + ' ' if extra else ''}databricks {' '.join(argv)}\n{status}\n"
            f"stdout: {out!r}\nstderr: {err!r}"
        )

    def login(self, profile: str = "dev") -> None:
        self.run("auth", "login", "--host", self.ws.url, "--profile", profile, "--timeout", "30s")

    def write_cfg(self, text: str) -> None:
        self.cfg.write_text(text.replace("<WS>", self.ws.url))
        self.note(f"(wrote ~/.databrickscfg: {text!r})")

    def set_expiry(self, seconds_left: float, note: str) -> None:
        """Every cached token expires in seconds_left (client side only)."""
        import datetime as dt

        data = json.loads(self.token_cache.read_text())
        when = dt.datetime.fromtimestamp(time.time() + seconds_left, dt.timezone.utc)
        for entry in data["tokens"].values():
            entry["expiry"] = when.strftime("%Y-%m-%dT%H:%M:%S") + ".5Z"
        self.token_cache.write_text(json.dumps(data, indent=2))
        self.note(f"(cached tokens now expire {note})")

    def edit_cache(self, fn: Callable[[dict[str, Any]], None], note: str) -> None:
        data = json.loads(self.token_cache.read_text())
        fn(data)
        self.token_cache.write_text(json.dumps(data, indent=2))
        self.note(f"(token cache edited: {note})")

    def do(self, note: str, fn: Callable[[FakeWorkspace], object]) -> None:
        fn(self.ws)
        self.note(f"(workspace: {note})")

    # -- observations

    def files(self) -> None:
        """The CLI's files, as they are now."""
        for label, path in (
            ("~/.databrickscfg", self.cfg),
            ("~/.databrickscfg.bak", self.home / ".databrickscfg.bak"),
            ("~/.databricks/token-cache.json", self.token_cache),
        ):
            if path.exists():
                mode = oct(stat.S_IMODE(path.stat().st_mode))
                self.note(f"file {label} ({mode}): {path.read_text()!r}")
            else:
                self.note(f"file {label}: absent")
        folder = self.token_cache.parent
        if folder.exists():
            self.note(f"dir ~/.databricks ({oct(stat.S_IMODE(folder.stat().st_mode))})")
        cached = {
            self._hash_names(path.relative_to(self.cache).as_posix()): path.read_text()
            for path in self.cache.rglob("*")
            if path.is_file()
        }
        for name, content in sorted(cached.items()):  # sorted by host, not by hash
            self.note(f"cache {name}: {content!r}")

    def requests(self) -> None:
        """What the workspace saw since the last look."""
        seen = [f"{r.method} {r.path} {r.status}" for r in self.ws.requests()]
        self.note("requests: " + (", ".join(seen) if seen else "none"))
        self.ws.clear_log()

    def refreshes(self) -> None:
        self.note(f"refreshes: {self.ws.refresh_count()}")

    def _hash_names(self, rel: str) -> str:
        for host in (self.ws.url, f"http://localhost:{self.ws.port}"):
            digest = hashlib.sha256(json.dumps({"host": host}, separators=(",", ":")).encode())
            rel = rel.replace(digest.hexdigest(), f"<sha256 of {{host: {host}}}>")
        return rel

    # -- normalising

    def normalised(self) -> list[str]:
        labels: dict[str, str] = {}
        counts: dict[str, int] = {}

        def label(kind: str, value: str) -> str:
            if value not in labels:
                counts[kind] = counts.get(kind, 0) + 1
                labels[value] = f"<{kind}{counts[kind]}>"
            return labels[value]

        out = []
        for text in self.transcript:
            text = text.replace(self.ws_url, "<WS>")
            text = text.replace(f"127.0.0.1:{self.ws_port}", "<WS-ADDRESS>")
            text = text.replace(f"localhost:{self.ws_port}", "localhost:<WS-PORT>")
            text = text.replace(str(self.root), "<ROOT>")
            text = JWT.sub(lambda m: label("access-token-", m.group(0)), text)
            text = REFRESH.sub(lambda m: label("refresh-token-", m.group(0)), text)
            text = TIME.sub(lambda m: label("time-", m.group(1)) + m.group(2), text)
            text = PKCE.sub(lambda m: f"{m.group(1)}=<{m.group(1)}>", text)
            text = CALLBACK.sub("localhost%3A<8020-8040>", text)  # the first free port
            out.append(text)
        return out


JWT = re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")
REFRESH = re.compile(r"doau[0-9a-f]{64}")
CALLBACK = re.compile(r"localhost%3A80[2-4]\d")
PKCE = re.compile(r"\b(code_challenge|state)=[A-Za-z0-9_\-]+")
TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?)(Z|[+-]\d\d:\d\d)")


# --------------------------------------------------------------------------- scenarios


def s_version(s: Side) -> None:
    s.run("--version")
    s.run("version")


def s_login_then_token(s: Side) -> None:
    s.login()
    s.files()
    s.requests()
    s.run("auth", "token", "--profile", "dev")
    s.run("auth", "token", "--profile", "dev", "-o", "text")
    s.run("auth", "token", "--profile", "dev", "-o", "json")
    s.requests()  # served from the caches: no request at all
    s.login("other")  # a second profile: no default_profile change
    s.files()


def s_default_profile(s: Side) -> None:
    s.login("DEFAULT")  # what setup does by default
    s.files()
    s.run("auth", "token", "--profile", "DEFAULT")
    s.login("DEFAULT")  # again: same file, a new token
    s.files()
    s.run("auth", "token", "--profile", "DEFAULT")


def s_token_for_unknown_profile(s: Side) -> None:
    s.login()
    s.run("auth", "token", "--profile", "nope")
    s.run("auth", "token", "nope")  # positional: a profile, else a host, else this


def s_token_with_no_config(s: Side) -> None:
    s.run("auth", "token", "--profile", "dev")
    s.run("auth", "token")
    s.files()


def s_host_conflict(s: Side) -> None:
    s.login()
    s.run("auth", "token", "--profile", "dev", "--host", "https://other.example.com")
    s.run("auth", "login", "--profile", "dev", "--host", "https://other.example.com")
    s.run("auth", "token", "--profile", "dev", "--host", s.ws.url + "/")  # same host: fine
    s.requests()


def s_m2m_profile(s: Side) -> None:
    s.write_cfg("[m2m]\nhost = <WS>\nclient_id = test-sp\nclient_secret = test-sp-secret\n")
    s.run("auth", "token", "--profile", "m2m")
    s.files()


def s_pat_profile(s: Side) -> None:
    s.write_cfg("[pat]\nhost = <WS>\ntoken = dapi0123456789abcdef\n")
    s.run("auth", "token", "--profile", "pat")  # no OAuth token for this host
    s.login()
    s.run("auth", "token", "--profile", "pat")  # the host-keyed token of another profile
    s.files()


def s_revoked_refresh_token(s: Side) -> None:
    s.login()
    s.do("refresh tokens revoked", lambda ws: ws.revoke_refresh_tokens())
    s.run("auth", "token", "--profile", "dev", "--force-refresh")
    s.set_expiry(-60, "60 s ago")
    s.run("auth", "token", "--profile", "dev")
    s.set_expiry(100, "in 100 s")  # proactive refresh fails: the old token, exit 0
    s.run("auth", "token", "--profile", "dev")
    s.refreshes()


def s_expired_refresh_token(s: Side) -> None:
    s.login()
    s.do("refresh tokens expired", lambda ws: ws.expire_refresh_tokens())
    s.run("auth", "token", "--profile", "dev", "--force-refresh")
    s.run("auth", "token", "--profile", "dev")  # the access token is still good


def s_token_endpoint_errors(s: Side) -> None:
    s.login()
    s.do("token endpoint: 500", lambda ws: ws.fail("/oidc/v1/token", 500))
    s.run("auth", "token", "--profile", "dev", "--force-refresh")
    s.do("token endpoint: 503, text", lambda ws: ws.fail("/oidc/v1/token", 503, body="oops"))
    s.run("auth", "token", "--profile", "dev", "--force-refresh")
    s.do("token endpoint: 502, empty", lambda ws: ws.fail("/oidc/v1/token", 502, body=""))
    s.run("auth", "token", "--profile", "dev", "--force-refresh")
    grant = {"error": "invalid_grant", "error_description": "Token expired"}
    s.do("token endpoint: 400 invalid_grant", lambda ws: ws.fail("/oidc/v1/token", 400, body=grant))
    s.run("auth", "token", "--profile", "dev", "--force-refresh")
    wk = "/oidc/.well-known/oauth-authorization-server"
    s.do("OIDC discovery: 500", lambda ws: ws.fail(wk, 500))
    s.run("auth", "token", "--profile", "dev", "--force-refresh")
    s.set_expiry(-60, "60 s ago")
    s.do("token endpoint: 500", lambda ws: ws.fail("/oidc/v1/token", 500))
    s.run("auth", "token", "--profile", "dev")
    s.set_expiry(100, "in 100 s")
    s.do("token endpoint: 500", lambda ws: ws.fail("/oidc/v1/token", 500))
    s.run("auth", "token", "--profile", "dev")
    s.requests()


def s_force_refresh(s: Side) -> None:
    s.login()
    s.run("auth", "token", "--profile", "dev")
    s.run("auth", "token", "--profile", "dev", "--force-refresh")
    s.files()
    s.run("auth", "token", "--profile", "dev")
    s.refreshes()
    s.requests()


def s_token_without_login(s: Side) -> None:
    s.write_cfg("[dev]\nhost = <WS>\nauth_type = databricks-cli\n")
    s.run("auth", "token", "--profile", "dev")
    s.files()
    s.requests()


def s_expired_access_token_refreshed(s: Side) -> None:
    s.login()
    s.do("access tokens expired", lambda ws: ws.expire_access_tokens())
    s.set_expiry(-60, "60 s ago")
    s.run("auth", "token", "--profile", "dev")
    s.files()
    s.run("auth", "token", "--profile", "dev")
    s.refreshes()
    s.requests()


def s_cached_token_without_refresh_token(s: Side) -> None:
    s.login()

    def drop(data: dict[str, Any]) -> None:
        for entry in data["tokens"].values():
            entry.pop("refresh_token")

    s.edit_cache(drop, "refresh tokens removed")
    s.run("auth", "token", "--profile", "dev", "--force-refresh")
    s.set_expiry(-60, "60 s ago")
    s.run("auth", "token", "--profile", "dev")


def s_broken_token_cache(s: Side) -> None:
    s.login()
    s.token_cache.write_text("{bad")
    s.note("(token cache: {bad)")
    s.run("auth", "token", "--profile", "dev")
    s.token_cache.write_text('{"version": 2, "tokens": {}}')
    s.note("(token cache: version 2)")
    s.run("auth", "token", "--profile", "dev")


def s_profile_resolution(s: Side) -> None:
    s.login()
    s.run("auth", "token")  # no default profile in v0.298, whatever [__settings__] says
    s.run("auth", "token", "dev")
    s.run("auth", "token", "--host", s.ws.url)  # the one profile for this host
    s.run("auth", "token", env={"DATABRICKS_CONFIG_PROFILE": "dev"})
    s.run("auth", "token", env={"DATABRICKS_HOST": s.ws.url})
    s.login("other")
    s.run("auth", "token", "--host", s.ws.url)  # two profiles for this host
    s.run("auth", "token", "dev", "--profile", "other")
    s.requests()


def s_login_without_profile(s: Side) -> None:
    s.run("auth", "login", "--host", s.ws.url, "--timeout", "30s")  # no terminal: no profile
    s.files()
    s.run("auth", "token", "--host", s.ws.url)
    s.run("auth", "login")  # no host either: the login.databricks.com flow needs a name


def s_login_errors(s: Side) -> None:
    s.do("denies the login", lambda ws: setattr(ws, "deny_login", True))
    s.login()
    s.do("allows logins again", lambda ws: setattr(ws, "deny_login", False))
    code = {"error": "invalid_grant", "error_description": "Authorization code is invalid"}
    s.do("token endpoint: 400", lambda ws: ws.fail("/oidc/v1/token", 400, body=code))
    s.login()
    plain = f"http://localhost:{s.ws.port}"  # http:// only for 127.0.0.1
    s.run("auth", "login", "--host", plain, "--profile", "x", "--timeout", "30s")
    s.run("auth", "login", "--configure-cluster", "--configure-serverless", "--profile", "x")
    s.files()
    s.requests()


def s_login_waits_for_the_browser(s: Side) -> None:
    # BROWSER=none: the link on stderr, then a wait that login's --timeout does not bound
    argv = ("auth", "login", "--host", s.ws.url, "--profile", "p", "--timeout", "1s")
    s.run_until_killed(*argv, env={"BROWSER": "none"}, after=2)
    # a browser that fails: the link on stdout, and the same wait
    s.run_until_killed(*argv, env={"BROWSER": "/bin/false"}, after=2)
    s.files()


def s_existing_config_rewritten(s: Side) -> None:
    s.write_cfg(
        "# hand-written\n"
        "[prod]\n"
        "host = https://prod.cloud.databricks.com   # the main one\n"
        "token = dapi123\n"
        "\n"
        "[dev]\n"
        "host=<WS>\n"
        "token = dapi-old\n"
        "cluster_id = 0123-456789-abcdef\n"
        "password = `pa#ss`\n"
    )
    s.login()
    s.files()
    s.login("other")
    s.files()


def s_tls_workspace(s: Side) -> None:
    s.login("t")  # CA not trusted
    assert s.ws.ca_file
    s.env["SSL_CERT_FILE"] = s.ws.ca_file
    s.note("(SSL_CERT_FILE = the workspace's CA)")
    s.login("t")
    s.run("auth", "token", "--profile", "t", "--force-refresh")
    del s.env["SSL_CERT_FILE"]
    s.note("(SSL_CERT_FILE unset)")
    s.run("auth", "token", "--profile", "t", "--force-refresh")


def s_workspace_down(s: Side) -> None:
    s.login()
    s.set_expiry(-60, "60 s ago")
    s.do("stopped", lambda ws: ws.down())
    # the real CLI retries a refused connection until --timeout: keep it short
    s.run("auth", "token", "--profile", "dev", "--timeout", "1s")
    s.run("auth", "token", "--profile", "dev", "--force-refresh", "--timeout", "1s")


def s_host_metadata_missing(s: Side) -> None:
    s.do(
        "/.well-known/databricks-config: 404",
        lambda ws: ws.fail("/.well-known/databricks-config", 404),
    )
    s.login()
    s.files()
    s.run("auth", "token", "--profile", "dev")  # the failure is remembered for 60 s: no warning
    s.requests()


def s_flag_errors(s: Side) -> None:
    s.run("auth", "token", "--profile", "dev", "--bogus-flag")
    s.run("auth", "token", "--profile", "dev", "--timeout", "abc")
    s.run("auth", "token", "--profile", "dev", "--timeout", "5")
    s.run("auth", "token", "--profile")
    s.run("auth", "token", "-o", "yaml")
    s.run("auth", "token", "--force-refresh=maybe")
    s.run("auth", "login", "--bogus")
    s.run("nope")


def s_posix_tz(s: Side) -> None:
    s.env["TZ"] = POSIX_TZ
    s.note(f"(TZ={POSIX_TZ}: Go reads no POSIX rule, so UTC)")
    s.login()
    s.run("auth", "token", "--profile", "dev")
    s.run("auth", "token", "--profile", "dev", "--force-refresh")
    s.files()


@dataclass(frozen=True)
class Scenario:
    run: Callable[[Side], None]
    tls: bool = False


SCENARIOS: dict[str, Scenario] = {
    "version": Scenario(s_version),
    "login then token": Scenario(s_login_then_token),
    "login to the DEFAULT profile, twice": Scenario(s_default_profile),
    "token for an unknown profile": Scenario(s_token_for_unknown_profile),
    "token with no config at all": Scenario(s_token_with_no_config),
    "--profile and --host conflict": Scenario(s_host_conflict),
    "M2M profile": Scenario(s_m2m_profile),
    "PAT profile": Scenario(s_pat_profile),
    "revoked refresh token": Scenario(s_revoked_refresh_token),
    "expired refresh token": Scenario(s_expired_refresh_token),
    "token endpoint errors (500 on --force-refresh, ...)": Scenario(s_token_endpoint_errors),
    "--force-refresh success": Scenario(s_force_refresh),
    "token when no login happened": Scenario(s_token_without_login),
    "expired access token refreshed": Scenario(s_expired_access_token_refreshed),
    "cached token without refresh token": Scenario(s_cached_token_without_refresh_token),
    "broken token cache": Scenario(s_broken_token_cache),
    "profile resolution without --profile": Scenario(s_profile_resolution),
    "login without --profile": Scenario(s_login_without_profile),
    "login errors": Scenario(s_login_errors),
    "login waits for the browser, --timeout or not": Scenario(s_login_waits_for_the_browser),
    "existing config rewritten by login": Scenario(s_existing_config_rewritten),
    "TLS workspace, CA trusted or not": Scenario(s_tls_workspace, tls=True),
    "workspace down (--timeout 1s)": Scenario(s_workspace_down),
    "host metadata missing": Scenario(s_host_metadata_missing),
    "flag errors": Scenario(s_flag_errors),
    "POSIX TZ": Scenario(s_posix_tz),
}


def transcript(kind: str, scenario: Scenario, root: Path) -> list[str]:
    side = Side(kind, root / kind, tls=scenario.tls)
    try:
        scenario.run(side)
    finally:
        side.close()
    return side.normalised()


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_fake_cli_says_what_the_real_cli_says(name: str, tmp_path: Path) -> None:
    scenario = SCENARIOS[name]
    real = transcript("real", scenario, tmp_path)
    fake = transcript("fake", scenario, tmp_path)
    if real != fake:
        diff = "\n".join(
            difflib.unified_diff(
                real, fake, "real CLI", "fake CLI (tests/rig/fake_databricks.py)", lineterm=""
            )
        )
        pytest.fail(
            f"the fake CLI drifted from the real one ({REAL_CLI}) in {name!r}:\n{diff}\n\n"
            "real:\n" + "\n".join(real) + "\n\nfake:\n" + "\n".join(fake),
            pytrace=False,
        )


def test_the_real_cli_is_the_version_the_fake_plays() -> None:
    """The fake speaks for one release: a different real CLI means re-reading its words."""
    import subprocess

    assert REAL_CLI is not None
    out = subprocess.run([REAL_CLI, "--version"], capture_output=True, text=True, timeout=60)
    assert out.stdout == f"Databricks CLI v{FAKE_VERSION}\n", (
        f"{REAL_CLI} is not v{FAKE_VERSION}: {out.stdout!r}. Update tests/rig/fake_databricks.py "
        "(VERSION and whatever the new release words differently) together with the pin."
    )


def test_the_old_version_knob_keeps_the_real_usage_text(tmp_path: Path) -> None:
    """FAKE_DATABRICKS_VERSION=0.295.0 answers --force-refresh with cobra's unknown-flag error.
    No pre-0.296 binary can be built here, so its usage text is the real v0.298 one with the
    positional named [HOST] and without the --force-refresh line: checked against the binary."""
    real, fake = Side("real", tmp_path / "real"), Side("fake", tmp_path / "fake")
    try:
        real.run("auth", "token", "--profile", "dev", "--bogus-flag")
        fake.run(
            "auth",
            "token",
            "--profile",
            "dev",
            "--force-refresh",
            env={"FAKE_DATABRICKS_VERSION": "0.295.0"},
        )
        fake.run("--version", env={"FAKE_DATABRICKS_VERSION": "0.295.0"})
    finally:
        real.close()
        fake.close()
    expected = (
        real.transcript[0]
        .split("\n", 1)[1]
        .replace("unknown flag: --bogus-flag", "unknown flag: --force-refresh")
        .replace("auth token [PROFILE]", "auth token [HOST]")
    )
    expected = re.sub(r"\\n +--force-refresh +[^\\]*", "", expected)
    assert fake.transcript[0].split("\n", 1)[1] == expected
    assert "stdout: 'Databricks CLI v0.295.0\\n'" in fake.transcript[1]


def test_the_keyring_knob_fails_where_the_real_cli_fails_a_refresh(tmp_path: Path) -> None:
    """FAKE_DATABRICKS_KEYRING_FAIL=1 (v1.x's Keychain failure, wording from the notes) is wrapped
    the way the real CLI wraps any failed store: same prefix and trailer as a 500 on refresh."""
    real, fake = Side("real", tmp_path / "real"), Side("fake", tmp_path / "fake")
    try:
        real.login()
        real.do("token endpoint: 500", lambda ws: ws.fail("/oidc/v1/token", 500))
        real.run("auth", "token", "--profile", "dev", "--force-refresh")
        fake.login()
        fake.run(
            "auth",
            "token",
            "--profile",
            "dev",
            "--force-refresh",
            env={"FAKE_DATABRICKS_KEYRING_FAIL": "1"},
        )
    finally:
        real.close()
        fake.close()
    expected = real.transcript[-1].replace(
        "Injected 500 error (error code: temporarily_unavailable)", "cache update: exit status 45"
    )
    assert fake.transcript[-1].split("\n", 1)[1] == expected.split("\n", 1)[1]


def test_every_scenario_of_the_brief_is_in_the_table() -> None:
    required = {
        "version",
        "login then token",
        "token for an unknown profile",
        "--profile and --host conflict",
        "M2M profile",
        "PAT profile",
        "revoked refresh token",
        "expired refresh token",
        "token endpoint errors (500 on --force-refresh, ...)",
        "--force-refresh success",
        "token when no login happened",
        "expired access token refreshed",
    }
    assert required <= set(SCENARIOS)
