"""How the crash sweep judges a crashed run against the clean one (no stack needed)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

from rapport.domain.feedback import FeedbackLinks
from rapport.domain.model import suggestion_ref
from rapport_local.crash_sweep import (
    MODES,
    CrashPoint,
    Outcome,
    Run,
    Write,
    choose_points,
    compare,
    ref_of_token,
)
from tests.factories import suggestion

POINT = CrashPoint("kill-dropped", Write(7, "digest", "03-03T07", "UpdateItem", "DIGEST/2026-03-03"))
ASK, CIRCLE = (("person_x", "ask"),), (("person_x", "circle"),)
CLEAN = Outcome(
    interactions=frozenset({"person_x:1002"}),
    transitions=frozenset({"person_x:2026-03-03T11:00:00+00:00:answer"}),
    suggestions=frozenset({"person_x:answer#1003"}),
    digests=Counter({"2026-03-03": 1}),
    stages=(ASK, CIRCLE, CIRCLE, CIRCLE),
)
RETWEET_X, RETWEET_Q = "200|retweet#1001", "400|retweet#4001"
# The clean run's first digest hour has nothing to send; the next morning's carries two retweets.
NEXT_MORNING = replace(
    CLEAN,
    digests=Counter({"2026-03-03": 1}),
    carried={"2026-03-03": frozenset({RETWEET_X, RETWEET_Q})},
)


def crashed(outcome: Outcome, *, killed_after_send: bool = False) -> Run:
    return Run(outcome, [], retried=0, dropped=[], killed_after_send=killed_after_send, seconds=1.0)


def test_a_run_like_the_clean_one_is_the_same():
    assert compare(CLEAN, crashed(CLEAN), POINT).outcome == "same"


def test_a_lost_suggestion_is_wrong():
    verdict = compare(CLEAN, crashed(replace(CLEAN, suggestions=frozenset())), POINT)
    assert (verdict.ok, verdict.lost) == (False, ("suggestion person_x:answer#1003",))


def test_a_second_email_is_accepted_only_in_the_window():
    twice = replace(CLEAN, digests=Counter({"2026-03-03": 2}))
    assert compare(CLEAN, crashed(twice, killed_after_send=True), POINT).outcome == "duplicate in the window"
    assert not compare(CLEAN, crashed(twice), POINT).ok


def test_a_stage_may_be_an_hour_late_not_two():
    an_hour = replace(CLEAN, stages=(ASK, ASK, CIRCLE, CIRCLE))
    two_hours = replace(CLEAN, stages=(ASK, ASK, ASK, CIRCLE))
    assert compare(CLEAN, crashed(an_hour), POINT).outcome == "late by an hour"
    assert not compare(CLEAN, crashed(two_hours), POINT).ok


def test_points_are_seeded_and_cover_every_function_and_mode():
    writes = [Write(i, ("collect", "evaluate", "digest")[i % 3], "t", "PutItem", f"K/{i}") for i in range(60)]
    points = choose_points(writes, 12, seed=5)
    assert points == choose_points(writes, 12, seed=5)
    assert {(p.write.function, p.mode) for p in points if p.write} == {
        (f, m) for f in ("collect", "evaluate", "digest") for m in MODES
    }


def test_a_digest_made_up_a_day_early_with_the_same_suggestions_is_ok_and_shown():
    # Given the crashed run made the first day up with the next morning's two retweets
    early = replace(
        NEXT_MORNING,
        digests=Counter({"2026-03-02": 1}),
        carried={"2026-03-02": frozenset({RETWEET_X, RETWEET_Q})},
    )
    # When it is compared with the clean run
    verdict = compare(NEXT_MORNING, crashed(early), POINT)
    # Then nothing is lost or added: the person got the same suggestions a day earlier
    assert (verdict.ok, verdict.outcome, verdict.lost, verdict.extra) == (
        True,
        "digest on another day",
        (),
        (),
    )
    assert verdict.moved == ("digest 2026-03-02 sent", "digest 2026-03-03 not sent")


def test_a_digest_on_another_day_with_other_suggestions_is_wrong():
    # Given the crashed run's only email carried one of the two retweets and one the clean run never sent
    other = replace(
        NEXT_MORNING,
        digests=Counter({"2026-03-02": 1}),
        carried={"2026-03-02": frozenset({RETWEET_X, "200|question#1003"})},
    )
    # When it is compared with the clean run
    verdict = compare(NEXT_MORNING, crashed(other), POINT)
    # Then the clean run's day is lost and the crashed run's is extra, as before
    assert (verdict.outcome, verdict.lost, verdict.extra, verdict.moved) == (
        "wrong",
        ("digest 2026-03-03",),
        ("digest 2026-03-02",),
        (),
    )


def test_a_lost_digest_that_carried_no_suggestion_is_wrong():
    # Given the clean run sent an empty digest on 03-02, and the crashed run sent the retweets on 03-03
    empty_first = replace(
        NEXT_MORNING,
        digests=Counter({"2026-03-02": 1, "2026-03-03": 1}),
        carried={"2026-03-02": frozenset(), "2026-03-03": frozenset({RETWEET_X, RETWEET_Q})},
    )
    # When the crashed run never sent the empty one
    verdict = compare(empty_first, crashed(NEXT_MORNING), POINT)
    # Then that day is lost: nothing shows the person got it on another day
    assert (verdict.outcome, verdict.lost, verdict.moved) == ("wrong", ("digest 2026-03-02",), ())


def test_a_suggestion_emailed_on_two_days_is_duplicated():
    # Given the crashed run emailed person_x's retweet on 03-02 and again on 03-03
    twice = replace(
        NEXT_MORNING,
        digests=Counter({"2026-03-02": 1, "2026-03-03": 1}),
        carried={"2026-03-02": frozenset({RETWEET_X}), "2026-03-03": frozenset({RETWEET_X, RETWEET_Q})},
    )
    # When it is compared with the clean run, which emailed it once
    verdict = compare(NEXT_MORNING, crashed(twice, killed_after_send=True), POINT)
    # Then it is a duplicate, and not the window's (that one resends a single day's email)
    assert verdict.duplicated == (f"suggestion {RETWEET_X} on 2026-03-02, 2026-03-03",)
    assert verdict.outcome == "wrong"


def test_a_suggestion_the_clean_run_also_emailed_twice_is_no_duplicate():
    # Given both runs emailed person_x's retweet on two days
    twice = replace(
        NEXT_MORNING,
        digests=Counter({"2026-03-02": 1, "2026-03-03": 1}),
        carried={"2026-03-02": frozenset({RETWEET_X}), "2026-03-03": frozenset({RETWEET_X, RETWEET_Q})},
    )
    # When they are compared
    verdict = compare(twice, crashed(twice), POINT)
    # Then nothing is duplicated
    assert (verdict.outcome, verdict.duplicated) == ("same", ())


def test_the_suggestion_a_feedback_link_names_is_read_from_its_token():
    # Given a digest's links for one suggestion, signed as the digest signs them
    s = suggestion(target_id="200", post_id="1001")
    links = FeedbackLinks("https://feedback.example/", b"k" * 32).for_suggestion(
        s, datetime(2026, 3, 3, 7, tzinfo=UTC)
    )
    # When the done link's token is read
    token = links["done"].split("?t=", 1)[1]
    # Then it names the suggestion by its target and key
    assert ref_of_token(token) == suggestion_ref(s) == "200|retweet#1001"
