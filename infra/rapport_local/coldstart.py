"""`rapport coldstart`: how long a fresh process takes to import each handler, against `import boto3`.

A Lambda cold start pays for the handler module's imports before the first event is read. boto3 is
the floor every Python function on Lambda pays anyway, so each handler is reported as a ratio to a
process that imports boto3 alone. Every figure is the wall time of a whole new interpreter (start,
imports, exit) with the environment the stack gives the functions, and the median of several runs,
taken in rounds so that a busy machine slows every module alike.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rapport_local.aws import BUS, RECIPIENT, REGION, SECRET, SENDER, TABLE

HANDLERS = ("collect", "evaluate", "digest", "admin", "feedback")
BASELINE = "boto3"

# What template.yaml sets for every function, with local values; LAMBDA_TASK_ROOT makes Powertools
# behave as it does in Lambda (outside it, Tracer switches itself off).
LAMBDA_ENV = {
    "RAPPORT_TABLE_NAME": TABLE,
    "RAPPORT_EVENT_BUS_NAME": BUS,
    "RAPPORT_X_SECRET_ID": SECRET,
    "RAPPORT_SENDER": SENDER,
    "RAPPORT_RECIPIENT": RECIPIENT,
    "RAPPORT_DEFAULT_TIMEZONE": "UTC",
    "RAPPORT_DEFAULT_DIGEST_HOUR": "7",
    "RAPPORT_DEFAULT_X_MONTHLY_BUDGET_USD": "5",
    "POWERTOOLS_SERVICE_NAME": "rapport-local",
    "POWERTOOLS_METRICS_NAMESPACE": "Rapport",
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
    "LOG_LEVEL": "INFO",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_LAMBDA_FUNCTION_NAME": "rapport-coldstart",
    "LAMBDA_TASK_ROOT": "/var/task",
    # Lambda's code is read-only: what is not shipped compiled is compiled at every cold start.
    "PYTHONDONTWRITEBYTECODE": "1",
}


@dataclass(frozen=True, slots=True)
class ImportTime:
    module: str
    median_s: float  # wall time
    ratio: float  # to the baseline's median wall time
    cpu_s: float  # user + system time of the process: what a busy machine's other work does not inflate
    cpu_ratio: float


@dataclass(frozen=True, slots=True)
class Sample:
    wall_s: float
    cpu_s: float


ROOT = Path(__file__).resolve().parents[2]
# Another interpreter to measure with (e.g. the Lambda runtime's Python in a throwaway venv that
# holds the layers' packages): `rapport coldstart --python PATH` sets it.
PYTHON_VARIABLE = "RAPPORT_COLDSTART_PYTHON"


def python() -> str:
    return os.environ.get(PYTHON_VARIABLE) or sys.executable


def lambda_env(tracing: bool = False, source: Path | None = None) -> dict[str, str]:
    """This process's environment without its AWS settings, plus the stack's (tracing as deployed).

    ``source`` is another checkout whose handlers and package are imported instead of this one's
    (e.g. a commit before a change, to compare against).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RAPPORT_", "POWERTOOLS_"))}
    env |= LAMBDA_ENV | {"POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true"}
    if source is None and python() != sys.executable:
        source = ROOT  # the other interpreter's packages, and this checkout's code
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (source / "layers/shared", source))
    return env


@contextmanager
def as_deployed(source: Path | None = None) -> Iterator[Path]:
    """A copy of the checkout's package and handlers as the build ships them: without the bytecode
    caches a checkout gathers (tests, tools), so each measurement compiles them as Lambda does."""
    root = source or ROOT
    with tempfile.TemporaryDirectory(prefix="rapport-coldstart-") as tmp:
        copy = Path(tmp)
        skip = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(root / "layers/shared/rapport", copy / "layers/shared/rapport", ignore=skip)
        shutil.copytree(root / "functions", copy / "functions", ignore=skip)
        yield copy


def handler_module(name: str) -> str:
    return f"functions.{name}.handler"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_import(module: str, env: Mapping[str, str]) -> Sample:
    """Wall and CPU seconds for a new interpreter to import ``module`` and exit."""
    cpu, start = _children_cpu(), time.perf_counter()
    # From a neutral directory: the working directory comes first on sys.path.
    subprocess.run(  # noqa: S603
        [python(), "-c", f"import {module}"], env=dict(env), cwd=tempfile.gettempdir(), check=True
    )
    return Sample(time.perf_counter() - start, _children_cpu() - cpu)


