"""Duplicate deliveries, as Lambda and EventBridge make them, against the moto server and the X simulator.

Scheduler and Lambda deliver at least once: the very same payload can arrive twice. The handlers then
answer from the Powertools Idempotency record kept in the stack's table instead of running again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.admin import handler as admin
from functions.collect import handler as collect
from functions.digest import handler as digest
from functions.evaluate import handler as evaluate
from rapport.runtime.services import IDEMPOTENCY_PK, Services
from rapport.runtime.settings import StackSettings
from rapport.usecases.ports import Stores
from rapport_local.aws import LocalAws
from rapport_local.demo import LambdaContext
from rapport_local.scenario import parse_scenario
from rapport_local.xsim import XSimServer

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def at(hours: float) -> str:
    return (START + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


WORLD = {
    "start": START.isoformat(),
    "days": 2,
    "me": {"id": "100", "username": "ana_builds", "name": "Ana"},
    "users": [{"id": "200", "username": "person_x", "name": "Person X"}],
    "targets": ["person_x"],
    "settings": {"timezone": "UTC", "digest_hour": 7},
    "events": [
        {
            "at": at(1),
            "post": {"id": "1001", "by": "person_x", "text": "Cold starts, halved https://e.com/a"},
        },
        {"at": at(2), "retweet": {"id": "5001", "by": "ana_builds", "post": "1001"}},
        {"at": at(3), "post": {"id": "1002", "by": "person_x", "text": "@ana_builds thanks for sharing!"}},
    ],
}


def schedule_payload(hours: float, schedule: str) -> dict[str, Any]:
    """Exactly what template.yaml's schedules send: no id, the scheduled time only."""
    return {"source": "rapport.schedule", "schedule": schedule, "time": at(hours)}


@pytest.fixture
def deps(aws: LocalAws, table_name: str, stores: Stores) -> Iterator[tuple[Services, XSimServer]]:
    scenario = parse_scenario(WORLD)
    with XSimServer(scenario) as sim:
        sim.set_now(START + timedelta(hours=4))
        env = aws.lambda_env(sim.url) | {"RAPPORT_TABLE_NAME": table_name}
        services = Services(StackSettings.from_env(env), stores)
        aws.collected_events()  # nothing left over from another test
        for command in (
            {"action": "update_settings", "settings": WORLD["settings"]},
            {"action": "add_target", "username": "person_x"},
        ):
            done = admin.lambda_handler(
                command | {"at": START.isoformat()}, LambdaContext("admin"), deps=services
            )
            assert done["ok"], done
        yield services, sim


def idempotency_records(aws: LocalAws, table_name: str) -> list[dict[str, Any]]:
    got = aws.client("dynamodb").query(
        TableName=table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": IDEMPOTENCY_PK}},
    )
    items: list[dict[str, Any]] = got["Items"]
    return items


def test_a_duplicate_scheduled_collect_answers_from_the_first_run_without_reading_x(deps, aws, table_name):
    services, sim = deps
    # Given one collect for the 12:00 window has run
    first = collect.lambda_handler(schedule_payload(4, "collect"), LambdaContext("collect"), deps=services)
    read_after_first = sim.usage()["requests"]
    events_after_first = aws.collected_events()
    assert first["stored"] > 0
    assert len(events_after_first) == 1

    # When the scheduler delivers the same window again
    again = collect.lambda_handler(schedule_payload(4, "collect"), LambdaContext("collect"), deps=services)

    # Then it gets the first run's report, X is not read again and evaluate is not woken twice
    assert again == first
    assert sim.usage()["requests"] == read_after_first
    assert aws.collected_events() == []

    # And the record expires through the table's TTL attribute, a day later
    (record,) = idempotency_records(aws, table_name)
    assert record["status"]["S"] == "COMPLETED"
    expires = datetime.fromtimestamp(int(record["expires_at"]["N"]), tz=UTC)
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(days=1)


def test_the_next_window_is_a_new_run(deps):
    services, sim = deps
    collect.lambda_handler(schedule_payload(4, "collect"), LambdaContext("collect"), deps=services)
    requests = sim.usage()["requests"]

    collect.lambda_handler(schedule_payload(5, "collect"), LambdaContext("collect"), deps=services)

    assert sim.usage()["requests"] > requests


def test_a_run_that_failed_leaves_no_record_so_the_retry_runs(deps, aws, table_name):
    services, _ = deps
    # Given a delivery whose run raises (an unreadable time)
    broken = {"source": "rapport.schedule", "schedule": "collect", "time": "not a time"}
    with pytest.raises(ValueError, match="not an ISO 8601"):
        collect.lambda_handler(broken, LambdaContext("collect"), deps=services)

    # Then nothing is remembered for that payload, so Lambda's retry runs it again and fails again
    assert idempotency_records(aws, table_name) == []
    with pytest.raises(ValueError, match="not an ISO 8601"):
        collect.lambda_handler(broken, LambdaContext("collect"), deps=services)


def test_a_redelivered_eventbridge_event_is_evaluated_once(deps, aws):
    services, _ = deps
    collect.lambda_handler(schedule_payload(4, "collect"), LambdaContext("collect"), deps=services)
    (envelope,) = aws.collected_events()

    first = evaluate.lambda_handler(envelope, LambdaContext("evaluate"), deps=services)
    again = evaluate.lambda_handler(envelope, LambdaContext("evaluate"), deps=services)

    assert [t["to"] for t in first["transitions"]] == ["answer"]
    assert again == first


def test_a_duplicate_digest_tick_sends_nothing_more(deps, aws):
    services, _ = deps
    collect.lambda_handler(schedule_payload(4, "collect"), LambdaContext("collect"), deps=services)
    for envelope in aws.collected_events():
        evaluate.lambda_handler(envelope, LambdaContext("evaluate"), deps=services)
    sent_before = len(aws.sent_emails())

    first = digest.lambda_handler(schedule_payload(23, "digest"), LambdaContext("digest"), deps=services)
    again = digest.lambda_handler(schedule_payload(23, "digest"), LambdaContext("digest"), deps=services)

    assert first["sent"]
    assert again == first
    assert len(aws.sent_emails()) == sent_before + 1
