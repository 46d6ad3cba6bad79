"""Collect applies the method's rest rule to what it just read, and notices a target turned protected."""

from __future__ import annotations

import pytest

from rapport.domain.model import InteractionKind as K
from rapport.domain.model import Post, Stage
from rapport.domain.policy import Policy
from rapport.domain.x import XUser
from rapport.usecases.collect import REFUSED_RETRY, check_every, collect
from rapport.usecases.evaluate import evaluate
from rapport.usecases.ports import Stores
from tests.factories import ME, ME_ID, added, at, evidence, post, target
from tests.fakes import FakeX, memory_stores

TIMELINES = "users/:id/tweets"
SEARCH = "tweets/search/recent"


def given_a_target() -> tuple[Stores, FakeX]:
    """One target at the retweet step, added before the first run."""
    stores = memory_stores()
    stores.settings.put_me(ME_ID, ME)
    stores.settings.put_policy(Policy(x_monthly_budget_usd=1_000))  # the fake's usage adds up run after run
    stores.targets.put_target(target())
    stores.evidence.add_interaction(added(at(-1)))
    x = FakeX(XUser(ME_ID, ME, "Ana"), users={"200": XUser("200", "person_x", "Person X")})
    return stores, x


def our_retweet(of: str, when: float) -> Post:
    return post(f"RT @person_x: {of}", by=ME_ID, when=at(when), retweeted_id=of, mention_ids=("200",))


def stored_posts(stores: Stores) -> list[str]:
    return sorted(i.id for i in stores.evidence.interactions("200") if i.kind is K.TARGET_POST)


def test_the_run_that_reads_our_fifth_unanswered_retweet_reads_the_target_only_up_to_it():
    # Given four unanswered retweets already stored, and a first read of the target done
    stores, x = given_a_target()
    for n in range(4):
        stores.evidence.add_interaction(evidence(K.OUR_RETWEET, at(-1 + n * 0.1)))
    collect(stores, x, at(0))
    # And since then: a question of theirs, our fifth retweet (no thanks), then another question
    before = post("Anyone running Rust on Lambda?", when=at(1))
    x.posts += [before, our_retweet(before.id, 2), post("Which queue do you trust?", when=at(3))]
    x.calls.clear()
    posts_before = x.usage.posts
    # When collect runs (then evaluate, as deployed)
    report = collect(stores, x, at(4))
    evaluate(stores, report.targets_with_news, at(4))
    # Then the question they asked while their posts mattered is read; the one after the retweet that
    # made them unresponsive is neither read nor paid for
    assert stored_posts(stores) == [before.id]
    assert x.usage.posts - posts_before == 2  # our retweet (owned) and their first question
    assert stores.targets.get_target("200").stage is Stage.UNRESPONSIVE
    # And the next run leaves them at rest: their timeline is not read
    x.calls.clear()
    collect(stores, x, at(5))
    assert x.calls.count(TIMELINES) == 1  # our own posts only


def test_a_target_paused_since_the_last_run_is_read_up_to_the_pause_then_rests():
    # Given a target read once, who then asks something, and whom you pause afterwards
    stores, x = given_a_target()
    collect(stores, x, at(0))
    before = post("Anyone running Rust on Lambda?", when=at(1))
    x.posts += [before, post("Which queue do you trust?", when=at(3))]
    stores.evidence.add_interaction(evidence(K.PAUSE, at(2)))
    stores.targets.set_stage("200", Stage.PAUSED, at(2))  # the pause link evaluates them at once
    # When collect runs
    collect(stores, x, at(4))
    # Then what they asked before the pause is read, and nothing after it
    assert stored_posts(stores) == [before.id]


def given_a_searched_target() -> tuple[Stores, FakeX]:
    """A target read once from their timeline, then read by search."""
    stores, x = given_a_target()
    collect(stores, x, at(0))
    x.posts.append(post("Notes https://example.com/n", when=at(1)))
    collect(stores, x, at(2))
    assert x.calls.count(SEARCH) == 1
    return stores, x


