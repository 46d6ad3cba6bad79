"""Crashing the real handlers on the local stack, and resuming as Lambda and EventBridge do.

A seeded sample of the crash-point sweep (`make crash-sweep` runs the full one), and the crashes
the sweep found, each on its own: a killed run's idempotency record left in progress, a retried
collect that finds its evidence already stored, a killed digest whose retries never come (after its
claim, and after its one "sent" write), and a first digest made up with the next morning's
suggestions (moved, not lost).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pynamodb.exceptions import PutError

from rapport.runtime.services import IDEMPOTENCY_PK
from rapport_local.aws import LocalAws, provision
from rapport_local.crash_sweep import (
    CrashPoint,
    Injector,
    Killed,
    Run,
    choose_points,
    compare,
    play,
)
from rapport_local.demo import default_scenario
from rapport_local.scenario import load_scenario
from rapport_local.stack import LocalStack, intercepting
from tests.integration.crash_world import HOURS, crash_world
from tests.integration.thanks_world import schedule, stack_after_the_thanks

pytestmark = pytest.mark.integration

SEED = 11
SAMPLE = 3


@pytest.fixture(scope="module")
def sweep_aws(aws_server: LocalAws) -> LocalAws:
    # moto's state is per process: a test using in-process moto (the bench) may have reset it.
    return aws_server if aws_server.provisioned() else provision(aws_server.endpoint)


@pytest.fixture(scope="module")
def clean(sweep_aws: LocalAws) -> Run:
    return play(sweep_aws, crash_world(), hours=HOURS)


@pytest.fixture
def stack(aws: LocalAws, table_name: str) -> Iterator[LocalStack]:
    with stack_after_the_thanks(aws, table_name) as local:
        yield local


def test_a_seeded_sample_of_crash_points_loses_and_repeats_nothing(sweep_aws, clean):
    # Given the clean run's writes, and a few crash points chosen from them with a fixed seed
    points = choose_points(clean.writes, SAMPLE, SEED)
    assert {p.write.function for p in points if p.write} == {"collect", "evaluate", "digest"}
    # When the run is played again, crashing at each and resuming as Lambda would
    verdicts = [compare(clean.outcome, play(sweep_aws, crash_world(), p, HOURS), p) for p in points]
    # Then nothing is lost, repeated or late by more than an hour
    assert [(str(v.point), v.lost, v.extra, v.duplicated, v.late_hours) for v in verdicts if not v.ok] == []
    assert clean.outcome.digests == {"2026-03-02": 1}


def test_a_digest_killed_after_its_claim_and_never_retried_is_sent_the_next_hour(sweep_aws, clean):
    # Given the digest dies right after claiming the day, and Lambda's retries never succeed
    point = CrashPoint("kill-dropped", function="digest", operation="PutItem", key_prefix="DIGEST/")
    crashed = play(sweep_aws, crash_world(), point, HOURS)
    # Then the next hourly run takes the claim over: the day's email goes, once
    assert crashed.dropped == ["digest 2026-03-02T12:00:00Z"]
    assert crashed.outcome.digests == {"2026-03-02": 1}
    assert compare(clean.outcome, crashed, point).ok


# The shipped scenario from 03-02 08:00 UTC to the hour after the 03-03 digest at 07:00 (which would
# take over a claim left "sending").
FIRST_MORNINGS = 25


@pytest.fixture(scope="module")
def first_mornings(sweep_aws: LocalAws) -> Run:
    """The shipped scenario's first mornings, played cleanly: 03-02 has nothing to send, 03-03's
    digest carries two retweets."""
    return play(sweep_aws, load_scenario(default_scenario()), hours=FIRST_MORNINGS)


def test_a_day_made_up_after_collect_found_news_is_a_digest_on_another_day_not_a_loss(
    sweep_aws, first_mornings
):
    # Given the shipped scenario: the 03-02 digest hour has nothing to send, 03-03's carries two retweets
    clean = first_mornings
    suggestions = clean.outcome.carried["2026-03-03"]
    assert (list(clean.outcome.carried), len(suggestions)) == (["2026-03-03"], 2)
    # When the first digest dies right after taking its lease and its event is dropped
    point = CrashPoint("kill-dropped", function="digest", operation="PutItem", key_prefix="LEASE/digest")
    crashed = play(sweep_aws, load_scenario(default_scenario()), point, FIRST_MORNINGS)
    # Then the next hour makes 03-02 up with the two retweets, and 03-03 has nothing new to send
    assert crashed.outcome.carried == {"2026-03-02": suggestions}
    verdict = compare(clean.outcome, crashed, point)
    assert (verdict.outcome, verdict.lost, verdict.extra) == ("digest on another day", (), ())
    assert verdict.moved == ("digest 2026-03-02 sent", "digest 2026-03-03 not sent")


def test_a_digest_killed_right_after_its_one_sent_write_and_never_retried_sends_nothing_again(
    sweep_aws, first_mornings
):
    # Given the 03-03 digest dies right after SES accepted it and the one transaction marked the day
    # and its two retweets sent, and Lambda's retries never succeed
    point = CrashPoint(
        "kill-dropped", function="digest", operation="TransactWriteItems", key_prefix="DIGEST/2026-03-03"
    )
    crashed = play(sweep_aws, load_scenario(default_scenario()), point, FIRST_MORNINGS)
    assert (crashed.dropped, crashed.killed_after_send) == (["digest 2026-03-03T07:00:00Z"], True)
    # Then the next hour finds the day sent: the email went once, carrying what the clean run's did
    assert crashed.outcome.digests == {"2026-03-03": 1}
    assert crashed.outcome.carried == first_mornings.outcome.carried
    assert compare(first_mornings.outcome, crashed, point).outcome == "same"


def idempotency_statuses(aws: LocalAws, table_name: str) -> list[str]:
    got = aws.client("dynamodb").query(
        TableName=table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": IDEMPOTENCY_PK}},
    )
    return [item["status"]["S"] for item in got["Items"]]


def test_a_killed_collect_is_resumed_by_its_retry_not_refused(stack, aws, table_name):
    # Given collect is killed right after storing its run record, its idempotency record in progress
    injector = Injector(CrashPoint("kill", function="collect", operation="PutItem", key_prefix="RUN/"))
    event = stack.events.scheduled("collect", schedule(4))
    with intercepting(injector):
        injector.begin("collect")
        with pytest.raises(Killed):
            stack.invoke("collect", event, request_id="request-1")
        injector.end()  # the dead process is gone; the test looks at the table
        assert idempotency_statuses(aws, table_name) == ["INPROGRESS"]
        # When Lambda retries the same event (the same request id), in a new process
        injector.begin("collect")
        retried = stack.invoke("collect", event, request_id="request-1")
    # Then the retry runs to the end, and the thanks it had stored is evaluated
    assert "skipped" not in retried
    assert idempotency_statuses(aws, table_name) == ["COMPLETED"]
    (evaluation,) = stack.evaluate_collected()
    assert [(t["target"], t["to"]) for t in evaluation["transitions"]] == [("person_x", "answer")]


def test_a_collect_retried_after_storing_its_evidence_still_has_it_evaluated(stack):
    # Given collect stores the thanks and then fails to store its run record, once
    injector = Injector(
        CrashPoint("raise-before", function="collect", operation="PutItem", key_prefix="RUN/")
    )
    event = stack.events.scheduled("collect", schedule(4))
    with intercepting(injector):
        injector.begin("collect")
        with pytest.raises(PutError):
            stack.invoke("collect", event, request_id="request-1")
        # When Lambda retries it: the thanks is already stored, so the retry finds nothing new
        injector.begin("collect")
        retried = stack.invoke("collect", event, request_id="request-1")
    assert retried["targets_with_news"] == []
    # Then evaluate still moves person_x to step 2 this hour
    evaluations = stack.evaluate_collected()
    assert [(t["target"], t["to"]) for e in evaluations for t in e["transitions"]] == [("person_x", "answer")]
