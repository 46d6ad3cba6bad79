"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

if TYPE_CHECKING:
    from rapport_local.aws import LocalAws

# The suite is the gate for landing: the same examples every run, so a red run is reproducible.
# `HYPOTHESIS_PROFILE=explore` searches fresh random examples, many more of them.
settings.register_profile("gate", max_examples=300, deadline=None, derandomize=True, database=None)
settings.register_profile("explore", max_examples=5000, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "gate"))


def shared_dir() -> Path | None:
    """The project's sibling ``shared/`` folder (X API contract, data sets), if present."""
    candidates = [Path(__file__).resolve().parents[1].parent / "shared"]
    if os.environ.get("RAPPORT_SHARED_DIR"):
        candidates.insert(0, Path(os.environ["RAPPORT_SHARED_DIR"]))
    return next((c for c in candidates if c.is_dir()), None)


@pytest.fixture(scope="session")
def shared() -> Path:
    found = shared_dir()
    if found is None:
        pytest.skip("the shared/ folder beside the repository is not present")
    return found


@pytest.fixture(scope="session")
def aws_server() -> Iterator[LocalAws]:
    """One moto server on loopback for the contract and integration phases."""
    from rapport_local.aws import local_aws  # moto is slow to import; unit tests never need it

    with local_aws() as emulator:
        yield emulator


# Phases, cheapest first, so a broken unit fails in seconds, and the run says where it is.
PHASES = ("unit", "contract", "integration", "e2e")


def _phase(item: pytest.Item) -> str:
    parts = Path(str(item.fspath)).parts
    return next((p for p in PHASES if p in parts), "other")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    order = {name: i for i, name in enumerate(PHASES)}
    items.sort(key=lambda item: order.get(_phase(item), len(PHASES)))


_shown: set[str] = set()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    phase = _phase(item)
    if phase in _shown:
        return
    _shown.add(phase)
    reporter = item.config.pluginmanager.getplugin("terminalreporter")
    capture = item.config.pluginmanager.getplugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():  # setup output is captured; this line is for the person
        if len(_shown) > 1:
            reporter.write("\n")  # the dots of the phase before end mid-line
        reporter.write_sep("-", f"phase: {phase}", bold=True)
