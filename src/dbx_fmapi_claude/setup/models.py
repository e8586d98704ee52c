"""Setup's models step: Claude Code's models by role, checked against the workspace's live
catalogue (flags first, then prompts or defaults: the previous run's, else the newest READY)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..core.errors import usage_error
from ..core.prompts import Choice
from ..record.view import Configuration
from ..workspace import catalogue, routes
from ..workspace.client import FAMILIES
from .answers import MODEL_RE, NONE, OTHER, PROG, check_model
from .context import SetupContext
from .results import Models

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .results import Credential, Flags, RouteChoice


@dataclass(frozen=True)
class Chooser:
    """What the model questions read: the workspace's catalogue, the route (the gateway also
    takes Unity Catalog names), the previous run's answers and the workspace's URL."""

    sc: SetupContext
    catalogue: catalogue.Catalogue
    route: str
    prev: Configuration
    host: str

    def names(self) -> set[str] | None:
        if not self.catalogue.read:
            return None
        names = self.catalogue.names()
        if self.route == routes.GATEWAY_NAME:  # the gateway takes Unity Catalog names too
            names |= {m.uc_name for m in self.catalogue.models if m.uc_name}
        return names

    def known(self, name: str) -> bool:
        names = self.names()
        return names is None or name in names or catalogue.base_name(name) in names

    def prev_model(self, key: str) -> str | None:
        value = self.prev.get(key)
        if not isinstance(value, str) or not MODEL_RE.fullmatch(value):
            return None
        if self.names() is not None:
            return value if self.known(value) else None
        return value if self.prev.get("host") == self.host else None

    def family_default(self, fam: str) -> str:
        """The family's default: the workspace's newest READY model that is not retiring, else
        the newest acceptable one of a neighbouring family, else today's fallback name."""
        today = self.sc.today
        if not self.catalogue.read:
            return catalogue.fallback(fam, today)
        order = {"opus": ("opus", "sonnet", "haiku"), "sonnet": ("sonnet", "opus", "haiku")}
        for other in order.get(fam, (fam, "sonnet", "opus")):
            name = self.catalogue.default(other, today)
            if name is not None:
                if other != fam:
                    self.sc.warn(
                        f"the workspace has no {fam.capitalize()} model that is READY and not "
                        f"retiring: {fam} uses {name}"
                    )
                return name
        return catalogue.fallback(fam, today)

    def default_model(self, key: str, opus: str) -> str:
        """The default for `key`; `opus`: the Opus model answered so far ("": none yet)."""
        today = self.sc.today
        prev = self.prev_model(key)
        retired = prev and catalogue.retiring(prev, today) == "retired"
        if prev and not retired:  # the user's earlier choice: kept; a retiring one is warned
            return prev  # about (doctor too)
        if prev:  # a retired model is never a default: say so, and how to keep it
            if key == "model":
                instead = opus or self.default_model("opus", opus)
            else:
                instead = self.family_default(key)
            flag = f"--{key}"
            self.sc.warn(
                f"{prev} {str(catalogue.retirement_note(prev, today)).split(' (', 1)[0]}: "
                f"{key} now uses "
                f"{instead} (keep the old one: {PROG} {flag} {prev})"
            )
            return instead
        if key == "model":
            return opus or self.default_model("opus", opus)
        return self.family_default(key)

    def choices(self, fam: str | None, default: str) -> list[Choice]:
        today = self.sc.today
        models = self.catalogue.claude(fam)
        if fam is None:
            models = [m for m in models if m.family in FAMILIES]
        names = [m.name for m in models]

        def label(m: catalogue.Model) -> str:
            notes = []
            if not m.ready:
                notes.append("not ready")
            if m.long_context:
                notes.append("1M-token context")
            retires = catalogue.retirement_note(m.name, today)
            if retires:
                notes.append(retires.split(" (", 1)[0])
            return m.name + (f"  ({'; '.join(notes)})" if notes else "")

        labels = {m.name: label(m) for m in models}
        if not self.catalogue.read:
            seeds = [catalogue.fallback(f, today) for f in ([fam] if fam else FAMILIES)]
            names = seeds
            labels = {n: n for n in names}
        if default not in names:  # setup's choice from another family (or a seed name):
            names.insert(0, default)  # offered first, so that Enter takes what setup said
            found = self.catalogue.find(default)
            labels[default] = label(found) if found is not None else default
        choices = [Choice(n, labels[n]) for n in names]
        choices.append(Choice(OTHER, "other (type an endpoint name)"))
        return choices

    def exists(self, name: str, flag: str) -> str:
        if self.known(name):
            return name
        claude = [m.name for m in self.catalogue.claude() if not m.long_context]
        have = ", ".join(claude) if claude else "none (no databricks-claude-* endpoint)"
        example = claude[0] if claude else "NAME"
        listed = any(e.get("name") == name for e in self.catalogue.endpoints or [])
        what = (
            f"{name!r} is not a Claude model endpoint (Claude Code needs one that speaks the "
            "Anthropic Messages API)"
            if listed
            else f"the workspace has no model endpoint {name!r}"
        )
        raise usage_error(
            f"{what}; its Claude endpoints: {have}",
            f"{PROG} {flag} {example}   (list them: dbx-fmapi models)",
        )


