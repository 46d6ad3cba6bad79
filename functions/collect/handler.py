"""collect: scheduled; reads X since the last run, stores the evidence, announces the news."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from rapport.runtime.observability import MetricUnit, logger, metrics, tracer
from rapport.runtime.services import Services, event_time, services
from rapport.runtime.settings import CollectSettings
from rapport.usecases.collect import collect


@logger.inject_lambda_context(correlation_id_path="id")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, deps: Services | None = None
) -> dict[str, Any]:
    deps = deps or services(CollectSettings)
    # The lease is taken first: a repeated delivery is answered from its record, and one that finds
    # the lease held reads nothing.
    return deps.once("collect", event, context, lambda: _collect(event, deps), _skipped)


def _skipped() -> dict[str, Any]:
    # Nothing is lost: the next scheduled run reads this window too, from the cursors.
    logger.warning("another collect run is in progress; this one reads nothing")
    return {"skipped": "another collect run is in progress"}


def _collect(event: dict[str, Any], deps: Services) -> dict[str, Any]:
    at = event_time(event)
    report = collect(deps.stores, deps.reader(), at)
    deps.publish_collected(at, sorted(report.targets_with_news))
    metrics.add_metric("InteractionsStored", MetricUnit.Count, report.stored)
    metrics.add_metric("XRequests", MetricUnit.Count, report.spend.requests)
    metrics.add_metric("XPostsRead", MetricUnit.Count, report.spend.posts)
    metrics.add_metric("XUsersRead", MetricUnit.Count, report.spend.users)
    metrics.add_metric("XSpendMicroUSD", MetricUnit.Count, report.spend.cost.micros)
    metrics.add_metric("XFollowersRead", MetricUnit.Count, report.spend.followers)
    metrics.add_metric("XReadsDeferredForBudget", MetricUnit.Count, report.deferred_for_budget)
    if report.deferred:
        logger.warning("sources deferred to the next run", extra={"deferred": report.deferred})
    return report.as_dict()
