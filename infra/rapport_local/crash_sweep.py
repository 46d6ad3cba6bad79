"""The crash-point sweep: crash the real handlers at chosen DynamoDB writes, resume, compare.

A Lambda can be killed at any point (time-out, out of memory, the host going away) or see a write
fail. The sweep plays a scenario once cleanly on the local stack, listing every DynamoDB write its
scheduled runs make (collect, evaluate, digest; in order). Then, for each chosen write and way of
crashing, it plays the scenario again on a fresh table and crashes there:

- ``raise-before``: the write fails (DynamoDB answers 500) and is not made;
- ``raise-after``: the write is made, then the call fails;
- ``kill``: the write is made and the process dies: nothing more of that invocation runs, not even
  its ``finally`` blocks, so its lease and its idempotency record stay in progress;
- ``kill-dropped``: the same, and Lambda's retries never succeed: the event is dropped.

It resumes as Lambda and EventBridge do: an invocation that failed is retried twice with the same
event and the same request id, else dropped; the next schedule comes an hour later. The crashed
run's outcome is then compared with the clean one: interactions, transitions, suggestions and
digests lost or duplicated, and each target's stage hour by hour. A digest sent twice is within the
documented window only when the process died after SES accepted it and before the day was marked
sent; a stage may be late by one hour at most.

Digests are judged by what the person receives: each email SES accepted is read for the suggestions
it carries (named by their feedback links). A day one run emailed and the other did not is *moved*,
not lost or extra, when its email carried at least one suggestion and the other run emailed every one
of them on another day (a day made up after collect had found the next day's news); a day that
carried none, or a suggestion the other run never emailed, is still wrong. A suggestion emailed on
more days than in the clean run is duplicated, and never the window's.
"""

from __future__ import annotations

import email
import io
import random
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as email_policy
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from rapport.adapters.dynamodb.table import create_table
from rapport.domain.feedback import unverified_subject
from rapport_local.aws import REGION, LocalAws
from rapport_local.scenario import Scenario
from rapport_local.stack import LocalStack, Tick, intercepting
from rapport_local.xsim import XSimServer

WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
SCHEDULED = ("collect", "evaluate", "digest")  # admin is the user at the keyboard: not swept here
MODES = ("raise-before", "raise-after", "kill", "kill-dropped")
RETRIES = 2  # Lambda's asynchronous retries (template.yaml: MaximumRetryAttempts)


class Killed(BaseException):
    """The process died. A BaseException, so that no ``except Exception`` of the code under test
    (Powertools deleting its record, a lease given back) runs as it would not in a dead process."""


@dataclass(frozen=True, slots=True)
class Write:
    """One DynamoDB write of a scheduled run, numbered in the order the run made them."""

    index: int
    function: str
    at: str  # the tick (the scheduled hour) it belongs to
    operation: str
    key: str

    def __str__(self) -> str:
        return f"#{self.index} {self.at} {self.function} {self.operation} {self.key}"


@dataclass(frozen=True, slots=True)
class CrashPoint:
    """Where to crash and how: at one write of the listed run (``write``), or at the first write of
    ``function`` with this ``operation`` on a key starting with ``key_prefix``."""

    mode: str
    write: Write | None = None
    function: str = ""
    operation: str = ""
    key_prefix: str = ""

    def matches(self, write: Write) -> bool:
        if self.write is not None:
            return write.index == self.write.index
        return (
            write.function == self.function
            and write.operation == self.operation
            and write.key.startswith(self.key_prefix)
        )

    def __str__(self) -> str:
        where = self.write or f"{self.function} {self.operation} {self.key_prefix}*"
        return f"{self.mode} at {where}"


def _key_of(operation: str, params: dict[str, Any]) -> str:
    """The item a write touches ("pk/sk"), or its first item's for a transaction or a batch."""
    if operation == "TransactWriteItems":
        first = params["TransactItems"][0]
        inner = next(iter(first.values()))
        key = inner.get("Key") or inner.get("Item") or {}
    elif operation == "BatchWriteItem":
        requests = next(iter(params["RequestItems"].values()))
        request = requests[0].get("PutRequest") or requests[0].get("DeleteRequest") or {}
        key = request.get("Key") or request.get("Item") or {}
    else:
        key = params.get("Key") or params.get("Item") or {}
    pk, sk = key.get("pk", {}).get("S", "?"), key.get("sk", {}).get("S", "?")
    if pk == "IDEMPOTENCY":
        sk = sk.rsplit("#", 1)[-1][:8]  # the payload's hash is the useful part of Powertools' key
    return f"{pk}/{sk}"


