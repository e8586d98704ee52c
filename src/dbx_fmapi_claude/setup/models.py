"""Step 4 and 6: the route, the models (checked against the workspace's live catalogue), and
the one-token request per model before anything is written."""

from __future__ import annotations

from ..core.errors import usage_error
from ..core.prompts import Choice
from ..workspace import catalogue, routes
from ..workspace.client import FAMILIES
from .answers import MODEL_RE, NONE, OTHER, PROG, check_model
from .context import SetupBase


class ModelSteps(SetupBase):
    # --- 4. models --------------------------------------------------------------------------

    def names(self) -> set[str] | None:
        if not self.catalogue.read:
            return None
        names = self.catalogue.names()
        if self.a.route == routes.GATEWAY_NAME:  # the gateway takes Unity Catalog names too
            names |= {m.uc_name for m in self.catalogue.models if m.uc_name}
        return names

    def _known(self, name: str) -> bool:
        names = self.names()
        return names is None or name in names or catalogue.base_name(name) in names

    def _prev_model(self, key: str) -> str | None:
        value = self.prev.get(key)
        if not isinstance(value, str) or not MODEL_RE.fullmatch(value):
            return None
        if self.names() is not None:
            return value if self._known(value) else None
        return value if self.prev.get("host") == self.a.host else None

    def _default_for(self, fam: str) -> str:
        """The family's default: the workspace's newest READY model that is not retiring, else
        the newest acceptable one of a neighbouring family, else today's fallback name."""
        if not self.catalogue.read:
            return catalogue.fallback(fam, self.today)
        order = {"opus": ("opus", "sonnet", "haiku"), "sonnet": ("sonnet", "opus", "haiku")}
        for other in order.get(fam, (fam, "sonnet", "opus")):
            name = self.catalogue.default(other, self.today)
            if name is not None:
                if other != fam:
                    self.warn(
                        f"the workspace has no {fam.capitalize()} model that is READY and not "
                        f"retiring: {fam} uses {name}"
                    )
                return name
        return catalogue.fallback(fam, self.today)

    def default_model(self, key: str) -> str:
        prev = self._prev_model(key)
        retired = prev and catalogue.retiring(prev, self.today) == "retired"
        if prev and not retired:  # the user's earlier choice: kept; a retiring one is warned
            return prev  # about (doctor too)
        if prev:  # a retired model is never a default: say so, and how to keep it
            if key == "model":
                instead = self.a.opus or self.default_model("opus")
            else:
                instead = self._default_for(key)
            flag = f"--{key}"
            self.warn(
                f"{prev} {str(catalogue.retirement_note(prev, self.today)).split(' (', 1)[0]}: "
                f"{key} now uses "
                f"{instead} (keep the old one: {PROG} {flag} {prev})"
            )
            return instead
        if key == "model":
            return self.a.opus or self.default_model("opus")
        return self._default_for(key)

    def _model_choices(self, fam: str | None, default: str) -> list[Choice]:
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
            retires = catalogue.retirement_note(m.name, self.today)
            if retires:
                notes.append(retires.split(" (", 1)[0])
            return m.name + (f"  ({'; '.join(notes)})" if notes else "")

        labels = {m.name: label(m) for m in models}
        if not self.catalogue.read:
            seeds = [catalogue.fallback(f, self.today) for f in ([fam] if fam else FAMILIES)]
            names = seeds
            labels = {n: n for n in names}
        if default not in names:  # setup's choice from another family (or a seed name):
            names.insert(0, default)  # offered first, so that Enter takes what setup said
            found = self.catalogue.find(default)
            labels[default] = label(found) if found is not None else default
        choices = [Choice(n, labels[n]) for n in names]
        choices.append(Choice(OTHER, "other (type an endpoint name)"))
        return choices

    def _exists(self, name: str, flag: str) -> str:
        if self._known(name):
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

    def ask_models(self) -> None:
        p = self.prompter
        labels = {
            "model": "Model (ANTHROPIC_MODEL)",
            "opus": "Opus model",
            "sonnet": "Sonnet model",
            "haiku": "Haiku model",
        }
        for key in ("model", *FAMILIES):  # the flags first: an error names the flag given
            if getattr(self.a, key):
                self._exists(getattr(self.a, key), f"--{key}")
        for key, flag in (("fable", "--fable"), ("subagent", "--subagent-model")):
            if getattr(self.a, key):
                self._exists(getattr(self.a, key), flag)
        for key in ("model", *FAMILIES):
            if getattr(self.a, key):
                continue
            default = self.default_model(key)
            if p is None:
                setattr(self.a, key, self._exists(default, f"--{key}"))
                continue
            choices = self._model_choices(None if key == "model" else key, default)
            index = next((i for i, c in enumerate(choices) if c.value == default), 0)
            value = p.choose(labels[key], choices, index)
            if value == OTHER:
                flag = f"--{key}"

                def valid(v: str, flag: str = flag) -> str:
                    return self._exists(check_model(v, flag), flag)

                value = p.text("Endpoint name", None, valid)
            setattr(self.a, key, value)
        self.ask_fable_and_subagent()
        chosen = [self.a.model, self.a.opus, self.a.sonnet, self.a.haiku, self.a.fable]
        for name in dict.fromkeys(n for n in chosen + [self.a.subagent] if n):
            model = self.catalogue.find(name)
            if model is not None and model.state == "NOT_READY":
                self.warn(f"model endpoint {name} is not READY yet; requests to it may fail")
            retires = catalogue.retirement_note(name, self.today)
            if retires:
                self.warn(f"model {name} {retires}: pick a newer one (dbx-fmapi models)")

    def ask_fable_and_subagent(self) -> None:
        """Fable: the flag, else the previous run's while the workspace has it, else the newest
        READY fable model when the workspace has one (`claude --model fable` then answers).
        Subagents: the flag, else the previous run's; none means they use the main model."""
        o = self.opts
        if not self.a.fable and str(o.fable or "").lower() != NONE:
            prev = self._prev_model("fable")
            if prev:
                self.a.fable = prev
            elif self.catalogue.read:
                self.a.fable = self.catalogue.default("fable", self.today) or ""
        if not self.a.subagent and str(o.subagent_model or "").lower() != NONE:
            self.a.subagent = self._prev_model("subagent") or ""

    def context_tokens(self) -> int | None:
        """CLAUDE_CODE_MAX_CONTEXT_TOKENS for a main model whose name Claude Code does not
        recognise (it would assume 1M tokens and compact too late): a Claude model's window."""
        if catalogue.recognised(self.a.model):
            return None
        return catalogue.CONTEXT_TOKENS

    # --- 7. write ---------------------------------------------------------------------------
