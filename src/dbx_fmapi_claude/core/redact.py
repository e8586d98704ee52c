"""What is never shown: the one redaction rule for every message, diff and backup.

Secret are
- strings shaped like a credential, wherever they appear: a Databricks OAuth access token (a JWT,
  `eyJ…`), a personal access token (`dapi…`), an OAuth secret or refresh token (`dose…`,
  `doau…`), an Anthropic or OpenAI API key (`sk-ant-…`, `sk-proj-…`, `sk-…`), a Google API key
  (`AIza…`), a GitHub token (`ghp_…`, `github_pat_…`), an AWS access key id (`AKIA…`), a Slack
  token (`xoxb-…`);
- the value of any variable whose name says it holds one: its last part (after an underscore, or
  the whole name) is TOKEN, SECRET(S), PASSWORD, PASSWD, PASSPHRASE or APIKEY, or KEY after an
  underscore (`ANTHROPIC_API_KEY`, `AWS_SECRET_ACCESS_KEY`, `DB_PASSWORD`, `GITHUB_TOKEN`), as a
  JSON member (`"ANTHROPIC_API_KEY": "…"`) or a shell assignment (`export ANTHROPIC_API_KEY=…`),
  whatever the value looks like. Not `…_TOKENS` (`CLAUDE_CODE_MAX_CONTEXT_TOKENS` is a number),
  `token_mode` or `CLAUDE_CODE_API_KEY_HELPER_TTL_MS`: the secret word must end the name.
- in the other agents' files, also a string whose name ends in key, token, secret, password
  or authorization, as a JSON member or a TOML key (Codex's `experimental_bearer_token = "…"`,
  a header `"X-Api-Key" = "…"`, OpenCode's `"apiKey": "…"`), unless the value is a reference
  (`{env:NAME}`, `{file:PATH}`) or the name of a variable (`env_key = "MY_API_KEY"`).

Imported only once something is about to be shown or backed up: `re` stays off the token
helper's and the wrapper's paths.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

MESSAGE_MARK = "[redacted]"  # in one-line messages (CLI errors, tracebacks)
DIFF_MARK = "<redacted>"  # in diffs: the JSON stays JSON-shaped
BACKUP_MARK = "<token removed by dbx-fmapi-claude>"

_SHAPES = re.compile(
    r"eyJ[\w-]{8,}\.[\w-]*\.?[\w-]*"
    r"|dapi[0-9a-f]{16,}"
    r"|dose[0-9a-f]{16,}"
    r"|doau\w{16,}"
    r"|sk-ant-[\w-]{8,}"
    r"|\bsk-[\w-]{20,}"
    r"|\bAIza[\w-]{30,}"
    r"|\bgh[pousr]_\w{20,}|\bgithub_pat_\w{20,}"
    r"|\bAKIA[0-9A-Z]{16}\b"
    r"|\bxox[abposr]-[\w-]{10,}"
)
# Names of variables that hold one (see above); [^\W_] is a letter or digit.
_WORD = r"[^\W_]+"
_HOLDER = rf"(?:{_WORD}_)*(?:TOKEN|SECRETS?|PASSWORD|PASSWD|PASSPHRASE|APIKEY)|(?:{_WORD}_)+KEY"
# A reference to where the secret is ({env:NAME}, {file:PATH}: OpenCode's) is no secret.
_REFERENCE = r"(?!\{(?:env|file):)"
# A JSON string member whose name says secret; the value may be cut off by the end of the line
# (a diff line) or of the file (a file that is not valid JSON).
_MEMBER = re.compile(
    rf'("(?:{_HOLDER})"\s*:\s*"){_REFERENCE}(?:[^"\\\n]|\\.)*("|\\?$)', re.I | re.M
)
_ASSIGNMENT = re.compile(rf"""(\b(?:{_HOLDER})=)(?:"[^"\n]*"?|'[^'\n]*'?|[^\s;&|)]+)""", re.I)
# A string named like a credential in an agent's JSON or TOML file (camelCase and header names
# too), not a reference or a variable's name; cut off by the end of a line as _MEMBER is.
_NAMED = r"[\w.-]*(?:api[_-]?key|[_.-]key|token|secret|password|authorization)"
_KEYED = re.compile(
    rf'((?:"{_NAMED}"|(?<![\w."-]){_NAMED})\s*[:=]\s*")'
    rf'{_REFERENCE}(?!(?-i:[A-Z][A-Z0-9_]*)")'
    r'(?:[^"\\\n]|\\.)*("|\\?$)',
    re.I | re.M,
)


def is_secret_name(name: str) -> bool:
    """Does a variable of this name hold a secret (its value is never shown)?"""
    return re.fullmatch(_HOLDER, name, re.I) is not None


def message(text: str) -> str:
    """`text` with every credential-shaped string replaced by [redacted]."""
    return _SHAPES.sub(MESSAGE_MARK, text)


def one_line(text: str) -> str:
    """`text` on one line, safe to show: white space folded, no leading `Error: ` (the
    Databricks CLI's), every credential-shaped string replaced, at most 400 characters."""
    line = " ".join(text.split())
    if line.lower().startswith("error:"):
        line = line[6:].strip()
    return message(line)[:400]


def text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` (a diff, a file's lines) with every secret replaced by <redacted>: the values of
    secret-named variables, credential-shaped strings, and each of `secrets` (known values)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, DIFF_MARK)
    text = _MEMBER.sub(lambda m: m[1] + DIFF_MARK + m[2], text)
    text = _KEYED.sub(lambda m: m[1] + DIFF_MARK + m[2], text)
    text = _ASSIGNMENT.sub(lambda m: m[1] + DIFF_MARK, text)
    return _SHAPES.sub(DIFF_MARK, text)


def blank_members(raw: bytes, names: Iterable[str]) -> bytes | None:
    """`raw` with the string value of every JSON member called one of `names` blanked out, also
    in a file that is not valid JSON (a value cut off by its end included); None when there is
    none. For a backup of a file we cannot parse: only the members named are a secret of ours
    to drop; the rest is the user's data, which is what the backup is for."""
    alternatives = "|".join(re.escape(n) for n in names)
    pattern = rb'("(?:' + alternatives.encode() + rb')"\s*:\s*")(?:[^"\\]|\\.)*("|\\?$)'
    out, n = re.subn(pattern, lambda m: m[1] + BACKUP_MARK.encode() + m[2], raw)
    return out if n else None
