"""The X simulator's modules: each imports on its own, and none imports another that imports it back."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

XSIM = Path(__file__).resolve().parents[2] / "infra" / "rapport_local" / "xsim"
MODULES = sorted(f"rapport_local.xsim.{p.stem}" for p in XSIM.glob("*.py") if p.stem != "__init__")


def xsim_imports(module: str) -> set[str]:
    """The xsim modules ``module`` imports, counting imports made only for type checking."""
    tree = ast.parse((XSIM / f"{module.rsplit('.', 1)[1]}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in MODULES}


def circle_through(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """A chain of imports leading from ``start`` back to it, if there is one."""
    paths = [[start]]
    seen: set[str] = set()
    while paths:
        path = paths.pop()
        for imported in sorted(graph[path[-1]]):
            if imported == start:
                return [*path, start]
            if imported not in seen:
                seen.add(imported)
                paths.append([*path, imported])
    return None


def test_no_xsim_module_imports_itself_back_through_others():
    # Given every import between the simulator's modules, type-checking ones included
    graph = {module: xsim_imports(module) for module in MODULES}
    assert graph["rapport_local.xsim.world"]  # the graph is really read: the world imports its parts
    # When we look for a chain that comes back to where it started
    circles = [circle for module in MODULES if (circle := circle_through(module, graph))]
    # Then there is none
    assert circles == []


def test_the_circle_finder_sees_a_circle():
    assert circle_through("a", {"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert circle_through("a", {"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("module", MODULES)
def test_each_xsim_module_imports_first_in_a_fresh_interpreter(module):
    # Given a new Python with nothing imported yet / When only this module is imported
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False, timeout=60
    )
    # Then it imports without error, whatever order its own imports come in
    assert done.returncode == 0, done.stderr
