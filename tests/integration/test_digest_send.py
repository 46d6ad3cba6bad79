"""Sending the digest through SES on a moto server: once a day, at the local hour, whatever happens."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from rapport.domain.model import InteractionKind, SuggestionKind, Target
from rapport.domain.policy import Policy
from rapport.usecases.digest import Outbox, send_digest
from rapport.usecases.ports import Stores
from rapport_local.aws import SENDER, LocalAws
from rapport_local.stack import intercepting
from tests.factories import evidence, post, suggestion

pytestmark = pytest.mark.integration

# Empty days send the one-line digest here, and no weekly look-back: these tests count daily digests.
LONDON = Policy(
    timezone="Europe/London",
    digest_hour=7,
    topics=("serverless",),
    send_empty_digest=True,
    weekly_lookback="never",
)


class Mailbox:
    """SES on the moto server, as the digest's ``send_raw``; reads back what this test sent."""

    def __init__(self, aws: LocalAws) -> None:
        self.aws = aws
        self.recipient = f"ana-{uuid.uuid4().hex[:8]}@example.com"
        self.crash_next = False

    def send_raw(self, raw: bytes) -> str:
        if self.crash_next:  # the function dies before SES accepted the message
            self.crash_next = False
            raise TimeoutError("lambda timed out")
        response = self.aws.client("sesv2").send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": [self.recipient]},
            Content={"Raw": {"Data": raw}},
        )
        return str(response["MessageId"])

    def received(self) -> list[EmailMessage]:
        return [m for m in self.aws.sent_emails() if m["To"] == self.recipient]


@pytest.fixture
def mailbox(aws: LocalAws) -> Mailbox:
    return Mailbox(aws)


def run(stores: Stores, mailbox: Mailbox) -> Callable[[datetime], dict[str, Any]]:
    def at(when: datetime) -> dict[str, Any]:
        return send_digest(stores, Outbox(mailbox.send_raw, SENDER, mailbox.recipient), when).as_dict()

    return at


def given_targets(stores: Stores, count: int, made: datetime, policy: Policy = LONDON) -> None:
    """``count`` targets, each with one fresh post and a pending retweet of it."""
    stores.settings.put_policy(policy)
    stores.settings.put_me("100", "ana_builds")
    for n in range(count):
        given_target(stores, n, made)


def given_target(stores: Stores, n: int, made: datetime) -> None:
    tid, name = str(300 + n), f"target_{n}"
    stores.targets.put_target(Target(tid, name, added_at=made - timedelta(days=2)))
    their = post(f"Useful post {n} https://example.com/{n}", by=tid, when=made - timedelta(hours=2))
    stores.evidence.add_interaction(
        evidence(InteractionKind.TARGET_POST, their.created_at, target_id=tid, the_post=their)
    )
    stores.suggestions.add_suggestion(
        suggestion(
            SuggestionKind.RETWEET,
            post_id=their.id,
            target_id=tid,
            target_username=name,
            created_at=made,
            post_text=their.text,
            post_author_username=name,
        )
    )


def test_the_schedule_firing_twice_and_every_hour_sends_one_email_a_day(stores, mailbox):
    # Given two targets with something worth doing
    given_targets(stores, 2, datetime(2026, 3, 2, 20, tzinfo=UTC))
    send = run(stores, mailbox)

    # When the hourly schedule runs all night, firing twice at the digest hour
    reports = [send(datetime(2026, 3, 2, 21, tzinfo=UTC) + timedelta(hours=h)) for h in range(14)]
    reports.append(send(datetime(2026, 3, 3, 7, 0, 30, tzinfo=UTC)))

    # Then exactly one email went out, at 07:00 local, with both actions
    assert [r["local_date"] for r in reports if r["sent"]] == ["2026-03-03"]
    (email,) = mailbox.received()
    assert email["Subject"] == "Rapport · 2026-03-03 · 2 actions"
    assert reports[-1]["reason"] == "already sent today"


def claimed_then_crashed(stores, mailbox, made: datetime):
    """Two targets' retweets made at ``made``, the 03-03 digest claimed by a run that died before
    SES accepted the message; returns the digest's send, for the retry."""
    given_targets(stores, 2, made)
    send = run(stores, mailbox)
    mailbox.crash_next = True
    with pytest.raises(TimeoutError):
        send(datetime(2026, 3, 3, 7, tzinfo=UTC))
    return send


