"""Checks on a program's run that many tests share: the product's failure contract."""

from __future__ import annotations

from tests.rig.sandbox import Result


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output, result


def assert_refused(
    result: Result,
    code: int,
    says: str,
    fix: str | None = None,
    *,
    prog: str | None = None,
    token: str | None = None,
) -> None:
    """The product's failure contract: exit `code`, one `error:` line (from `prog`, when given)
    and `says` in stderr, a `fix:` line (holding `fix`, when given), no traceback, no error on
    stdout, and never the secret `token` in the output."""
    assert result.code == code, result
    no_traceback(result)
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if ": error: " in line]
    assert len(errors) == 1, result
    if prog is not None:
        assert errors[0].startswith(f"{prog}: error: "), result
    assert says in result.stderr, result
    fixes = [line.strip() for line in lines if line.strip().startswith("fix: ")]
    assert fixes, result
    if fix is not None:
        assert fix in result.stderr, result
    assert result.stdout.count(": error: ") == 0, result
    if token is not None:
        assert token not in result.output
