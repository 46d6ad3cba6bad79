"""Choosing the day's few actions: what moves a relationship most, and nobody pestered."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from rapport.domain.model import InteractionKind, Stage, SuggestionKind
from rapport.domain.policy import Policy
from rapport.usecases.digest import digest_due, losing_touch, rank, select
from tests.factories import T0, at, evidence, suggestion, target

POLICY = Policy(topics=("serverless", "python"), daily_actions=5, freshness_days=3, cadence_days=7)
NOW = at(days=1)


def kinds(suggestions):
    return [s.kind for s in suggestions]


def one_of_each(target_id="200", username="person_x"):
    """Every kind of suggestion for one target, all made this morning about fresh posts."""
    made = at(hours=20)
    common = {"target_id": target_id, "target_username": username, "created_at": made}
    return [
        suggestion(SuggestionKind.RETWEET, post_id="r1", score=25, **common),
        suggestion(SuggestionKind.ENGAGE_CIRCLE, post_id=None, users=("a", "b"), score=60, **common),
        suggestion(
            SuggestionKind.ANSWER, post_id="q-off", post_text="Best hiking boots?", score=80, **common
        ),
        suggestion(SuggestionKind.ASK, post_id="p1", score=90, **common),
        suggestion(
            SuggestionKind.ANSWER, post_id="q-on", post_text="Python packaging tips?", score=85, **common
        ),
        suggestion(SuggestionKind.REPLY, post_id="m1", score=100, **common),
    ]


def test_the_ranking_puts_conversations_first_and_retweets_last():
    # Given one suggestion of every kind
    ranked = rank(one_of_each(), POLICY.topics)

    # Then: they spoke to us, a question on our topics, the step-3 question, other questions, circle, retweet
    assert [s.post_id or "circle" for s in ranked] == ["m1", "q-on", "p1", "q-off", "circle", "r1"]


def test_within_a_kind_the_fresher_post_comes_first():
    # Given two equally scored retweets of posts of different ages
    old = suggestion(SuggestionKind.RETWEET, post_id="old", score=25)
    new = suggestion(SuggestionKind.RETWEET, post_id="new", score=25)
    posted = {"old": at(hours=-30), "new": at(hours=-2)}

    # Then the newer post is suggested first
    assert [s.post_id for s in rank([old, new], (), posted)] == ["new", "old"]


def test_the_attention_budget_caps_the_day_and_the_rest_waits():
    # Given seven targets with a fresh retweet each, and a budget of three
    pending = [
        suggestion(SuggestionKind.RETWEET, post_id=f"p{n}", target_id=str(n), target_username=f"t{n}")
        for n in range(7)
    ]
    posted = {f"p{n}": at(hours=20) for n in range(7)}

    # When the day is chosen
    chosen = select(
        pending,
        policy=POLICY.model_copy(update={"daily_actions": 3}),
        now=NOW,
        posted_at=posted,
        last_contact={},
    )

    # Then three are today's actions and four wait for another day, none thrown away
    assert len(chosen.chosen) == 3
    assert len(chosen.waiting) == 4
    assert chosen.expired == ()


def test_one_action_per_target_per_day_the_best_one():
    # Given every kind for one target
    chosen = select(one_of_each(), policy=POLICY, now=NOW, posted_at={}, last_contact={})

    # Then only their best (they spoke to us) is today's; the rest waits
    assert kinds(chosen.chosen) == [SuggestionKind.REPLY]
    assert len(chosen.waiting) == 5


def test_a_target_seen_yesterday_rests_today_unless_they_spoke_to_us():
    # Given person_x was in yesterday's digest, and has a retweet and an answer pending
    pending = [
        suggestion(SuggestionKind.RETWEET, post_id="r1", created_at=at(hours=20)),
        suggestion(SuggestionKind.ANSWER, post_id="q1", created_at=at(hours=20)),
    ]
    yesterday = {"200": NOW - timedelta(hours=23)}

    # When today is chosen
    rested = select(pending, policy=POLICY, now=NOW, posted_at={}, last_contact=yesterday)

    # Then nothing goes to person_x today, and it all waits
    assert rested.chosen == ()
    assert rested.resting == {"200"}
    assert len(rested.waiting) == 2

    # But a reply to them (they wrote to us first) is always welcome
    reply = suggestion(SuggestionKind.REPLY, post_id="m1", created_at=at(hours=20))
    with_reply = select([*pending, reply], policy=POLICY, now=NOW, posted_at={}, last_contact=yesterday)
    assert kinds(with_reply.chosen) == [SuggestionKind.REPLY]

    # And two days later the rest is offered again
    later = select(
        pending, policy=POLICY, now=NOW, posted_at={}, last_contact={"200": NOW - timedelta(days=2)}
    )
    assert kinds(later.chosen) == [SuggestionKind.ANSWER]


def test_suggestions_about_stale_posts_expire_instead_of_waiting_forever():
    # Given a retweet of a four-day-old post, a fresh one, and an ask made long ago
    stale = suggestion(SuggestionKind.RETWEET, post_id="old", created_at=at(days=-2))
    fresh = suggestion(SuggestionKind.RETWEET, post_id="new", target_id="201", created_at=at(hours=20))
    ask = suggestion(SuggestionKind.ASK, post_id="p", target_id="202", created_at=at(days=-20))
    posted = {"old": at(days=-3), "new": at(hours=19)}

    # When the day is chosen
    chosen = select([stale, fresh, ask], policy=POLICY, now=NOW, posted_at=posted, last_contact={})

    # Then the stale and the long-waiting ones are retired; the fresh one is today's
    assert [s.post_id for s in chosen.chosen] == ["new"]
    assert {s.post_id for s in chosen.expired} == {"old", "p"}


def test_a_target_paused_since_the_suggestion_was_made_gets_nothing():
    pending = [suggestion(SuggestionKind.RETWEET, post_id="r1", created_at=at(hours=20))]

    chosen = select(
        pending, policy=POLICY, now=NOW, posted_at={}, last_contact={}, stages={"200": Stage.PAUSED}
    )

    assert chosen.chosen == ()
    assert [s.post_id for s in chosen.expired] == ["r1"]


def test_a_suggestion_the_targets_new_stage_no_longer_calls_for_is_retired_not_sent():
    # Given one suggestion of every kind made this morning, and person_x since moved on to the ask
    # step (they follow us back)
    pending = one_of_each()

    # When the day's actions are chosen
    chosen = select(pending, policy=POLICY, now=NOW, posted_at={}, last_contact={}, stages={"200": Stage.ASK})

    # Then the retweet and the circle step are retired; the reply, answers and ask stay
    assert sorted(kinds(chosen.expired)) == [SuggestionKind.ENGAGE_CIRCLE, SuggestionKind.RETWEET]
    assert SuggestionKind.RETWEET not in kinds(chosen.chosen + chosen.waiting)


def test_an_unresponsive_target_is_only_ever_offered_a_reply():
    # Given one suggestion of every kind, and person_x now unresponsive
    chosen = select(
        one_of_each(),
        policy=POLICY,
        now=NOW,
        posted_at={},
        last_contact={},
        stages={"200": Stage.UNRESPONSIVE},
    )

    # Then only the reply to what they said to us can still go out
    assert kinds(chosen.chosen + chosen.waiting) == [SuggestionKind.REPLY]


def test_the_suggestions_of_someone_no_longer_a_target_are_retired_not_sent():
    # Given person_x's suggestions, and friend_y's, whose removal was under way as the digest read
    # the targets (their profile gone, their suggestions not yet)
    pending = one_of_each() + one_of_each(target_id="300", username="friend_y")

    # When the day's actions are chosen among the targets there are
    chosen = select(pending, policy=POLICY, now=NOW, posted_at={}, last_contact={}, stages={"200": Stage.ASK})

    # Then nothing of friend_y's goes out, and all of it is retired
    assert {s.target_username for s in chosen.chosen + chosen.waiting} == {"person_x"}
    assert [s for s in chosen.expired if s.target_id == "300"] == one_of_each(
        target_id="300", username="friend_y"
    )


def test_losing_touch_lists_targets_quiet_for_longer_than_their_cadence():
    # Given three targets: one thanked us yesterday, one last heard from ten days ago, one never
    recent, quiet, never = target("recent", "1"), target("quiet", "2"), target("never", "3")
    unresponsive = target("gone", "4", stage=Stage.UNRESPONSIVE)
    now = T0 + timedelta(days=12)
    history = {
        "1": [evidence(InteractionKind.THANKS, now - timedelta(days=1), target_id="1")],
        "2": [
            evidence(InteractionKind.OUR_RETWEET, now - timedelta(days=10), target_id="2"),
            evidence(InteractionKind.TARGET_POST, now - timedelta(days=1), target_id="2"),  # not to us
        ],
    }

    # When the digest looks for who is slipping away
    found = losing_touch([recent, quiet, never, unresponsive], history, POLICY, now)

    # Then the quiet one and the never-contacted one are listed, longest first; unresponsive is not
    assert [(lt.username, lt.days) for lt in found] == [("never", 12), ("quiet", 10)]
    assert found[0].last is None


def test_the_digest_hour_is_local_across_daylight_saving_changes():
    london = Policy(timezone="Europe/London", digest_hour=7)

    def due(hour_utc: datetime) -> bool:
        return digest_due(hour_utc, london)[1]

    # Winter: 07:00 local is 07:00 UTC; summer: 06:00 UTC
    assert due(datetime(2026, 3, 28, 7, tzinfo=UTC))
    assert not due(datetime(2026, 3, 29, 7, tzinfo=UTC))
    assert due(datetime(2026, 3, 29, 6, tzinfo=UTC))  # the clocks went forward that night
    assert due(datetime(2026, 10, 25, 7, tzinfo=UTC))  # and back
    assert digest_due(datetime(2026, 10, 25, 7, tzinfo=UTC), london)[0] == date(2026, 10, 25)


def test_a_digest_hour_skipped_or_repeated_by_the_clocks_still_comes_once():
    # Given a digest hour of 01:00 in London, which does not exist on 29 March and happens twice on 25 October
    one_am = Policy(timezone="Europe/London", digest_hour=1)

    def due_hours(day: datetime) -> list[int]:
        return [h for h in range(24) if digest_due(day + timedelta(hours=h), one_am)[1]]

    # Then each day has exactly one hourly run within the digest window
    assert due_hours(datetime(2026, 3, 29, tzinfo=UTC)) == [1]  # 02:00 BST, just after the gap
    assert due_hours(datetime(2026, 10, 25, tzinfo=UTC)) == [0]  # 01:00 BST, the first of the two
    assert due_hours(datetime(2026, 7, 1, tzinfo=UTC)) == [0]


def test_what_the_user_already_did_unprompted_is_not_suggested_again():
    # Given a pending answer to a question the user has answered on their own since
    pending = [suggestion(SuggestionKind.ANSWER, post_id="q1", created_at=at(hours=20))]

    chosen = select(pending, policy=POLICY, now=NOW, posted_at={}, last_contact={}, done={"q1"})

    assert chosen.chosen == ()
    assert [s.post_id for s in chosen.expired] == ["q1"]


def test_resting_follows_the_local_calendar_not_a_24_hour_clock():
    # Given a target in yesterday's 07:00 digest, and today's digest exactly 24 hours later
    pending = [suggestion(SuggestionKind.ANSWER, post_id="q1", created_at=at(hours=20))]
    then = NOW - timedelta(days=1)

    # Then they still rest today: yesterday is yesterday, whatever the minutes
    rested = select(pending, policy=POLICY, now=NOW, posted_at={}, last_contact={"200": then})
    assert rested.chosen == ()

    # And engaging their circle does not notify them, so it goes ahead
    circle = suggestion(SuggestionKind.ENGAGE_CIRCLE, post_id=None, users=("a", "b"), created_at=at(hours=20))
    assert kinds(
        select([circle], policy=POLICY, now=NOW, posted_at={}, last_contact={"200": then}).chosen
    ) == [SuggestionKind.ENGAGE_CIRCLE]
