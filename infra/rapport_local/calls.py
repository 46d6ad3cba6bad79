"""`rapport calls`: the DynamoDB calls each run of collect, evaluate and digest makes, by world size.

A seeded world (bench's generator) is played on the local stack, hour by hour, with the real
handlers; every call they make is counted (rapport_local.stack). The X budget is set out of reach
so every run does its full work: the figures are the calls, not the budget's cap.
"""

from __future__ import annotations

import io
import math
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from rapport.runtime.observability import logger
from rapport_local.bench import faster_moto, generate
from rapport_local.stack import open_stack

FUNCTIONS = ("collect", "evaluate", "digest")
HOURS = 8  # from 00:00 on: the run after the targets are added, steady hours, the 07:00 digest
UNLIMITED_BUDGET = {"x_monthly_budget_usd": 10_000}
Echo = Callable[[str], None]


def measure_calls(targets: int, hours: int = HOURS, seed: int = 7, echo: Echo = print) -> dict[str, Any]:
    """Add ``targets`` people a day into a seeded world, then run ``hours`` hourly ticks."""
    # A day of history before the targets are added, and the world goes on past the last tick.
    world = generate(targets, days=2 + math.ceil(hours / 24), seed=seed).scenario
    scenario = replace(world, settings=world.settings | UNLIMITED_BUDGET)
    added_at = scenario.start + timedelta(days=1)
    logger.setLevel("ERROR")
    with faster_moto(), open_stack(scenario, output=io.StringIO()) as stack:
        stack.xsim.set_now(added_at)
        stack.admin(action="update_settings", settings=scenario.settings)
        for i, username in enumerate(scenario.targets):
            if i % 500 == 0:
                stack.xsim.reset_rate_limits()  # adding 1,000 at once is not the hourly load measured
            stack.admin(action="add_target", username=username)
        echo(f"  {targets} targets added; {hours} hourly ticks ...")
        stack.after_tick.append(lambda tick: echo(f"    {tick.at:%Y-%m-%d %H:%M} done"))
        stack.run(added_at, hours)
        runs = {name: stack.by_function(name) for name in FUNCTIONS}
    by_operation = {name: Counter[str]() for name in FUNCTIONS}
    for name, invocations in runs.items():
        for run in invocations:
            by_operation[name].update(
                {op: n for op, n in run.aws_calls.items() if op.startswith("dynamodb:")}
            )
    return {
        "targets": targets,
        "hours": hours,
        "dynamodb": {name: _figures([run.calls_to("dynamodb") for run in runs[name]]) for name in FUNCTIONS},
        "dynamodb_by_operation": {name: dict(sorted(ops.items())) for name, ops in by_operation.items()},
    }


def _figures(counts: Sequence[int]) -> dict[str, float]:
    return {
        "runs": len(counts),
        "mean": round(statistics.fmean(counts), 1) if counts else 0.0,
        "max": max(counts, default=0),
        "first": counts[0] if counts else 0,
    }


def format_calls(results: Sequence[dict[str, Any]]) -> list[str]:
    lines = [
        "| targets | hours | handler | runs | DynamoDB calls per run: mean | max | first run |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        for name in FUNCTIONS:
            f = r["dynamodb"][name]
            lines.append(
                f"| {r['targets']:,} | {r['hours']} | {name} | {f['runs']} | {f['mean']:,.1f} "
                f"| {f['max']:,} | {f['first']:,} |"
            )
    return lines


def run_calls(
    sizes: Sequence[int] = (10, 1000), hours: int = HOURS, seed: int = 7, echo: Echo = print
) -> list[dict[str, Any]]:
    echo(f"rapport calls: {hours} hourly ticks after adding the targets, seed {seed}")
    results = []
    for size in sizes:
        results.append(measure_calls(size, hours, seed, echo))
        echo(f"  {size} targets: done")
    echo("")
    for line in format_calls(results):
        echo(line)
    return results
