"""The agents' own first-run checks, met by `dbx-fmapi run`: Gemini CLI runs a prompt only in a
folder it trusts (exit 55), `codex exec` only in a git repository or a folder trusted in its
config (exit 1). These are the user's safety decisions, so nothing is trusted for them: on a
terminal `run` asks whether to run this once with the agent's own flag (--skip-trust,
--skip-git-repo-check) and runs it again; without one it says how, in one line. The refusal
comes before the agent sends any request, so running it again repeats nothing.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path

from ..core.context import Context
from .base import Agent


def inside_git(cwd: Path, env: Mapping[str, str]) -> bool:
    """Is `cwd` in a git work tree (git's own answer; a `.git` up the tree without git)?"""
    from ..core import gitcmd
    from ..core.paths import which

    if which("git", env) is None:
        return any((d / ".git").exists() for d in (cwd, *cwd.parents))
    out = gitcmd.run(["rev-parse", "--is-inside-work-tree"], cwd, env)
    return out is not None and out[0] == 0 and out[1].strip() == b"true"


def watch(agent: Agent, args: list[str], ctx: Context) -> bool:
    """Might this run stop on the agent's folder check?"""
    if not agent.may_refuse_folder(args):
        return False
    return not agent.trusts_git or not inside_git(ctx.cwd, ctx.env)


def again(agent: Agent, args: list[str], code: int, ctx: Context) -> list[str] | None:
    """After a run that ended with `code`: the arguments to run it with once more (the user
    said yes to the agent's trust flag), or None (and, after a refusal, the way out said)."""
    if not agent.refused_folder(args, code):
        return None
    trusted = agent.with_trust(args)
    what = (
        f"{agent.label} does not trust this folder ({ctx.cwd_path}), so it stopped before "
        "sending anything"
    )
    if ctx.stdin_is_tty():
        from ..core.prompts import Prompter

        prompter = Prompter(ctx.stdin, ctx.stderr, ctx.env)
        prompter.say(f"dbx-fmapi run: {what}.")
        if prompter.confirm(f"Run it here this once ({agent.trust_flag})?", False):
            return trusted
        return None
    how = "dbx-fmapi run " + shlex.join([agent.name, *trusted])
    keep = (
        "or run it inside a git repository"
        if agent.trusts_git
        else f"trust it for good by running {agent.launch or agent.program} here once on a "
        "terminal (it asks)"
    )
    ctx.err(f"dbx-fmapi run: {what}; {keep}")
    ctx.err(f"  fix: {how}")
    return None
