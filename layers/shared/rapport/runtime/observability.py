"""Powertools instances shared by every handler (one logger, tracer and metrics per function).

X-Ray tracing is off unless the stack's XRayTracing parameter turns it on (docs/coldstart.md): the
X-Ray SDK and its patching of botocore cost about a third of a second at every cold start. With
POWERTOOLS_TRACE_DISABLED true (the stack's default) the handlers get a stand-in whose decorators
return the handler unchanged, and the SDK is never imported.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "rapport")


def tracing_enabled(env: Mapping[str, str] = os.environ) -> bool:
    """Powertools' own switch, read the same way: the stack sets it from XRayTracing."""
    return env.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() not in {"1", "true", "yes", "on"}


class HandlerTracer(Protocol):
    # As loose as Powertools' own: the decorated handler accepts any context object.
    def capture_lambda_handler(self, handler: Callable[..., Any]) -> Callable[..., Any]: ...


class UntracedHandlers:
    """What the handlers ask of a Tracer when tracing is off: nothing."""

    def capture_lambda_handler(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        return handler


def _tracer() -> HandlerTracer:
    if not tracing_enabled():
        return UntracedHandlers()
    from aws_lambda_powertools import Tracer

    return cast(HandlerTracer, Tracer(service=SERVICE))


# At DEBUG these libraries log what must never reach CloudWatch: botocore the signed requests and
# their bodies (the recipient's address, the X secret read from Secrets Manager), the OAuth library
# the X credentials it signs with, urllib3 and tweepy the requests' URLs and headers. A root logger
# at DEBUG (Lambda's log level, LOG_LEVEL, a test) must not turn them on, so they are pinned here.
QUIET_LOGGERS = (
    "boto3",
    "botocore",
    "s3transfer",
    "urllib3",
    "requests",
    "requests_oauthlib",
    "oauthlib",
    "tweepy",
    "pynamodb",
    "aws_xray_sdk",
)
QUIET_LEVEL = logging.WARNING


def quiet_libraries() -> None:
    """Pin the chatty libraries' loggers at WARNING, whatever the root logger's level."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(QUIET_LEVEL)


quiet_libraries()

# Names default to the stack's values so the functions also behave outside Lambda (tests, demo).
logger = Logger(service=SERVICE)
tracer = _tracer()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Rapport"))

# A run that had nothing to count (the digest outside its hour) is normal, not worth a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")
# Outside Lambda (tests, the demo) a context has no deadline to give Idempotency; in Lambda it always has.
warnings.filterwarnings("ignore", message="Couldn't determine the remaining time left")

__all__ = ["MetricUnit", "logger", "metrics", "quiet_libraries", "tracer", "tracing_enabled"]
