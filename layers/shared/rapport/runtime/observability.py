"""Powertools instances shared by every handler (one logger, tracer and metrics per function)."""

from __future__ import annotations

import os
import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

# Names default to the stack's values so the functions also behave outside Lambda (tests, demo).
logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "rapport"))
tracer = Tracer(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "rapport"))
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Rapport"))

# A run that had nothing to count (the digest outside its hour) is normal, not worth a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")
# Outside Lambda (tests, the demo) a context has no deadline to give Idempotency; in Lambda it always has.
warnings.filterwarnings("ignore", message="Couldn't determine the remaining time left")

__all__ = ["MetricUnit", "logger", "metrics", "tracer"]
