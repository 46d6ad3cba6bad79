"""`rapport coldstart`: how long a fresh process takes to import each handler, against `import boto3`.

A Lambda cold start pays for the handler module's imports before the first event is read. boto3 is
the floor every Python function on Lambda pays anyway, so each handler is reported as a ratio to a
process that imports boto3 alone. Every figure is the wall time of a whole new interpreter (start,
imports, exit) with the environment the stack gives the functions, and the median of several runs,
taken in rounds so that a busy machine slows every module alike.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
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
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
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


def compile_libraries(directory: Path | None = None) -> None:
    """Bytecode for the measuring interpreter's installed packages (or ``directory``'s modules), as a
    pip install leaves them; what already has it is skipped.

    uv installs without it, and every measured process (writing none, as Lambda cannot) would then
    compile boto3 and the libraries on each import: the tables give them their bytecode ("Bytecode").
    """
    where = repr(str(directory)) if directory else "sysconfig.get_path('purelib')"
    code = f"import compileall, sysconfig; compileall.compile_dir({where}, quiet=2, workers=0)"
    subprocess.run([python(), "-c", code], cwd=tempfile.gettempdir(), capture_output=True, check=True)  # noqa: S603


@contextmanager
def as_deployed(source: Path | None = None, bytecode: bool = False) -> Iterator[Path]:
    """A copy of the checkout's package and handlers as the build ships them: without the bytecode
    caches a checkout gathers (tests, tools), so each measurement compiles them as Lambda does; or,
    with ``bytecode``, compiled once by the measuring interpreter, as a build that has the runtime's
    Python ships the shared layer (layers/shared/Makefile, same compileall options)."""
    root = source or ROOT
    with tempfile.TemporaryDirectory(prefix="rapport-coldstart-") as tmp:
        copy = Path(tmp)
        skip = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(root / "layers/shared/rapport", copy / "layers/shared/rapport", ignore=skip)
        shutil.copytree(root / "functions", copy / "functions", ignore=skip)
        if bytecode:
            compile_code = ["-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
            subprocess.run([python(), *compile_code, str(copy)], capture_output=True, check=True)  # noqa: S603
        yield copy


def handler_module(name: str) -> str:
    return f"functions.{name}.handler"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_import(module: str, env: Mapping[str, str]) -> Sample:
    """Wall and CPU seconds for a new interpreter to import ``module`` and exit."""
    return time_code(f"import {module}", env)


def time_code(code: str, env: Mapping[str, str]) -> Sample:
    """Wall and CPU seconds for a new interpreter to run ``code`` and exit."""
    cpu, start = _children_cpu(), time.perf_counter()
    # From a neutral directory: the working directory comes first on sys.path.
    subprocess.run([python(), "-c", code], env=dict(env), cwd=tempfile.gettempdir(), check=True)  # noqa: S603
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
    return count_instructions(f"import {module}", lambda_env(tracing, source))


def count_instructions(code: str, env: Mapping[str, str]) -> int:
    """Instructions a new interpreter executes to run ``code`` and exit (valgrind, hash seed fixed)."""
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    result = subprocess.run(  # noqa: S603
        [*command, python(), "-c", code],
        env=dict(env) | {"PYTHONHASHSEED": "0"},
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=True,
    )
    # "==123== I   refs:      694,512,345"
    refs = next(line for line in result.stderr.splitlines() if "I" in line and "refs:" in line)
    return int(refs.rsplit(":", 1)[1].strip().replace(",", ""))


# What a handler's import is made of, in the order it is charged: the interpreter, the runtime's
# botocore, the layer's libraries, then Rapport's own code. A module that two of them use (the
# standard library's, mostly) is charged to the first that loads it.
LIBRARIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("botocore", ("botocore",)),
    ("pydantic", ("pydantic", "pydantic_core", "annotated_types", "typing_inspection")),
    ("powertools", ("aws_lambda_powertools",)),
    ("pynamodb", ("pynamodb",)),
    ("tweepy", ("tweepy", "requests", "requests_oauthlib", "oauthlib")),
    ("x-ray sdk", ("aws_xray_sdk", "wrapt")),
)
RAPPORT = "rapport"


@dataclass(frozen=True, slots=True)
class Share:
    part: str  # "interpreter", a library of LIBRARIES, or "rapport"
    added: int  # instructions it adds to the parts before it
    total: int  # instructions of it and the parts before it


Step = tuple[str, list[str]]  # a library's name, and its modules a handler loads


def library_steps(loaded: Sequence[str]) -> list[Step]:
    """The libraries among ``loaded`` (module names in load order), each with its modules."""
    steps: list[Step] = []
    for name, packages in LIBRARIES:
        if modules := [m for m in loaded if m.partition(".")[0] in packages]:
            steps.append((name, modules))
    return steps


def handler_libraries(handler: str, env: Mapping[str, str]) -> list[Step]:
    """The libraries a handler's import loads, each with its modules, in the order they are charged."""
    return library_steps(loaded_modules(handler_module(handler), env))


