"""Which Python 3.13 `make sam-build` compiles the layers with (infra/runtime_python.sh)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "infra" / "runtime_python.sh"

# A stand-in interpreter: answers the version probe with its exit code and prints its own path when
# asked for sys.executable, as a real one would.
PYTHON = """#!/bin/sh
case "$2" in *print*) echo "$0" ;; esac
exit {status}
"""
# pyenv's shim when 3.13 is installed but another version is active: on PATH, and fails when run.
BROKEN_SHIM = "#!/bin/sh\necho 'pyenv: python3.13: command not found' >&2\nexit 127\n"


def executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def python(path: Path, version_ok: bool = True) -> Path:
    return executable(path, PYTHON.format(status=0 if version_ok else 1))


def found(tmp_path: Path, path_dirs: list[Path], **env: str) -> str:
    """What the script prints on a machine whose PATH is ``path_dirs``."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    environment = {
        # Only these: a python3.13 of the machine running the tests must not be found.
        "PATH": os.pathsep.join([*map(str, path_dirs), str(tmp_path / "empty")]),
        "HOME": str(home),
        "UV": str(tmp_path / "no-uv"),
    } | env
    result = subprocess.run(
        ["/bin/bash", str(SCRIPT)], env=environment, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_a_python_named_by_the_person_is_taken_as_given(tmp_path: Path):
    # Given a 3.13 on PATH, and another named in BYTECODE_PYTHON
    on_path = tmp_path / "bin"
    python(on_path / "python3.13")

    # Then the named one is used (the layer Makefiles refuse it if it is not a 3.13)
    assert (
        found(tmp_path, [on_path], BYTECODE_PYTHON="/opt/python3.13/bin/python")
        == "/opt/python3.13/bin/python"
    )


def test_a_working_python313_on_path_comes_first(tmp_path: Path):
    # Given a 3.13 on PATH and one in pyenv's versions
    on_path = python(tmp_path / "bin" / "python3.13")
    python(tmp_path / "pyenv" / "versions" / "3.13.1" / "bin" / "python3.13")

    # Then the one on PATH is chosen
    assert found(tmp_path, [on_path.parent], PYENV_ROOT=str(tmp_path / "pyenv")) == str(on_path)


def test_pyenvs_313_is_found_when_its_shim_on_path_does_not_run(tmp_path: Path):
    # Given pyenv with 3.13 installed but 3.11 active: its python3.13 shim fails when run
    shims = tmp_path / "shims"
    executable(shims / "python3.13", BROKEN_SHIM)
    installed = python(tmp_path / "pyenv" / "versions" / "3.13.0" / "bin" / "python3.13")

    # Then the installed version itself is used
    assert found(tmp_path, [shims], PYENV_ROOT=str(tmp_path / "pyenv")) == str(installed)


def test_the_python_uv_knows_is_used_when_none_is_on_path(tmp_path: Path):
    # Given no python3.13 on PATH, and uv knowing one (`uv python install 3.13`)
    managed = python(tmp_path / "uv-pythons" / "cpython-3.13" / "bin" / "python3.13")
    uv = executable(tmp_path / "uv", f'#!/bin/sh\n[ "$1 $2" = "python find" ] && echo "{managed}"\n')

    # Then that one is used
    assert found(tmp_path, [], UV=str(uv)) == str(managed)


def test_a_python313_that_is_another_version_and_no_313_at_all_give_nothing(tmp_path: Path):
    # Given a "python3.13" on PATH that is not a 3.13, and no other anywhere
    on_path = python(tmp_path / "bin" / "python3.13", version_ok=False)

    # Then nothing is printed: the build ships source and says so
    assert found(tmp_path, [on_path.parent], PYENV_ROOT=str(tmp_path / "no-pyenv")) == ""
