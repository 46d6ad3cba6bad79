"""`rapport local` started as a person starts it: a subprocess in a directory, ready when it says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

READY_WITHIN = 120  # seconds: moto, the simulator and the first imports on a busy machine


@dataclass(frozen=True, slots=True)
class RunningStack:
    directory: Path
    endpoints: dict[str, Any]
    process: subprocess.Popen[str]


def start_local(directory: Path, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "rapport_local.cli", "local", *options],
        cwd=directory,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )


def wait_ready(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("ready"):
            return line
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"`rapport local` never said ready: {process.communicate()[1][-2000:]}")


@contextmanager
def running_local_stack(directory: Path, *options: str) -> Iterator[RunningStack]:
    """A local stack serving from ``directory`` until the block ends."""
    process = start_local(directory, *options)
    try:
        wait_ready(process)
        endpoints = json.loads((directory / ".rapport" / "local.json").read_text())
        yield RunningStack(directory, endpoints, process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
