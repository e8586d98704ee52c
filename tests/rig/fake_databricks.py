"""A fake `databricks` CLI (v1.13.0), faithful to ../shared/notes/databricks.md.

Implements `--version`, `auth token`, `auth login`, `auth profiles`, `auth env`. Reads and writes
`~/.databrickscfg` (or $DATABRICKS_CONFIG_FILE) and `~/.databricks/token-cache.json` like the
real one (plaintext token store), refreshes through the workspace's token endpoint and, like the
real one, takes no lock between processes. Stdlib only: it runs as `python -I fake_databricks.py`.

Test knobs (environment):
  FAKE_DATABRICKS_LOG=path          append one JSON line per invocation: {"argv", "time", "pid"}
  FAKE_DATABRICKS_HANG=seconds      sleep before doing anything
  FAKE_DATABRICKS_GARBAGE=1         `auth token` prints non-JSON garbage and exits 0
  FAKE_DATABRICKS_REFRESH_WINDOW=s  refresh when the token expires within s seconds (default 300)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import sys
import time
import urllib.parse
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    import http.server

# Network, browser and login modules are imported where they are used: `auth token` with a
# valid cached token (the hot path) stays a fast start.

VERSION = "1.13.0"
CLIENT_ID = "databricks-cli"
SCOPES = "offline_access all-apis"
CALLBACK_PORTS = range(8020, 8041)
DEFAULT_REFRESH_WINDOW = 300.0
ISSUES_URL = "https://github.com/databricks/cli/issues/new"
DEFAULT_COMMENT = (
    "; The profile defined in the DEFAULT section is to be used as a fallback when no profile "
    "is explicitly specified.\n"
)


class CliError(Exception):
    pass


def fail(message: str) -> NoReturn:
    raise CliError(message)


# --------------------------------------------------------------------------- paths & time


def home() -> str:
    return os.environ.get("HOME") or os.path.expanduser("~")


def config_path() -> str:
    return os.environ.get("DATABRICKS_CONFIG_FILE") or os.path.join(home(), ".databrickscfg")


def cache_path() -> str:
    return os.path.join(home(), ".databricks", "token-cache.json")


def format_expiry(ts: float) -> str:
    """RFC 3339 with 9-digit nanoseconds and the local offset (Z for UTC), as Go prints it.

    Go trims trailing zeros; keeping the last digit non-zero makes the 9 digits survive that.
    """
    ns = int(round(ts * 1e9))
    if ns % 10 == 0:
        ns += 1
    secs, frac = divmod(ns, 1_000_000_000)
    local = dt.datetime.fromtimestamp(secs).astimezone()
    offset = local.strftime("%z")
    tz = "Z" if offset in ("+0000", "-0000") else f"{offset[:3]}:{offset[3:]}"
    return local.strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:09d}" + tz


def parse_expiry(value: str) -> float:
    m = re.fullmatch(r"(.+T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", value.strip())
    if not m:
        raise ValueError(f"bad expiry {value!r}")
    base, frac, tz = m.groups()
    tz = "+00:00" if tz == "Z" else tz
    whole = dt.datetime.fromisoformat(base + tz).timestamp()
    return whole + (int(frac) / 10 ** len(frac) if frac else 0.0)


def parse_duration(value: str) -> float:
    """Go duration: 1h, 30m, 45s, 1h30m, 500ms."""
    total = 0.0
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    pos = 0
    for m in re.finditer(r"(\d+(?:\.\d+)?)(ms|h|m|s)", value):
        if m.start() != pos:
            break
        total += float(m.group(1)) * units[m.group(2)]
        pos = m.end()
    if pos != len(value) or not value:
        fail(f'invalid argument "{value}" for "--timeout" flag: time: invalid duration "{value}"')
    return total


# --------------------------------------------------------------------------- .databrickscfg


def _read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines(keepends=True)
    except FileNotFoundError:
        return []


_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_KEY = re.compile(r"^\s*([^=;#\s][^=]*?)\s*=\s*(.*?)\s*$")


def read_config(path: str | None = None) -> dict[str, dict[str, str]]:
    """{section: {key: value}} in file order; DEFAULT is a section like any other here."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in _read_lines(path or config_path()):
        s = _SECTION.match(line)
        if s:
            current = sections.setdefault(s.group(1).strip(), {})
            continue
        k = _KEY.match(line)
        if k and current is not None:
            current[k.group(1).strip()] = k.group(2)
    return sections


def _section_lines(name: str, items: list[tuple[str, str]]) -> list[str]:
    width = max((len(k) for k, _ in items), default=0)
    return [f"[{name}]\n"] + [f"{k.ljust(width)} = {v}\n" for k, v in items]


