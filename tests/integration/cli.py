"""The `rapport` command run in-process, as the integration tests drive it."""

from __future__ import annotations

import pytest

from rapport_local.cli import main


def rapport(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Its exit code, and what it printed to stdout and to stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
