"""`rapport bench` on tiny worlds: it runs, prints its rows, and its missed-signal count is honest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rapport.domain.model import InteractionKind
from rapport.usecases.ports import Stores
from rapport_local.bench import (
    COLLECTORS,
    DOLLAR_LEVERS,
    LEVERS,
    ME,
    RapportCollector,
    _lever_off,
    bench_size,
    bench_world,
    format_table,
    generate,
    in_process_dynamodb,
    lever_rows,
    memory_stores,
    moto_stores,
    needs,
    play,
    run_bench,
    served,
)
from rapport_local.scenario import FollowEvent, PostEvent, RetweetEvent
from rapport_local.xsim.server import XSimApp

pytestmark = pytest.mark.integration
MONTH = Path(__file__).parents[2] / "infra" / "rapport_local" / "scenarios" / "month.yaml"


def test_the_same_seed_generates_the_same_world():
    first, second = generate(5, 4, seed=3), generate(5, 4, seed=3)
    assert first.scenario.events == second.scenario.events
    assert first.readable == second.readable
    assert generate(5, 4, seed=4).scenario.events != first.scenario.events


def test_a_generated_world_looks_like_x():
    # Given a seeded world of 40 targets over 20 days
    world = generate(40, 20, seed=5)
    scenario = world.scenario
    targets = {scenario.user(name).username for name in scenario.targets}
    theirs = [e for e in scenario.events if getattr(e, "by", "") in targets and hasattr(e, "id")]
    retweets = [e for e in theirs if hasattr(e, "post")]
    replies = [e for e in theirs if getattr(e, "reply_to", None) is not None]
    # Then targets retweet (a third to a half of what they do), reply to others, and posted before
    assert 0.3 < len(retweets) / len(theirs) < 0.5
    assert replies
    assert any(e.at < scenario.start for e in theirs)
    # And some go unresponsive or are paused (their posts stop mattering), some follow back
    assert any(windows and windows[-1][1] < scenario.end for windows in world.readable.values())
    assert world.pauses
    assert any(isinstance(e, FollowEvent) and e.by in targets for e in scenario.events)


def test_a_tiny_bench_misses_nothing_and_costs_less_than_the_competent_collectors():
    # Given a seeded world of 8 targets over 10 days, every collector serving it
    result = bench_size(8, 10, every_hours=24, seed=11)
    rows = {r["collector"]: r for r in result["rows"]}
    # Then Rapport stored every signal and paid less than the since_id collector leaving out retweets
    assert result["signals"] > 0
    assert rows["rapport"]["missed"] == 0
    assert rows["rapport"]["dollars"] < rows["since_id_exclude"]["dollars"] < rows["since_id"]["dollars"]
    assert rows["rapport"]["dollars"] >= rows["lower_bound"]["dollars"]
    assert set(rows) == {*COLLECTORS, "lower_bound"}
    lines = format_table([result])
    assert len(lines) == 2 + len(COLLECTORS) + 1 and "| 8 | 10 | rapport |" in lines[2]


def test_a_signal_rapport_never_read_is_counted_as_missed():
    # Given a world with questions from targets, and X failing every timeline read of Rapport's
    world = generate(6, 8, seed=11)
    shared = XSimApp(world.scenario)
    needs(world, shared.world)
    rapport = RapportCollector(served(shared), world, memory_stores())
    rapport.app.faults.add("/2/users/:id/tweets", 503, count=1_000_000)
    # When the month is played
    play(shared, [rapport], every_hours=24)
    # Then each question (read only from their timelines) is counted as missed
    questions = [s for s in world.signals if s.kind is InteractionKind.TARGET_POST]
    assert questions
    assert rapport.missed(world.signals) >= len(questions)


def test_the_bench_bills_the_same_on_dynamodb_as_on_the_in_memory_stores():
    # Given a tiny world, Rapport run once on the in-memory stores and once on DynamoDB (moto)
    world = generate(3, 4, seed=2)
    in_memory = bench_world(world, 24, collectors=("rapport",))
    with in_process_dynamodb():
        on_moto = bench_world(generate(3, 4, seed=2), 24, collectors=("rapport",), stores=moto_stores)
    # Then X bills the same reads: the stores change nothing in what is read
    assert in_memory["rows"] == on_moto["rows"]


def test_a_scenario_file_runs_the_same_comparison_and_prints_rows_as_json():
    printed: list[str] = []
    run_bench(scenario=MONTH, every_hours=24, echo=printed.append, as_json=True)
    rows = json.loads("".join(printed))
    assert {r["collector"] for r in rows} == {*COLLECTORS, "lower_bound"}
    assert set(rows[0]) == {
        "targets",
        "days",
        "collector",
        "requests",
        "resources",
        "dollars",
        "ratio_to_lower_bound",
        "missed",
    }
    assert next(r for r in rows if r["collector"] == "rapport")["missed"] == 0


NO_BATCHED_SEARCH = "a timeline per target, no batched search"
SEARCH_FILTERED = "search filtered to candidates"  # an option, off by default: not a lever turned off


@pytest.fixture(scope="module")
def levers() -> dict[str, dict[str, Any]]:
    """Rapport alone on one small world, with each lever of collect turned off in turn."""
    return {r["collector"]: r for r in lever_rows(12, 16, every_hours=24, seed=5)}


def test_each_spend_lever_pays_on_its_own(levers):
    # Given Rapport alone on one small world, with each lever of collect turned off in turn
    rows = levers
    with_all = rows["rapport"]
    turned_off = [lever for lever in LEVERS[1:] if lever != SEARCH_FILTERED]
    # Then none of them misses a signal, and turning any lever off costs more
    assert all(rows[name]["missed"] == 0 for name in ("rapport", *(f"rapport, {lv}" for lv in turned_off)))
    for lever in DOLLAR_LEVERS:
        assert rows[f"rapport, {lever}"]["dollars"] > with_all["dollars"], lever
    # And batched search saves requests (X's rate limits) at the same price per post
    per_target = rows[f"rapport, {NO_BATCHED_SEARCH}"]
    assert per_target["requests"] > 1.5 * with_all["requests"]
    assert per_target["dollars"] >= with_all["dollars"]
    # And checking quiet searched targets from their timelines (to notice one turned protected) costs
    # requests only, never dollars
    unchecked = rows["rapport, searched targets never checked from their timelines"]
    assert unchecked["requests"] < with_all["requests"]
    assert unchecked["dollars"] == with_all["dollars"]


def test_a_search_filtered_to_candidates_pays_less_and_its_missed_questions_are_counted(levers):
    # Given the same world, searched for candidate posts only (a link or an asking word)
    with_all, filtered = levers["rapport"], levers[f"rapport, {SEARCH_FILTERED}"]
    # Then fewer posts are paid for, and the questions asked without any of those words are missed
    assert filtered["resources"] < with_all["resources"]
    assert filtered["dollars"] < with_all["dollars"]
    assert filtered["missed"] > 0


def test_a_search_filtered_to_candidates_never_reads_the_posts_without_a_link_you_retweet():
    # Given a small world where you retweet a post without a link when no post with one is fresh
    world = generate(12, 12, seed=5)
    made: list[Stores] = []

    def stores() -> Stores:
        made.append(memory_stores())
        return made[-1]

    # When Rapport collects it with its search narrowed to candidates
    with _lever_off(SEARCH_FILTERED) as policy:
        bench_world(world, 24, collectors=("rapport",), stores=stores, policy=policy)
    # Then some of the posts you retweeted were never read, so they could not have been suggested, and
    # none of those has a link
    scenario = world.scenario
    read = {i.id for name in scenario.targets for i in made[0].evidence.interactions(scenario.user(name).id)}
    texts = {e.id: e.text for e in scenario.events if isinstance(e, PostEvent)}
    yours = [e.post for e in scenario.events if isinstance(e, RetweetEvent) and e.by == ME.username]
    unread = [texts[post_id] for post_id in yours if post_id not in read]
    assert unread
    assert not [text for text in unread if "https://" in text]