def save_profile(profile: str, items: list[tuple[str, str]]) -> None:
    """Write [profile] (its old keys cleared), keep every other section as it was, and set
    [__settings__] default_profile when this is the first profile."""
    path = config_path()
    lines = _read_lines(path)
    existing = read_config(path)
    first = not any(name != "__settings__" and keys.get("host") for name, keys in existing.items())
    if lines:
        with contextlib.suppress(OSError), open(path + ".bak", "w", encoding="utf-8") as f:
            f.write("".join(lines))
    else:
        lines = [DEFAULT_COMMENT, "[DEFAULT]\n"]

    def replace_section(lines: list[str], name: str, new: list[str]) -> list[str]:
        for i, line in enumerate(lines):
            s = _SECTION.match(line)
            if s and s.group(1).strip() == name:
                end = i + 1
                while end < len(lines) and not _SECTION.match(lines[end]):
                    end += 1
                keep = end  # blank lines and comments before the next section stay
                while keep > i + 1 and (
                    lines[keep - 1].strip() == "" or lines[keep - 1].lstrip().startswith((";", "#"))
                ):
                    keep -= 1
                return lines[:i] + new + lines[keep:]
        out = list(lines)
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        if out and out[-1].strip():
            out.append("\n")
        return out + new

    lines = replace_section(lines, profile, _section_lines(profile, items))
    if first and profile != "__settings__":
        settings = dict(existing.get("__settings__", {}))
        settings["default_profile"] = profile
        lines = replace_section(
            lines, "__settings__", _section_lines("__settings__", list(settings.items()))
        )
    data = "".join(lines)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(data)


def default_profile_name(cfg: dict[str, dict[str, str]]) -> str | None:
    name = cfg.get("__settings__", {}).get("default_profile")
    if name:
        return name
    if cfg.get("DEFAULT", {}).get("host"):
        return "DEFAULT"
    return None


# --------------------------------------------------------------------------- token cache


