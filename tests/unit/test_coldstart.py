"""What a cold start loads: each handler imports only what every one of its runs needs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from rapport_local.coldstart import (
    PYTHON_VARIABLE,
    ROOT,
    format_table,
    handler_module,
    instructions,
    lambda_env,
    measure,
)

HEAVY = (
    "aws_xray_sdk",
    "tweepy",
    "boto3",  # its s3transfer and resources: the functions' clients come from botocore
    "aws_lambda_powertools.utilities.parameters",
    "rapport.usecases.evaluate",
    "rapport.domain.suggestions",  # the rules, with the drafts and the engine
    "rapport.usecases.digest",
    "rapport.email.render",
)


def loaded_by(module: str, tracing: bool = False) -> set[str]:
    """The heavy modules a fresh interpreter holds after importing ``module`` as Lambda would."""
    probe = f"import sys, json; import {module}; "
    probe += f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=lambda_env(tracing),
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(result.stdout))


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        ("collect", set()),  # tweepy comes with the run's reader
        ("evaluate", {"rapport.usecases.evaluate", "rapport.domain.suggestions"}),
        ("digest", {"rapport.usecases.digest"}),  # 23 of 24 hourly runs send nothing: no email
        ("admin", set()),  # most commands neither read X, nor re-evaluate, nor build a digest
        ("feedback", set()),
    ],
)
def test_with_tracing_off_a_handler_loads_only_what_all_its_runs_need(handler: str, expected: set[str]):
    assert loaded_by(handler_module(handler)) == expected


def test_with_tracing_on_the_xray_sdk_is_loaded_and_the_handler_still_imports():
    assert "aws_xray_sdk" in loaded_by(handler_module("evaluate"), tracing=True)


def test_the_benchmark_reports_each_handler_against_boto3():
    # Given one run of the benchmark over one handler
    rows = measure(["evaluate"], runs=1)

    # Then boto3 is the unit and the handler is measured against it
    assert [r.module for r in rows] == ["boto3", "functions.evaluate.handler"]
    assert rows[0].ratio == rows[0].cpu_ratio == 1.0
    assert rows[1].median_s > 0
    assert rows[1].cpu_s > 0
    assert "functions.evaluate.handler" in format_table(rows)


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind counts the instructions")
def test_instructions_count_what_an_import_adds_the_same_every_time():
    # Given a small module and one that loads many more
    small, large = "colorsys", "email.message"

    # When the instructions of importing each are counted, the small one twice
    counts = [instructions(small), instructions(small), instructions(large)]

    # Then the count does not move between runs, and grows with what is imported
    assert counts[0] == pytest.approx(counts[1], rel=0.01)
    assert counts[2] > counts[0] * 1.1


def test_another_interpreter_measures_this_checkouts_code(monkeypatch: pytest.MonkeyPatch):
    # Given the Lambda runtime's Python chosen, whose venv holds the packages but not Rapport
    monkeypatch.setenv(PYTHON_VARIABLE, "/opt/python3.13/bin/python")

    # When the measured processes' environment is built
    path = lambda_env()["PYTHONPATH"].split(os.pathsep)

    # Then they import this checkout's package and handlers
    assert path == [str(ROOT / "layers/shared"), str(ROOT)]
