"""The method's state machine: each rule, then invariants over any history (hypothesis)."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.domain.engine import replay
from rapport.domain.model import InteractionKind as K
from rapport.domain.model import Stage
from rapport.domain.policy import Policy
from tests.factories import added, at, evidence, post

POLICY = Policy()


def stages(history):
    return [t.to_stage for t in replay(history, POLICY).transitions]


def test_a_new_target_starts_in_retweet():
    # Given a target just added / When replayed / Then it is in step 1, with the addition as evidence
    progress = replay([added()], POLICY)
    assert progress.stage is Stage.RETWEET
    assert progress.transitions[0].from_stage is None
    assert progress.transitions[0].evidence == ("added",)


def test_evidence_before_anything_is_added_changes_nothing():
    progress = replay([evidence(K.THANKS, at(1))], POLICY)
    assert not progress.started
    assert progress.stage is Stage.RETWEET


def test_a_thanks_moves_retweet_to_answer_with_the_thanks_as_evidence():
    # Given a target we retweeted, When they thank us, Then step 2 begins, proved by their post
    history = [added(), evidence(K.OUR_RETWEET, at(1)), evidence(K.THANKS, at(2), ev_id="1002")]
    progress = replay(history, POLICY)
    assert progress.stage is Stage.ANSWER
    last = progress.transitions[-1]
    assert (last.from_stage, last.to_stage, last.evidence) == (Stage.RETWEET, Stage.ANSWER, ("1002",))
    assert "thanked you once" in last.reason
    assert last.at == at(2)


def test_thanks_to_advance_is_honoured():
    policy = Policy(thanks_to_advance=2)
    history = [added(), evidence(K.THANKS, at(1))]
    assert replay(history, policy).stage is Stage.RETWEET
    assert replay([*history, evidence(K.THANKS, at(2))], policy).stage is Stage.ANSWER


def test_a_thanks_read_before_and_after_its_edit_counts_once_at_its_first_time():
    # Given a thanks (post 1) that its author edited ten minutes later (post 2, X's new id), both read
    first = post("thank you!", post_id="1", when=at(1))
    edited = post("thank you so much!", post_id="2", when=at(1.2), edit_history=("1", "2"))
    history = [
        added(),
        evidence(K.THANKS, at(1), ev_id="1", the_post=first),
        evidence(K.THANKS, at(1.2), ev_id="2", the_post=edited),
    ]
    # When replayed with two thanks needed to advance
    progress = replay(history, Policy(thanks_to_advance=2))
    # Then it is one thanks: still step 1; and with one needed, the step changed when it was first posted
    assert (progress.thanks, progress.stage) == (1, Stage.RETWEET)
    assert replay(history, POLICY).transitions[-1].at == at(1)


@pytest.mark.parametrize("before", [[], [evidence(K.THANKS, at(1))]])
def test_a_follow_back_moves_to_ask_from_retweet_or_answer(before):
    history = [added(), *before, evidence(K.FOLLOW, at(3), ev_id="follow:1")]
    progress = replay(history, POLICY)
    assert progress.stage is Stage.ASK
    assert progress.transitions[-1].evidence == ("follow:1",)
    assert progress.transitions[-1].reason == "followed you back"


def test_a_reply_to_our_question_in_ask_moves_to_circle():
    history = [
        added(),
        evidence(K.FOLLOW, at(1)),
        evidence(K.OUR_QUESTION, at(2), ev_id="5003"),
        evidence(K.REPLY_TO_QUESTION, at(3), ev_id="1009", refers_to="5003"),
    ]
    progress = replay(history, POLICY)
    assert progress.stage is Stage.CIRCLE
    assert progress.transitions[-1].evidence == ("1009",)


def test_a_reply_to_a_question_before_they_follow_does_not_complete_step_3():
    history = [added(), evidence(K.REPLY_TO_QUESTION, at(1)), evidence(K.FOLLOW, at(2))]
    assert replay(history, POLICY).stage is Stage.ASK


def test_five_unanswered_retweets_make_a_target_unresponsive():
    retweets = [evidence(K.OUR_RETWEET, at(i + 1), ev_id=f"rt{i}") for i in range(5)]
    progress = replay([added(), *retweets], POLICY)
    assert progress.stage is Stage.UNRESPONSIVE
    assert progress.transitions[-1].evidence == ("rt0", "rt1", "rt2", "rt3", "rt4")


def test_a_response_in_between_resets_the_count_of_unanswered_retweets():
    retweets = [evidence(K.OUR_RETWEET, at(i + 1)) for i in range(4)]
    more = [evidence(K.OUR_RETWEET, at(i + 10)) for i in range(4)]
    history = [added(), *retweets, evidence(K.MENTION, at(6)), *more]
    progress = replay(history, POLICY)
    assert progress.stage is Stage.RETWEET
    assert progress.retweets_without_response == 4


@pytest.mark.parametrize(
    ("response", "then"),
    [(K.THANKS, Stage.ANSWER), (K.FOLLOW, Stage.ASK), (K.MENTION, Stage.RETWEET)],
)
def test_a_later_response_brings_an_unresponsive_target_back_where_the_evidence_leads(response, then):
    retweets = [evidence(K.OUR_RETWEET, at(i + 1)) for i in range(5)]
    progress = replay([added(), *retweets, evidence(response, at(20))], POLICY)
    assert stages([added(), *retweets])[-1] is Stage.UNRESPONSIVE
    assert progress.stage is then


def test_retweets_after_step_1_never_make_a_target_unresponsive():
    retweets = [evidence(K.OUR_RETWEET, at(i + 2)) for i in range(10)]
    assert replay([added(), evidence(K.THANKS, at(1)), *retweets], POLICY).stage is Stage.ANSWER


def test_unfollowing_before_answering_our_question_falls_back_from_ask():
    history = [added(), evidence(K.THANKS, at(1)), evidence(K.FOLLOW, at(2)), evidence(K.UNFOLLOW, at(3))]
    assert stages(history) == [Stage.RETWEET, Stage.ANSWER, Stage.ASK, Stage.ANSWER]


def test_a_fallback_from_ask_to_unresponsive_cites_the_unanswered_retweets():
    # Given Ana retweeted twice after they followed her, with no answer, and then they unfollowed
    policy = Policy(retweets_before_giving_up=2)
    history = [
        added(),
        evidence(K.FOLLOW, at(1), ev_id="follow:1"),
        evidence(K.OUR_RETWEET, at(2), ev_id="rt1"),
        evidence(K.OUR_RETWEET, at(3), ev_id="rt2"),
        evidence(K.UNFOLLOW, at(4), ev_id="unfollow:1"),
    ]
    # When replayed
    last = replay(history, policy).transitions[-1]
    # Then the fall back names the unfollow and the retweets that went unanswered
    assert (last.to_stage, last.evidence) == (Stage.UNRESPONSIVE, ("unfollow:1", "rt1", "rt2"))


def test_unfollowing_after_the_circle_is_reached_keeps_the_circle():
    history = [
        added(),
        evidence(K.FOLLOW, at(1)),
        evidence(K.REPLY_TO_QUESTION, at(2)),
        evidence(K.UNFOLLOW, at(3)),
    ]
    assert replay(history, POLICY).stage is Stage.CIRCLE


def test_pause_holds_the_target_and_resume_returns_to_what_the_evidence_supports():
    history = [
        added(),
        evidence(K.PAUSE, at(1), ev_id="pause:1"),
        evidence(K.THANKS, at(2)),
        evidence(K.FOLLOW, at(3), ev_id="follow:1"),
    ]
    paused = replay(history, POLICY)
    assert paused.stage is Stage.PAUSED
    resumed = replay([*history, evidence(K.RESUME, at(4), ev_id="resume:1")], POLICY)
    assert resumed.stage is Stage.ASK
    assert [t.to_stage for t in resumed.transitions] == [Stage.RETWEET, Stage.PAUSED, Stage.ASK]
    assert resumed.transitions[-1].evidence == ("resume:1", "follow:1")


def test_until_ignores_evidence_from_the_future():
    history = [added(), evidence(K.THANKS, at(5))]
    assert replay(history, POLICY, until=at(4)).stage is Stage.RETWEET


# -- invariants over any history -----------------------------------------------------------------

KINDS = [k for k in K if k is not K.ADDED]
events = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(min_value=0, max_value=500)),
    max_size=40,
)
policies = st.builds(
    Policy,
    thanks_to_advance=st.integers(1, 3),
    retweets_before_giving_up=st.integers(1, 6),
)


def build(raw):
    return [added()] + [evidence(kind, at(hours), ev_id=f"e{i:03d}") for i, (kind, hours) in enumerate(raw)]


@given(events, policies)
def test_history_is_a_chain_in_time_order(raw, policy):
    progress = replay(build(raw), policy)
    ts = progress.transitions
    assert ts[0].from_stage is None
    for before, after in itertools.pairwise(ts):
        assert after.from_stage is before.to_stage
        assert after.from_stage is not after.to_stage
        assert before.at <= after.at
    assert progress.stage is ts[-1].to_stage


@given(events, policies, st.randoms(use_true_random=False))
def test_the_order_evidence_is_stored_in_does_not_matter(raw, policy, rnd: random.Random):
    history = build(raw)
    shuffled = history[:]
    rnd.shuffle(shuffled)
    assert replay(shuffled, policy) == replay(history, policy)


@given(events, policies, st.integers(0, 500))
def test_a_later_replay_only_appends_to_the_stored_history(raw, policy, cut):
    # This is what lets evaluate store transitions append-only, run after run.
    history = build(raw)
    earlier = replay(history, policy, until=at(cut)).transitions
    assert replay(history, policy).transitions[: len(earlier)] == earlier


@given(events, policies)
def test_stages_are_only_reached_on_their_evidence(raw, policy):
    history = build(raw)
    progress = replay(history, policy)
    kinds_before = lambda t: {e.kind for e in history if e.at <= t.at}  # noqa: E731
    for t in progress.transitions:
        seen = kinds_before(t)
        if t.to_stage is Stage.CIRCLE:
            assert {K.FOLLOW, K.REPLY_TO_QUESTION} <= seen
        if t.to_stage is Stage.ANSWER and t.from_stage is Stage.RETWEET:
            assert K.THANKS in seen
        if t.to_stage is Stage.UNRESPONSIVE:
            assert len(t.evidence) >= policy.retweets_before_giving_up
        if t.to_stage is Stage.PAUSED:  # paused by you, or dropped by you from a digest
            assert {K.PAUSE, K.DROPPED} & seen


@given(events, policies)
def test_a_target_is_paused_exactly_when_the_users_last_word_was_pause(raw, policy):
    history = build(raw)
    words = (K.PAUSE, K.RESUME, K.DROPPED)
    user_words = [e for e in sorted(history, key=lambda e: (e.at, e.id)) if e.kind in words]
    progress = replay(history, policy)
    expected = bool(user_words) and user_words[-1].kind in (K.PAUSE, K.DROPPED)
    assert (progress.stage is Stage.PAUSED) == expected
