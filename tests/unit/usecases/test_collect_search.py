"""Batched recent search: targets read once from their timelines are then read together, by search."""

from __future__ import annotations

from rapport.domain.model import InteractionKind as K
from rapport.domain.model import Stage
from rapport.domain.policy import Policy
from rapport.domain.x import SEARCH_QUERY_LENGTH, XUser, search_batches, search_query
from rapport.usecases.collect import collect
from rapport.usecases.ports import Stores
from tests.factories import ME, ME_ID, at, post, target
from tests.fakes import FakeX, memory_stores

TIMELINES = "users/:id/tweets"
SEARCH = "tweets/search/recent"
IDS = ("201", "202", "203")


def given_targets(**kw: object) -> tuple[Stores, FakeX]:
    """Three targets at the retweet step, already read once from their timelines."""
    stores = memory_stores()
    stores.settings.put_me(ME_ID, ME)
    x = FakeX(XUser(ME_ID, ME, "Ana"))
    for tid in IDS:
        stores.targets.put_target(target(f"person_{tid}", tid, **kw))
        x.users[tid] = XUser(tid, f"person_{tid}", "", protected=bool(kw.get("protected")))
    collect(stores, x, at(1))
    return stores, x


def stored_posts(stores: Stores, tid: str) -> list[str]:
    return [i.id for i in stores.evidence.interactions(tid) if i.kind is K.TARGET_POST]


def test_after_their_first_read_targets_new_posts_come_from_one_search_for_all_of_them():
    # Given three targets read once from their timelines, who then post, retweet and reply
    stores, x = given_targets()
    x.calls.clear()
    x.posts += [post(f"Tip from {tid} https://example.com/{tid}", by=tid, when=at(2)) for tid in IDS]
    x.posts.append(post("RT a thing", by="201", when=at(2), retweeted_id="9"))
    # When collect runs again
    report = collect(stores, x, at(3))
    # Then one search read all three, and no timeline was asked
    assert (x.calls.count(SEARCH), x.calls.count(TIMELINES), report.searches) == (1, 1, 1)  # 1: our posts
    assert sorted(x.searched[0]) == sorted(IDS)
    assert [len(stored_posts(stores, tid)) for tid in IDS] == [1, 1, 1]
    # And the next search starts where this one stopped: the same posts are not read (or paid) twice
    posts_before = x.usage.posts
    collect(stores, x, at(4))
    assert x.usage.posts == posts_before


def test_protected_targets_and_targets_at_the_circle_stay_on_their_timelines():
    # Given protected targets (search never finds their posts), and a public one at the circle step
    stores, x = given_targets(protected=True)
    stores.targets.put_target(target("person_204", "204", stage=Stage.CIRCLE))
    x.users["204"] = XUser("204", "person_204", "")
    collect(stores, x, at(1.5))
    x.calls.clear()
    x.posts.append(post("Protected tip https://example.com/p", by="201", when=at(2)))
    # When collect runs
    collect(stores, x, at(3))
    # Then nobody is searched, and the protected target's post is read from their timeline
    assert x.calls.count(SEARCH) == 0
    assert x.calls.count(TIMELINES) == 1 + 4
    assert len(stored_posts(stores, "201")) == 1


def test_a_rate_limited_search_loses_nothing_the_next_run_reads_from_the_same_time():
    # Given search answering 429 until 5 h, and a target posting at 2 h
    stores, x = given_targets()
    x.rate_limited[SEARCH] = at(5)
    x.posts.append(post("Tip https://example.com/t", by="202", when=at(2)))
    # When collect runs before the reset
    report = collect(stores, x, at(3))
    knocks = x.calls.count(SEARCH)
    collect(stores, x, at(4))
    # Then the targets wait, X is not asked again before the reset, and nothing is stored yet
    assert any("new posts of 3 targets" in d for d in report.deferred)
    assert x.calls.count(SEARCH) == knocks
    assert stored_posts(stores, "202") == []
    # And the first run after the reset finds the post
    del x.rate_limited[SEARCH]
    collect(stores, x, at(6))
    assert len(stored_posts(stores, "202")) == 1


def test_a_target_search_has_not_reached_for_a_week_goes_back_to_their_timeline_from_where_it_stopped():
    # Given search failing for a week, and a target posting on the second day (posts fresh for two weeks,
    # so no target is due a check from their timeline before search's reach runs out)
    stores, x = given_targets()
    stores.settings.put_policy(Policy(freshness_days=14))
    x.unavailable.add(SEARCH)
    x.posts.append(post("Tip https://example.com/w", by="203", when=at(days=1)))
    for day in range(1, 7):
        collect(stores, x, at(1, days=day))
    assert stored_posts(stores, "203") == []
    x.calls.clear()
    # When collect runs past search's reach
    collect(stores, x, at(2, days=7))
    # Then each target is read from their timeline, back to their last search: the post is found
    assert (x.calls.count(SEARCH), x.calls.count(TIMELINES)) == (0, 1 + 3)
    assert len(stored_posts(stores, "203")) == 1


def test_with_batched_search_off_every_target_is_read_from_their_timeline_from_the_last_search():
    # Given targets searched once, then the policy turning batched search off
    stores, x = given_targets()
    x.posts.append(post("Tip https://example.com/s", by="201", when=at(2)))
    collect(stores, x, at(3))
    stores.settings.put_policy(Policy(batched_search=False))
    x.posts.append(post("Another https://example.com/o", by="201", when=at(4)))
    x.calls.clear()
    posts_before = x.usage.posts
    # When collect runs
    collect(stores, x, at(5))
    # Then their timelines are read from the last search: only the new post is read and stored
    assert (x.calls.count(SEARCH), x.calls.count(TIMELINES)) == (0, 1 + 3)
    assert x.usage.posts - posts_before == 1
    assert len(stored_posts(stores, "201")) == 2


def test_as_few_queries_as_fit_in_512_characters():
    # Given 100 target ids as long as X's
    ids = [str(1_700_000_000_000_000_000 + n) for n in range(100)]
    # When they are split into search queries
    batches = search_batches(ids)
    # Then every query fits, each holds as many as fit, and every target is in exactly one
    assert all(len(search_query(b)) <= SEARCH_QUERY_LENGTH for b in batches)
    assert all(len(search_query([*b, ids[0]])) > SEARCH_QUERY_LENGTH for b in batches[:-1])
    assert [i for b in batches for i in b] == ids
    assert search_query(["1", "2"]) == "(from:1 OR from:2) -is:retweet -is:reply"
