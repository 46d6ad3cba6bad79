"""How the crash sweep judges a crashed run against the clean one (no stack needed)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from rapport_local.crash_sweep import MODES, CrashPoint, Outcome, Run, Write, choose_points, compare

POINT = CrashPoint("kill-dropped", Write(7, "digest", "03-03T07", "UpdateItem", "DIGEST/2026-03-03"))
ASK, CIRCLE = (("person_x", "ask"),), (("person_x", "circle"),)
CLEAN = Outcome(
    interactions=frozenset({"person_x:1002"}),
    transitions=frozenset({"person_x:2026-03-03T11:00:00+00:00:answer"}),
    suggestions=frozenset({"person_x:answer#1003"}),
    digests=Counter({"2026-03-03": 1}),
    stages=(ASK, CIRCLE, CIRCLE, CIRCLE),
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
