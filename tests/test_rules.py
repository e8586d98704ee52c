"""Rules that live in one place each (issue 11): whose apiKeyHelper, where the rc file is, what
is redacted, how a workspace error reads, how a token is asked for. In-process and fast."""

from __future__ import annotations

import pytest

from dbx_fmapi_claude import effective
from dbx_fmapi_claude.paths import Paths

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


# --- where the rc file is ----------------------------------------------------------------------


def test_rc_file_honours_zdotdir_and_xdg_config_home() -> None:
    paths = Paths("/h", "/h/.config/dbx-fmapi-claude")
    env = {"ZDOTDIR": "/z", "XDG_CONFIG_HOME": "/x"}
    assert str(paths.rc_file("zsh", env)) == "/z/.zshrc"
    assert str(paths.rc_file("zsh", {})) == "/h/.zshrc"
    assert str(paths.rc_file("zsh", {"ZDOTDIR": "rel"})) == "/h/.zshrc"  # zsh would not use it
    assert str(paths.rc_file("bash", env)) == "/h/.bashrc"
    assert str(paths.rc_file("fish", env)) == "/x/fish/functions/dbx-fmapi-claude.fish"
    assert paths.rc_file("none", env) is None


def test_rc_candidates_cover_every_shell_under_this_and_the_default_environment() -> None:
    paths = Paths("/h", "/h/.config/dbx-fmapi-claude")
    env = {"ZDOTDIR": "/z", "XDG_CONFIG_HOME": "/x"}
    found = [str(p) for p in paths.rc_candidates(env)]
    for shell in ("zsh", "bash", "fish"):
        assert str(paths.rc_file(shell, env)) in found
        assert str(paths.rc_file(shell, {})) in found
    assert len(found) == len(set(found))
    assert [str(p) for p in paths.rc_candidates({})].count("/h/.zshrc") == 1
