"""The weekly look-back and the quiet days, on in-memory stores: once a week, exactly once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message

from rapport.domain.model import InteractionKind as K
from rapport.domain.model import Stage, Transition, lookback_key
from rapport.domain.money import USD, Spend
from rapport.domain.policy import Policy
from rapport.usecases.digest import Outbox, send_digest
from rapport.usecases.lookback import build_lookback, stage_at, week_ends
from rapport.usecases.ports import Stores
from tests.factories import ME, ME_ID, T0, evidence, post, suggestion, target
from tests.fakes import memory_stores

SUNDAY = datetime(2026, 3, 8, 7, 10, tzinfo=UTC)  # 2026-03-08 is a Sunday; 07:00 UTC the digest hour
MONDAY = SUNDAY + timedelta(days=1)


class Mailbox:
    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send_raw(self, raw: bytes) -> str:
        self.sent.append(message_from_bytes(raw, policy=policy.default))
        return f"message-{len(self.sent)}"

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.sent]

    def text(self, n: int) -> str:
        for part in self.sent[n].walk():
            if part.get_content_type() == "text/plain":
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                return payload.decode("utf-8")
        raise AssertionError("no text part")


def given(policy: Policy | None = None) -> Stores:
    stores = memory_stores()
    stores.settings.put_policy(policy or Policy(timezone="UTC", digest_hour=7))
    stores.settings.put_me(ME_ID, ME)
    stores.targets.put_target(target())
    stores.evidence.add_transitions("200", [Transition(T0, None, Stage.RETWEET, "added", ("added",))])
    return stores


def send(stores: Stores, mailbox: Mailbox, at: datetime) -> dict[str, object]:
    return send_digest(stores, Outbox(mailbox.send_raw, "r@example.com", "ana@example.com"), at).as_dict()


def test_a_quiet_day_sends_nothing_by_default_and_a_setting_keeps_the_one_line_mail():
    # Given nothing to do on a Monday
    quiet, kept = given(), given(Policy(timezone="UTC", digest_hour=7, send_empty_digest=True))
    mailbox, kept_box = Mailbox(), Mailbox()
    # When the digest hour comes
    report = send(quiet, mailbox, MONDAY)
    send(kept, kept_box, MONDAY)
    # Then nothing is sent by default; with send_empty_digest the "nothing today" mail still goes
    assert (report["sent"], mailbox.sent) == (False, [])
    assert kept_box.subjects() == ["Rapport · 2026-03-09 · nothing to do today"]


def test_on_the_chosen_day_the_look_back_goes_once_beside_the_day_s_digest():
    # Given a pending retweet on Sunday, the look-back's default day
    stores, mailbox = given(), Mailbox()
    stores.suggestions.add_suggestion(suggestion(created_at=SUNDAY - timedelta(hours=2)))
    # When the schedule fires twice at the digest hour
    first, second = send(stores, mailbox, SUNDAY), send(stores, mailbox, SUNDAY)
    # Then the day's digest and the look-back left once each
    assert mailbox.subjects() == [
        "Rapport · 2026-03-08 · 1 action",
        "Rapport · week to 2026-03-08 · look back",
    ]
    assert first["lookback"] == {
        "local_date": "2026-03-08#weekly",
        "sent": True,
        "reason": "look-back sent",
        "subject": "Rapport · week to 2026-03-08 · look back",
        "message_id": "message-2",
        "suggestions": [],
        "unsubscribe": None,
    }
    assert second["lookback"]["reason"] == "this week's look-back was already sent"  # type: ignore[index]
    # And the next day's digest still counts from the daily digest, not the look-back
    assert stores.digests.last_sent_digest(before="2026-03-09").local_date == "2026-03-08"  # type: ignore[union-attr]


def test_on_a_quiet_chosen_day_only_the_look_back_goes_even_with_empty_digests_on():
    stores, mailbox = given(Policy(timezone="UTC", digest_hour=7, send_empty_digest=True)), Mailbox()
    send(stores, mailbox, SUNDAY)
    assert mailbox.subjects() == ["Rapport · week to 2026-03-08 · look back"]


def test_the_look_back_goes_on_the_day_the_person_chose_or_never():
    friday = datetime(2026, 3, 6, 7, 10, tzinfo=UTC)
    on_friday, never = given(Policy(weekly_lookback="friday")), given(Policy(weekly_lookback="never"))
    friday_box, never_box = Mailbox(), Mailbox()
    for day in range(7):
        send(on_friday, friday_box, friday - timedelta(days=3) + timedelta(days=day))
        send(never, never_box, friday - timedelta(days=3) + timedelta(days=day))
    assert friday_box.subjects() == ["Rapport · week to 2026-03-06 · look back"]
    assert never_box.sent == []


def test_a_look_back_claimed_by_a_run_that_died_is_sent_by_the_retry():
    stores, mailbox = given(), Mailbox()
    stores.digests.claim_digest(lookback_key("2026-03-08"), [], SUNDAY)
    send(stores, mailbox, SUNDAY)
    assert mailbox.subjects() == ["Rapport · week to 2026-03-08 · look back"]
    record = stores.digests.digest(lookback_key("2026-03-08"))
    assert record is not None and record.status == "sent"


def test_the_look_back_tells_the_week_s_changes_what_came_back_and_the_spend():
    # Given a week in which the target thanked us, followed us and moved twice, and X cost $0.42
    stores, mailbox = given(), Mailbox()
    thanks = post("@ana_builds thank you!", when=SUNDAY - timedelta(days=3), post_id="t1")
    stores.evidence.add_interaction(evidence(K.THANKS, thanks.created_at, ev_id="t1", the_post=thanks))
    stores.evidence.add_interaction(evidence(K.FOLLOW, SUNDAY - timedelta(days=2), ev_id="follow:1"))
    stores.evidence.add_transitions(
        "200",
        [
            Transition(SUNDAY - timedelta(days=3), Stage.RETWEET, Stage.ANSWER, "they thanked you", ("t1",)),
            Transition(SUNDAY - timedelta(days=2), Stage.ANSWER, Stage.ASK, "they follow you", ()),
        ],
    )
    stores.spend.add_spend(date(2026, 3, 5), Spend(requests=3, posts=84, cost=USD.of("0.42")))
    # When the look-back goes
    send(stores, mailbox, SUNDAY)
    text = mailbox.text(0)
    # Then it names both changes, the thanks and the follow-back, and the week's spend
    assert "@person_x: Retweet → Answer (2026-03-05) — they thanked you" in text
    assert "@person_x: Answer → Ask (2026-03-06)" in text
    assert "@person_x thanked you (2026-03-05)" in text
    assert "@person_x followed you back (2026-03-06)" in text
    assert "This week: $0.42" in text
    # And its chart row shows no stage before the target was added (Monday), then Ask, 2 exchanges
    row = next(line for line in text.splitlines() if line.startswith("@person_x "))
    assert row.split()[1:] == ["-", "-", "-", "-", "-", "As", "2"]


def test_a_thanks_read_before_and_after_its_edit_comes_back_once_in_the_look_back():
    # Given the week's one thanks, read, then edited by its author (X's new id t2), and read again
    stores, mailbox = given(), Mailbox()
    first = post("@ana_builds thank you!", when=SUNDAY - timedelta(days=3), post_id="t1")
    edited = replace(first, id="t2", text="@ana_builds thank you so much!", edit_history=("t1", "t2"))
    for version in (first, edited):
        stores.evidence.add_interaction(
            evidence(K.THANKS, version.created_at, ev_id=version.id, the_post=version)
        )
    # When the look-back goes
    send(stores, mailbox, SUNDAY)
    text = mailbox.text(0)
    # Then the thanks is listed once, and the chart counts one exchange
    assert text.count("@person_x thanked you (2026-03-05)") == 1
    row = next(line for line in text.splitlines() if line.startswith("@person_x "))
    assert row.split()[-1] == "1"


def test_the_chart_has_a_column_per_week_and_a_stage_only_once_the_target_was_added():
    assert week_ends(date(2026, 3, 8), weeks=3) == (date(2026, 2, 22), date(2026, 3, 1), date(2026, 3, 8))
    added = [Transition(T0, None, Stage.RETWEET, "added")]
    assert stage_at(added, T0 - timedelta(seconds=1)) is None
    assert stage_at(added, T0) is Stage.RETWEET
    view = build_lookback(
        local_day=date(2026, 3, 8),
        at=SUNDAY,
        policy=Policy(),
        me_username=ME,
        targets=[target()],
        interactions={},
        transitions={"200": added},
        spend_week=USD(),
        spend=None,
    )
    (weeks,) = view.progress
    assert weeks.stages == (None, None, None, None, None, Stage.RETWEET)  # added on Monday 03-02
    assert weeks.exchanges == (0, 0, 0, 0, 0, 0)


class CountingHistories:
    """The evidence store, counting the partition reads (one per target per reading of the world)."""

    def __init__(self, evidence: object) -> None:
        self.inner, self.reads = evidence, 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def history(self, target_id: str) -> object:
        self.reads += 1
        return self.inner.history(target_id)  # type: ignore[attr-defined]


def test_the_digest_and_the_look_back_of_one_run_read_each_target_once():
    # Given a pending retweet on Sunday, the day of both emails
    stores, mailbox = given(), Mailbox()
    stores.suggestions.add_suggestion(suggestion(created_at=SUNDAY - timedelta(hours=2)))
    counting = CountingHistories(stores.evidence)
    # When the digest hour sends the day's digest and the look-back
    send(replace(stores, evidence=counting), mailbox, SUNDAY)  # type: ignore[arg-type]
    # Then both went, and the one target's history was read once for the two
    assert len(mailbox.sent) == 2
    assert counting.reads == 1
