"""Overlapping runs of one function on the local stack: the lease on the table lets only one work.

Lambda may start a run of collect, evaluate or digest while another is still going (a late retry,
the next tick). The second finds the lease held: collect reads nothing (the next run reads the same
window), evaluate and digest fail so that Lambda's retry delivers them again once the first is done.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rapport.runtime.services import IDEMPOTENCY_PK, RunInProgressError, Services
from rapport.runtime.settings import RunsAloneSettings
from rapport_local.aws import LocalAws
from rapport_local.stack import LocalStack
from tests.integration.thanks_world import schedule, stack_after_the_thanks

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(aws: LocalAws, table_name: str) -> Iterator[LocalStack]:
    with stack_after_the_thanks(aws, table_name) as local:
        yield local


def records(aws: LocalAws, table_name: str) -> list[dict[str, Any]]:
    """What the runs wrote: every item but the idempotency records and the leases themselves."""
    items = aws.client("dynamodb").scan(TableName=table_name)["Items"]
    return sorted(
        (i for i in items if i["pk"]["S"] not in (IDEMPOTENCY_PK, "LEASE")),
        key=lambda i: (i["pk"]["S"], i["sk"]["S"]),
    )


def another_run_holds(stack: LocalStack, function: str) -> None:
    """A run of ``function`` in progress elsewhere (or one killed before it could release)."""
    ttl = stack.deps.settings_of(RunsAloneSettings).lease_ttl
    assert stack.deps.stores.leases.acquire(function, "another-invocation", datetime.now(UTC), ttl)


def test_a_collect_started_while_another_runs_reads_nothing_and_the_next_one_works(
    stack, aws, table_name, monkeypatch: pytest.MonkeyPatch
):
    # Given a collect run that, while it still holds the lease, sees the next tick's run start
    second: dict[str, Any] = {}
    publish = Services.publish_collected

    def publish_then_overlap(deps: Services, at: datetime, target_ids: list[str]) -> None:
        publish(deps, at, target_ids)
        before = (stack.xsim.usage()["requests"], records(aws, table_name))
        second["result"] = stack.collect(schedule(5))
        second["changed"] = (stack.xsim.usage()["requests"], records(aws, table_name)) != before

    monkeypatch.setattr(Services, "publish_collected", publish_then_overlap)
    first = stack.collect(schedule(4))
    monkeypatch.undo()

    # Then the first run stored the posts, and the second read no X and wrote nothing
    assert first["stored"] > 0
    assert second["result"] == {"skipped": "another collect run is in progress"}
    assert second["changed"] is False
    # And only the first woke evaluate
    assert len(aws.collected_events()) == 1

    # When the next hour's run starts after the first ended
    requests = stack.xsim.usage()["requests"]
    after = stack.collect(schedule(6))

    # Then it works: it reads X again from the cursors
    assert "skipped" not in after
    assert stack.xsim.usage()["requests"] > requests


def test_an_evaluate_that_finds_another_running_fails_for_a_retry_that_then_works(stack, aws, table_name):
    # Given collect's news, and another evaluate run holding the lease
    stack.collect(schedule(4))
    (envelope,) = aws.collected_events()
    another_run_holds(stack, "evaluate")
    before = records(aws, table_name)

    # When the event is delivered, Then the run fails saying why, having written nothing
    with pytest.raises(RunInProgressError, match="another evaluate run is in progress"):
        stack.invoke("evaluate", envelope)
    assert records(aws, table_name) == before

    # When the other run has ended and Lambda retries the same event (the failure left no record)
    stack.deps.stores.leases.release("evaluate", "another-invocation")
    retried = stack.invoke("evaluate", envelope)

    # Then the news is evaluated after all
    assert [t["to"] for t in retried["transitions"]] == ["answer"]


def test_a_crashed_digest_run_delays_the_digest_by_its_ttl_and_loses_nothing(stack, aws):
    stack.collect(schedule(4))
    stack.evaluate_collected()
    sent_before = len(aws.sent_emails())
    # Given a digest run killed at its timeout, which never released its lease
    another_run_holds(stack, "digest")

    # When the digest hour's tick comes, Then it sends nothing and fails, for Lambda to retry
    with pytest.raises(RunInProgressError, match="another digest run is in progress"):
        stack.digest(schedule(23))
    assert len(aws.sent_emails()) == sent_before

    # When Lambda retries the tick just before the lease's ttl has passed, Then it is still held
    ttl = stack.deps.settings_of(RunsAloneSettings).lease_ttl
    assert ttl == timedelta(seconds=300)  # the functions' Timeout in template.yaml
    stack.deps.clock = lambda: datetime.now(UTC) + ttl - timedelta(seconds=5)
    with pytest.raises(RunInProgressError):
        stack.digest(schedule(23))

    # When it retries once the ttl has passed
    stack.deps.clock = lambda: datetime.now(UTC) + ttl + timedelta(seconds=1)
    retried = stack.digest(schedule(23))

    # Then the day's digest goes out, once
    assert retried["sent"]
    assert len(aws.sent_emails()) == sent_before + 1
