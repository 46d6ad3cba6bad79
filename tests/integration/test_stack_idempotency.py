"""Duplicate deliveries, as Lambda and EventBridge make them, against the moto server and the X simulator.

Scheduler and Lambda deliver at least once: the very same payload can arrive twice. The handlers then
answer from the Powertools Idempotency record kept in the stack's table instead of running again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rapport.runtime.services import IDEMPOTENCY_PK
from rapport_local.aws import LocalAws
from rapport_local.stack import LocalStack
from tests.integration.thanks_world import schedule, stack_after_the_thanks

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(aws: LocalAws, table_name: str) -> Iterator[LocalStack]:
    with stack_after_the_thanks(aws, table_name) as local:
        yield local


def idempotency_records(aws: LocalAws, table_name: str) -> list[dict[str, Any]]:
    got = aws.client("dynamodb").query(
        TableName=table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": IDEMPOTENCY_PK}},
    )
    items: list[dict[str, Any]] = got["Items"]
    return items


def test_a_duplicate_scheduled_collect_answers_from_the_first_run_without_reading_x(stack, aws, table_name):
    sim = stack.xsim
    # Given one collect for the 12:00 window has run
    first = stack.collect(schedule(4))
    read_after_first = sim.usage()["requests"]
    events_after_first = aws.collected_events()
    assert first["stored"] > 0
    assert len(events_after_first) == 1

    # When the scheduler delivers the same window again
    again = stack.collect(schedule(4))

    # Then it gets the first run's report, X is not read again and evaluate is not woken twice
    assert again == first
    assert sim.usage()["requests"] == read_after_first
    assert aws.collected_events() == []

    # And the record expires through the table's TTL attribute, a day later
    (record,) = idempotency_records(aws, table_name)
    assert record["status"]["S"] == "COMPLETED"
    expires = datetime.fromtimestamp(int(record["expires_at"]["N"]), tz=UTC)
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(days=1)


def test_the_next_window_is_a_new_run(stack):
    stack.collect(schedule(4))
    requests = stack.xsim.usage()["requests"]

    stack.collect(schedule(5))

    assert stack.xsim.usage()["requests"] > requests


def test_a_run_that_failed_leaves_no_record_so_the_retry_runs(stack, aws, table_name):
    # Given a delivery whose run raises (an unreadable time)
    broken = {"source": "rapport.schedule", "schedule": "collect", "time": "not a time"}
    with pytest.raises(ValueError, match="not an ISO 8601"):
        stack.invoke("collect", broken)

    # Then nothing is remembered for that payload, so Lambda's retry runs it again and fails again
    assert idempotency_records(aws, table_name) == []
    with pytest.raises(ValueError, match="not an ISO 8601"):
        stack.invoke("collect", broken)


def test_a_redelivered_eventbridge_event_is_evaluated_once(stack, aws):
    stack.collect(schedule(4))
    (envelope,) = aws.collected_events()

    first = stack.invoke("evaluate", envelope)
    again = stack.invoke("evaluate", envelope)

    assert [t["to"] for t in first["transitions"]] == ["answer"]
    assert again == first


def test_a_duplicate_digest_tick_sends_nothing_more(stack, aws):
    stack.collect(schedule(4))
    stack.evaluate_collected()
    sent_before = len(aws.sent_emails())

    first = stack.digest(schedule(23))
    again = stack.digest(schedule(23))

    assert first["sent"]
    assert (again["sent"], again["reason"]) == (False, "already sent today")
    assert len(aws.sent_emails()) == sent_before + 1