def _injected_failure(operation: str) -> ClientError:
    error = {"Code": "InternalServerError", "Message": "injected by the crash sweep"}
    return ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 500}}, operation)


def _message(params: dict[str, Any]) -> EmailMessage:
    message = email.message_from_bytes(params["Content"]["Raw"]["Data"], policy=email_policy)
    assert isinstance(message, EmailMessage)  # the default policy's class
    return message


def _digest_date(params: dict[str, Any]) -> str:
    """The local date of the digest an SES send carries, from its subject ("Rapport · <date> · ...")."""
    parts = str(_message(params)["Subject"]).split(" · ")
    return parts[1] if len(parts) > 1 else "?"


# Each suggestion's "done" link: .../feedback/done?t=v1.done.<base64url of the ref>.<expiry>.<mac>
_DONE_TOKEN = re.compile(r"/done\?t=([A-Za-z0-9._~%-]+)")


def ref_of_token(token: str) -> str:
    """The suggestion a feedback link's token names ("target_id|key"), as it appears in the email."""
    return unverified_subject(unquote(token))


def _carried(params: dict[str, Any]) -> frozenset[str]:
    """The suggestions an SES send carries, read from their feedback links in its text parts."""
    refs: set[str] = set()
    for part in _message(params).walk():
        if part.get_content_maintype() == "text":
            refs |= {ref_of_token(t) for t in _DONE_TOKEN.findall(part.get_content())}
    return frozenset(refs)


@dataclass(slots=True)
class Injector:
    """Sees every AWS call of the scheduled runs: lists their DynamoDB writes, crashes at one."""

    point: CrashPoint | None = None
    writes: list[Write] = field(default_factory=list)
    emails: Counter[str] = field(default_factory=Counter)  # digests SES accepted, by local date
    carried: dict[str, set[str]] = field(default_factory=dict)  # local date -> suggestions emailed
    function: str | None = None  # the scheduled run in progress, None between runs
    at: str = ""
    dead: bool = False
    crashed: bool = False
    sent_this_invocation: bool = False
    killed_after_send: bool = False  # the one window: SES accepted the email, the process then died

    def begin(self, function: str) -> None:
        """A new invocation (or a retry, in a new process)."""
        self.function = function if function in SCHEDULED else None
        self.dead = False
        self.sent_this_invocation = False

    def end(self) -> None:
        self.function = None

    def call(self, original: Callable[..., Any], client: Any, operation: str, params: Any) -> Any:
        if self.function is None:
            return original(client, operation, params)
        if self.dead:
            raise Killed(f"{operation} after the process died")
        service = client.meta.service_model.service_name
        if service == "sesv2" and operation == "SendEmail":
            result = original(client, operation, params)
            day = _digest_date(params)
            self.emails[day] += 1
            self.carried.setdefault(day, set()).update(_carried(params))
            self.sent_this_invocation = True
            return result
        if service != "dynamodb" or operation not in WRITES:
            return original(client, operation, params)
        write = Write(len(self.writes), self.function, self.at, operation, _key_of(operation, params))
        self.writes.append(write)
        if self.point is None or self.crashed or not self.point.matches(write):
            return original(client, operation, params)
        self.crashed = True
        if self.point.mode == "raise-before":
            raise _injected_failure(operation)
        result = original(client, operation, params)
        if self.point.mode == "raise-after":
            raise _injected_failure(operation)
        self.dead = True
        self.killed_after_send = self.function == "digest" and self.sent_this_invocation
        raise Killed(f"killed after {write}")


@contextmanager
def one_botocore_session() -> Iterator[None]:
    """PynamoDB opens a botocore session per connection, and each loads botocore's service models
    from disk again (most of a replay's time); every replay of a sweep shares one instead."""
    import botocore.session
    import pynamodb.connection.base as pynamodb_base

    shared = botocore.session.get_session()
    namespace = vars(pynamodb_base)  # the name PynamoDB imported, not an attribute it exports
    original = namespace["get_session"]
    namespace["get_session"] = lambda: shared
    try:
        yield
    finally:
        namespace["get_session"] = original


