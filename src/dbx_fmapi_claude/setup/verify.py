"""Setup's verify step: a one-token request per Claude model chosen, before anything is
written (a failure changes nothing)."""

from __future__ import annotations

from collections.abc import Mapping

from ..auth import dbcli
from ..core.errors import UserError
from ..workspace import catalogue, routes
from ..workspace.client import FAMILIES, Workspace, WorkspaceError, diagnose, is_ready
from .answers import PROG, Answers
from .context import SetupContext
from .results import SignedIn


def flags_for(a: Answers, model: str) -> str:
    """The flags that chose `model` (`--sonnet NAME`, …), for a fix that names the right one."""
    roles = [r for r in ("model", *FAMILIES, "fable") if getattr(a, r) == model]
    if a.subagent == model:
        roles.append("subagent-model")
    return " ".join(f"--{r} NAME" for r in roles or ["model"])


def verify(
    sc: SetupContext,
    a: Answers,
    signed: SignedIn,
    listed_models: catalogue.Catalogue,
    env: Mapping[str, str],
) -> None:
    """A one-token request per model chosen, before anything is written (not with
    --no-verify, a dry run, or no token)."""
    if sc.opts.no_verify or sc.dry_run or signed.token is None:
        return
    ws = Workspace(a.host, signed.token, dict(env), timeout=60.0)
    chosen = [a.model, a.opus, a.sonnet, a.haiku, a.fable, a.subagent]
    models = list(dict.fromkeys(n for n in chosen if n))
    base = routes.get(a.route).base_url(a.host)
    sc.out("Verify: one-token request per model")
    failures: list[tuple[str, WorkspaceError]] = []
    for model in models:
        try:
            with sc.progress.step(f"one-token request to {model}"):
                ws.ping_model(model, base)
        except WorkspaceError as exc:
            if exc.status == 429:
                sc.out(f"  ok    {model} (rate limited right now, but it answers)")
                continue
            sc.out(f"  FAIL  {model}: {exc.message}")
            failures.append((model, exc))
            continue
        sc.out(f"  ok    {model}")
    if not failures:
        return
    model, error = failures[0]
    keep = f"{PROG} --no-verify   (writes the files anyway)"
    login = f"{dbcli.login_command(a.host, a.profile)}   then re-run setup"
    pick = f"pick another: {PROG} {flags_for(a, model)}   (list them: dbx-fmapi models)"
    listed = next((e for e in listed_models.endpoints or [] if e.get("name") == model), None)
    # What the route itself says (gateway off, an account-level URL's redirect, traffic
    # splitting, 400 Invalid Token): workspace.diagnose's words, with their own fixes.
    if error.code == "FEATURE_DISABLED" or error.status in (301, 302, 303, 307, 308, 400):
        message, fix = diagnose(
            error, a.host, f"send a test request to {model}", login=login, retry=PROG
        )
    elif error.status in (401, 403):
        message = f"the workspace rejected the token for {model} (HTTP {error.status})"
        fix = login
    elif listed is not None and not is_ready(listed):
        message = f"model endpoint {model} is not READY (HTTP {error.status})"
        fix = f"{pick}; or wait until it is READY and re-run setup"
    elif error.status == 404:
        message = f"model endpoint {model} does not answer (HTTP 404)"
        fix = pick
    else:
        message, fix = diagnose(
            error, a.host, f"send a test request to {model}", login=login, retry=PROG
        )
        if error.kind != "tls":
            fix = f"{fix}; or {keep}"
    names = ", ".join(m for m, _ in failures)
    raise UserError(f"{message}; failed: {names}; nothing was written", fix)
