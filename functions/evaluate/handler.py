"""evaluate: on collect's event; replays the targets with news, stores transitions and suggestions."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from rapport.runtime.observability import MetricUnit, logger, metrics, tracer
from rapport.runtime.services import Services, event_time, services
from rapport.runtime.settings import EvaluateSettings
from rapport.usecases.evaluate import EvaluateReport, evaluate, has_news


@logger.inject_lambda_context(correlation_id_path="id")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, deps: Services | None = None
) -> dict[str, Any]:
    deps = deps or services(EvaluateSettings)
    target_ids = _target_ids(event)
    if not has_news(deps.stores, target_ids):
        # Nobody named, nobody marked: nothing to write, so no lease and no delivery record either.
        return EvaluateReport(at=event_time(event)).as_dict()
    # Held by another run: RunInProgressError, so Lambda's retry brings this event's news back later.
    return deps.once("evaluate", event, context, lambda: _evaluate(event, target_ids, deps))


def _target_ids(event: dict[str, Any]) -> list[str]:
    detail = event.get("detail") or {}
    target_ids = detail.get("target_ids")
    if not isinstance(target_ids, list) or not all(isinstance(t, str) for t in target_ids):
        raise ValueError("evaluate expects an InteractionsCollected event with detail.target_ids: [str]")
    return target_ids


def _evaluate(event: dict[str, Any], target_ids: list[str], deps: Services) -> dict[str, Any]:
    report = evaluate(deps.stores, target_ids, event_time(event))
    metrics.add_metric("Transitions", MetricUnit.Count, len(report.transitions))
    metrics.add_metric("Suggestions", MetricUnit.Count, report.suggestions)
    for name, t in report.transitions:
        logger.info("stage changed", extra={"target": name, "from": t.from_stage, "to": t.to_stage})
    return report.as_dict()
