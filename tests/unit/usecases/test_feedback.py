"""Answering from the digest on in-memory stores: done, skip, snooze, drop and pause, heard by the method."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from rapport.domain.feedback import FeedbackLinks
from rapport.domain.model import InteractionKind, Stage
from rapport.domain.policy import Policy
from rapport.domain.x import XUser
from rapport.usecases.admin import parse_command, run_command
from rapport.usecases.collect import collect
from rapport.usecases.digest import DigestReport, Outbox, preview_digest, send_digest, send_test_digest
from rapport.usecases.evaluate import evaluate
from rapport.usecases.feedback import FeedbackReply, FeedbackRequest, Outcome, answer_feedback
from rapport.usecases.ports import Stores
from tests.factories import ME, ME_ID, T0, added, evidence, post, target
from tests.fakes import FakeX, Mailbox, Memory, memory_stores

KEY = b"feedback-key-" * 4
BASE = "https://abc.lambda-url.eu-west-1.on.aws"
DIGEST_HOUR = datetime(2026, 3, 3, 7, 5, tzinfo=T0.tzinfo)  # the digest's 07:00 UTC, the day after T0
CLICK = DIGEST_HOUR + timedelta(minutes=30)


def admin(stores: Stores, **command: str) -> dict[str, Any]:
    return run_command(parse_command(command), stores, lambda: pytest.fail("no X read"), CLICK)


def outbox(mailbox: Mailbox) -> Outbox:
    return Outbox(mailbox.send_raw, "rapport@example.com", "ana@example.com", FeedbackLinks(BASE, KEY))


def given_a_target_with_a_useful_post(memory: Memory | None = None) -> Stores:
    stores = memory_stores(memory)
    stores.settings.put_policy(Policy(timezone="UTC", digest_hour=7))
    stores.settings.put_me(ME_ID, ME)
    stores.targets.put_target(target())
    stores.evidence.add_interaction(added())
    useful = post(when=T0 + timedelta(hours=20), post_id="1001")
    stores.evidence.add_interaction(
        evidence(InteractionKind.TARGET_POST, useful.created_at, ev_id="1001", the_post=useful)
    )
    evaluate(stores, ["200"], T0 + timedelta(hours=21))
    return stores


def sent_digest(stores: Stores, mailbox: Mailbox | None = None, at: datetime = DIGEST_HOUR) -> DigestReport:
    report = send_digest(stores, outbox(mailbox or Mailbox()), at)
    assert report.sent, report.reason
    return report


def click(
    stores: Stores, url: str, now: datetime = CLICK, method: str = "POST", per_minute: int = 30
) -> FeedbackReply:
    parts = urlsplit(url)
    request = FeedbackRequest(method, parts.path.rsplit("/", 1)[-1], parse_qs(parts.query)["t"][0])
    return answer_feedback(stores, KEY, request, now, per_minute=per_minute)


def links_of(report: DigestReport) -> dict[str, str]:
    (links,) = report.feedback.values()
    return dict(links)


def test_a_get_shows_a_confirmation_and_changes_nothing():
    # Given a digest with a retweet and its answer links (what a mail scanner would open)
    memory = Memory()
    stores = given_a_target_with_a_useful_post(memory)
    report = sent_digest(stores)
    before = copy.deepcopy(memory)

    # When every link is opened with GET
    replies = [
        click(stores, url, method="GET") for url in [*links_of(report).values(), report.unsubscribe or ""]
    ]

    # Then each shows what its button would do, and nothing at all was written
    assert [r.outcome for r in replies] == [Outcome.CONFIRM] * 7
    assert all(r.button for r in replies)
    assert replies[5].title == "Drop @person_x?"
    assert memory == before


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda url: url.replace("/skip?", "/drop?"), id="swapped action"),
        pytest.param(lambda url: url[:-3] + ("xyz" if not url.endswith("xyz") else "abc"), id="tampered"),
    ],
)
def test_a_bad_link_gets_403_and_writes_nothing(spoil):
    memory = Memory()
    stores = given_a_target_with_a_useful_post(memory)
    skip = links_of(sent_digest(stores))["skip"]
    before = copy.deepcopy(memory)

    reply = click(stores, spoil(skip))

    assert (reply.outcome, reply.status) == (Outcome.REFUSED, 403)
    assert memory == before


def test_an_expired_link_gets_403_and_writes_nothing():
    memory = Memory()
    stores = given_a_target_with_a_useful_post(memory)
    drop = links_of(sent_digest(stores))["drop"]
    before = copy.deepcopy(memory)

    reply = click(stores, drop, now=DIGEST_HOUR + timedelta(days=14, seconds=1))

    assert reply.status == 403
    assert memory == before
    assert stores.targets.get_target("200").stage is Stage.RETWEET


def test_a_skipped_suggestion_does_not_come_back_in_the_real_digest():
    # Given the test digest (which leaves the suggestion pending), and the user skipping its retweet
    stores = given_a_target_with_a_useful_post()
    test = send_test_digest(stores, outbox(Mailbox()), DIGEST_HOUR - timedelta(hours=1))
    reply = click(stores, links_of(test)["skip"], now=DIGEST_HOUR - timedelta(minutes=30))
    assert (reply.outcome, reply.title) == (Outcome.DONE, "Skipped")

    # When the day's digest is sent, and the target is evaluated again
    report = send_digest(stores, outbox(Mailbox()), DIGEST_HOUR)
    evaluate(stores, ["200"], DIGEST_HOUR)

    # Then the retweet is not in it and is never suggested again
    assert report.suggestions == ()
    assert stores.suggestions.pending_suggestions(until=DIGEST_HOUR + timedelta(days=1)) == []


def test_a_snoozed_target_gets_nothing_until_the_date_and_the_overview_says_so():
    stores = given_a_target_with_a_useful_post()
    reply = click(stores, links_of(sent_digest(stores))["snooze-2w"])
    until = CLICK + timedelta(weeks=2)
    assert reply.message == f"No suggestions for @person_x until {until.date().isoformat()}."

    # When they post something useful during the snooze
    fresh = post(when=CLICK + timedelta(days=1), post_id="2002")
    stores.evidence.add_interaction(
        evidence(InteractionKind.TARGET_POST, fresh.created_at, ev_id="2002", the_post=fresh)
    )
    evaluate(stores, ["200"], CLICK + timedelta(days=1, hours=1))

    # Then nothing is suggested, and the next digest's overview shows the snooze
    view = preview_digest(stores, DIGEST_HOUR + timedelta(days=2))
    assert view.suggestions == ()
    (status,) = view.targets
    assert status.snoozed_until == until
    assert stores.suggestions.pending_suggestions(until=CLICK + timedelta(days=2)) == []

    # And once the date has passed, a new useful post is suggested again
    later = post(when=until + timedelta(hours=1), post_id="3003")
    stores.evidence.add_interaction(
        evidence(InteractionKind.TARGET_POST, later.created_at, ev_id="3003", the_post=later)
    )
    evaluate(stores, ["200"], until + timedelta(hours=2))
    assert [s.post_id for s in stores.suggestions.pending_suggestions(until=until + timedelta(hours=2))] == [
        "3003"
    ]


def test_a_dropped_target_leaves_the_method_until_resumed():
    stores = given_a_target_with_a_useful_post()

    click(stores, links_of(sent_digest(stores))["drop"])

    assert stores.targets.get_target("200").stage is Stage.PAUSED
    shown = admin(stores, action="show_target", username="person_x")
    assert shown["transitions"][-1]["reason"] == "dropped by you"
    assert [a["answer"] for a in shown["feedback"]] == ["dropped"]

    # When the user resumes them
    resumed = admin(stores, action="resume_target", username="person_x")

    # Then they are back where the evidence puts them
    assert resumed["target"]["stage"] == "retweet"


def test_done_counts_as_contact_for_spacing_and_losing_touch():
    stores = given_a_target_with_a_useful_post()
    click(stores, links_of(sent_digest(stores))["done"])

    listed = admin(stores, action="list_targets")

    (person,) = listed["targets"]
    assert person["last_contact"] == CLICK.isoformat()


def test_the_same_link_twice_acts_once_and_answers_the_same():
    stores = given_a_target_with_a_useful_post()
    snooze = links_of(sent_digest(stores))["snooze-1w"]

    first = click(stores, snooze)
    second = click(stores, snooze, now=CLICK + timedelta(days=3))

    assert (first.title, first.message) == (second.title, second.message)
    assert (first.repeated, second.repeated) == (False, True)
    answers = [i for i in stores.evidence.interactions("200") if i.kind is InteractionKind.SNOOZED]
    assert len(answers) == 1 and answers[0].until == CLICK + timedelta(weeks=1)


def test_past_the_limit_a_minute_nothing_is_read_or_written():
    memory = Memory()
    stores = given_a_target_with_a_useful_post(memory)
    links = links_of(sent_digest(stores))
    assert click(stores, links["done"], per_minute=1).outcome is Outcome.DONE
    before = copy.deepcopy(memory)

    reply = click(stores, links["drop"], per_minute=1)

    assert (reply.outcome, reply.status) == (Outcome.BUSY, 429)
    assert memory.targets == before.targets
    # And the next minute lets answers in again
    assert (
        click(stores, links["drop"], now=CLICK + timedelta(minutes=1), per_minute=1).outcome is Outcome.DONE
    )


def test_pausing_stops_the_digest_until_resumed():
    stores = given_a_target_with_a_useful_post()
    report = sent_digest(stores)
    assert report.unsubscribe is not None

    # When the user pauses (the footer link, or the mail client's one-click unsubscribe)
    reply = click(stores, report.unsubscribe)
    mailbox = Mailbox()
    tomorrow = send_digest(stores, outbox(mailbox), DIGEST_HOUR + timedelta(days=1))

    assert reply.title == "The digest is paused"
    assert (tomorrow.sent, mailbox.sent) == (False, [])
    assert "paused" in tomorrow.reason


def test_a_link_for_a_removed_target_answers_gone_and_writes_nothing():
    memory = Memory()
    stores = given_a_target_with_a_useful_post(memory)
    done = links_of(sent_digest(stores))["done"]
    stores.targets.remove_target("200")
    before = copy.deepcopy(memory)

    reply = click(stores, done)

    assert (reply.outcome, reply.status) == (Outcome.GONE, 404)
    assert memory.targets == before.targets


def test_done_from_a_digest_lets_the_target_rest_as_if_we_had_written_to_them():
    # Given two retweets waiting for person_x (two useful posts, evaluated a few hours apart)
    stores = given_a_target_with_a_useful_post()
    second = post(when=T0 + timedelta(hours=22), post_id="1002")
    stores.evidence.add_interaction(
        evidence(InteractionKind.TARGET_POST, second.created_at, ev_id="1002", the_post=second)
    )
    evaluate(stores, ["200"], T0 + timedelta(hours=23))
    assert len(stores.suggestions.pending_suggestions(until=DIGEST_HOUR)) == 2

    # When the user says "I did it" to the first from the test digest, before the digest hour
    test = send_test_digest(stores, outbox(Mailbox()), DIGEST_HOUR - timedelta(hours=1))
    click(stores, links_of(test)["done"], now=DIGEST_HOUR - timedelta(minutes=30))

    # Then the day's digest lets person_x rest: the other retweet waits for another day
    report = send_digest(stores, outbox(Mailbox()), DIGEST_HOUR)
    assert report.suggestions == ()
    assert len(stores.suggestions.pending_suggestions(until=DIGEST_HOUR)) == 1


def test_a_snoozed_target_s_posts_are_not_read_until_the_snooze_ends():
    # Given a target snoozed for two weeks from the digest, who keeps posting
    stores = given_a_target_with_a_useful_post()
    click(stores, links_of(sent_digest(stores))["snooze-2w"])
    until = CLICK + timedelta(weeks=2)
    x = FakeX(XUser(ME_ID, ME, "Ana"), users={"200": XUser("200", "person_x", "")})
    x.posts += [post(when=CLICK + timedelta(days=d), post_id=str(4000 + d)) for d in (1, 13)]
    # When collect runs during the snooze
    collect(stores, x, CLICK + timedelta(days=2))
    # Then their posts are not read (no request, nothing paid): the one timeline read is our own
    assert x.calls.count("users/:id/tweets") == 1
    assert x.usage.posts == 0
    # And once it ends they are read again, back as far as a post can still be suggested
    collect(stores, x, until + timedelta(hours=1))
    stored = {i.id for i in stores.evidence.interactions("200") if i.kind is InteractionKind.TARGET_POST}
    assert stored == {"1001", "4013"}
