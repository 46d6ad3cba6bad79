"""The data layer against DynamoDB (moto server): what is written once stays written once."""

from __future__ import annotations

import pytest

from rapport.adapters.dynamodb import NotFoundError, Spend, suggestion_ref
from rapport.domain.model import InteractionKind as K
from rapport.domain.model import Stage, Transition
from rapport.domain.policy import Policy
from tests.factories import at, evidence, post, suggestion, target

pytestmark = pytest.mark.integration


def test_an_interaction_is_stored_once_by_post_id(repo):
    # Given a target and one of their posts
    repo.put_target(target())
    p = post("Anyone know a good profiler?", post_id="1003")
    thing = evidence(K.TARGET_POST, at(1), ev_id="1003", the_post=p, is_question=True)
    # When the same post is stored twice (a retried run)
    first, second = repo.add_interaction(thing), repo.add_interaction(thing)
    # Then it is there once, intact
    assert (first, second) == (True, False)
    (stored,) = repo.interactions("200")
    assert stored == thing


def test_transitions_are_appended_once(repo):
    t = Transition(at(1), None, Stage.RETWEET, "added as a target", ("added",))
    u = Transition(at(2), Stage.RETWEET, Stage.ANSWER, "thanked you once", ("1002",))
    assert repo.add_transitions("200", [t]) == 1
    assert repo.add_transitions("200", [t, u]) == 1
    assert repo.transitions("200") == [t, u]


def test_a_suggestion_waits_for_a_digest_then_leaves_the_pending_list(repo):
    s = suggestion(created_at=at(1))
    assert repo.add_suggestion(s)
    assert not repo.add_suggestion(s)
    assert repo.pending_suggestions(until=at(0)) == []
    assert repo.pending_suggestions(until=at(2)) == [s]
    repo.mark_sent([suggestion_ref(s)], "2026-03-03")
    assert repo.pending_suggestions(until=at(2)) == []
    assert repo.suggestions_by_ref([suggestion_ref(s)]) == [s]


def test_a_day_can_be_claimed_for_a_digest_only_once(repo):
    assert repo.claim_digest("2026-03-03", ["200|retweet#1"], at(1))
    assert not repo.claim_digest("2026-03-03", [], at(2))
    record = repo.digest("2026-03-03")
    assert record is not None
    assert (record.status, record.suggestion_refs) == ("sending", ("200|retweet#1",))


def test_a_follow_change_and_the_follow_flag_are_written_together_once(repo):
    repo.put_target(target())
    follow = evidence(K.FOLLOW, at(3), ev_id="follow:20260302T110000Z")
    assert repo.record_follow_change(follow, True)
    assert not repo.record_follow_change(follow, True)
    assert repo.get_target("200").follows_us
    assert [i.kind for i in repo.interactions("200")] == [K.FOLLOW]


def test_targets_are_found_by_username_whatever_the_case_and_removed_with_their_history(repo):
    repo.put_target(target())
    repo.add_interaction(evidence(K.ADDED, at(0), ev_id="added"))
    assert repo.find_target("@Person_X") is not None
    assert repo.remove_target("200") == 2
    assert repo.find_target("person_x") is None
    with pytest.raises(NotFoundError):
        repo.get_target("200")


def test_settings_and_spend_round_trip(repo):
    assert repo.policy() == Policy()
    repo.put_policy(Policy(thanks_to_advance=2, timezone="Europe/London"))
    assert repo.policy().thanks_to_advance == 2
    repo.add_spend(at(0).date(), Spend(1, 10, 2, 0.07))
    repo.add_spend(at(0).date(), Spend(1, 0, 1, 0.01))
    spent = repo.spend(at(0).date())
    assert (spent.requests, spent.posts, spent.users) == (2, 10, 3)
    assert spent.cost_usd == pytest.approx(0.08)