class ResumingStack(LocalStack):
    """The local stack, delivering each scheduled event as Lambda does: retried twice with the same
    request id after a failure, else dropped (a ``kill-dropped`` crash is never retried)."""

    def __init__(self, *args: Any, injector: Injector, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.injector = injector
        self.retried = 0
        self.dropped: list[str] = []

    def invoke(self, function: str, event: dict[str, Any], request_id: str | None = None) -> dict[str, Any]:
        request_id = request_id or str(uuid.uuid4())
        for _attempt in range(1 + RETRIES):
            self.injector.begin(function)
            try:
                return super().invoke(function, event, request_id)
            except (Exception, Killed):
                killed_for_good = self.injector.dead and self.injector.point is not None
                if killed_for_good and self.injector.point.mode == "kill-dropped":  # type: ignore[union-attr]
                    break
                self.retried += 1
            finally:
                self.injector.end()
        self.dropped.append(f"{function} {event.get('time', '')}")
        return {"dropped": True, "sent": False, "transitions": []}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a run left: per target its evidence, transitions and suggestions; digests by local date
    and the suggestions each day's email(s) carried; each target's stage after every hour."""

    interactions: frozenset[str]  # "target:id"
    transitions: frozenset[str]  # "target:time:stage"
    suggestions: frozenset[str]  # "target:key"
    digests: Counter[str]  # local date -> emails SES accepted
    stages: tuple[tuple[tuple[str, str], ...], ...]  # per hour: (username, stage) pairs
    carried: dict[str, frozenset[str]] = field(default_factory=dict)  # local date -> "target_id|key"

    def days_emailing(self, ref: str) -> frozenset[str]:
        """The days whose email(s) carried the suggestion ``ref``."""
        return frozenset(day for day, refs in self.carried.items() if ref in refs)


def _outcome(stack: LocalStack, injector: Injector, stages: list[tuple[tuple[str, str], ...]]) -> Outcome:
    stores = stack.deps.stores
    interactions, transitions, suggestions = set(), set(), set()
    for target in stores.targets.list_targets():
        history = stores.evidence.history(target.id)
        interactions |= {f"{target.username}:{i.id}" for i in history.interactions}
        name = target.username
        transitions |= {f"{name}:{t.at.isoformat()}:{t.to_stage.value}" for t in history.transitions}
        suggestions |= {f"{target.username}:{s.key}" for s in history.suggestions}
    found = (frozenset(interactions), frozenset(transitions), frozenset(suggestions))
    carried = {day: frozenset(refs) for day, refs in injector.carried.items()}
    return Outcome(*found, Counter(injector.emails), tuple(stages), carried)


@dataclass(frozen=True, slots=True)
class Run:
    outcome: Outcome
    writes: list[Write]
    retried: int
    dropped: list[str]
    killed_after_send: bool
    seconds: float


def play(aws: LocalAws, scenario: Scenario, point: CrashPoint | None = None, hours: int | None = None) -> Run:
    """Play ``scenario`` (its first ``hours``) on a fresh table, hour by hour, crashing at ``point``."""
    started = time.perf_counter()
    table = f"rapport-crash-{uuid.uuid4().hex[:8]}"
    create_table(table, REGION)
    injector = Injector(point)
    stages: list[tuple[tuple[str, str], ...]] = []
    with XSimServer(scenario) as xsim, intercepting(injector), one_botocore_session():
        xsim.set_now(scenario.start)
        stack = ResumingStack(aws, xsim, table=table, output=io.StringIO(), injector=injector)
        stack.setup(scenario, at=scenario.start)

        def mark_hour(at: Any) -> None:
            injector.at = at.strftime("%m-%dT%H")

        def record_stages(tick: Tick) -> None:
            targets = stack.deps.stores.targets.list_targets()
            stages.append(tuple((t.username, t.stage.value) for t in targets))

        stack.before_tick.append(mark_hour)
        stack.after_tick.append(record_stages)
        whole = int((scenario.end - scenario.start) / timedelta(hours=1))
        stack.run(scenario.start, min(hours or whole, whole))
        outcome = _outcome(stack, injector, stages)
    return Run(
        outcome,
        injector.writes,
        stack.retried,
        stack.dropped,
        injector.killed_after_send,
        time.perf_counter() - started,
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    """How a crashed run differs from the clean one."""

    point: CrashPoint
    lost: tuple[str, ...]  # interactions, transitions, suggestions or digests the clean run has
    extra: tuple[str, ...]  # ... that the crashed run has and the clean one does not
    duplicated: tuple[str, ...]  # digests sent more than once, suggestions emailed on two days
    within_window: bool  # the duplicates are the documented window's (a kill after SES accepted)
    late_hours: int  # the longest a target's stage differed from the clean run's, in hours
    retried: int
    dropped: tuple[str, ...]
    seconds: float
    moved: tuple[str, ...] = ()  # digest days whose suggestions the other run emailed on another day

    @property
    def ok(self) -> bool:
        # The window sends one day's email again; a suggestion in two days' emails is never it.
        repeated = any(d.startswith("suggestion ") for d in self.duplicated)
        duplicates_ok = not self.duplicated or (self.within_window and not repeated)
        return not self.lost and not self.extra and duplicates_ok and self.late_hours <= 1

    @property
    def outcome(self) -> str:
        if not self.ok:
            return "wrong"
        if self.duplicated:
            return "duplicate in the window"
        if self.moved:
            return "digest on another day"
        return "late by an hour" if self.late_hours else "same"


def _moved(day: str, carried: Outcome, other: Outcome) -> bool:
    """Whether ``day``'s email, which the other run did not send, carried at least one suggestion
    and the other run emailed every one of them on another day: the person got them all, once."""
    refs = carried.carried.get(day, frozenset())
    return bool(refs) and all(other.days_emailing(r) - {day} for r in refs)


def compare(clean: Outcome, crashed: Run, point: CrashPoint) -> Verdict:
    got = crashed.outcome
    missing = [d for d in clean.digests if got.digests[d] < clean.digests[d]]
    # A day the crashed run did not send at all may have gone out on another day; one it sent fewer
    # times than the clean run did is lost as before.
    lost_moved = [d for d in missing if not got.digests[d] and _moved(d, clean, got)]
    added = [d for d in got.digests if d not in clean.digests]
    extra_moved = [d for d in added if _moved(d, got, clean)]
    lost = sorted(
        [f"interaction {i}" for i in clean.interactions - got.interactions]
        + [f"transition {t}" for t in clean.transitions - got.transitions]
        + [f"suggestion {s}" for s in clean.suggestions - got.suggestions]
        + [f"digest {d}" for d in missing if d not in lost_moved]
    )
    extra = sorted(
        [f"interaction {i}" for i in got.interactions - clean.interactions]
        + [f"transition {t}" for t in got.transitions - clean.transitions]
        + [f"suggestion {s}" for s in got.suggestions - clean.suggestions]
        + [f"digest {d}" for d in added if d not in extra_moved]
    )
    moved = sorted([f"digest {d} not sent" for d in lost_moved] + [f"digest {d} sent" for d in extra_moved])
    return Verdict(
        point,
        tuple(lost),
        tuple(extra),
        tuple(_duplicated(clean, got)),
        crashed.killed_after_send,
        _late_hours(clean.stages, got.stages),
        crashed.retried,
        tuple(crashed.dropped),
        crashed.seconds,
        tuple(moved),
    )


def _duplicated(clean: Outcome, got: Outcome) -> list[str]:
    """Days emailed more often than in the clean run, and suggestions emailed on more days."""
    days = [f"digest {d} x{n}" for d, n in got.digests.items() if n > max(clean.digests[d], 1)]
    refs = set().union(*got.carried.values()) if got.carried else set()
    for ref in sorted(refs):
        on = got.days_emailing(ref)
        if len(on) > max(len(clean.days_emailing(ref)), 1):
            days.append(f"suggestion {ref} on {', '.join(sorted(on))}")
    return sorted(days)


Stages = Sequence[tuple[tuple[str, str], ...]]


def _late_hours(clean: Stages, got: Stages) -> int:
    """The longest run of consecutive hours in which some target's stage differed from the clean run."""
    longest = current = 0
    for want, have in zip(clean, got, strict=False):
        current = current + 1 if want != have else 0
        longest = max(longest, current)
    if len(clean) != len(got):
        longest = max(longest, abs(len(clean) - len(got)))
    return longest


def choose_points(
    writes: Sequence[Write], count: int, seed: int, modes: Sequence[str] = MODES
) -> list[CrashPoint]:
    """``count`` crash points, seeded: every mode in turn, at writes spread over the functions."""
    rng = random.Random(seed)
    by_function = {f: [w for w in writes if w.function == f] for f in SCHEDULED}
    functions = [f for f in SCHEDULED if by_function[f]]
    points: list[CrashPoint] = []
    seen: set[tuple[int, str]] = set()
    for n in range(count * 4):
        if len(points) == count:
            break
        # Three functions and four modes: n walks every pairing within twelve points.
        mode = modes[n % len(modes)]
        function = functions[n % len(functions)]
        write = rng.choice(by_function[function])
        if (write.index, mode) not in seen:
            seen.add((write.index, mode))
            points.append(CrashPoint(mode, write))
    return points


@dataclass(frozen=True, slots=True)
class Sweep:
    writes: int  # DynamoDB writes of the clean run's scheduled runs
    clean_seconds: float
    verdicts: list[Verdict]
    seconds: float

    def summary(self) -> dict[str, Any]:
        outcomes = Counter(v.outcome for v in self.verdicts)
        by_mode = {m: Counter(v.outcome for v in self.verdicts if v.point.mode == m) for m in MODES}
        return {
            "writes_listed": self.writes,
            "points_tried": len(self.verdicts),
            "outcomes": dict(outcomes),
            "by_mode": {m: dict(c) for m, c in by_mode.items() if c},
            "retries": sum(v.retried for v in self.verdicts),
            "events_dropped": sum(len(v.dropped) for v in self.verdicts),
            "seconds": round(self.seconds, 1),
            "clean_run_seconds": round(self.clean_seconds, 1),
            "moved": [{"point": str(v.point), "days": v.moved} for v in self.verdicts if v.ok and v.moved],
            "wrong": [
                {
                    "point": str(v.point),
                    "lost": v.lost,
                    "extra": v.extra,
                    "duplicated": v.duplicated,
                    "moved": v.moved,
                    "late_hours": v.late_hours,
                }
                for v in self.verdicts
                if not v.ok
            ],
        }


def sweep(
    aws: LocalAws,
    scenario: Scenario,
    points: int,
    seed: int,
    *,
    hours: int | None = None,
    keys: Sequence[str] = (),
    progress: Callable[[Verdict], None] | None = None,
) -> Sweep:
    """The clean run, then ``points`` crashed runs chosen with ``seed``, each compared with it;
    with ``keys``, only at writes to items whose key starts with one of them (e.g. ``TARGET#``)."""
    started = time.perf_counter()
    clean = play(aws, scenario, hours=hours)
    candidates = [w for w in clean.writes if not keys or w.key.startswith(tuple(keys))]
    verdicts = []
    for point in choose_points(candidates, points, seed):
        verdict = compare(clean.outcome, play(aws, scenario, point, hours), point)
        verdicts.append(verdict)
        if progress is not None:
            progress(verdict)
    return Sweep(len(clean.writes), clean.seconds, verdicts, time.perf_counter() - started)


def run_crash_sweep(
    scenario_path: Path | None, points: int, seed: int, hours: int | None, keys: Sequence[str] = ()
) -> dict[str, Any]:
    """`rapport crash-sweep`: the sweep on a scenario (default: the shipped one), its figures printed."""
    import json
    import logging

    from rapport.runtime.observability import logger
    from rapport_local.aws import local_aws
    from rapport_local.demo import default_scenario
    from rapport_local.scenario import load_scenario

    scenario = load_scenario(scenario_path or default_scenario())
    logger.setLevel(logging.WARNING)  # thousands of runs: their info lines would drown the figures

    def show(v: Verdict) -> None:
        print(f"{v.outcome:<24} {v.seconds:6.1f} s  {v.point}", flush=True)
        for line in (*v.lost, *v.extra, *v.duplicated, *v.moved):
            print(f"    {line}", flush=True)

    with local_aws() as aws:
        done = sweep(aws, scenario, points, seed, hours=hours, keys=keys, progress=show)
    summary = done.summary() | {"scenario": scenario.name, "hours": hours, "seed": seed, "keys": list(keys)}
    print(json.dumps(summary, indent=2, default=str))
    return summary
