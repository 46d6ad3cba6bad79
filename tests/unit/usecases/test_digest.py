"""Sending the digest on in-memory stores: claimed once, sent once, its suggestions marked sent."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from rapport.domain.model import InteractionKind as K
from rapport.domain.money import USD, Spend
from rapport.domain.policy import Policy
from rapport.usecases.digest import Outbox, send_digest, send_test_digest
from rapport.usecases.ports import DigestStore, Stores, SuggestionStore
from tests.factories import ME, ME_ID, evidence, post, suggestion, target
from tests.fakes import Mailbox, memory_stores

DIGEST_HOUR = datetime(2026, 3, 3, 7, 10, tzinfo=UTC)  # 07:00 UTC is the default digest hour
MADE = datetime(2026, 3, 2, 20, tzinfo=UTC)


def given_a_pending_retweet() -> Stores:
    stores = memory_stores()
    stores.settings.put_policy(Policy(timezone="UTC", digest_hour=7))
    stores.settings.put_me(ME_ID, ME)
    stores.targets.put_target(target())
    stores.suggestions.add_suggestion(suggestion(created_at=MADE))
    return stores


def outbox_of(mailbox: Mailbox) -> Outbox:
    return Outbox(mailbox.send_raw, "rapport@example.com", "ana@example.com")


def send(stores: Stores, mailbox: Mailbox, at: datetime) -> str:
    return send_digest(stores, outbox_of(mailbox), at).reason


def test_the_digest_is_sent_once_at_the_digest_hour_and_its_suggestions_are_no_longer_pending():
    stores, mailbox = given_a_pending_retweet(), Mailbox()
    # When the schedule fires at the digest hour, and again (a duplicate trigger)
    first, second = send(stores, mailbox, DIGEST_HOUR), send(stores, mailbox, DIGEST_HOUR)
    # Then one email left, the day is recorded as sent, and the retweet waits no more
    assert (first, second, len(mailbox.sent)) == ("sent", "already sent today", 1)
    record = stores.digests.digest("2026-03-03")
    assert record is not None
    assert (record.status, record.message_id, record.suggestion_refs) == (
        "sent",
        "message-1",
        ("200|retweet#1001",),
    )
    assert stores.suggestions.pending_suggestions(until=DIGEST_HOUR) == []
    assert b"person_x" in mailbox.sent[0]


def test_a_retweet_done_on_the_newest_version_of_an_edited_post_retires_its_suggestion():
    # Given the retweet of post 1001 waits for the digest; its author edited it into 1002, which
    # was read too, and we retweeted that newest version unprompted
    stores, mailbox = given_a_pending_retweet(), Mailbox()
    edited = post("How we halved cold starts, with numbers", post_id="1002", edit_history=("1001", "1002"))
    stores.evidence.add_interaction(evidence(K.TARGET_POST, MADE, ev_id="1002", the_post=edited))
    retweeted = datetime(2026, 3, 1, 9, tzinfo=UTC)  # two days before: not a reason to rest today
    stores.evidence.add_interaction(evidence(K.OUR_RETWEET, retweeted, refers_to="1002"))
    # When the digest hour comes / Then there is nothing left to suggest: the retweet is done
    assert send(stores, mailbox, DIGEST_HOUR) == "nothing worth doing today (empty digests are off)"
    assert mailbox.sent == []
    assert stores.suggestions.pending_suggestions(until=DIGEST_HOUR) == []


def test_before_the_digest_hour_nothing_is_sent_or_claimed():
    stores, mailbox = given_a_pending_retweet(), Mailbox()
    reason = send(stores, mailbox, datetime(2026, 3, 3, 5, tzinfo=UTC))
    assert reason.startswith("not the digest hour")
    assert mailbox.sent == []
    assert stores.digests.digest("2026-03-03") is None


def test_a_digest_hour_whose_run_never_came_is_made_up_by_the_next_hourly_run():
    # Given the 07:00 run never decided anything (its event dropped, or killed before its claim)
    stores, mailbox = given_a_pending_retweet(), Mailbox()
    # When the 08:00 and 09:00 ticks run
    reasons = [send(stores, mailbox, DIGEST_HOUR + timedelta(hours=h)) for h in (1, 2)]
    # Then the first sends the day's digest, late, and the second nothing more
    assert reasons[0] == "sent"
    assert reasons[1].startswith("not the digest hour")
    assert len(mailbox.sent) == 1


def test_a_day_whose_digest_hour_is_long_past_is_not_made_up():
    # Given no run decided today's 07:00 digest, and it is now the evening (a stack deployed late)
    stores, mailbox = given_a_pending_retweet(), Mailbox()
    # When the 21:00 tick runs
    reason = send(stores, mailbox, DIGEST_HOUR + timedelta(hours=14))
    # Then nothing is sent: the next digest comes tomorrow at its hour
    assert reason.startswith("not the digest hour")
    assert mailbox.sent == []


def test_a_quiet_day_is_decided_once_so_the_later_hourly_runs_choose_nothing_again():
    # Given nothing to suggest today, and empty digests off (the default)
    stores, mailbox = memory_stores(), Mailbox()
    stores.settings.put_policy(Policy(timezone="UTC", digest_hour=7))
    stores.settings.put_me(ME_ID, ME)
    stores.targets.put_target(target())
    # When the digest hour decides the day is quiet, and a suggestion turns up an hour later
    first = send(stores, mailbox, DIGEST_HOUR)
    stores.suggestions.add_suggestion(suggestion(created_at=DIGEST_HOUR + timedelta(minutes=30)))
    later = send(stores, mailbox, DIGEST_HOUR + timedelta(hours=1))
    # Then no email goes today: the day was decided (the suggestion waits for tomorrow's digest)
    assert first.startswith("nothing worth doing today")
    assert later.startswith("not the digest hour")
    assert mailbox.sent == []
    record = stores.digests.digest("2026-03-03")
    assert record is not None and record.status == "quiet"
    assert stores.digests.last_sent_digest("2026-03-04") is None


def test_a_day_claimed_but_not_sent_is_sent_with_what_was_claimed():
    stores, mailbox = given_a_pending_retweet(), Mailbox()
    # Given a run claimed today's digest (the retweet) and died before sending it, and a second
    # suggestion came in since
    stores.digests.claim_digest("2026-03-03", ["200|retweet#1001"], DIGEST_HOUR)
    later = suggestion(post_id="1002", created_at=MADE)
    stores.suggestions.add_suggestion(later)
    # When this run retries, it sends exactly what was claimed
    assert send(stores, mailbox, DIGEST_HOUR) == "sent"
    assert len(mailbox.sent) == 1
    claimed = stores.digests.digest("2026-03-03")
    assert claimed is not None
    assert claimed.suggestion_refs == ("200|retweet#1001",)
    assert [s.post_id for s in stores.suggestions.pending_suggestions(until=DIGEST_HOUR)] == ["1002"]


def test_the_digest_shows_yesterday_s_x_spend_as_dollars_and_cents():
    stores, mailbox = given_a_pending_retweet(), Mailbox()
    stores.spend.add_spend(datetime(2026, 3, 2).date(), Spend(requests=3, cost=USD.of("0.256")))
    send(stores, mailbox, DIGEST_HOUR)
    assert b"X API spend yesterday: $0.26" in mailbox.sent[0]


def test_a_test_digest_is_marked_as_a_test_and_leaves_the_day_s_real_digest_to_come():
    stores, mailbox = given_a_pending_retweet(), Mailbox()
    before_the_hour = datetime(2026, 3, 3, 6, 30, tzinfo=UTC)

    # When a test digest is sent before the digest hour
    report = send_test_digest(stores, outbox_of(mailbox), before_the_hour)

    # Then it went out with the suggestion a digest would show, its subject marked as a test
    assert (report.sent, report.local_date, len(mailbox.sent)) == (True, "2026-03-03", 1)
    assert report.subject.startswith("[test] ")
    assert b"Subject: [test] " in mailbox.sent[0]
    assert b"person_x" in mailbox.sent[0]
    # And the day is not claimed, the retweet still waits
    assert stores.digests.digest("2026-03-03") is None
    assert [s.post_id for s in stores.suggestions.pending_suggestions(until=DIGEST_HOUR)] == ["1001"]

    # When the digest hour comes, the real digest goes out with the same retweet
    assert send(stores, mailbox, DIGEST_HOUR) == "sent"
    assert len(mailbox.sent) == 2
    assert b"[test]" not in mailbox.sent[1].split(b"\n\n", 1)[0]
    assert b"person_x" in mailbox.sent[1]


def test_a_claim_a_dead_run_left_is_taken_over_by_the_next_hourly_run_and_sent_once():
    # Given the digest-hour run claimed the day and died before sending, and Lambda gave up on it
    stores, mailbox = given_a_pending_retweet(), Mailbox()
    stores.digests.claim_digest("2026-03-03", ["200|retweet#1001"], DIGEST_HOUR)
    # When the next hourly ticks run, past the function's time-out
    timeout = timedelta(minutes=5)
    reasons = [
        send_digest(stores, outbox_of(mailbox), DIGEST_HOUR + timedelta(hours=h), stale_after=timeout)
        for h in (1, 2)
    ]
    # Then the first sends what was claimed, and the next sends nothing more
    assert reasons[0].reason == "sent"
    assert reasons[1].reason.startswith("not the digest hour")
    assert len(mailbox.sent) == 1
    record = stores.digests.digest("2026-03-03")
    assert record is not None and record.status == "sent"
    assert stores.suggestions.pending_suggestions(until=DIGEST_HOUR) == []


def test_a_claim_younger_than_the_time_out_is_left_to_its_run():
    stores, mailbox = given_a_pending_retweet(), Mailbox()
    stores.digests.claim_digest("2026-03-03", ["200|retweet#1001"], DIGEST_HOUR)
    # Given a claim made at 07:10 by a run that may still be sending, with a one-hour time-out
    later = DIGEST_HOUR + timedelta(minutes=51)
    # When the 08:01 tick comes, it leaves the claim alone
    report = send_digest(stores, outbox_of(mailbox), later, stale_after=timedelta(hours=1))
    assert report.reason.startswith("not the digest hour")
    assert mailbox.sent == []


class FlakyDigests:
    """A digest store whose "sent" mark fails its first ``failures`` tries, as a throttled write
    does, and that remembers each try: the day and the suggestion refs it marks with it."""

    def __init__(self, digests: DigestStore, failures: int = 0) -> None:
        self.digests = digests
        self.failures = failures
        self.tries: list[tuple[str, tuple[str, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.digests, name)

    def complete_digest(
        self, local_date: str, subject: str, message_id: str, at: datetime, *, refs: Iterable[str] = ()
    ) -> None:
        self.tries.append((local_date, tuple(refs)))
        if len(self.tries) <= self.failures:
            raise ConnectionError("throttled")
        self.digests.complete_digest(local_date, subject, message_id, at, refs=refs)


class WatchedSuggestions:
    """A suggestion store that remembers every separate "sent" mark asked of it."""

    def __init__(self, suggestions: SuggestionStore) -> None:
        self.suggestions = suggestions
        self.marked: list[tuple[str, ...]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.suggestions, name)

    def mark_sent(self, refs: Iterable[str], local_date: str) -> None:
        self.marked.append(tuple(refs))
        self.suggestions.mark_sent(refs, local_date)


def test_once_ses_accepted_the_digest_one_write_marks_the_day_and_its_suggestions_sent():
    # Given a pending retweet, and stores that remember the writes made after the send
    stores, mailbox = given_a_pending_retweet(), Mailbox()
    digests, suggestions = FlakyDigests(stores.digests), WatchedSuggestions(stores.suggestions)
    watched = replace(stores, digests=digests, suggestions=suggestions)
    # When the digest is sent
    assert send(watched, mailbox, DIGEST_HOUR) == "sent"
    # Then a single write recorded the day sent together with the retweet it carried
    assert digests.tries == [("2026-03-03", ("200|retweet#1001",))]
    assert suggestions.marked == []
    record = stores.digests.digest("2026-03-03")
    assert record is not None and record.status == "sent"
    assert stores.suggestions.pending_suggestions(until=DIGEST_HOUR) == []


def test_a_sent_mark_that_fails_is_tried_again_in_place_so_the_retry_sends_nothing():
    # Given marking the day sent fails once after SES accepted the email
    stores, mailbox = given_a_pending_retweet(), Mailbox()
    digests = FlakyDigests(stores.digests, failures=1)
    flaky = replace(stores, digests=digests)
    paused: list[float] = []
    # When the digest runs, and Lambda's retry (or a duplicate tick) comes
    first = send_digest(flaky, outbox_of(mailbox), DIGEST_HOUR, pause=paused.append)
    again = send_digest(flaky, outbox_of(mailbox), DIGEST_HOUR, pause=paused.append)
    # Then the mark was retried after a pause, with the retweet, and one email left
    assert (first.reason, again.reason) == ("sent", "already sent today")
    assert paused == [0.2]
    assert digests.tries == [("2026-03-03", ("200|retweet#1001",))] * 2
    assert stores.suggestions.pending_suggestions(until=DIGEST_HOUR) == []
    assert len(mailbox.sent) == 1


def test_a_sent_mark_failing_three_times_is_still_made_and_never_reaches_the_caller():
    # Given the write after the send is throttled three times in a row
    stores, mailbox = given_a_pending_retweet(), Mailbox()
    flaky = replace(stores, digests=FlakyDigests(stores.digests, failures=3))
    paused: list[float] = []
    # When the digest runs
    report = send_digest(flaky, outbox_of(mailbox), DIGEST_HOUR, pause=paused.append)
    # Then the fourth try recorded it, after growing pauses, and the run reports the email sent
    assert report.reason == "sent"
    assert paused == [0.2, 0.4, 0.8]
    record = stores.digests.digest("2026-03-03")
    assert record is not None and record.status == "sent"
    assert stores.suggestions.pending_suggestions(until=DIGEST_HOUR) == []
    assert send(flaky, mailbox, DIGEST_HOUR) == "already sent today"
    assert len(mailbox.sent) == 1
