"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

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