def test_a_target_who_turns_protected_is_noticed_and_their_question_still_read_while_fresh():
    # Given a searched target who turns protected (we follow them: their timeline still shows us)
    stores, x = given_a_searched_target()
    x.users["200"] = XUser("200", "person_x", "Person X", protected=True)
    question = post("Anyone running Rust on Lambda?", when=at(3))
    x.posts.append(question)
    # When collect runs every hour for as long as a post stays fresh
    hours = int(check_every(stores.settings.policy_and_me()[0]).total_seconds() // 3600)
    for hour in range(3, 3 + hours + 2):
        collect(stores, x, at(hour))
    # Then the question search could not see is read, while it can still be suggested
    assert question.id in stored_posts(stores)
    # And from then on they are read from their timeline, not searched
    x.calls.clear()
    later = post("Which queue do you trust?", when=at(hours + 6))
    x.posts.append(later)
    collect(stores, x, at(hours + 7))
    assert (x.calls.count(SEARCH), x.calls.count(TIMELINES)) == (0, 2)
    assert later.id in stored_posts(stores)


def test_with_the_search_narrowed_a_post_it_leaves_out_does_not_move_a_quiet_target_to_timelines():
    # Given a searched target, the search narrowed to candidate posts, and a post of theirs it leaves
    # out (no link, no asking word)
    stores, x = given_a_searched_target()
    stores.settings.put_policy(Policy(x_monthly_budget_usd=1_000, search_candidates_only=True))
    x.posts.append(post("Shipping queues today", when=at(3)))
    # When collect runs every hour past the check of a quiet searched target
    hours = int(check_every(stores.settings.policy_and_me()[0]).total_seconds() // 3600)
    for hour in range(4, 4 + hours + 2):
        collect(stores, x, at(hour))
    # Then the check read their timeline, and they are still searched: that post was not missed
    x.calls.clear()
    collect(stores, x, at(hours + 7))
    assert (x.calls.count(SEARCH), x.calls.count(TIMELINES)) == (1, 1)


@pytest.mark.parametrize("every_hours", [6, 100])
def test_a_searched_target_is_checked_from_their_timeline_only_when_search_went_quiet(every_hours: int):
    # Given a searched target posting every few hours (busy), or every four days (quiet)
    stores, x = given_a_searched_target()
    x.returned.clear()
    hours = int(check_every(stores.settings.policy_and_me()[0]).total_seconds() // 3600)
    timelines = 0
    for hour in range(3, 3 + hours * 3):
        if hour % every_hours == 0:
            x.posts.append(post(f"Tip {hour} https://example.com/{hour}", when=at(hour - 0.5)))
        x.calls.clear()
        collect(stores, x, at(hour))
        # Then each run reads them once, by search or (when a check is due) from their timeline
        assert x.calls.count(SEARCH) + x.calls.count(TIMELINES) == 2
        timelines += x.calls.count(TIMELINES) - 1  # one is our own posts
    # And every post is read (and paid for) once
    assert sorted(x.returned) == sorted(set(x.returned))
    assert len(x.returned) == len([h for h in range(3, 3 + hours * 3) if h % every_hours == 0])
    # And only the quiet one, whom search did not show for a while, was read from their timeline
    assert (timelines > 0) is (every_hours > hours)


def test_a_target_x_will_not_show_us_is_tried_once_a_week_not_every_run():
    # Given a searched target who turns protected and whom we do not follow
    stores, x = given_a_searched_target()
    x.users["200"] = XUser("200", "person_x", "Person X", protected=True)
    x.refused.add("200")
    # When collect runs every hour for a week
    reads: list[int] = []
    days = REFUSED_RETRY.days
    for hour in range(3, 3 + 24 * (days + 4)):
        x.calls.clear()
        report = collect(stores, x, at(hour))
        reads.append(x.calls.count(TIMELINES) - 1)  # their timeline; one read is our own posts
    # Then X's refusal is noticed (no error), their timeline is asked once, then again a week later
    assert report.stored == 0
    asked = [hour for hour, n in enumerate(reads) if n]
    assert len(asked) == 2
    assert asked[1] - asked[0] == 24 * days
    # And they are never searched again
    assert x.calls.count(SEARCH) == 0


def test_a_target_at_step_3_is_looked_up_for_an_unfollow_within_freshness_and_when_they_answer():
    # Given a target at step 3 who follows us
    stores, x = given_a_target()
    stores.collector.set_collect_state("follow_checks", ["200"], at(0))
    stores.collector.set_collect_state("followers", {"head": ["200"], "total": 1}, at(0))
    stores.targets.put_target(target(stage=Stage.ASK, follows_us=True))
    x.followers = ["200"]
    every = check_every(stores.settings.policy_and_me()[0])
    # When collect runs every hour for a period of freshness and a half
    period = int(every.total_seconds() // 3600)
    looked_up: list[int] = []
    for hour in range(period * 3 // 2):
        x.calls.clear()
        collect(stores, x, at(hour))
        looked_up += [hour] * x.calls.count("users")
    # Then they are looked up once a period, not every run
    assert looked_up == [0, period]
    # And when they answer our question, they are looked up in that run (step 3 is decided), though
    # the next period's lookup is not due yet
    hour = period * 3 // 2
    question = post("@person_x how do you test queues?", by=ME_ID, when=at(hour), mention_ids=("200",))
    answer = post(
        f"@{ME} contract tests", when=at(hour + 1), replied_to_id=question.id, in_reply_to_user_id=ME_ID
    )
    x.posts += [question, answer]
    x.calls.clear()
    collect(stores, x, at(hour + 2))
    assert x.calls.count("users") == 1
    assert K.REPLY_TO_QUESTION in {i.kind for i in stores.evidence.interactions("200")}


def test_a_target_searched_before_the_checks_existed_is_checked_within_a_period():
    # Given a searched target with no date of being seen public (stored by an older collect)
    stores, x = given_a_searched_target()
    stores.collector.set_collect_state("checked", {}, at(2))
    hours = int(check_every(stores.settings.policy_and_me()[0]).total_seconds() // 3600)
    # When collect runs every hour for a period and a little more, with nothing new from them
    x.calls.clear()
    for hour in range(3, hours + 5):
        collect(stores, x, at(hour))
    # Then their timeline was read once: the check came within the period
    assert x.calls.count(TIMELINES) == (hours + 2) + 1
