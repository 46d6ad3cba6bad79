"""`rapport digest preview` refuses a day it cannot show, before starting anything."""

from __future__ import annotations

import pytest

from rapport_local.cli import main


def test_a_date_outside_the_scenario_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    # When the user asks for a day the shipped scenario does not cover
    status = main(["digest", "preview", "--date", "2026-04-30"])

    # Then the command says which days it can show, and fails
    assert status == 2
    assert "--date must be between 2026-03-03 and 2026-03-16" in capsys.readouterr().err


def test_a_malformed_date_is_rejected_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["digest", "preview", "--date", "03/09/2026"])

    assert exited.value.code == 2
    assert "is not a date like" in capsys.readouterr().err
