"""Where the settings go: the location asked, static mode's git checks, a personal
ANTHROPIC_API_KEY that would reach the workspace."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..agents.claude import effective, settings
from ..core.errors import usage_error
from ..core.fileio import q
from ..core.paths import tilde
from ..core.prompts import Choice
from ..record import config
from .answers import PROG, STATIC, check_location, default_location
from .context import SetupContext
from .gitignore import git_exclude_for, git_exposed, git_tracked
from .results import Credential, Flags, Previous, Target


def location(
    sc: SetupContext,
    flags: Flags,
    credential: Credential,
    previous: Previous,
    env: Mapping[str, str],
) -> Target:
    """The settings location (the flag, else asked, else the previous run's) and the file this
    run's configuration is for."""
    where = ask_location(sc, flags)
    return settings_target(sc, where, credential.token_mode, previous, env)


def ask_location(sc: SetupContext, flags: Flags) -> str:
    p = sc.prompter
    if sc.opts.settings_location is not None:
        return flags.answers.location
    default = default_location(flags.defaults(), sc.ctx.cwd)
    if p is None:
        return default
    paths, cwd = sc.paths, sc.ctx.cwd
    home_file = paths.settings_file_for("home", cwd)
    cwd_file = paths.settings_file_for("cwd", cwd)
    choices = [
        Choice("home", f"home directory ({tilde(home_file, paths.home)})"),
        Choice("cwd", f"current directory ({cwd_file})"),
        Choice("custom", "custom path (a folder; .claude/settings.json goes inside it)"),
    ]
    index = {"home": 0, "cwd": 1}.get(default, 2)
    value = p.choose("Settings location", choices, index)
    if value == "custom":
        value = p.text(
            "Folder for .claude/settings.json",
            default if index == 2 else None,
            lambda v: check_location(v, cwd),
        )
    return value


def settings_target(
    sc: SetupContext, where: str, token_mode: str, previous: Previous, env: Mapping[str, str]
) -> Target:
    path = sc.paths.settings_file_for(where, sc.ctx.cwd)
    if token_mode != STATIC:
        return personal_target(sc, path, where, previous, env)
    if not git_tracked(path, env):
        found = config.view_for(previous.record(), path)
        ours = found.git_exclude if found else None
        exclude = None
        if ours or git_exposed(path, env):  # a re-run keeps the block it added
            exclude = git_exclude_for(path, env)
            if exclude is None:
                sc.warn(
                    f"{path} is inside a git repository and not ignored: never commit it "
                    f"(it will hold your token); ignore it with: echo .claude/{path.name} "
                    f">> {q(path.parent.parent / '.gitignore')}"
                )
        return Target(path, exclude, where)
    local = path.with_name("settings.local.json")
    if where == "home":
        raise usage_error(
            f"{tilde(path, sc.paths.home)} is tracked by git; static mode would commit your token",
            f"use the token helper instead (no token in the file): {PROG} --token-mode helper",
        )
    if git_tracked(local, env):
        raise usage_error(
            f"{path} and {local.name} are tracked by git; static mode would commit your token",
            f"use the token helper instead: {PROG} --token-mode helper",
        )
    use_local = bool(sc.opts.yes)
    if sc.prompter is not None:
        sc.prompter.say(f"  {path} is tracked by git: a token must not go there.")
        use_local = sc.prompter.confirm(f"Put the token in {local} instead?", True)
    if not use_local:
        raise usage_error(
            f"{path} is tracked by git; static mode would commit your token",
            f"accept {local.name} instead with --yes, or use the token helper: "
            f"{PROG} --token-mode helper",
        )
    sc.out(f"  note  {path} is tracked by git: the token goes to {local}")
    return Target(local, None, where)


def personal_target(
    sc: SetupContext, path: Path, where: str, previous: Previous, env: Mapping[str, str]
) -> Target:
    """Helper mode: a project's settings.json that git tracks is the team's; the helper's
    absolute path and the profile are this user's. Everything setup writes then goes to
    settings.local.json beside it (which Claude Code reads above settings.json, so the
    effective settings are the same), kept out of git like static mode's token file; the
    team's file is never changed."""
    if where == "home" or not git_tracked(path, env):
        return Target(path, None, where)
    local = path.with_name("settings.local.json")
    if git_tracked(local, env):
        raise usage_error(
            f"{path} and {local.name} are both tracked by git; setup would commit your own "
            "helper path and profile",
            f"stop tracking {local.name} (git rm --cached {q(local)}), or keep the settings "
            f"in your home folder: {PROG} --settings-location home",
        )
    found = config.view_for(previous.record(), local)
    exclude = None
    if git_exposed(local, env) or (found and found.git_exclude):
        exclude = git_exclude_for(local, env)
    sc.out(
        f"  note  {path} is tracked by git (your team's): your settings go to {local}, "
        "which git ignores"
    )
    return Target(local, exclude, where)


def personal_key(sc: SetupContext, env: Mapping[str, str], target: Path) -> bool:
    """A personal ANTHROPIC_API_KEY in the shell or a settings level would go to the
    workspace as x-api-key on every request: say where, and whether our blank in `target`
    stops it (it cannot beat a level above `target`, an administrator's managed settings
    least of all)."""
    paths = sc.paths
    levels = effective.load_levels(
        paths, effective.project_dir(paths, target, sc.ctx.cwd), target, env
    )
    rank = next((i for i, lv in enumerate(levels) if lv.managed), len(levels))
    found = False
    noted: set[str] = set()  # each place said once
    if env.get(settings.ENV_API_KEY):
        found = True
        _note_key(sc, noted, "your shell environment", blocked=True)
    for i, level in enumerate(levels):
        value = ((level.data or {}).get("env") or {}).get(settings.ENV_API_KEY)
        if not isinstance(value, str) or not value:
            continue
        found = True
        if level.name == effective.ADMIN:
            fix = (
                f"only an administrator can remove it: ask yours to delete "
                f"{settings.ENV_API_KEY} from {q(level.path)} (managed settings beat "
                "everything you or setup write)"
            )
        else:
            fix = f'remove it: "${{EDITOR:-vi}}" {q(level.path)}'
        _note_key(sc, noted, level.label, blocked=i <= rank, fix=fix)
    return found


def _note_key(
    sc: SetupContext, noted: set[str], where: str, *, blocked: bool, fix: str = ""
) -> None:
    if where in noted:
        return
    noted.add(where)
    if blocked:
        sc.out(
            f"  note  a personal ANTHROPIC_API_KEY is set in {where}: Claude Code would send "
            "it to the workspace with every request; the settings setup writes blank it "
            "(uninstall undoes that)"
        )
    else:
        sc.warn(
            f"a personal ANTHROPIC_API_KEY is set in {where}, which Claude Code reads after "
            f"the settings setup writes: it would still reach the workspace; {fix}"
        )