def test_a_retry_after_a_crash_sends_exactly_what_was_claimed(stores, mailbox):
    # Given a day with two actions, and a run that dies before SES accepts the message
    made = datetime(2026, 3, 2, 20, tzinfo=UTC)
    send = claimed_then_crashed(stores, mailbox, made)

    # When a new suggestion arrives and Lambda retries the same event
    given_target(stores, 2, made + timedelta(minutes=30))
    retried = send(datetime(2026, 3, 3, 7, tzinfo=UTC))

    # Then the claimed content is sent once; the newcomer waits for tomorrow
    assert retried["sent"]
    (email,) = mailbox.received()
    assert email["Subject"] == "Rapport · 2026-03-03 · 2 actions"
    assert sorted(s["target"] for s in retried["suggestions"]) == ["target_0", "target_1"]
    assert [
        s.target_username for s in stores.suggestions.pending_suggestions(until=made + timedelta(days=1))
    ] == ["target_2"]


WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})


class WritesAfterSes:
    """Sees each botocore call (``intercepting``); lists the DynamoDB writes made once SES accepted
    an email ("Operation" or "TransactWriteItems xN")."""

    def __init__(self) -> None:
        self.writes: list[str] = []
        self.accepted = False

    def call(self, original: Callable[..., Any], client: Any, operation: str, params: Any) -> Any:
        result = original(client, operation, params)
        if operation == "SendEmail":
            self.accepted = True
        elif self.accepted and operation in WRITES:
            items = params.get("TransactItems")
            self.writes.append(f"{operation} x{len(items)}" if items else operation)
        return result


@pytest.fixture
def writes_after_ses() -> Iterator[list[str]]:
    """The DynamoDB writes made once SES accepted an email, during the test."""
    seen = WritesAfterSes()
    with intercepting(seen):
        yield seen.writes


def test_once_ses_accepted_the_digest_one_transaction_marks_the_day_and_its_suggestions(
    stores, mailbox, writes_after_ses
):
    # Given two targets with a pending retweet each
    made = datetime(2026, 3, 2, 20, tzinfo=UTC)
    given_targets(stores, 2, made)

    # When the digest hour comes
    report = run(stores, mailbox)(datetime(2026, 3, 3, 7, tzinfo=UTC))

    # Then after SES accepted the email, one write recorded the day and both retweets sent
    assert report["sent"]
    assert writes_after_ses == ["TransactWriteItems x3"]
    record = stores.digests.digest("2026-03-03")
    assert record is not None and record.status == "sent"
    assert stores.suggestions.pending_suggestions(until=made + timedelta(days=1)) == []


def test_a_target_removed_between_the_claim_and_the_retry_never_blocks_the_day_being_marked_sent(
    stores, mailbox, writes_after_ses
):
    # Given a day claimed with two targets' retweets by a run that died before SES accepted the email
    made = datetime(2026, 3, 2, 20, tzinfo=UTC)
    send = claimed_then_crashed(stores, mailbox, made)
    # And the user removes target_1 before Lambda's retry
    stores.targets.remove_target("301")

    # When the retry sends the day
    retried = send(datetime(2026, 3, 3, 7, tzinfo=UTC))

    # Then it carries what is left, and the day is recorded sent all the same: the transaction was
    # cancelled by the removed retweet, so the mark and the day were written one by one
    assert [s["target"] for s in retried["suggestions"]] == ["target_0"]
    assert writes_after_ses == ["UpdateItem", "UpdateItem"]
    record = stores.digests.digest("2026-03-03")
    assert record is not None and record.status == "sent"
    assert send(datetime(2026, 3, 3, 8, tzinfo=UTC))["reason"].startswith("not the digest hour")
    # And nothing of the removed target came back
    assert stores.targets.remove_target("301") == 0
    assert len(mailbox.received()) == 1