def measure(
    handlers: Sequence[str] = HANDLERS, runs: int = 7, tracing: bool = False, source: Path | None = None
) -> list[ImportTime]:
    """Median import time of boto3 and of each handler, after one unmeasured round that warms caches."""
    env = lambda_env(tracing, source)
    modules = [BASELINE, *(handler_module(h) for h in handlers)]
    samples: dict[str, list[Sample]] = {m: [] for m in modules}
    for round_ in range(runs + 1):
        for module in modules:
            sample = time_import(module, env)
            if round_:
                samples[module].append(sample)
    wall = {m: statistics.median(x.wall_s for x in s) for m, s in samples.items()}
    cpu = {m: statistics.median(x.cpu_s for x in s) for m, s in samples.items()}
    return [ImportTime(m, wall[m], wall[m] / wall[BASELINE], cpu[m], cpu[m] / cpu[BASELINE]) for m in modules]


def slowest_imports(
    module: str, top: int = 10, tracing: bool = False, source: Path | None = None
) -> list[tuple[str, float]]:
    """The imports with the largest cumulative time (``python -X importtime``), slowest first."""
    result = subprocess.run(  # noqa: S603
        [python(), "-X", "importtime", "-c", f"import {module}"],
        env=lambda_env(tracing, source),
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=True,
    )
    rows: list[tuple[str, float]] = []
    for line in result.stderr.splitlines():
        # "import time: self [us] | cumulative | imported package"
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        rows.append((parts[2].rstrip(), int(parts[1]) / 1_000_000))
    return sorted(rows, key=lambda row: row[1], reverse=True)[:top]


def instructions(module: str, tracing: bool = False, source: Path | None = None) -> int:
    """Instructions a new interpreter executes to import ``module`` and exit, counted by valgrind.

    The same on a busy machine as on an idle one (hash seed fixed), so a change of a few percent
    shows; it leaves out what the kernel does (reading files) and how fast each instruction runs.
    """
    env = lambda_env(tracing, source) | {"PYTHONHASHSEED": "0"}
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    result = subprocess.run(  # noqa: S603
        [*command, python(), "-c", f"import {module}"],
        env=env,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=True,
    )
    # "==123== I   refs:      694,512,345"
    refs = next(line for line in result.stderr.splitlines() if "I" in line and "refs:" in line)
    return int(refs.rsplit(":", 1)[1].strip().replace(",", ""))


def instruction_table(
    handlers: Sequence[str] = HANDLERS, tracing: bool = False, source: Path | None = None
) -> str:
    counts = {m: instructions(m, tracing, source) for m in (BASELINE, *(handler_module(h) for h in handlers))}
    lines = [f"{'module':<28} {'M instr':>8} {'x boto3':>8}"]
    lines += [f"{m:<28} {n / 1e6:>8.1f} {n / counts[BASELINE]:>8.2f}" for m, n in counts.items()]
    return "\n".join(lines)


def format_table(rows: Sequence[ImportTime]) -> str:
    lines = [f"{'module':<28} {'wall s':>7} {'x boto3':>8} {'cpu s':>7} {'x boto3':>8}"]
    lines += [
        f"{row.module:<28} {row.median_s:>7.3f} {row.ratio:>8.2f} {row.cpu_s:>7.3f} {row.cpu_ratio:>8.2f}"
        for row in rows
    ]
    return "\n".join(lines)


def run_coldstart(
    runs: int = 7,
    tracing: bool = False,
    top: int = 0,
    source: Path | None = None,
    *,
    invoke: bool = False,
    count: bool = False,
) -> list[ImportTime]:
    of = f" of {source}" if source else ""
    with as_deployed(source) as deployed:
        return _report(runs, tracing, top, deployed, of, invoke=invoke, count=count)


def _report(
    runs: int, tracing: bool, top: int, source: Path, of: str, *, invoke: bool, count: bool
) -> list[ImportTime]:
    rows = measure(HANDLERS, runs, tracing, source)
    print(f"whole-process import time{of}, median of {runs} runs, tracing {'on' if tracing else 'off'}")
    print(format_table(rows))
    if count:
        print(f"\ninstructions to import{of} (valgrind), tracing {'on' if tracing else 'off'}:")
        print(instruction_table(HANDLERS, tracing, source))
    if invoke:
        from rapport_local.first_invocation import FIRST_REQUESTS, measure_first_invocations

        print(f"\nimport + first invocation on the local stack, median of {runs} runs, tracing off:")
        print("\n".join(f"  {name}: {request}" for name, request in FIRST_REQUESTS.items()))
        print(format_table(measure_first_invocations(HANDLERS, runs, source)))
    for name in HANDLERS if top else ():
        print(f"\nslowest imports of {handler_module(name)}:")
        for imported, seconds in slowest_imports(handler_module(name), top, tracing, source):
            print(f"  {seconds:7.3f} s  {imported}")
    return rows
