"""The collector against the X API simulator (through tweepy) and a moto server: what it reads, once.

Each test is a small world on X; the collector runs on a simulated clock; the simulator's own ledger
says what was requested and billed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rapport.adapters.x_client import RETRIES, XCredentials, make_reader
from rapport.domain.model import Stage, Target
from rapport.domain.money import USD, Spend
from rapport.domain.policy import Policy
from rapport.usecases import collect as collect_module
from rapport.usecases.collect import SOURCE_MENTIONS, CollectReport, collect
from rapport.usecases.ports import Stores
from rapport_local.scenario import parse_scenario
from rapport_local.xsim import XSimServer
from rapport_local.xsim.faults import TRUNCATED

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
KEYS = XCredentials.model_validate(
    {"consumer_key": "k", "consumer_secret": "s", "access_token": "t", "access_token_secret": "u"}
)


def ts(hours: float) -> str:
    return (START + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def world(*events: dict[str, Any], targets: int = 1, fans: int = 0) -> dict[str, Any]:
    """Ana (me), targets t1..tN (ids 201..), friend_y, and ``fans`` other accounts (ids 900..)."""
    users = [{"id": str(200 + n), "username": f"t{n}", "name": f"T{n}"} for n in range(1, targets + 1)]
    users.append({"id": "300", "username": "friend_y", "name": "Friend Y"})
    users += [{"id": str(900 + n), "username": f"fan{n}", "name": f"Fan {n}"} for n in range(fans)]
    return {
        "start": START.isoformat(),
        "days": 3,
        "me": {"id": "100", "username": "ana_builds", "name": "Ana"},
        "users": users,
        "targets": [f"t{n}" for n in range(1, targets + 1)],
        "events": list(events),
    }


@dataclass
class Collector:
    stores: Stores
    sim: XSimServer

    def run(self, hours: float) -> CollectReport:
        now = START + timedelta(hours=hours)
        self.sim.set_now(now)
        reader = make_reader(KEYS, self.sim.url)
        reader.sleep = lambda _seconds: None  # backoff is bounded; the test need not wait it out
        return collect(self.stores, reader, now)

    def stage(self, target_id: str, stage: Stage) -> None:
        self.stores.targets.set_stage(target_id, stage, START)

    def kinds(self, target_id: str = "201") -> list[tuple[str, str]]:
        return sorted((i.kind.value, i.id) for i in self.stores.evidence.interactions(target_id))

    def requests(self, endpoint: str) -> int:
        return int(self.sim.usage()["requests_by_endpoint"].get(endpoint, 0))


@pytest.fixture
def collector_for(stores: Stores) -> Iterator[Any]:
    servers: list[XSimServer] = []

    def make(data: dict[str, Any], policy: Policy | None = None) -> Collector:
        scenario = parse_scenario(data)
        sim = XSimServer(scenario).start()
        servers.append(sim)
        stores.settings.put_me("100", "ana_builds")
        if policy is not None:
            stores.settings.put_policy(policy)
        for username in scenario.targets:
            user = scenario.user(username)
            stores.targets.put_target(
                Target(id=user.id, username=user.username, name=user.name, added_at=START)
            )
        return Collector(stores, sim)

    yield make
    for sim in servers:
        sim.stop()


THANKS = {"at": ts(1), "post": {"id": "1002", "by": "t1", "text": "@ana_builds thanks for sharing!"}}
REPLY_THANKS = {
    "at": ts(1.5),
    "post": {"id": "1003", "by": "t1", "text": "@ana_builds thank you!", "reply_to": "5001"},
}


def test_a_targets_reply_to_us_is_read_once_from_our_mentions_at_the_owned_price(collector_for):
    # Given t1 replies to one of our posts
    sim_world = world(
        {"at": ts(0.5), "post": {"id": "5001", "by": "ana_builds", "text": "Cold starts, measured"}},
        REPLY_THANKS,
    )
    c = collector_for(sim_world)
    # When the collector runs
    c.run(2)
    # Then their reply is stored as a thanks, and X returned it once: in our mentions, not in their timeline
    assert ("thanks", "1003") in c.kinds()
    assert c.sim.usage()["returned"]["posts"] == 2  # our post (our timeline) + their reply (mentions)
    # both owned reads; whether the new target follows us came from our (empty) followers list, free
    assert c.sim.usage()["cost_usd"] == pytest.approx(0.002)


def test_cursors_make_a_second_run_read_only_what_is_new(collector_for):
    c = collector_for(
        world(
            {"at": ts(1), "post": {"id": "1001", "by": "t1", "text": "Tips https://example.com/a"}},
            {"at": ts(3), "post": {"id": "1004", "by": "t1", "text": "What do you use for tracing?"}},
        )
    )
    c.run(2)
    first = c.sim.usage()["returned"]["posts"]
    c.run(4)
    assert c.sim.usage()["returned"]["posts"] == first + 1  # only the question posted since
    assert [k for k, _ in c.kinds()] == ["target_post", "target_post"]


def test_a_follow_back_is_seen_from_our_own_followers_list_when_that_is_cheaper(collector_for):
    # Given one target and a quiet account: a lookup would cost $0.010, our followers list $0.001 a follower
    c = collector_for(world({"at": ts(3), "follow": {"by": "t1", "user": "ana_builds"}}))
    c.run(1)  # the first run looks the target up once and remembers the head of our followers list
    lookups_before = c.requests("/2/users")
    # When they follow us back and the collector runs again
    report = c.run(4)
    # Then the follow is recorded from the followers list, with no lookup
    assert report.follow_backs_by == "followers"
    assert ("follow", "follow:20260302T120000Z") in c.kinds()
    assert c.stores.targets.get_target("201").follows_us
    # (the next run looks up targets that follow us, to see an unfollow; nothing else)
    assert c.requests("/2/users") == lookups_before


def test_a_popular_account_with_few_targets_looks_the_targets_up_instead(collector_for):
    # Given many accounts follow us every hour, and we have a single target
    follows = [{"at": ts(1 + n / 100), "follow": {"by": f"fan{n}", "user": "ana_builds"}} for n in range(40)]
    follows.append({"at": ts(2.5), "follow": {"by": "t1", "user": "ana_builds"}})
    c = collector_for(world(*follows, fans=40), None)
    c.run(0.5)  # head of an empty list
    c.run(1.9)  # 40 new followers: reading them costs more than looking one target up
    # When the collector runs again
    report = c.run(3)
    # Then it chose the lookup, and the follow-back is seen
    assert report.follow_backs_by == "lookup"
    assert c.stores.targets.get_target("201").follows_us


def test_an_unfollow_is_seen_on_the_next_run(collector_for):
    c = collector_for(
        world(
            {"at": ts(1), "follow": {"by": "t1", "user": "ana_builds"}},
            {"at": ts(3), "unfollow": {"by": "t1", "user": "ana_builds"}},
        )
    )
    c.run(2)
    assert c.stores.targets.get_target("201").follows_us
    c.run(4)
    assert not c.stores.targets.get_target("201").follows_us
    assert [k for k, _ in c.kinds()] == ["follow", "unfollow"]


def test_each_run_stores_what_it_read_and_what_it_cost(collector_for):
    c = collector_for(world(THANKS, {"at": ts(1), "post": {"id": "1001", "by": "t1", "text": "Tips"}}))
    report = c.run(2)
    (record,) = c.stores.spend.runs(START, START + timedelta(days=1))
    x_api = record["x_api"]
    assert x_api["requests"] == c.sim.usage()["requests"]
    assert x_api["cost_usd"] == pytest.approx(c.sim.usage()["cost_usd"])
    assert x_api["posts"] == report.spend.posts >= 2
    assert c.stores.spend.spend(START.date()).cost == USD.of(c.sim.usage()["cost_usd"])


def test_the_days_stored_spend_matches_the_bill_over_many_runs_of_one_day(collector_for):
    # Given a target who follows us and one who does not yet, so each hourly run reads the head of our
    # followers list again (to see a follow-back)
    c = collector_for(world({"at": ts(1), "follow": {"by": "t1", "user": "ana_builds"}}, targets=2))
    # When the collector runs six times in one UTC day
    for hour in range(2, 8):
        c.run(hour)
    # Then what Rapport counts for the day is what X bills: each follower once a day, not once a run
    assert c.requests("/2/users/:id/followers") >= 5
    assert c.stores.spend.spend(START.date()).cost == USD.of(c.sim.usage()["cost_usd"])


def test_near_the_budget_the_lowest_value_reads_wait_and_the_digest_can_tell(collector_for):
    # Given 85% of a $1 budget is spent, t1 is at the circle (the method is done) and t2 asks
    # questions we answer (step 2)
    c = collector_for(
        world(
            {"at": ts(1), "post": {"id": "1001", "by": "t1", "text": "Anyone tried Rust on Lambda?"}},
            {"at": ts(1), "post": {"id": "2001", "by": "t2", "text": "Anyone tried Go on Lambda?"}},
            targets=2,
        ),
        Policy(x_monthly_budget_usd=1.0),
    )
    c.stores.spend.add_spend(START.date(), Spend(cost=USD.of("0.85")))
    c.stage("201", Stage.CIRCLE)
    c.stage("202", Stage.ANSWER)
    # When the collector runs
    report = c.run(2)
    # Then t2's question is read, t1's timeline waits, and the day's record says reads were deferred
    assert [i.id for i in c.stores.evidence.interactions("202")] == ["2001"]
    assert c.stores.evidence.interactions("201") == []
    assert report.deferred_for_budget == 1
    assert c.stores.spend.spend(START.date()).deferred_for_budget == 1


def test_over_the_budget_only_owned_reads_run_and_a_thanks_is_still_seen(collector_for):
    c = collector_for(
        world(THANKS, {"at": ts(1), "post": {"id": "1001", "by": "t1", "text": "Tips"}}),
        Policy(x_monthly_budget_usd=1.0),
    )
    c.stores.spend.add_spend(START.date(), Spend(cost=USD.of(1)))
    c.run(2)
    assert c.kinds() == [("thanks", "1002")]  # from our mentions; their timeline waited
    assert c.requests("/2/users") == 0  # lookups wait too
    assert c.stores.spend.spend(START.date()).deferred_for_budget >= 2


def test_a_rate_limit_stops_that_endpoint_until_its_reset_and_loses_nothing(collector_for):
    # Given three targets who each posted, and X answering 429 on the second timeline read
    posts = [
        {"at": ts(1), "post": {"id": str(1000 + n), "by": f"t{n}", "text": f"Post {n}"}} for n in (1, 2, 3)
    ]
    c = collector_for(world(*posts, targets=3))
    c.sim.inject_fault("/2/users/:id/tweets", 429, count=1)  # hits our own posts' read first
    # When the collector runs
    limited = c.run(2)
    # Then no target timeline is requested after the 429 and every source says why it waits
    assert c.requests("/2/users/:id/tweets") == 1
    assert len([d for d in limited.deferred if "rate limited" in d]) >= 2
    # And a run before the reset does not knock again; one after it reads everything once
    c.run(2.1)
    assert c.requests("/2/users/:id/tweets") == 1
    c.sim.reset_rate_limits()
    c.run(2.3)
    for n in (1, 2, 3):
        assert [i.id for i in c.stores.evidence.interactions(str(200 + n))] == [str(1000 + n)]
    c.run(2.4)
    assert sum(len(c.stores.evidence.interactions(str(200 + n))) for n in (1, 2, 3)) == 3


def test_server_errors_are_retried_then_left_for_the_next_run(collector_for):
    c = collector_for(world(REPLY_THANKS))  # a reply to us: only our mentions carry it
    c.sim.inject_fault("/2/users/:id/mentions", 503, count=3)  # the try and both retries
    failed = c.run(2)
    assert any("mentions" in d for d in failed.deferred)
    assert c.kinds() == []
    c.run(3)
    assert c.kinds() == [("thanks", "1003")]


def test_more_targets_than_one_run_can_read_are_covered_by_the_next_runs(collector_for, monkeypatch):
    # Given five targets who each posted, and room for three timeline reads per run (ours + two)
    monkeypatch.setattr(collect_module, "TIMELINE_READS_PER_RUN", 3)
    posts = [
        {"at": ts(1), "post": {"id": str(1000 + n), "by": f"t{n}", "text": f"Post {n}"}} for n in range(1, 6)
    ]
    c = collector_for(world(*posts, targets=5), Policy(batched_search=False))  # the rotation of timelines
    # When the collector runs three times
    reads = [c.run(h).timelines_read for h in (2, 3, 4)]
    # Then each run read its share, and every target's post is stored exactly once
    assert reads == [2, 2, 2]
    assert [len(c.stores.evidence.interactions(str(200 + n))) for n in range(1, 6)] == [1, 1, 1, 1, 1]


def test_targets_read_once_are_then_read_by_one_recent_search_through_the_real_client(collector_for):
    # Given three targets: two public, posting after their first read, and one protected
    data = world(
        *[{"at": ts(2.5), "post": {"id": f"200{n}", "by": f"t{n}", "text": f"Tip {n}"}} for n in (1, 2, 3)],
        {"at": ts(2.6), "post": {"id": "2010", "by": "t1", "text": "a reply", "reply_to": "2002"}},
        targets=3,
    )
    data["users"][2].update(protected=True, followers=["ana_builds"])  # we see their posts; search never
    c = collector_for(data)
    c.stores.targets.put_target(Target(id="203", username="t3", name="T3", added_at=START, protected=True))
    c.run(2)
    timelines_before = c.requests("/2/users/:id/tweets")
    # When the collector runs again
    report = c.run(3)
    # Then one search read both public targets' new posts (not the reply), and the protected target's
    # post came from their timeline (plus our own posts' timeline)
    assert (report.searches, c.requests("/2/users/:id/tweets") - timelines_before) == (1, 2)
    assert c.requests("/2/tweets/search/recent") == 1
    assert [c.kinds(t) for t in ("201", "202", "203")] == [
        [("target_post", "2001")],
        [("target_post", "2002")],
        [("target_post", "2003")],
    ]


def test_a_request_that_times_out_is_retried_then_left_for_the_next_run(collector_for):
    c = collector_for(world(REPLY_THANKS))
    c.sim.app.faults.timeout_seconds = 0.6
    c.sim.inject_fault("/2/users/:id/mentions", 0, count=3)  # 0: no answer before the client gives up
    now = START + timedelta(hours=2)
    c.sim.set_now(now)
    reader = make_reader(KEYS, c.sim.url, timeout=0.2)
    reader.sleep = lambda _seconds: None
    failed = collect(c.stores, reader, now)
    assert any("mentions" in d and "timed out" in d for d in failed.deferred)
    assert c.kinds() == []
    c.run(3)
    assert c.kinds() == [("thanks", "1003")]


def test_pages_cut_mid_body_on_every_try_are_left_for_the_next_run_and_stored_once(collector_for):
    # Given a thanks that only our mentions carry, and more cut pages on that read than its retries allow
    c = collector_for(world(REPLY_THANKS))
    c.sim.inject_fault("/2/users/:id/mentions", TRUNCATED, count=RETRIES + 2)
    # When the collector runs
    failed = c.run(2)
    # Then it tried a bounded number of times, stored nothing from the half pages and kept no cursor
    assert c.requests("/2/users/:id/mentions") == RETRIES + 1
    assert any("mentions" in d and "IncompleteRead" in d for d in failed.deferred)
    assert c.kinds() == []
    assert SOURCE_MENTIONS not in c.stores.collector.cursors()
    # And the next run (its first read cut too, then retried) stores the thanks once and moves the cursor
    again = c.run(3)
    assert not any("mentions" in d for d in again.deferred)
    assert c.kinds() == [("thanks", "1003")]
    assert again.stored == 1
    assert c.stores.collector.cursors()[SOURCE_MENTIONS] == "1003"
    # And a later run finds nothing new: no duplicate
    assert c.run(4).stored == 0
    assert c.kinds() == [("thanks", "1003")]


def test_a_single_page_cut_mid_body_is_read_again_within_the_run(collector_for):
    # Given a thanks in our mentions, and the first read of them cut mid-body
    c = collector_for(world(REPLY_THANKS))
    c.sim.inject_fault("/2/users/:id/mentions", TRUNCATED, count=1)
    # When the collector runs
    report = c.run(2)
    # Then its retry reads the whole page: the thanks is stored once, nothing waits, the cursor moves
    assert c.requests("/2/users/:id/mentions") == 2
    assert not any("mentions" in d for d in report.deferred)
    assert c.kinds() == [("thanks", "1003")]
    assert report.stored == 1
    assert c.stores.collector.cursors()[SOURCE_MENTIONS] == "1003"