def loaded_modules(module: str, env: Mapping[str, str]) -> list[str]:
    """The modules a new interpreter holds after importing ``module``, in the order they were loaded."""
    probe = f"import sys, json; import {module}; print(json.dumps(list(sys.modules)))"
    result = subprocess.run(  # noqa: S603
        [python(), "-c", probe],
        env=dict(env),
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def _importing(modules: Sequence[str]) -> str:
    # A name a package registers for another (an alias) cannot always be imported by itself; the
    # package that registered it is in the list, so skipping it loses nothing.
    return (
        "import importlib\n"
        f"for name in {list(modules)!r}:\n"
        "    try:\n        importlib.import_module(name)\n"
        "    except ImportError:\n        pass\n"
    )


def breakdown(
    handler: str,
    tracing: bool = False,
    source: Path | None = None,
    count: Callable[[str, Mapping[str, str]], int] = count_instructions,
    steps: Sequence[Step] | None = None,
) -> list[Share]:
    """A handler's import in instructions, part by part: what each library adds to the ones before.

    Each row is one more new interpreter that imports every module of the parts so far; the last is
    the handler itself, so the rows add up to its whole import. What the libraries cost before any
    of Rapport's code runs is the floor no change to Rapport can go under. ``steps``: the handler's
    libraries (``handler_libraries``) when the caller has them already.
    """
    env = lambda_env(tracing, source)
    module = handler_module(handler)
    shares: list[Share] = []
    before = count("pass", env)
    shares.append(Share("interpreter", before, before))
    so_far: list[str] = []
    for name, modules in handler_libraries(handler, env) if steps is None else steps:
        so_far += modules
        total = count(_importing(so_far), env)
        shares.append(Share(name, total - before, total))
        before = total
    total = count(f"import {module}", env)
    shares.append(Share(RAPPORT, total - before, total))
    return shares


def libraries_time(
    handlers: Sequence[str],
    runs: int,
    tracing: bool = False,
    source: Path | None = None,
    steps: Mapping[str, Sequence[Step]] | None = None,
) -> dict[str, float]:
    """CPU time of importing each handler's libraries alone (every part but Rapport's code), as a ratio
    to ``import boto3``'s: median of ``runs``, in rounds after an unmeasured one, as ``measure``."""
    env = lambda_env(tracing, source)
    codes = {BASELINE: f"import {BASELINE}"}
    for handler in handlers:
        libraries = handler_libraries(handler, env) if steps is None else steps[handler]
        codes[handler] = _importing([module for _, modules in libraries for module in modules])
    samples: dict[str, list[float]] = {name: [] for name in codes}
    for round_ in range(runs + 1):
        for name, code in codes.items():
            cpu = time_code(code, env).cpu_s
            if round_:
                samples[name].append(cpu)
    floor = statistics.median(samples[BASELINE])
    return {h: statistics.median(samples[h]) / floor for h in handlers}


def breakdown_table(handler: str, shares: Sequence[Share], baseline: int) -> str:
    lines = [
        f"{handler_module(handler)}, x boto3 in instructions:",
        f"  {'part':<12} {'adds':>6} {'so far':>7}",
    ]
    lines += [f"  {s.part:<12} {s.added / baseline:>6.2f} {s.total / baseline:>7.2f}" for s in shares]
    return "\n".join(lines)


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
    parts: bool = False,
    bytecode: bool = False,
) -> list[ImportTime]:
    of = f" of {source}" if source else ""
    of += ", Rapport's code compiled as shipped" if bytecode else ""
    compile_libraries()
    with as_deployed(source, bytecode) as deployed:
        return _report(runs, tracing, top, deployed, of, invoke=invoke, count=count, parts=parts)


def _report(
    runs: int, tracing: bool, top: int, source: Path, of: str, *, invoke: bool, count: bool, parts: bool
) -> list[ImportTime]:
    rows = measure(HANDLERS, runs, tracing, source)
    print(f"whole-process import time{of}, median of {runs} runs, tracing {'on' if tracing else 'off'}")
    print(format_table(rows))
    if count:
        print(f"\ninstructions to import{of} (valgrind), tracing {'on' if tracing else 'off'}:")
        print(instruction_table(HANDLERS, tracing, source))
    if parts:
        baseline = instructions(BASELINE, tracing, source)
        env = lambda_env(tracing, source)
        steps = {h: handler_libraries(h, env) for h in HANDLERS}  # one probe each, for both tables
        print(f"\neach handler's import by part{of}, tracing {'on' if tracing else 'off'}: what each adds")
        shares = {h: breakdown(h, tracing, source, steps=steps[h]) for h in HANDLERS}
        print("\n\n".join(breakdown_table(h, shares[h], baseline) for h in HANDLERS))
        alone = libraries_time(HANDLERS, runs, tracing, source, steps)
        print(f"\nthe libraries alone, CPU time x boto3 (median of {runs} runs):")
        print("\n".join(f"  {handler_module(h):<28} {ratio:>5.2f}" for h, ratio in alone.items()))
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
