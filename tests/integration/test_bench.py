"""`rapport bench` on a tiny world: it runs, prints its table, and Rapport misses no scripted signal."""

from __future__ import annotations

import pytest

from rapport_local.bench import bench_size, format_table, generate, in_process_dynamodb

pytestmark = pytest.mark.integration


def test_the_same_seed_generates_the_same_world():
    first, second = generate(5, 4, seed=3), generate(5, 4, seed=3)
    assert first.scenario.events == second.scenario.events
    assert first.signals == second.signals
    assert generate(5, 4, seed=4).scenario.events != first.scenario.events


def test_a_tiny_bench_misses_nothing_and_costs_less_than_the_naive_collector():
    # Given a seeded world of 6 targets over 6 days, with thanks, follow-backs and answers scripted
    with in_process_dynamodb():
        result = bench_size(6, 6, every_hours=12, seed=11)
    # Then Rapport stored every scripted signal and paid far less than polling everything
    assert result["signals"] > 0
    assert result["missed"] == 0
    assert result["rapport"]["cost_usd"] < result["naive"]["cost_usd"]
    assert result["rapport"]["cost_usd"] >= result["lower_bound"]["cost_usd"]
    lines = format_table([result])
    assert len(lines) == 5 and "| 6 | rapport |" in lines[2]
