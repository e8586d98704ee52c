"""Where the settings go: the location asked, static mode's git checks, a personal
ANTHROPIC_API_KEY that would reach the workspace."""

from __future__ import annotations

from pathlib import Path

from ..agents.claude import effective, settings
from ..core.errors import usage_error
from ..core.fileio import q
from ..core.paths import tilde
from ..core.prompts import Choice
from ..record import config
from .answers import PROG, STATIC, check_location, default_location
from .context import SetupBase
from .gitignore import git_exclude_for, git_exposed, git_tracked
from .results import Target


class LocationSteps(SetupBase):
    def ask_location(self) -> None:
        p = self.prompter
        if self.opts.settings_location is not None:
            return
        default = default_location(self.prev, self.ctx.cwd)
        if p is None:
            self.a.location = default
            return
        home_file = self.paths.settings_file_for("home", self.ctx.cwd)
        cwd_file = self.paths.settings_file_for("cwd", self.ctx.cwd)
        choices = [
            Choice("home", f"home directory ({tilde(home_file, self.paths.home)})"),
            Choice("cwd", f"current directory ({cwd_file})"),
            Choice("custom", "custom path (a folder; .claude/settings.json goes inside it)"),
        ]
        index = {"home": 0, "cwd": 1}.get(default, 2)
        value = p.choose("Settings location", choices, index)
        if value == "custom":
            value = p.text(
                "Folder for .claude/settings.json",
                default if index == 2 else None,
                lambda v: check_location(v, self.ctx.cwd),
            )
        self.a.location = value

    # --- 5. the plan ------------------------------------------------------------------------

    def settings_target(self) -> Target:
        path = self.paths.settings_file_for(self.a.location, self.ctx.cwd)
        if self.a.token_mode != STATIC:
            return self.personal_target(path)
        if not git_tracked(path, self.env):
            found = config.view_for(self.record, path)
            ours = found.git_exclude if found else None
            exclude = None
            if ours or git_exposed(path, self.env):  # a re-run keeps the block it added
                exclude = git_exclude_for(path, self.env)
                if exclude is None:
                    self.warn(
                        f"{path} is inside a git repository and not ignored: never commit it "
                        f"(it will hold your token); ignore it with: echo .claude/{path.name} "
                        f">> {q(path.parent.parent / '.gitignore')}"
                    )
            return Target(path, exclude)
        local = path.with_name("settings.local.json")
        if self.a.location == "home":
            raise usage_error(
                f"{tilde(path, self.paths.home)} is tracked by git; static mode would commit "
                "your token",
                f"use the token helper instead (no token in the file): {PROG} --token-mode helper",
            )
        if git_tracked(local, self.env):
            raise usage_error(
                f"{path} and {local.name} are tracked by git; static mode would commit your token",
                f"use the token helper instead: {PROG} --token-mode helper",
            )
        use_local = bool(self.opts.yes)
        if self.prompter is not None:
            self.prompter.say(f"  {path} is tracked by git: a token must not go there.")
            use_local = self.prompter.confirm(f"Put the token in {local} instead?", True)
        if not use_local:
            raise usage_error(
                f"{path} is tracked by git; static mode would commit your token",
                f"accept {local.name} instead with --yes, or use the token helper: "
                f"{PROG} --token-mode helper",
            )
        self.out(f"  note  {path} is tracked by git: the token goes to {local}")
        return Target(local)

    def personal_target(self, path: Path) -> Target:
        """Helper mode: a project's settings.json that git tracks is the team's; the helper's
        absolute path and the profile are this user's. Everything setup writes then goes to
        settings.local.json beside it (which Claude Code reads above settings.json, so the
        effective settings are the same), kept out of git like static mode's token file; the
        team's file is never changed."""
        if self.a.location == "home" or not git_tracked(path, self.env):
            return Target(path)
        local = path.with_name("settings.local.json")
        if git_tracked(local, self.env):
            raise usage_error(
                f"{path} and {local.name} are both tracked by git; setup would commit your own "
                "helper path and profile",
                f"stop tracking {local.name} (git rm --cached {q(local)}), or keep the settings "
                f"in your home folder: {PROG} --settings-location home",
            )
        found = config.view_for(self.record, local)
        exclude = None
        if git_exposed(local, self.env) or (found and found.git_exclude):
            exclude = git_exclude_for(local, self.env)
        self.out(
            f"  note  {path} is tracked by git (your team's): your settings go to {local}, "
            "which git ignores"
        )
        return Target(local, exclude)

    def personal_key(self, target: Path) -> bool:
        """A personal ANTHROPIC_API_KEY in the shell or a settings level would go to the
        workspace as x-api-key on every request: say where, and whether our blank in `target`
        stops it (it cannot beat a level above `target`, an administrator's managed settings
        least of all)."""
        levels = effective.load_levels(
            self.paths, effective.project_dir(self.paths, target, self.ctx.cwd), target, self.env
        )
        rank = next((i for i, lv in enumerate(levels) if lv.managed), len(levels))
        found = False
        noted: set[str] = set()  # each place said once
        if self.env.get(settings.ENV_API_KEY):
            found = True
            self.note_key(noted, "your shell environment", blocked=True)
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
            self.note_key(noted, level.label, blocked=i <= rank, fix=fix)
        return found

    def note_key(self, noted: set[str], where: str, *, blocked: bool, fix: str = "") -> None:
        if where in noted:
            return
        noted.add(where)
        if blocked:
            self.out(
                f"  note  a personal ANTHROPIC_API_KEY is set in {where}: Claude Code would send "
                "it to the workspace with every request; the settings setup writes blank it "
                "(uninstall undoes that)"
            )
        else:
            self.warn(
                f"a personal ANTHROPIC_API_KEY is set in {where}, which Claude Code reads after "
                f"the settings setup writes: it would still reach the workspace; {fix}"
            )
