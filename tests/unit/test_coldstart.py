"""What a cold start loads: each handler imports only what every one of its runs needs."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from rapport_local.coldstart import (
    PYTHON_VARIABLE,
    ROOT,
    as_deployed,
    breakdown,
    breakdown_table,
    compile_libraries,
    format_table,
    handler_module,
    instructions,
    lambda_env,
    libraries_time,
    library_steps,
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
    "rapport.domain.detectors",  # about sixty patterns compiled: for the first post a run classifies
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


def test_the_modules_a_handler_loads_are_grouped_by_library_in_the_order_they_are_charged():
    # Given modules in the order an import loaded them: the standard library's, Rapport's, libraries'
    loaded = [
        "json",
        "rapport",
        "pydantic",
        "botocore",
        "pydantic_core",
        "botocore.client",
        "annotated_types",
    ]

    # Then the runtime's botocore comes first, each library keeps its load order, and only the
    # libraries that were loaded are listed (Rapport's code is what the handler adds at the end)
    assert library_steps(loaded) == [
        ("botocore", ["botocore", "botocore.client"]),
        ("pydantic", ["pydantic", "pydantic_core", "annotated_types"]),
    ]


def test_a_handlers_import_is_split_into_parts_that_add_up_to_the_whole():
    # Given a counter that charges a process by the length of its code, and the handler's import most
    counted: list[str] = []

    def count(code: str, env: object) -> int:
        counted.append(code)
        return 10_000_000 if code.startswith("import functions.") else len(code)

    # When the admin's import is broken down (tracing off: no X-Ray SDK, and no X reader at start)
    shares = breakdown("admin", count=count)

    # Then the parts are the interpreter, the libraries it loads in order, then Rapport's own code,
    # and the last total is the whole import of the handler
    assert [s.part for s in shares] == [
        "interpreter",
        "botocore",
        "pydantic",
        "powertools",
        "pynamodb",
        "rapport",
    ]
    assert counted[0] == "pass"
    assert counted[-1] == "import functions.admin.handler"
    assert shares[-1].total == sum(s.added for s in shares) == 10_000_000
    # And each library's step imports the modules of every library before it too
    steps = counted[1:-1]
    assert all(len(later) > len(earlier) for earlier, later in itertools.pairwise(steps))
    assert "'botocore.client'" in steps[0]
    assert "'botocore.client'" in steps[-1]
    assert "pydantic" not in steps[0]

    # And the table gives each part against boto3's import
    table = breakdown_table("admin", shares, baseline=5_000_000)
    assert table.splitlines()[-1].split() == ["rapport", f"{shares[-1].added / 5_000_000:.2f}", "2.00"]


def test_the_admin_builds_the_validator_of_the_command_a_request_asks_for_and_no_other():
    # Given a new interpreter that imports the admin as Lambda would, then parses one command
    probe = (
        "import json, functions.admin.handler; from rapport.usecases import admin; "
        "built = lambda: sorted(a for a, m in admin.COMMANDS.items() if m.__pydantic_complete__); "
        "before = built(); admin.parse_command({'action': 'list_targets'}); "
        "print(json.dumps([before, built()]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=lambda_env(),
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=True,
    )

    # Then the import built none of the fourteen, and the first request its own alone
    assert json.loads(result.stdout) == [[], ["list_targets"]]


def test_the_measured_libraries_get_the_bytecode_a_pip_install_gives_them(tmp_path: Path):
    # Given a package installed without bytecode, as uv installs them
    (tmp_path / "package").mkdir()
    (tmp_path / "package" / "__init__.py").write_text("VALUE = 1\n")

    # When the benchmark prepares its interpreter's libraries
    compile_libraries(tmp_path)

    # Then the package has the bytecode the measured processes read (and could not write)
    assert list((tmp_path / "package" / "__pycache__").glob("__init__.*.pyc"))


def test_the_libraries_alone_are_timed_against_boto3_for_each_handler_asked():
    # When the feedback function's libraries are timed without its own code, once
    ratios = libraries_time(["feedback"], runs=1)

    # Then there is one ratio, for that handler
    assert list(ratios) == ["feedback"]
    assert ratios["feedback"] > 0


def test_the_code_is_measured_as_source_or_compiled_as_a_build_with_the_runtimes_python_ships_it():
    # When the package and handlers are copied as shipped, once as source and once compiled
    with as_deployed() as source, as_deployed(bytecode=True) as compiled:
        # Then the source copy holds no bytecode, so each measured process compiles it, as Lambda does
        assert not list(source.rglob("*.pyc"))
        # And the compiled copy has bytecode the measuring interpreter reads for every module shipped
        modules = [
            *(compiled / "layers/shared/rapport").rglob("*.py"),
            *(compiled / "functions").rglob("*.py"),
        ]
        tag = sys.implementation.cache_tag
        assert all((m.parent / "__pycache__" / f"{m.stem}.{tag}.pyc").is_file() for m in modules)
