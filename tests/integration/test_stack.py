"""The local stack itself: it counts every AWS call a handler makes, and lets callers act between hours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from rapport_local.aws import LocalAws
from rapport_local.calls import format_calls, measure_calls
from rapport_local.scenario import parse_scenario
from rapport_local.stack import LocalStack, Tick
from rapport_local.xsim import XSimServer
from tests.integration.worlds import one_post_world, stack_on

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
WORLD = one_post_world(START, "Cold starts, halved https://e.com/a")


@pytest.fixture
def stack(aws: LocalAws, table_name: str) -> Iterator[LocalStack]:
    with stack_on(aws, table_name, parse_scenario(WORLD), at=START) as local:
        yield local


def test_each_run_counts_its_own_calls_from_pynamodb_and_from_boto3(stack):
    # When an hour runs: collect stores the post and announces it, evaluate replays the target
    stack.tick(START + timedelta(hours=2))
    (collect,) = stack.by_function("collect")[-1:]
    (evaluate,) = stack.by_function("evaluate")
    # Then collect's count holds the repository's queries (PynamoDB's own botocore session),
    # the event it put on the bus and the idempotency record (boto3 clients)
    assert collect.aws_calls["dynamodb:Query"] > 0
    assert collect.aws_calls["events:PutEvents"] == 1
    assert collect.aws_calls["dynamodb:PutItem"] > 0
    # And the queue the stack drains is not charged to any handler
    assert not any(op.startswith("sqs:") for run in stack.invocations for op in run.aws_calls)
    assert evaluate.calls_to("dynamodb") > 0
    assert evaluate.calls_to("dynamodb") == sum(evaluate.aws_calls.values())


def test_hooks_run_around_each_hour_in_order(stack):
    seen: list[str] = []
    stack.before_tick.append(lambda at: seen.append(f"before {at:%H}"))
    stack.after_tick.append(lambda tick: seen.append(f"after {tick.at:%H} digest sent={tick.sent}"))

    ticks = stack.run(START, hours=3)

    assert seen == [
        "before 05",
        "after 05 digest sent=False",
        "before 06",
        "after 06 digest sent=False",
        "before 07",
        "after 07 digest sent=True",
    ]
    assert len(ticks) == 3
    assert all(isinstance(t, Tick) for t in ticks)


def test_a_fault_injected_before_an_hour_defers_that_hours_reads(stack):
    stack.before_tick.append(lambda _at: stack.xsim.inject_fault("/2/users/:id/tweets", 429, count=2))

    (tick,) = stack.run(START + timedelta(hours=1), hours=1)

    assert tick.collect["deferred"]


def test_rapport_calls_reports_each_handlers_dynamodb_calls_per_run():
    # When a small seeded world is played for two hours
    result = measure_calls(targets=3, hours=2, seed=7, echo=lambda _line: None)
    # Then each handler ran every hour, and its figures are the calls its runs made
    for name in ("collect", "evaluate", "digest"):
        figures = result["dynamodb"][name]
        assert figures["runs"] == 2
        assert 0 < figures["mean"] <= figures["max"]
    # And the first collect, which reads each new target's history, made the most
    assert result["dynamodb"]["collect"]["first"] == result["dynamodb"]["collect"]["max"]
    assert (
        sum(result["dynamodb_by_operation"]["collect"].values()) == 2 * result["dynamodb"]["collect"]["mean"]
    )
    lines = format_calls([result])
    assert any(line.startswith("| 3 | 2 | evaluate | 2 |") for line in lines)


def test_a_stack_told_to_keep_a_few_invocations_remembers_only_the_latest(aws: LocalAws, table_name: str):
    # Given a stack that keeps its last three invocations, as `rapport local` keeps its last hundred
    with XSimServer(parse_scenario(WORLD)) as sim:
        local = LocalStack(aws, sim, table=table_name, keep=3)
        local.setup(parse_scenario(WORLD), at=START)

        # When two hours run (collect, evaluate on its news, the digest tick: more than three)
        local.run(START, hours=2)

    # Then only the latest three are held, the last hour's digest tick last
    assert len(local.invocations) == 3
    assert local.invocations[-1].function == "digest"
