"""Collect on in-memory stores and a fake X: evidence stored once, cursors moved only after it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from rapport.domain.model import InteractionKind as K
from rapport.domain.model import Post, Stage
from rapport.domain.money import USD, Spend
from rapport.domain.policy import Policy
from rapport.domain.x import XUser
from rapport.usecases.collect import SOURCE_MENTIONS, collect, target_source
from rapport.usecases.ports import SpendStore, Stores
from tests.factories import ME, ME_ID, at, post, target
from tests.fakes import FakeX, memory_stores, removed_after

TIMELINES = "users/:id/tweets"


def given_a_target() -> tuple[Stores, FakeX]:
    stores = memory_stores()
    stores.settings.put_me(ME_ID, ME)
    stores.targets.put_target(target())
    x = FakeX(XUser(ME_ID, ME, "Ana"), users={"200": XUser("200", "person_x", "Person X")})
    return stores, x


def their_thanks(post_id: str = "1003") -> Post:
    return post(
        f"@{ME} thank you!",
        by="200",
        when=at(1.5),
        post_id=post_id,
        in_reply_to_user_id=ME_ID,
        replied_to_id="5001",
        mention_ids=(ME_ID,),
        mention_usernames=(ME,),
    )


def test_a_thanks_is_stored_once_and_the_mentions_cursor_moves_past_it():
    # Given the target replied to one of our posts with a thanks
    stores, x = given_a_target()
    x.posts += [post("Cold starts, measured", by=ME_ID, when=at(0.5), post_id="5001"), their_thanks()]
    # When collect runs twice
    first = collect(stores, x, at(2))
    second = collect(stores, x, at(3))
    # Then the thanks is stored once, and the cursor of our mentions is past it
    assert [(i.kind, i.id) for i in stores.evidence.interactions("200")] == [(K.THANKS, "1003")]
    assert stores.collector.cursors()[SOURCE_MENTIONS] == "1003"
    assert (first.stored, first.targets_with_news, second.stored) == (1, {"200"}, 0)


def test_a_targets_quote_of_our_post_read_a_run_later_is_stored_as_their_answer_to_us():
    # Given a run read our post 5001, and the target quoted it before the next run
    stores, x = given_a_target()
    x.posts.append(post("Cold starts, measured", by=ME_ID, when=at(0.5), post_id="5001"))
    collect(stores, x, at(1))
    x.posts.append(
        post("This is how to measure them", by="200", when=at(1.5), post_id="1004", quoted_id="5001")
    )
    # When the next run reads the target's posts
    report = collect(stores, x, at(2))
    # Then the quote is stored as the target answering us, about our post (not as a post to retweet)
    assert [(i.kind, i.refers_to) for i in stores.evidence.interactions("200")] == [(K.MENTION, "5001")]
    assert report.targets_with_news == {"200"}


def test_a_target_removed_while_collect_reads_its_thanks_gets_nothing_stored():
    # Given the target thanked us, and is removed just after collect listed the targets
    stores, x = given_a_target()
    x.posts += [post("Cold starts, measured", by=ME_ID, when=at(0.5), post_id="5001"), their_thanks()]
    racing = removed_after(stores, "targets", "list_targets", lambda listed: [t.id for t in listed])
    # When collect runs
    report = collect(racing, x, at(2))
    # Then the run ends as usual, and nothing of the removed target is stored or left to evaluate
    assert (report.stored, report.targets_with_news) == (0, set())
    assert stores.evidence.interactions("200") == []
    assert stores.evidence.marked_for_evaluation() == {}


def test_a_rate_limit_defers_the_source_keeps_its_cursor_and_is_not_knocked_on_before_the_reset():
    # Given a timeline cursor, and X answering 429 on timelines for the next hour
    stores, x = given_a_target()
    stores.collector.set_cursors({target_source("200"): "1000"}, at(0))
    x.rate_limited[TIMELINES] = at(3)
    x.posts.append(post("New tips https://example.com/b", by="200", when=at(1), post_id="1001"))
    # When collect runs
    report = collect(stores, x, at(2))
    # Then the target's timeline waits for the next run, from the same cursor
    assert any(d.startswith(f"{target_source('200')}: rate limited") for d in report.deferred)
    assert stores.collector.cursors()[target_source("200")] == "1000"
    assert stores.evidence.interactions("200") == []
    # And a run before the reset does not ask X's timelines again
    knocks = x.calls.count(TIMELINES)
    collect(stores, x, at(2.5))
    assert x.calls.count(TIMELINES) == knocks
    # But the first run after it reads what was held back
    del x.rate_limited[TIMELINES]
    collect(stores, x, at(3) + timedelta(minutes=1))
    assert [i.id for i in stores.evidence.interactions("200")] == ["1001"]
    assert stores.collector.cursors()[target_source("200")] == "1001"


def test_a_follow_back_is_recorded_once_with_the_target_s_flag():
    # Given the target follows us
    stores, x = given_a_target()
    x.followers = ["200"]
    # When collect runs twice
    collect(stores, x, at(1))
    collect(stores, x, at(2))
    # Then the follow is stored once and the target is known to follow us
    assert [i.kind for i in stores.evidence.interactions("200")] == [K.FOLLOW]
    assert stores.targets.get_target("200").follows_us


def test_the_run_s_spend_is_added_to_its_day_at_list_price():
    stores, x = given_a_target()
    x.posts.append(post("New tips https://example.com/b", by="200", when=at(1), post_id="1001"))
    report = collect(stores, x, at(2))
    day = stores.spend.spend(at(2).date())
    # One post of theirs at $0.005; whether the new target follows us came from our empty followers
    # list (nothing billed) rather than a $0.010 lookup
    assert day.cost == report.spend.cost == USD.of("0.005")
    assert (day.posts, day.users) == (1, 0)
    assert stores.spend.runs(at(2), at(2))[0]["x_api"]["cost_usd"] == 0.005


def test_with_the_month_s_budget_spent_target_timelines_wait():
    # Given this month's X budget is already spent
    stores, x = given_a_target()
    stores.settings.put_policy(Policy(x_monthly_budget_usd=1.0))
    stores.spend.add_spend(at(0).date(), Spend(cost=USD.of(1)))
    x.posts.append(post("New tips https://example.com/b", by="200", when=at(1), post_id="1001"))
    # When collect runs
    report = collect(stores, x, at(2))
    # Then the target's timeline is not read, and the day records why
    assert stores.evidence.interactions("200") == []
    assert x.calls.count(TIMELINES) == 1  # our own posts only
    assert report.deferred_for_budget >= 1
    assert stores.spend.spend(at(0).date()).deferred_for_budget == report.deferred_for_budget


class DiesAfterTheSpend:
    """The spend store of a run that dies once its spend is stored, before its run record."""

    def __init__(self, spend: SpendStore) -> None:
        self.inner = spend
        self.died = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def add_run(self, at: datetime, record: dict[str, Any]) -> None:
        if not self.died:
            self.died = True
            raise ConnectionError("the process died")
        self.inner.add_run(at, record)


def test_a_retried_run_counts_its_reads_once():
    # Given a run that stored its spend and died before its run record
    stores, x = given_a_target()
    x.posts.append(post("New tips https://example.com/b", by="200", when=at(1), post_id="1001"))
    dying = replace(stores, spend=DiesAfterTheSpend(stores.spend))
    with pytest.raises(ConnectionError):
        collect(dying, x, at(2))
    first = stores.spend.spend(at(2).date())
    # When Lambda retries the same run
    collect(dying, x, at(2))
    # Then the day's spend counts the run once
    assert first.requests > 0
    assert stores.spend.spend(at(2).date()) == first


@pytest.mark.parametrize("resting", [Stage.UNRESPONSIVE, Stage.PAUSED])
def test_a_resting_target_is_not_read_and_one_who_comes_back_is_read_from_now(resting: Stage):
    # Given an unresponsive (or paused) target who keeps posting, and a cursor from before
    stores, x = given_a_target()
    stores.collector.set_cursors({target_source("200"): "1000"}, at(0))
    stores.targets.set_stage("200", resting, at(0))
    x.posts += [post(f"Post {n}", by="200", when=at(days=n), post_id=str(1001 + n)) for n in range(10)]
    # When collect runs while they rest
    collect(stores, x, at(days=9, hours=1))
    # Then their timeline is not read at all (what they send us comes from our mentions)
    assert x.calls.count(TIMELINES) == 1  # our own posts only
    assert stores.evidence.interactions("200") == []
    # And when they respond again (evaluate moves them back), only posts still fresh are read
    stores.targets.set_stage("200", Stage.ANSWER, at(days=9, hours=2))
    collect(stores, x, at(days=9, hours=3))
    read = sorted(i.id for i in stores.evidence.interactions("200") if i.kind is K.TARGET_POST)
    assert read == ["1008", "1009", "1010"]  # the last three days, not the nine since the old cursor


def test_new_targets_are_checked_from_our_followers_list_when_it_costs_less_than_their_lookup():
    # Given 20 new targets, one of whom already follows us, among 30 followers ($0.030 against $0.200)
    stores, x = given_a_target()
    for n in range(1, 20):
        stores.targets.put_target(target(f"person_{n}", str(200 + n)))
    x.followers = ["205", *[str(900 + n) for n in range(29)]]
    # When collect runs
    report = collect(stores, x, at(1))
    # Then no target is looked up, the one who follows us is known, and the list's size is kept
    assert x.calls.count("users") == 0
    assert stores.targets.get_target("205").follows_us
    assert report.spend.cost == USD.of("0.030")
    assert stores.collector.collect_states()["followers"]["total"] == 30


def test_new_targets_are_looked_up_when_our_followers_list_is_longer_than_worth_reading():
    # Given one new target and an account whose followers list is known to be long
    stores, x = given_a_target()
    stores.collector.set_collect_state("followers", {"head": ["999"], "total": 5_000}, at(0))
    x.followers = [str(900 + n) for n in range(50)]
    # When collect runs
    collect(stores, x, at(1))
    # Then the target is looked up ($0.010) rather than 5,000 followers read
    assert x.calls.count("users") == 1


def test_a_target_at_the_circle_is_not_looked_up_again_to_see_an_unfollow():
    # Given two targets who follow us: one waiting for our question (step 3), one at the circle
    stores, x = given_a_target()
    stores.targets.put_target(target("person_y", "201"))
    stores.collector.set_collect_state("follow_checks", ["200", "201"], at(0))
    stores.collector.set_collect_state("followers", {"head": ["200"], "total": 2}, at(0))
    x.users["201"] = XUser("201", "person_y", "Person Y")
    x.followers = ["200", "201"]
    for target_id, stage in (("200", Stage.ASK), ("201", Stage.CIRCLE)):
        stores.targets.put_target(replace(stores.targets.get_target(target_id), follows_us=True, stage=stage))
    # When collect runs
    report = collect(stores, x, at(1))
    # Then only the one whose stage an unfollow would change is looked up
    assert x.calls.count("users") == 1
    assert report.spend.users == 1


def test_a_target_the_last_run_could_not_reach_is_read_once_more_before_it_rests():
    # Given the last run could not reach a target (too many for one run), who has since gone unresponsive
    stores, x = given_a_target()
    stores.collector.set_cursors({target_source("200"): "1000"}, at(0))
    stores.collector.set_collect_state("behind", ["200"], at(0))
    stores.targets.set_stage("200", Stage.UNRESPONSIVE, at(1))
    x.posts.append(post("Anyone tried Rust on Lambda?", by="200", when=at(0.5), post_id="1001"))
    # When collect runs twice
    collect(stores, x, at(2))
    collect(stores, x, at(3))
    # Then the question they asked while it still mattered is read, from the cursor, and only once
    assert [i.id for i in stores.evidence.interactions("200")] == ["1001"]
    assert x.calls.count(TIMELINES) == 3  # our own posts twice, their timeline once
