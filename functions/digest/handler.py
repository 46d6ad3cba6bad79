"""digest: hourly; at the user's local digest hour, emails the day's suggestions once."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from rapport.runtime.observability import MetricUnit, logger, metrics, tracer
from rapport.runtime.services import Services, event_time, services
from rapport.runtime.settings import DigestSettings
from rapport.usecases.digest import Outbox, send_digest


@logger.inject_lambda_context(correlation_id_path="id")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, deps: Services | None = None
) -> dict[str, Any]:
    deps = deps or services(DigestSettings)
    # No idempotency record: the day's claim already makes a repeated tick send nothing, and 23 of the
    # 24 hourly ticks are not the digest hour; a record would add two writes to each. The lease is
    # taken at the digest hour (or to take over a claim a dead run left) only; held by another run:
    # RunInProgressError, so Lambda's retry brings the tick (its time) back later.
    return _digest(event, context, deps)


def _digest(event: dict[str, Any], context: LambdaContext, deps: Services) -> dict[str, Any]:
    s = deps.settings_of(DigestSettings)
    report = send_digest(
        deps.stores,
        Outbox(deps.send_raw, s.sender, s.recipient, deps.feedback_links),
        event_time(event),
        alone=lambda work: deps.alone("digest", context, work),
        stale_after=s.lease_ttl,
        pause=time.sleep,
    )
    if report.sent:
        metrics.add_metric("DigestsSent", MetricUnit.Count, 1)
        metrics.add_metric("DigestSuggestions", MetricUnit.Count, len(report.suggestions))
    logger.info("digest", extra={"sent": report.sent, "reason": report.reason})
    return report.as_dict()
