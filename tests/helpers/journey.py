"""A user's journey through every command with marked tokens, keeping every output to scan
for them afterwards (the secrets catalogue)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.rig.sandbox import Result, Sandbox
from tests.rig.workspace import FakeWorkspace


@dataclass
class Journey:
    sandbox: Sandbox
    ws: FakeWorkspace
    outputs: list[tuple[str, str]] = field(default_factory=list)  # (label, text) to scan
    printed_tokens: int = 0

    def run(self, *argv: str, code: int | None = 0, **kw: Any) -> Result:
        kw.setdefault("timeout", 120)
        result = self.sandbox.run(list(argv), **kw)
        label = " ".join(argv)
        if code is not None:
            assert result.code == code, result
        if list(argv[:2]) == ["dbx-fmapi", "token"] and result.code == 0:
            # The one intended output: exactly one line, the token.
            assert result.stdout.count("\n") == 1 and result.stdout.endswith("\n"), result
            assert self.ws.token_state(result.stdout.strip()) == "valid"
            self.printed_tokens += 1
        else:
            self.outputs.append((f"stdout of {label}", result.stdout))
        self.outputs.append((f"stderr of {label}", result.stderr))
        return result

    def setup(self, *args: str, code: int | None = 0, **kw: Any) -> Result:
        return self.run("setup-fmapi-claudecode", "--skip-install", *args, code=code, **kw)

    def expire(self) -> None:
        self.sandbox.set_token_expiry(-10)
        (self.sandbox.home / ".config/dbx-fmapi-claude/token-state.json").unlink(missing_ok=True)