_LABELS = {
    "model": "Model (ANTHROPIC_MODEL)",
    "opus": "Opus model",
    "sonnet": "Sonnet model",
    "haiku": "Haiku model",
}


def ask_models(
    sc: SetupContext, flags: Flags, credential: Credential, route: RouteChoice
) -> Models:
    p = sc.prompter
    a = flags.answers
    chooser = Chooser(sc, route.listing.catalogue(), route.name, flags.defaults(), credential.host)
    got = Models(a.model, a.opus, a.sonnet, a.haiku, a.fable, a.subagent)
    for key in ("model", *FAMILIES):  # the flags first: an error names the flag given
        if getattr(got, key):
            chooser.exists(getattr(got, key), f"--{key}")
    for key, flag in (("fable", "--fable"), ("subagent", "--subagent-model")):
        if getattr(got, key):
            chooser.exists(getattr(got, key), flag)
    for key in ("model", *FAMILIES):
        if getattr(got, key):
            continue
        default = chooser.default_model(key, got.opus)
        if p is None:
            got = replace(got, **{key: chooser.exists(default, f"--{key}")})
            continue
        choices = chooser.choices(None if key == "model" else key, default)
        index = next((i for i, c in enumerate(choices) if c.value == default), 0)
        value = p.choose(_LABELS[key], choices, index)
        if value == OTHER:
            flag = f"--{key}"

            def valid(v: str, flag: str = flag) -> str:
                return chooser.exists(check_model(v, flag), flag)

            value = p.text("Endpoint name", None, valid)
        got = replace(got, **{key: value})
    got = fable_and_subagent(sc, chooser, got)
    today = sc.today
    chosen = [got.model, got.opus, got.sonnet, got.haiku, got.fable]
    for name in dict.fromkeys(n for n in chosen + [got.subagent] if n):
        model = chooser.catalogue.find(name)
        if model is not None and model.state == "NOT_READY":
            sc.warn(f"model endpoint {name} is not READY yet; requests to it may fail")
        retires = catalogue.retirement_note(name, today)
        if retires:
            sc.warn(f"model {name} {retires}: pick a newer one (dbx-fmapi models)")
    return got


def fable_and_subagent(sc: SetupContext, chooser: Chooser, got: Models) -> Models:
    """Fable: the flag, else the previous run's while the workspace has it, else the newest
    READY fable model when the workspace has one (`claude --model fable` then answers).
    Subagents: the flag, else the previous run's; none means they use the main model."""
    o = sc.opts
    if not got.fable and str(o.fable or "").lower() != NONE:
        prev = chooser.prev_model("fable")
        if prev:
            got = replace(got, fable=prev)
        elif chooser.catalogue.read:
            got = replace(got, fable=chooser.catalogue.default("fable", sc.today) or "")
    if not got.subagent and str(o.subagent_model or "").lower() != NONE:
        got = replace(got, subagent=chooser.prev_model("subagent") or "")
    return got


def context_tokens(model: str) -> int | None:
    """CLAUDE_CODE_MAX_CONTEXT_TOKENS for a main model whose name Claude Code does not
    recognise (it would assume 1M tokens and compact too late): a Claude model's window."""
    if catalogue.recognised(model):
        return None
    return catalogue.CONTEXT_TOKENS
