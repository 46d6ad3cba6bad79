"""Import + first invocation: a cold start as the first request pays it, on the local stack.

`rapport coldstart --invoke` adds these to the import table. Each figure is a new interpreter that
imports one handler and answers one event, the one most of that function's runs get, against the
moto server and the X simulator (both in this process, so their work is not counted: CPU time is
the child's own). A library deferred from import to a function's first request shows here.
"""

from __future__ import annotations

import io
import json
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rapport.domain.feedback import DIGEST_SUBJECT, LINK_LIFETIME, FeedbackAction, sign
from rapport.runtime.observability import logger
from rapport_local.aws import FEEDBACK_KEY
from rapport_local.coldstart import (
    BASELINE,
    ImportTime,
    Sample,
    _children_cpu,
    handler_module,
    lambda_env,
    python,
)
from rapport_local.function_url import Received, function_url_event
from rapport_local.scenario import load_scenario
from rapport_local.stack import LocalStack, open_stack

SCENARIO = Path(__file__).parent / "scenarios" / "default.yaml"

# What the child runs: the handler is imported, then called once with the event, as Lambda would.
_PROBE = """
import json, sys, uuid
event = json.loads(sys.argv[2])
import importlib
handler = importlib.import_module(sys.argv[1])

class Context:
    function_name = "rapport-coldstart"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:rapport-coldstart"
    aws_request_id = str(uuid.uuid4())
    def get_remaining_time_in_millis(self):
        return 300_000

result = handler.lambda_handler(event, Context())
print(json.dumps(result, default=str))
"""

# The request each function mostly answers, with what it was: built fresh for each run (a repeated
# event would be answered from its idempotency record).
FIRST_REQUESTS: dict[str, str] = {
    "collect": "the hourly collect",
    "evaluate": "collect's event",
    "digest": "an hourly tick outside the digest hour",
    "admin": "GET /targets on the URL",
    "feedback": "GET of a digest's pause link",
}


@dataclass(slots=True)
class _Events:
    """Fresh events for each run, on one local stack an hour apart."""

    stack: LocalStack
    at: datetime

    def next_hour(self) -> None:
        self.at += timedelta(hours=1)
        self.stack.xsim.set_now(self.at)

    def collect(self) -> dict[str, Any]:
        return self.stack.events.scheduled("collect", self.at)

    def evaluate(self) -> dict[str, Any]:
        # What the rule delivered of the last collect (that run's own, or the stack's at setup).
        delivered = self.stack.aws.collected_events()
        return delivered[-1]

    def digest(self) -> dict[str, Any]:
        return self.stack.events.scheduled("digest", self.at)

    def admin(self) -> dict[str, Any]:
        return _function_url_event("GET", "/targets")

    def feedback(self) -> dict[str, Any]:
        key = self.stack.aws.client("secretsmanager").get_secret_value(SecretId=FEEDBACK_KEY)
        # The feedback function checks a link's expiry on the wall clock, not the stack's.
        expires = datetime.now(UTC) + LINK_LIFETIME
        token = sign(key["SecretString"].encode(), FeedbackAction.PAUSE, DIGEST_SUBJECT, expires)
        event = _function_url_event("GET", "/feedback/pause", f"t={token}")
        event["requestContext"].pop("authorizer", None)  # its URL has no AWS auth: no IAM caller
        return event

    def of(self, function: str) -> dict[str, Any]:
        event: Callable[[], dict[str, Any]] = getattr(self, function)
        return event()


def _function_url_event(method: str, path: str, query: str = "") -> dict[str, Any]:
    """A request as a Function URL delivers it (payload 2.0), as the admin and feedback get them."""
    host = "local.lambda-url.eu-west-1.on.aws"
    url = f"https://{host}{path}" + (f"?{query}" if query else "")
    return function_url_event(Received(method, url, {"host": host}, b""), path, query, datetime.now(UTC))


def _run(module: str, event: dict[str, Any] | None, env: dict[str, str]) -> tuple[Sample, Any]:
    """One new interpreter importing ``module`` (and calling its handler with ``event``)."""
    cpu, start = _children_cpu(), time.perf_counter()
    argv = ["-c", f"import {module}"] if event is None else ["-c", _PROBE, module, json.dumps(event)]
    done = subprocess.run(  # noqa: S603
        [python(), *argv],
        env=env,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=False,
    )
    sample = Sample(time.perf_counter() - start, _children_cpu() - cpu)
    if done.returncode:
        raise RuntimeError(f"{module} failed on its first invocation:\n{done.stderr[-2000:]}")
    lines = done.stdout.strip().splitlines()
    return sample, json.loads(lines[-1]) if event is not None and lines else None


def _answered(function: str, result: Any) -> bool:
    """Whether the handler did the work it was sent (not a refusal or a skip)."""
    if function in ("admin", "feedback"):
        return isinstance(result, dict) and result.get("statusCode") == 200
    return isinstance(result, dict) and "skipped" not in result


def measure_first_invocations(
    handlers: Sequence[str], runs: int = 5, source: Path | None = None
) -> list[ImportTime]:
    """Median import + first invocation of each handler, against ``import boto3``, on a local stack
    holding the default scenario's targets after their first hour."""
    scenario = load_scenario(SCENARIO)
    with open_stack(scenario, output=io.StringIO()) as stack:  # the handlers' metrics are not shown
        level = logger.log_level
        logger.setLevel("WARNING")  # nor the log lines of the setup, run in this process
        try:
            stack.setup(scenario)
            events = _Events(stack, scenario.start)
            events.next_hour()
            stack.tick(events.at)  # the targets' first reads are done: what follows is a usual hour
        finally:
            logger.setLevel(level)
        env = lambda_env(source=source) | stack.aws.lambda_env(stack.xsim.url)
        env |= {
            "AWS_ENDPOINT_URL": stack.aws.endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
        }
        samples: dict[str, list[Sample]] = {m: [] for m in (BASELINE, *handlers)}
        for round_ in range(runs + 1):  # one unmeasured round first, as for the imports
            events.next_hour()
            for name in (BASELINE, *handlers):
                module = BASELINE if name == BASELINE else handler_module(name)
                event = None if name == BASELINE else events.of(name)
                sample, result = _run(module, event, env)
                if name != BASELINE and not _answered(name, result):
                    raise RuntimeError(f"{name} did not answer its first request: {result}")
                if round_:
                    samples[name].append(sample)
    wall = {m: statistics.median(x.wall_s for x in s) for m, s in samples.items()}
    cpu = {m: statistics.median(x.cpu_s for x in s) for m, s in samples.items()}
    return [ImportTime(m, wall[m], wall[m] / wall[BASELINE], cpu[m], cpu[m] / cpu[BASELINE]) for m in samples]
