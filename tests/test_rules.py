"""Rules that live in one place each (issue 11): whose apiKeyHelper, where the rc file is, what
is redacted, how a workspace error reads, how a token is asked for. In-process and fast."""

from __future__ import annotations

import pytest

from dbx_fmapi_claude import effective

# --- whose apiKeyHelper ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command, recorded, ours",
    [
        ("'/home/u/.local/bin/dbx-fmapi' token --profile 'DEFAULT'", None, True),
        ("dbx-fmapi token", None, True),
        ("/opt/x/dbx-fmapi --profile p token", None, True),
        ("my-helper --profile p", "my-helper --profile p", True),  # the one setup recorded
        ("echo dbx-fmapi token", None, False),
        ("/opt/dbx-fmapi-claude token", None, False),
        ("/opt/dbx-fmapi/bin/other token", None, False),
        ("dbx-fmapi status", None, False),
        (None, None, False),
        (42, None, False),
    ],
)
def test_is_our_helper(command: object, recorded: object, ours: bool) -> None:
    assert effective.is_our_helper(command, recorded) is ours
