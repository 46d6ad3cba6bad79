"""The batched search narrowed to candidate posts (``Policy.search_candidates_only``, off by default)."""

from __future__ import annotations

from rapport.domain.policy import Policy
from rapport.domain.x import SEARCH_QUERY_LENGTH, candidate_filter, search_batches, search_query
from rapport.usecases.collect import collect
from tests.factories import at, post
from tests.fakes import FakeX
from tests.unit.test_admin_api import Api
from tests.unit.usecases.test_collect_search import given_targets, stored_posts


def given_a_day_of_posts(x: FakeX) -> None:
    """A post with a link, a question asked with a wh-word, one asked without, and a plain one."""
    x.posts += [
        post("Notes on tracing", by="201", when=at(2), urls=("https://example.com/t",)),
        post("Which queue do you use for retries?", by="202", when=at(2)),
        post("Is Lambda worth it for a tiny team?", by="202", when=at(2)),
        post("Shipping the new release today", by="203", when=at(2)),
    ]


def test_by_default_the_search_reads_every_new_post_of_the_targets():
    # Given targets searched together, and a day of their posts
    stores, x = given_targets()
    given_a_day_of_posts(x)
    # When collect runs with the default policy
    collect(stores, x, at(3))
    # Then the search is not narrowed: all four posts are read and stored
    assert x.narrowed == [""]
    assert (x.usage.posts, [len(stored_posts(stores, t)) for t in ("201", "202", "203")]) == (4, [1, 2, 1])


def test_narrowed_to_candidates_the_search_pays_only_for_links_and_asking_words_and_misses_the_rest():
    # Given the option on, and the same day of posts
    stores, x = given_targets()
    stores.settings.put_policy(Policy(search_candidates_only=True))
    given_a_day_of_posts(x)
    # When collect runs
    report = collect(stores, x, at(3))
    # Then one search carries the filter, and only the link and the wh-question are read (and paid)
    assert (report.searches, x.narrowed) == (1, [candidate_filter()])
    assert x.usage.posts == 2
    assert [len(stored_posts(stores, t)) for t in ("201", "202", "203")] == [1, 1, 0]
    # And the question asked without an asking word is never seen: the price of the option
    texts = [i.post.text for i in stores.evidence.interactions("202") if i.post]
    assert texts == ["Which queue do you use for retries?"]


def test_narrowed_queries_still_fit_in_512_characters_and_hold_fewer_targets_each():
    # Given 100 target ids as long as X's
    ids = [str(1_700_000_000_000_000_000 + n) for n in range(100)]
    only = candidate_filter()
    # When they are split into narrowed queries
    batches = search_batches(ids, only=only)
    # Then every query fits with its filter, each holds as many as fit, and nobody is left out
    assert all(len(search_query(b, only=only)) <= SEARCH_QUERY_LENGTH for b in batches)
    assert all(len(search_query([*b, ids[0]], only=only)) > SEARCH_QUERY_LENGTH for b in batches[:-1])
    assert [i for b in batches for i in b] == ids
    # And the filter's room is taken from the authors: more queries for the same targets
    assert len(batches) > len(search_batches(ids))
    assert search_query(["1"], only=only) == f"(from:1) -is:retweet -is:reply {only}"


def test_the_option_is_set_through_the_admin_api_and_the_next_collect_narrows_its_search():
    # Given targets searched together, and an admin API on the same stores and X
    stores, x = given_targets()
    api = Api(x=x)
    api.deps.stores = stores
    # When the setting is changed like any other
    changed = api("PATCH", "/settings", {"search_candidates_only": True})
    # Then it is stored, and the next collect sends the candidate filter
    assert (changed.status, api("GET", "/settings").body["settings"]["search_candidates_only"]) == (200, True)
    given_a_day_of_posts(x)
    collect(stores, x, at(3))
    assert x.narrowed[-1] == candidate_filter()
