"""One local stack: the real handlers on a local AWS (moto) and the X API simulator, hour by hour.

It runs them as the deployed schedules would: collect every hour, evaluate on each event collect
emitted (delivered by the template's EventBridge rule to a queue standing in for the rule's Lambda
target), and digest every hour (it sends at the local digest hour). Payloads come from template.yaml
(rapport_local.template). Every AWS call a handler makes is counted, by service and operation.
Callers act between ticks through hooks: the demo's simulated you, injected faults, crash tests.
"""

from __future__ import annotations

import io
import sys
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TextIO

import botocore.client

from functions.admin import handler as admin_handler
from functions.collect import handler as collect_handler
from functions.digest import handler as digest_handler
from functions.evaluate import handler as evaluate_handler
from functions.feedback import handler as feedback_handler
from rapport.adapters.dynamodb.stores import dynamodb_stores
from rapport.runtime.services import Services
from rapport.runtime.settings import StackSettings
from rapport_local.aws import REGION, TABLE, LocalAws, local_aws
from rapport_local.scenario import Scenario
from rapport_local.template import StackEvents, stack_events
from rapport_local.xsim import XSimServer

Handler = Callable[..., dict[str, Any]]
HANDLERS: dict[str, Handler] = {
    "admin": admin_handler.lambda_handler,
    "collect": collect_handler.lambda_handler,
    "evaluate": evaluate_handler.lambda_handler,
    "digest": digest_handler.lambda_handler,
    "feedback": feedback_handler.lambda_handler,
}


def build_services(
    aws: LocalAws, x_api_url: str, table: str = TABLE, clock: Callable[[], datetime] | None = None
) -> Services:
    """The handlers' dependencies, built here and nowhere else in the local tooling. ``clock`` is
    what a request without a time of its own (admin) takes as now; default: the wall clock."""
    settings = StackSettings.from_env(aws.lambda_env(x_api_url) | {"RAPPORT_TABLE_NAME": table})
    services = Services(settings, dynamodb_stores(table, REGION, settings.policy_defaults))
    if clock is not None:
        services.clock = clock
    return services


@dataclass(frozen=True, slots=True)
class LambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timeout_ms: int = 300_000  # template.yaml's background Timeout

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        # A local run takes milliseconds: the whole time-out is left as it starts.
        return self.timeout_ms


class Interceptor(Protocol):
    """What sees each botocore call, and makes it (``original``) or not: the call counting below, the
    crash sweep's injector, or a test's own fault."""

    def call(self, original: Callable[..., Any], client: Any, operation: str, params: Any) -> Any: ...


@contextmanager
def intercepting(interceptor: Interceptor) -> Iterator[None]:
    """Route every botocore API call through ``interceptor``: boto3's clients, Powertools' and
    PynamoDB's own botocore session all go through BaseClient._make_api_call. Nested, the innermost
    sees a call first."""
    original = botocore.client.BaseClient._make_api_call

    def call(client: Any, operation: str, params: Any) -> Any:
        return interceptor.call(original, client, operation, params)

    botocore.client.BaseClient._make_api_call = call
    try:
        yield
    finally:
        botocore.client.BaseClient._make_api_call = original


@dataclass(frozen=True, slots=True)
class _Counting:
    into: Counter[str]

    def call(self, original: Callable[..., Any], client: Any, operation: str, params: Any) -> Any:
        self.into[f"{client.meta.service_model.service_name}:{operation}"] += 1
        return original(client, operation, params)


def counting_aws_calls(into: Counter[str]) -> AbstractContextManager[None]:
    """Count every botocore API call as "service:Operation"."""
    return intercepting(_Counting(into))


@dataclass(frozen=True, slots=True)
class Invocation:
    """One handler run: what it got, what it answered, the AWS calls it made and what it printed."""

    function: str
    event: dict[str, Any]
    result: dict[str, Any]
    aws_calls: Counter[str]
    printed: str
    ms: float

    def calls_to(self, service: str) -> int:
        return sum(n for op, n in self.aws_calls.items() if op.startswith(f"{service}:"))


@dataclass(slots=True)
class Tick:
    """One simulated hour: the scheduled collect, the evaluations it woke, the digest tick."""

    at: datetime
    collect: dict[str, Any]
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    digest: dict[str, Any] | None = None

    @property
    def transitions(self) -> list[dict[str, Any]]:
        return [t for e in self.evaluations for t in e["transitions"]]

    @property
    def sent(self) -> bool:
        return bool(self.digest and self.digest["sent"])