def load_cache() -> dict[str, Any]:
    try:
        with open(cache_path(), encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return {"version": 1, "tokens": {}}
    except ValueError as exc:
        fail(f"cache: load: parse: {exc}")
    if data.get("version") != 1:
        fail(f"cache: load: needs version 1, got version {data.get('version')}")
    data.setdefault("tokens", {})
    return dict(data)


def store_tokens(keys: list[str], token: dict[str, Any]) -> None:
    """Read the cache, set the keys, write it back (no lock, like the real CLI)."""
    data = load_cache()
    for key in keys:
        data["tokens"][key] = token
    path = cache_path()
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
    os.chmod(path, 0o600)


# --------------------------------------------------------------------------- HTTP


def normalize_host(host: str) -> str:
    host = host.strip().rstrip("/")
    if "://" not in host:
        host = "https://" + host
    u = urllib.parse.urlsplit(host)
    return f"{u.scheme}://{u.netloc}"


def check_host(host: str) -> str:
    h = normalize_host(host)
    u = urllib.parse.urlsplit(h)
    if u.scheme == "https":
        return h
    if u.scheme == "http" and u.hostname in ("127.0.0.1", "localhost"):
        return h
    fail(f"invalid host {host!r}: only https:// hosts are supported (http:// only for 127.0.0.1)")


def fetch(
    method: str, url: str, data: dict[str, str] | None = None, token: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    import ssl
    import urllib.error
    import urllib.request

    headers = {"User-Agent": f"cli/{VERSION} databricks-sdk-go/0.90.0 go/1.24 os/linux"}
    body = None
    if data is not None:
        body = urllib.parse.urlencode(data).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    ctx = ssl.create_default_context()
    try:
        with urllib.request.urlopen(req, timeout=30, context=ctx) as resp:  # noqa: S310
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        u = urllib.parse.urlsplit(url)
        fail(f'{method.title()} "{url}": dial tcp {u.netloc}: {reason}')


def discover(host: str) -> dict[str, Any]:
    status, _, body = fetch("GET", f"{host}/oidc/.well-known/oauth-authorization-server")
    if status != 200:
        fail(
            f"fetch .well-known: unexpected status {status}: {body[:200].decode(errors='replace')}"
        )
    try:
        return dict(json.loads(body))
    except ValueError:
        fail("fetch .well-known: invalid JSON")


def token_from_response(payload: dict[str, Any], old_refresh: str | None = None) -> dict[str, Any]:
    expires_in = int(payload.get("expires_in") or 0)
    tok: dict[str, Any] = {
        "access_token": payload["access_token"],
        "token_type": payload.get("token_type", "Bearer"),
    }
    refresh = payload.get("refresh_token") or old_refresh
    if refresh:
        tok["refresh_token"] = refresh
    if expires_in:
        tok["expiry"] = format_expiry(time.time() + expires_in)
        tok["expires_in"] = expires_in
    return tok


# --------------------------------------------------------------------------- auth token


def login_command(profile: str | None, host: str | None) -> str:
    if profile:
        return f"databricks auth login --profile {profile}"
    return f"databricks auth login --host {host}"


def helpful(profile: str | None, host: str | None) -> str:
    return (
        f"Try logging in again with `{login_command(profile, host)}` before retrying. If this "
        f"fails, please report this issue to the Databricks CLI maintainers at {ISSUES_URL}"
    )


def resolve(profile: str | None, host: str | None) -> tuple[str | None, str]:
    """(profile, host) the command works on."""
    cfg = read_config()
    if profile is None and host is None:
        profile = os.environ.get("DATABRICKS_CONFIG_PROFILE") or None
        if profile is None and os.environ.get("DATABRICKS_HOST"):
            host = os.environ["DATABRICKS_HOST"]
        if profile is None and host is None:
            profile = default_profile_name(cfg)
        if profile is None and host is None:
            fail(
                "cannot determine a profile: no --profile or --host given and no default "
                f"profile in {config_path()}. Run `databricks auth login --host <url>`"
            )
    if profile is not None:
        section = cfg.get(profile)
        if section is None or (profile == "DEFAULT" and not section.get("host")):
            fail(
                f"resolve: {config_path()} has no {profile} profile configured. "
                f"Config: profile={profile}"
            )
        prof_host = section.get("host")
        if not prof_host:
            fail(f"resolve: profile {profile} has no host. Config: profile={profile}")
        if host is not None and normalize_host(host) != normalize_host(prof_host):
            fail(f"--host {host} does not match the host of profile {profile}")
        return profile, normalize_host(prof_host)
    assert host is not None
    return None, normalize_host(host)


def refresh_window() -> float:
    raw = os.environ.get("FAKE_DATABRICKS_REFRESH_WINDOW")
    try:
        return float(raw) if raw else DEFAULT_REFRESH_WINDOW
    except ValueError:
        return DEFAULT_REFRESH_WINDOW


def get_token(profile: str | None, host: str, force: bool) -> dict[str, Any]:
    key = profile or host
    tokens = load_cache()["tokens"]
    tok = tokens.get(key)
    if not tok and profile is not None:
        tok = tokens.get(host)  # tokens stored under the host by older versions
    if not tok or not tok.get("access_token"):
        fail(f"cache: databricks OAuth is not configured for this host. {helpful(profile, host)}")
    expiry = None
    if tok.get("expiry"):
        try:
            expiry = parse_expiry(tok["expiry"])
        except ValueError:
            expiry = 0.0
    fresh = expiry is None or expiry - time.time() > refresh_window()
    if fresh and not force:
        out = {k: tok[k] for k in ("access_token", "token_type", "expiry") if k in tok}
        return out
    refresh = tok.get("refresh_token")
    if not refresh:
        fail(f"cache: databricks OAuth is not configured for this host. {helpful(profile, host)}")
    meta = discover(host)
    status, _, body = fetch(
        "POST",
        meta["token_endpoint"],
        {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": CLIENT_ID},
    )
    try:
        payload = json.loads(body)
    except ValueError:
        payload = {}
    if status != 200 or "access_token" not in payload:
        if payload.get("error") == "invalid_grant" or (
            payload.get("error_description") == "Refresh token is invalid"
        ):
            fail(
                "A new access token could not be retrieved because the refresh token is "
                "invalid. To reauthenticate, run the following command:\n"
                f"  $ {login_command(profile, host)}"
            )
        desc = payload.get("error_description") or body[:200].decode(errors="replace")
        fail(
            f'token refresh: oauth2: "{payload.get("error", status)}" "{desc}". '
            f"{helpful(profile, host)}"
        )
    new = token_from_response(payload, refresh)
    keys = [key] if profile is None else [profile, host]
    store_tokens(keys, {k: v for k, v in new.items() if k != "expires_in"})
    return {k: new[k] for k in ("access_token", "token_type", "expiry", "expires_in") if k in new}


def cmd_auth_token(args: dict[str, Any]) -> int:
    if os.environ.get("FAKE_DATABRICKS_GARBAGE") == "1":
        sys.stdout.write("Databricks CLI: <html>garbage, not JSON}\n")
        return 0
    profile, host = resolve(args.get("profile"), args.get("host"))
    tok = get_token(profile, host, bool(args.get("force-refresh")))
    sys.stdout.write(json.dumps(tok, indent=2))
    sys.stdout.flush()
    return 0


# --------------------------------------------------------------------------- auth login


def _callback_handler(done: Any) -> type[http.server.BaseHTTPRequestHandler]:
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        result: dict[str, str] | None = None

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            params = {k: v[-1] for k, v in q.items()}
            if "code" not in params and "error" not in params:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            ok = "code" in params
            page = (
                "<html><body><h1>Login successful</h1><p>You can close this tab.</p></body></html>"
                if ok
                else f"<html><body><h1>Login failed</h1><p>{params.get('error')}</p></body></html>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            type(self).result = params
            done.set()

    return Handler


def _listen(
    handler: type[http.server.BaseHTTPRequestHandler],
) -> tuple[http.server.HTTPServer, int]:
    import http.server

    for port in CALLBACK_PORTS:
        try:
            server = http.server.HTTPServer(("127.0.0.1", port), handler)
        except OSError:
            continue
        return server, port
    fail(
        "failed to start the OAuth callback server: listen tcp 127.0.0.1:8040: bind: address "
        "already in use (ports 8020-8040 are all taken)"
    )


def open_browser(url: str) -> None:
    import shlex
    import shutil
    import subprocess

    browser = os.environ.get("BROWSER", "")
    if browser == "none":
        print(f"Please open {url} in the browser to continue authentication", file=sys.stderr)
        return
    if browser:
        cmd = [*shlex.split(browser), url]
    else:
        opener = shutil.which("xdg-open") or shutil.which("open")
        if not opener:
            print(f"Please open {url} in the browser to continue authentication", file=sys.stderr)
            return
        cmd = [opener, url]
    try:
        subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        print(f"Failed to open the browser ({exc}). Please open {url}", file=sys.stderr)


def cmd_auth_login(args: dict[str, Any]) -> int:
    import base64
    import hashlib
    import secrets
    import threading

    cfg = read_config()
    profile = args.get("profile")
    host = args.get("host")
    if host is None and profile is not None and cfg.get(profile, {}).get("host"):
        host = cfg[profile]["host"]
    if host is None:
        fail(
            "the command is being run in a non-interactive environment, please specify a host "
            "using --host"
        )
    host = check_host(host)
    if profile is None:
        profile = (urllib.parse.urlsplit(host).hostname or "DEFAULT").split(".")[0]
    timeout = parse_duration(args.get("timeout") or "1h")

    meta = discover(host)
    verifier = secrets.token_urlsafe(64)[:86]
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    state = secrets.token_urlsafe(16)
    done = threading.Event()
    handler: Any = _callback_handler(done)
    server, port = _listen(handler)
    redirect_uri = f"http://localhost:{port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        query = urllib.parse.urlencode(
            {
                "client_id": CLIENT_ID,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": SCOPES,
                "state": state,
            }
        )
        url = f"{meta['authorization_endpoint']}?{query}"
        open_browser(url)
        if not done.wait(timeout):
            fail("authorize: context deadline exceeded")
        time.sleep(0.05)  # let the page go out
    finally:
        server.shutdown()
        server.server_close()
    result = handler.result or {}
    if "error" in result:
        desc = result.get("error_description", "")
        fail(f"authorize: {result['error']}: {desc}".rstrip(": "))
    if result.get("state") != state:
        fail("authorize: state mismatch")
    status, _, body = fetch(
        "POST",
        meta["token_endpoint"],
        {
            "grant_type": "authorization_code",
            "code": result.get("code", ""),
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
            "client_id": CLIENT_ID,
        },
    )
    try:
        payload = json.loads(body)
    except ValueError:
        payload = {}
    if status != 200 or "access_token" not in payload:
        fail(
            f'exchange: oauth2: "{payload.get("error", status)}" '
            f'"{payload.get("error_description", "")}"'
        )
    tok = token_from_response(payload)
    tok.pop("expires_in", None)
    store_tokens([profile, host], tok)

    items = [("host", host)]
    status, headers, _ = fetch(
        "GET", f"{host}/api/2.0/preview/scim/v2/Me", token=tok["access_token"]
    )
    org = {k.lower(): v for k, v in headers.items()}.get("x-databricks-org-id")
    if status == 200 and org:
        items.append(("workspace_id", org))
    items.append(("auth_type", "databricks-cli"))
    save_profile(profile, items)
    print(f"Profile {profile} was successfully saved", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------- profiles, env


def cmd_auth_profiles(args: dict[str, Any]) -> int:
    cfg = read_config()
    rows = []
    for name, keys in cfg.items():
        if name == "__settings__" or not keys.get("host"):
            continue
        valid: bool | None = None
        if not args.get("skip-validate"):
            try:
                tok = get_token(name, normalize_host(keys["host"]), False)
                status, _, _ = fetch(
                    "GET",
                    f"{normalize_host(keys['host'])}/api/2.0/preview/scim/v2/Me",
                    token=tok["access_token"],
                )
                valid = status == 200
            except CliError:
                valid = False
        rows.append(
            {
                "name": name,
                "host": keys["host"],
                "cloud": "aws",
                "auth_type": keys.get("auth_type", ""),
                "valid": valid,
            }
        )
    if args.get("output") == "json":
        sys.stdout.write(json.dumps({"profiles": rows}, indent=2))
        return 0
    width = max([4] + [len(r["name"]) for r in rows])
    hwidth = max([4] + [len(r["host"]) for r in rows])
    print(f"{'Name'.ljust(width)}  {'Host'.ljust(hwidth)}  Valid")
    for r in rows:
        v = "YES" if r["valid"] else "NO" if r["valid"] is False else ""
        print(f"{r['name'].ljust(width)}  {r['host'].ljust(hwidth)}  {v}".rstrip())
    return 0


def cmd_auth_env(args: dict[str, Any]) -> int:
    profile, host = resolve(args.get("profile"), args.get("host"))
    env = {"DATABRICKS_HOST": host}
    if profile:
        env["DATABRICKS_CONFIG_PROFILE"] = profile
        auth_type = read_config().get(profile, {}).get("auth_type")
        if auth_type:
            env["DATABRICKS_AUTH_TYPE"] = auth_type
    sys.stdout.write(json.dumps({"env": dict(sorted(env.items()))}, indent=2))
    return 0


# --------------------------------------------------------------------------- argv


FLAGS_WITH_VALUE = {"profile", "host", "output", "timeout", "account-id", "config-file"}
SHORT = {"p": "profile", "o": "output", "h": "help", "t": "target"}


def parse(argv: list[str]) -> tuple[list[str], dict[str, Any]]:
    pos: list[str] = []
    flags: dict[str, Any] = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            pos.extend(argv[i + 1 :])
            break
        if a.startswith("-") and a != "-":
            name = a.lstrip("-")
            value: str | None = None
            if "=" in name:
                name, value = name.split("=", 1)
            if not a.startswith("--"):
                name = SHORT.get(name, name)
            if name in FLAGS_WITH_VALUE:
                if value is None:
                    if i + 1 >= len(argv):
                        fail(f"flag needs an argument: {a}")
                    i += 1
                    value = argv[i]
                flags[name] = value
            else:
                flags[name] = True if value is None else value not in ("false", "0")
        else:
            pos.append(a)
        i += 1
    return pos, flags


def log_invocation(argv: list[str]) -> None:
    path = os.environ.get("FAKE_DATABRICKS_LOG")
    if not path:
        return
    line = json.dumps({"argv": argv, "time": time.time(), "pid": os.getpid()})
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    log_invocation(argv)
    hang = os.environ.get("FAKE_DATABRICKS_HANG")
    if hang:
        time.sleep(float(hang))
    try:
        pos, flags = parse(argv)
        if flags.get("version") or pos == ["version"]:
            print(f"Databricks CLI v{VERSION}")
            return 0
        if "config-file" in flags:
            os.environ["DATABRICKS_CONFIG_FILE"] = flags["config-file"]
        if flags.get("help") or not pos:
            print("Databricks CLI\n\nUsage:\n  databricks [command]\n")
            return 0
        if pos[0] != "auth":
            fail(f'unknown command "{pos[0]}" for "databricks"')
        if len(pos) < 2:
            print("Authentication related commands\n\nUsage:\n  databricks auth [command]")
            return 0
        if flags.get("output") not in (None, "json", "text"):
            fail(f'invalid argument "{flags["output"]}" for "-o, --output" flag')
        sub = pos[1]
        if sub == "token":
            if len(pos) > 2 and "host" not in flags and "profile" not in flags:
                flags["host"] = pos[2]
            return cmd_auth_token(flags)
        if sub == "login":
            if len(pos) > 2 and "host" not in flags:
                flags["host"] = pos[2]
            return cmd_auth_login(flags)
        if sub == "profiles":
            return cmd_auth_profiles(flags)
        if sub == "env":
            return cmd_auth_env(flags)
        fail(f'unknown command "{sub}" for "databricks auth"')
    except CliError as exc:
        sys.stderr.write(f"Error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
