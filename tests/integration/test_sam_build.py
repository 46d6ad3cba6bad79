"""`make sam-build` as a user runs it before `sam deploy --guided`: no AWS account, no container engine
and no python3.13, only the default Python and PyPI.

The build is real (the SAM CLI of the tools venv, pip downloading the Lambda platform's wheels); the
assertions are on the artifacts `sam deploy` would upload.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = ROOT / ".venv-tools" / "bin"
FUNCTIONS = ("Collect", "Evaluate", "Digest", "Admin")
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024  # function code plus all its layers, unzipped


def _host_path_without_newer_pythons() -> str:
    """PATH with no directory that offers python3.12+ (pyenv shims and the like), as on a plain machine."""
    kept = []
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        offers = list(Path(entry).glob("python3.1[2-9]")) if Path(entry).is_dir() else []
        if not offers and ".pyenv" not in entry:
            kept.append(entry)
    return os.pathsep.join([str(TOOLS_BIN), *kept])


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make sam-build`, as the README's deploy steps run it, on a machine without a Python 3.13."""
    if not (TOOLS_BIN / "sam").exists():
        pytest.fail("the SAM CLI is missing: run `make tools`")
    out = tmp_path_factory.mktemp("sam") / "build"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "BYTECODE_PYTHON"}
    # No 3.13 where infra/runtime_python.sh looks: not on PATH, no pyenv, none that uv manages.
    no_python313 = tmp_path_factory.mktemp("no-python313")
    env.update(PATH=_host_path_without_newer_pythons(), PYENV_ROOT=str(no_python313))
    env.update(UV_PYTHON_INSTALL_DIR=str(no_python313), MAKEFLAGS="", MAKELEVEL="")
    result = subprocess.run(
        ["make", "--no-print-directory", "sam-build", f"SAM_BUILD_DIR={out}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"make sam-build failed:\n{result.stdout}\n{result.stderr}"
    (out.parent / "sam-build.log").write_text(result.stdout + result.stderr)
    return out


def _zipped_size(directory: Path, into: Path) -> int:
    with zipfile.ZipFile(into, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory))
    return into.stat().st_size


def _unzipped_size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def test_the_dependencies_layer_holds_arm64_wheels_for_python313_and_no_boto(build: Path) -> None:
    site = build / "DependenciesLayer" / "python"

    # Then every package the functions import is there, compiled for Lambda's platform
    for package in ("aws_lambda_powertools", "pydantic", "pydantic_core", "pynamodb", "tweepy", "tzdata"):
        assert (site / package).is_dir(), package
    (core,) = (site / "pydantic_core").glob("_pydantic_core*.so")
    assert core.name.endswith(".cpython-313-aarch64-linux-gnu.so")
    assert core.read_bytes()[18] == 0xB7  # ELF e_machine = EM_AARCH64

    # And nothing the Lambda runtime provides is packaged again
    for provided in ("boto3", "botocore", "s3transfer"):
        assert not (site / provided).exists(), provided
        assert list(site.glob(f"{provided}-*.dist-info")) == [], provided


def test_without_python313_the_shared_layer_is_the_rapport_package_as_source(build: Path) -> None:
    package = build / "SharedLayer" / "python" / "rapport"

    # Given the build's output / Then it says why the layers ship source, and how to get a 3.13
    log = (build.parent / "sam-build.log").read_text()
    assert "no Python 3.13 found: the layers ship source" in log
    assert "python install 3.13" in log

    modules = ("domain/engine.py", "domain/detectors/questions.py", "email/render.py", "runtime/services.py")
    for module in modules:
        assert (package / module).is_file(), module
    assert list(package.rglob("__pycache__")) == []


def test_each_function_is_only_its_handler_and_everything_fits_lambda(build: Path, tmp_path: Path) -> None:
    layers = _unzipped_size(build / "DependenciesLayer") + _unzipped_size(build / "SharedLayer")
    for name in FUNCTIONS:
        code = build / f"{name}Function"
        assert [p.name for p in code.iterdir()] == ["handler.py"], name
        assert _zipped_size(code, tmp_path / f"{name}.zip") < 64 * 1024, name
        assert _unzipped_size(code) + layers < LAMBDA_UNZIPPED_LIMIT, name


def test_the_build_has_nothing_to_warn_about_for_the_functions(build: Path) -> None:
    # Given the build's output / Then no function is reported without a requirements.txt: their
    # dependencies come from the layers, and the functions are built with make (functions/Makefile)
    log = (build.parent / "sam-build.log").read_text()

    assert "Building codeuri" in log
    assert "requirements.txt file not found" not in log


def _python313() -> str | None:
    """A Python 3.13 on this machine (on PATH, or one of pyenv's), as a build host may have one."""
    pyenv = Path.home().glob(".pyenv/versions/3.13*/bin/python3.13")
    candidates = [shutil.which("python3.13"), *map(str, pyenv)]
    for candidate in filter(None, candidates):
        probe = [candidate, "-c", "import sys; sys.exit(sys.version_info[:2] != (3, 13))"]
        if subprocess.run(probe, capture_output=True, check=False).returncode == 0:
            return candidate
    return None


def _make_layer(layer: str, out: Path, python: str) -> subprocess.CompletedProcess[str]:
    target = f"build-{layer.capitalize()}Layer"
    command = ["make", "-s", "-C", str(ROOT / "layers" / layer), target, f"ARTIFACTS_DIR={out}"]
    return subprocess.run(
        [*command, f"BYTECODE_PYTHON={python}"], capture_output=True, text=True, timeout=600, check=False
    )


def test_with_python313_both_layers_ship_the_bytecode_lambda_loads(tmp_path: Path) -> None:
    # Given a build host with the runtime's Python
    python = _python313()
    if python is None:
        pytest.skip("no Python 3.13 on this machine")
    for layer in ("shared", "dependencies"):
        # When the layer is built
        out = tmp_path / layer
        result = _make_layer(layer, out, python)
        assert result.returncode == 0, result.stderr
        # Then every module has its 3.13 bytecode beside it, named for the path Lambda mounts it at
        site = out / "python"
        sources = [p for p in site.rglob("*.py") if "__pycache__" not in p.parts]
        compiled = {p: p.parent / "__pycache__" / f"{p.stem}.cpython-313.pyc" for p in sources}
        missing = [p for p, pyc in compiled.items() if not pyc.exists()]
        assert sources and not missing, missing[:5]
    # And Python 3.13 imports Rapport from that bytecode without compiling (Lambda cannot write it)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "shared" / "python"), "PYTHONDONTWRITEBYTECODE": "1"}
    probe = [python, "-v", "-c", "import rapport.domain.model"]
    loaded = subprocess.run(probe, env=env, capture_output=True, text=True, check=True, cwd=tmp_path).stderr
    assert "model.cpython-313.pyc matches" in loaded
    # And a traceback names the file where Lambda has it, not the build host's folder
    pyc = tmp_path / "shared" / "python" / "rapport" / "domain" / "__pycache__" / "model.cpython-313.pyc"
    read = "import marshal, sys; print(marshal.loads(open(sys.argv[1], 'rb').read()[16:]).co_filename)"
    named = subprocess.run([python, "-c", read, str(pyc)], capture_output=True, text=True, check=True).stdout
    assert named.strip() == "/opt/python/rapport/domain/model.py"


def test_a_bytecode_python_that_is_not_313_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    # Given a build told to compile with the wrong Python
    if sys.version_info[:2] == (3, 13):
        pytest.skip("this interpreter is the runtime's own version")
    # When the shared layer is built / Then it stops and says why
    result = _make_layer("shared", tmp_path / "shared", sys.executable)
    assert result.returncode != 0
    assert "is not a Python 3.13" in result.stderr