class LocalStack:
    """The handlers wired to a local AWS and an X simulator, driven on the simulator's clock."""

    def __init__(
        self,
        aws: LocalAws,
        xsim: XSimServer,
        *,
        table: str = TABLE,
        output: TextIO | None = None,
        events: StackEvents | None = None,
        keep: int | None = None,
    ) -> None:
        self.aws = aws
        self.xsim = xsim
        # The simulator's clock is the stack's: admin runs in the time collect reads X at.
        self.deps = build_services(aws, xsim.url, table, clock=lambda: xsim.now)
        self.events = events or stack_events()
        self.output = output  # where the handlers' prints (EMF metrics) go; None: standard output
        # Every invocation for a run that ends (demo, tests, measurements); the last ``keep`` for a
        # stack that serves as long as the person likes (`rapport local`).
        self.invocations: deque[Invocation] = deque(maxlen=keep)
        self.before_tick: list[Callable[[datetime], None]] = []
        self.after_tick: list[Callable[[Tick], None]] = []
        self.after_invoke: list[Callable[[Invocation], None]] = []
        aws.collected_events()  # a shared local AWS may hold another stack's undelivered events

    # -- invoking ------------------------------------------------------------------------------------
    def invoke(self, function: str, event: dict[str, Any], request_id: str | None = None) -> dict[str, Any]:
        """Invoke a handler as Lambda would, counting its AWS calls. Lambda's retry of an asynchronous
        invocation keeps its ``request_id``."""
        calls: Counter[str] = Counter()
        printed = io.StringIO()
        started = time.perf_counter()
        context = LambdaContext(f"rapport-{function}", aws_request_id=request_id or str(uuid.uuid4()))
        try:
            with redirect_stdout(printed), counting_aws_calls(calls):
                result = HANDLERS[function](event, context, deps=self.deps)
        finally:
            (self.output or sys.stdout).write(printed.getvalue())
        done = Invocation(
            function, event, result, calls, printed.getvalue(), (time.perf_counter() - started) * 1000
        )
        self.invocations.append(done)
        for hook in self.after_invoke:
            hook(done)
        return result

    def admin(self, **command: Any) -> dict[str, Any]:
        return self.invoke("admin", command)

    def serve_feedback_at(self, url: str) -> None:
        """Point the digest's feedback links at ``url``, where `rapport local` serves the endpoint."""
        self.deps.settings = self.deps.settings.model_copy(update={"feedback_url": url})

    def setup(self, scenario: Scenario, at: datetime | None = None) -> list[dict[str, Any]]:
        """The scenario's settings and targets, through admin as a user would; the targets added."""
        stamp = {"at": at.isoformat()} if at else {}
        done = self.admin(action="update_settings", settings=scenario.settings, **stamp)
        if not done.get("ok"):
            raise RuntimeError(f"admin update_settings failed: {done.get('error')}")
        added = []
        for username in scenario.targets:
            result = self.admin(action="add_target", username=username, **stamp)
            if not result.get("ok"):
                raise RuntimeError(f"admin add_target {username} failed: {result.get('error')}")
            added.append(result)
        return added

    # -- the schedules -------------------------------------------------------------------------------
    def collect(self, at: datetime) -> dict[str, Any]:
        """The collect schedule's run for ``at`` (the simulator's clock is not moved)."""
        return self.invoke("collect", self.events.scheduled("collect", at))

    def evaluate_collected(self) -> list[dict[str, Any]]:
        """Deliver each event collect emitted, as the rule delivers it, to evaluate."""
        return [self.invoke("evaluate", envelope) for envelope in self.aws.collected_events()]

    def digest(self, at: datetime) -> dict[str, Any]:
        return self.invoke("digest", self.events.scheduled("digest", at))

    def tick(self, at: datetime, *, digest: bool = True) -> Tick:
        """One hour at ``at``: the clock moves, collect runs, evaluate on its news, then the digest tick."""
        for before in self.before_tick:
            before(at)
        self.xsim.set_now(at)
        tick = Tick(at, self.collect(at))
        tick.evaluations = self.evaluate_collected()
        if digest:
            tick.digest = self.digest(at)
        for after in self.after_tick:
            after(tick)
        return tick

    def run(self, start: datetime, hours: int) -> list[Tick]:
        """A tick every hour after ``start``, ``hours`` of them."""
        return [self.tick(start + timedelta(hours=hour)) for hour in range(1, hours + 1)]

    def by_function(self, function: str) -> list[Invocation]:
        return [i for i in self.invocations if i.function == function]


@contextmanager
def open_stack(
    scenario: Scenario, *, output: TextIO | None = None, keep: int | None = None
) -> Iterator[LocalStack]:
    """A fresh local AWS and an X simulator serving ``scenario``, its clock at the scenario's start;
    ``keep`` bounds the invocations the stack remembers."""
    with local_aws() as aws, XSimServer(scenario) as xsim:
        xsim.set_now(scenario.start)
        yield LocalStack(aws, xsim, output=output, keep=keep)