@pytest.mark.parametrize(
    ("first_hour", "days", "expected_utc"),
    [
        # Spring forward (29 March 2026): 07:00 local moves from 07:00 UTC to 06:00 UTC
        (datetime(2026, 3, 27, tzinfo=UTC), 4, ["03-27 07:00", "03-28 07:00", "03-29 06:00", "03-30 06:00"]),
        # Fall back (25 October 2026): and back again
        (datetime(2026, 10, 23, tzinfo=UTC), 4, ["10-23 06:00", "10-24 06:00", "10-25 07:00", "10-26 07:00"]),
    ],
)
def test_the_local_hour_holds_across_daylight_saving(stores, mailbox, first_hour, days, expected_utc):
    # Given a London user with the digest at 07:00 and empty digests on
    stores.settings.put_policy(LONDON)
    stores.settings.put_me("100", "ana_builds")
    send = run(stores, mailbox)

    # When the hourly schedule runs for four days around a clock change
    sent = []
    for h in range(24 * days):
        now = first_hour + timedelta(hours=h)
        if send(now)["sent"]:
            sent.append(now.strftime("%m-%d %H:%M"))

    # Then each local day got one digest, always at 07:00 London time
    assert sent == expected_utc
    assert len(mailbox.received()) == days


def test_the_budget_spacing_and_carry_over_across_two_days(stores, mailbox):
    # Given seven targets with a fresh retweet each, and an attention budget of three
    made = datetime(2026, 3, 2, 20, tzinfo=UTC)
    given_targets(stores, 7, made, LONDON.model_copy(update={"daily_actions": 3}))
    send = run(stores, mailbox)

    # When two mornings pass
    first = send(datetime(2026, 3, 3, 7, tzinfo=UTC))
    second = send(datetime(2026, 3, 4, 7, tzinfo=UTC))

    # Then three targets on day one, three others on day two (yesterday's rest), none twice
    day1 = {s["target"] for s in first["suggestions"]}
    day2 = {s["target"] for s in second["suggestions"]}
    assert len(day1) == len(day2) == 3
    assert not day1 & day2
    # And the last one still waits, its post still fresh
    assert len(stores.suggestions.pending_suggestions(until=made + timedelta(days=3))) == 1


def test_stale_suggestions_are_retired_and_an_empty_day_can_send_nothing(stores, mailbox):
    # Given a retweet suggestion whose post is now five days old, and empty digests turned off
    made = datetime(2026, 3, 2, 20, tzinfo=UTC)
    given_targets(stores, 1, made, LONDON.model_copy(update={"send_empty_digest": False}))
    send = run(stores, mailbox)

    # When the digest hour comes five days later
    report = send(datetime(2026, 3, 7, 7, tzinfo=UTC))

    # Then nothing is sent, and the stale suggestion no longer waits
    assert (report["sent"], report["reason"]) == (False, "nothing worth doing today (empty digests are off)")
    assert mailbox.received() == []
    assert stores.suggestions.pending_suggestions(until=made + timedelta(days=9)) == []


def test_an_empty_day_is_one_line_when_empty_digests_are_on(stores, mailbox):
    stores.settings.put_policy(LONDON)
    stores.settings.put_me("100", "ana_builds")

    report = run(stores, mailbox)(datetime(2026, 3, 3, 7, tzinfo=UTC))

    assert report["sent"]
    (email,) = mailbox.received()
    assert email["Subject"] == "Rapport · 2026-03-03 · nothing to do today"
    text = email.get_body(preferencelist=("plain",)).get_content()
    assert "Nothing worth doing today. Rapport will look again tomorrow." in text
    assert "TODAY'S ACTIONS" not in text


def test_preview_renders_a_day_from_a_table_without_sending_or_claiming(
    stores, table_name, mailbox, tmp_path
):
    from rapport_local.preview import preview

    # Given a table with two targets and their pending retweets
    made = datetime(2026, 3, 2, 20, tzinfo=UTC)
    given_targets(stores, 2, made)

    # When the user previews tomorrow's digest from that table
    shown = preview(date(2026, 3, 3), tmp_path / "preview.html", table=table_name)

    # Then the digest is written as HTML and text, and nothing was sent, claimed or taken from the queue
    assert shown.rendered.subject == "Rapport · 2026-03-03 · 2 actions"
    assert "target_0" in shown.html_path.read_text() and "target_1" in shown.text_path.read_text()
    assert mailbox.received() == []
    assert stores.digests.digest("2026-03-03") is None
    assert len(stores.suggestions.pending_suggestions(until=made + timedelta(days=1))) == 2
