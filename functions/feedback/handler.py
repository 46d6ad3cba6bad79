"""feedback: the public Function URL (no AWS auth) behind the digest's signed answer links.

GET shows a confirmation page and changes nothing (mail scanners open every link); POST acts, from
the page's button or from a mail client's RFC 8058 one-click unsubscribe. The token is never logged.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aws_lambda_powertools.utilities.typing import LambdaContext

from rapport.email.feedback_page import PAGE_HEADERS, render_page
from rapport.runtime.observability import MetricUnit, logger, metrics, tracer
from rapport.runtime.services import Services, services
from rapport.runtime.settings import FeedbackSettings
from rapport.usecases.feedback import REFUSED, FeedbackReply, FeedbackRequest, Outcome, answer_feedback

MAX_TOKEN = 512  # a real token is about 150 characters; anything longer is refused unread


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, deps: Services | None = None
) -> dict[str, Any]:
    deps = deps or services(FeedbackSettings)
    http = (event.get("requestContext") or {}).get("http") or {}
    method = str(http.get("method") or "GET").upper()
    path = str(event.get("rawPath") or "/")
    action = path.rstrip("/").rsplit("/", 1)[-1]
    token = str((event.get("queryStringParameters") or {}).get("t") or "")
    if method not in ("GET", "HEAD", "POST"):
        return _page(FeedbackReply(Outcome.REFUSED, "Not allowed", "Use the links of your digest."), 405)
    if not token or len(token) > MAX_TOKEN:
        reply = REFUSED
    else:
        settings = deps.settings_of(FeedbackSettings)
        request = FeedbackRequest(method, action, token)
        reply = answer_feedback(
            deps.stores, deps.feedback_key(), request, deps.clock(), per_minute=settings.feedback_per_minute
        )
    logger.info(
        "feedback",
        extra={
            "method": method,
            "action": action[:20],
            "outcome": reply.outcome.value,
            "repeated": reply.repeated,
        },
    )
    metrics.add_metric(f"Feedback{reply.outcome.value.title()}", MetricUnit.Count, 1)
    post_to = f"{path}?t={quote(token, safe='')}" if reply.outcome is Outcome.CONFIRM else None
    return _page(reply, reply.status, post_to)


def _page(reply: FeedbackReply, status: int, post_to: str | None = None) -> dict[str, Any]:
    body = render_page(reply.title, reply.message, button=reply.button, post_to=post_to)
    return {"statusCode": status, "headers": dict(PAGE_HEADERS), "body": body}
