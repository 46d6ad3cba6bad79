"""One run at a time: Services.alone on the in-memory stores, with a clock the test moves."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from rapport.runtime.services import RunInProgressError, Services
from rapport.runtime.settings import EvaluateSettings
from tests.factories import added, at, target
from tests.fakes import memory_stores

ENV = {"RAPPORT_TABLE_NAME": "rapport-test", "RAPPORT_TIMEOUT_SECONDS": "300"}


def invocation(request_id: str) -> Any:
    return SimpleNamespace(aws_request_id=request_id)


def work_named(name: str, worked: list[str]) -> Any:
    def work() -> dict[str, Any]:
        worked.append(name)
        return {}

    return work


def services_at(now: list[Any]) -> Services:
    return Services(EvaluateSettings.from_env(ENV), memory_stores(), clock=lambda: now[0])


def test_a_run_started_during_another_does_no_work_and_the_one_after_does():
    now = [at(0)]
    deps = services_at(now)
    worked: list[str] = []
    overlapping: dict[str, Any] = {}

    def first() -> dict[str, Any]:
        worked.append("first")
        # While the first holds the lease, a second invocation starts
        with pytest.raises(RunInProgressError, match="another evaluate run is in progress") as held:
            deps.alone("evaluate", invocation("request-2"), work_named("second", worked))
        overlapping["error"] = held.value
        overlapping["skipped"] = deps.alone(
            "evaluate",
            invocation("request-3"),
            work_named("third", worked),
            lambda: {"skipped": True},
        )
        return {"ok": True}

    # When the first run works
    assert deps.alone("evaluate", invocation("request-1"), first) == {"ok": True}

    # Then neither overlapping run worked: one failed, one took its answer for a held lease
    assert worked == ["first"]
    assert overlapping["skipped"] == {"skipped": True}
    assert isinstance(overlapping["error"], RunInProgressError)
    # And once the first has ended, the next run works
    assert deps.alone("evaluate", invocation("request-2"), lambda: {"ran": True}) == {"ran": True}


def test_a_run_that_raises_gives_the_lease_back():
    deps = services_at([at(0)])

    def crash() -> dict[str, Any]:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        deps.alone("digest", invocation("request-1"), crash)

    assert deps.alone("digest", invocation("request-2"), lambda: {"ran": True}) == {"ran": True}


def test_a_killed_runs_lease_keeps_others_out_for_the_timeout_only_and_not_its_own_retry():
    now = [at(0)]
    deps = services_at(now)
    # Given a run killed at its timeout: its lease was taken and never given back
    assert deps.stores.leases.acquire("collect", "killed", at(0), timedelta(seconds=300))

    # Then Lambda's retry of that same invocation works at once
    assert deps.alone("collect", invocation("killed"), lambda: {"ran": "retry"}) == {"ran": "retry"}
    # And another invocation is kept out until the timeout has passed
    assert deps.stores.leases.acquire("collect", "killed", at(0), timedelta(seconds=300))
    now[0] = at(0) + timedelta(seconds=299)
    with pytest.raises(RunInProgressError):
        deps.alone("collect", invocation("other"), lambda: {})
    now[0] = at(0) + timedelta(seconds=300)
    assert deps.alone("collect", invocation("other"), lambda: {"ran": "other"}) == {"ran": "other"}


def evaluate_event(target_ids: list[str]) -> dict[str, Any]:
    return {"time": at(1).isoformat(), "detail": {"at": at(1).isoformat(), "target_ids": target_ids}}


def lambda_context(request_id: str) -> Any:
    return SimpleNamespace(
        function_name="rapport-evaluate",
        memory_limit_in_mb=256,
        invoked_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:rapport-evaluate",
        aws_request_id=request_id,
    )


def test_an_evaluate_without_news_answers_at_once_even_while_another_run_holds_the_lease():
    from functions.evaluate.handler import lambda_handler as evaluate_handler

    deps = services_at([at(1)])
    # Given another evaluate run holding the lease
    assert deps.stores.leases.acquire("evaluate", "another", at(1), timedelta(seconds=300))

    # When an hour's event names nobody and no target is marked
    quiet = evaluate_handler(evaluate_event([]), lambda_context("request-1"), deps=deps)

    # Then it answers that there was nothing to evaluate, instead of failing for a retry
    assert (quiet["evaluated"], quiet["transitions"], quiet["suggestions"]) == (0, [], 0)

    # But when a target has evidence not evaluated yet, the same event waits for the lease
    deps.stores.targets.put_target(target())
    deps.stores.evidence.add_interaction(added(at(0)))
    with pytest.raises(RunInProgressError, match="another evaluate run is in progress"):
        evaluate_handler(evaluate_event([]), lambda_context("request-2"), deps=deps)
