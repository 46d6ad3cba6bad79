"""`rapport bench`: a seeded month on the X API simulator, Rapport's collector against a naive one.

For each size (targets), one generated world is served by two simulators, advanced together: one is
read by Rapport's collector (with its DynamoDB table on a local moto server), the other by a naive
collector that polls every target's timeline and our followers each run, without cursors. Each
simulator's own ledger gives requests, resources billed and dollars. The lower bound is every new
resource the signals need, read exactly once at its cheapest price (docs/costs.md). A scripted signal
(a thanks, an answer to our question, a follow-back, a target's question) that Rapport did not store
is counted as missed.
"""

from __future__ import annotations

import math
import os
import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import tweepy
from moto import mock_aws

from rapport.adapters.dynamodb.stores import dynamodb_stores
from rapport.adapters.dynamodb.table import create_table
from rapport.adapters.x_client import TWEET_FIELDS, XCredentials, XReader, make_reader
from rapport.domain.model import InteractionKind, Target
from rapport.domain.money import OWNED_PRICE, read_price
from rapport.domain.policy import Policy
from rapport.usecases.collect import collect
from rapport.usecases.ports import EvidenceStore
from rapport_local.aws import REGION, partition_queries
from rapport_local.scenario import Event, FollowEvent, PostEvent, RetweetEvent, Scenario, ScenarioUser
from rapport_local.xsim.behaviour import poisson
from rapport_local.xsim.inprocess import mount_in_process
from rapport_local.xsim.server import XSimApp

START = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
ME = ScenarioUser(id="100", username="ana_builds", name="Ana Builds")
KEYS = XCredentials.model_validate(
    {"consumer_key": "k", "consumer_secret": "s", "access_token": "t", "access_token_secret": "u"}
)
Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Signal:
    target_id: str
    kind: InteractionKind
    post_id: str | None  # None for a follow-back


@dataclass(slots=True)
class World:
    scenario: Scenario
    signals: list[Signal]
    lower_bound: dict[str, float]


@dataclass(slots=True)
class _Draft:
    at: datetime
    by: str
    text: str = ""
    reply_to: int | None = None  # index of an earlier draft
    retweet_of: int | None = None
    follow: bool = False
    signal: tuple[str, InteractionKind] | None = None
    key: int = 0
    posted_id: str = field(default="")


def generate(targets: int, days: int, seed: int) -> World:
    """A month of X for ``targets`` people: seeded posting rates, question and link shares, reactions."""
    rng = random.Random(seed)
    users = [ScenarioUser(id=str(10_000 + n), username=f"t{n}", name=f"Target {n}") for n in range(targets)]
    fans = [
        ScenarioUser(id=str(500_000 + n), username=f"fan{n}", name=f"Fan {n}")
        for n in range(targets // 2 + 5)
    ]
    drafts: list[_Draft] = []

    def when(day: float) -> datetime:
        return START + timedelta(days=day, seconds=rng.randrange(86_400))

    def add(draft: _Draft) -> int:
        draft.key = len(drafts)
        drafts.append(draft)
        return draft.key

    for user in users:
        first = len(drafts)  # this user's drafts start here: no scan of everyone's
        rate = rng.uniform(0.3, 2.0)  # posts a day
        for day in range(days):
            for _ in range(poisson(rng, rate)):
                roll = rng.random()
                if roll < 0.2:
                    text = f"How do you handle retries in {rng.choice(TOPICS)}?"
                    add(_Draft(when(day), user.username, text, signal=(user.id, InteractionKind.TARGET_POST)))
                elif roll < 0.5:
                    add(
                        _Draft(
                            when(day),
                            user.username,
                            f"Notes on {rng.choice(TOPICS)} https://example.com/{rng.randrange(10**6)}",
                        )
                    )
                else:
                    add(_Draft(when(day), user.username, f"Shipping {rng.choice(TOPICS)} today"))
        # Reactions: we retweet one post early on; some thank us for it, some follow back, some answer.
        theirs = [d for d in drafts[first:] if d.at < START + timedelta(days=days - 2)]
        if not theirs:
            continue
        post = rng.choice(theirs)
        rt_at = post.at + timedelta(hours=rng.uniform(1, 12))
        add(_Draft(rt_at, ME.username, retweet_of=post.key))
        if rng.random() < 0.3:  # thanks after our retweet
            ours = add(
                _Draft(
                    rt_at + timedelta(minutes=5),
                    ME.username,
                    f"@{user.username} great point",
                    reply_to=post.key,
                )
            )
            add(
                _Draft(
                    rt_at + timedelta(hours=rng.uniform(1, 20)),
                    user.username,
                    f"@{ME.username} thanks for sharing!",
                    reply_to=ours,
                    signal=(user.id, InteractionKind.THANKS),
                )
            )
            if rng.random() < 0.5:  # follows back after that, and answers our question
                follow_at = rt_at + timedelta(days=1, hours=rng.uniform(0, 12))
                add(_Draft(follow_at, user.username, follow=True, signal=(user.id, InteractionKind.FOLLOW)))
                ask = add(
                    _Draft(
                        follow_at + timedelta(hours=3),
                        ME.username,
                        f"@{user.username} how do you test this?",  # not a reply: to a question, an answer
                    )
                )
                add(
                    _Draft(
                        follow_at + timedelta(hours=rng.uniform(4, 20)),
                        user.username,
                        f"@{ME.username} we use contract tests",
                        reply_to=ask,
                        signal=(user.id, InteractionKind.REPLY_TO_QUESTION),
                    )
                )
    for fan in fans:
        add(_Draft(when(rng.uniform(0, days - 1)), fan.username, follow=True))

    end = START + timedelta(days=days)
    drafts = sorted((d for d in drafts if d.at < end), key=lambda d: (d.at, d.key))
    by_key = {d.key: d for d in drafts}
    events: list[Event] = []
    signals: list[Signal] = []
    for seq, d in enumerate(drafts):
        post_id = str(1_000_000 + seq)
        d.posted_id = post_id
        if d.follow:
            events.append(FollowEvent(d.at, d.by, ME.username))
        elif d.retweet_of is not None:
            events.append(RetweetEvent(d.at, post_id, d.by, by_key[d.retweet_of].posted_id))
        else:
            reply = by_key[d.reply_to].posted_id if d.reply_to is not None else None
            events.append(PostEvent(d.at, post_id, d.by, d.text, reply_to=reply))
        if d.signal is not None:
            target_id, kind = d.signal
            signals.append(Signal(target_id, kind, None if d.follow else post_id))
    scenario = Scenario(
        start=START,
        days=days,
        me=ME,
        users=(*users, *fans),
        targets=tuple(u.username for u in users),
        settings={},
        events=tuple(events),
        name=f"bench-{targets}",
    )
    return World(scenario, signals, _lower_bound(scenario))


TOPICS = ("lambda", "dynamodb", "python", "tracing", "queues", "caching", "auth", "billing")


def _lower_bound(scenario: Scenario) -> dict[str, float]:
    """Every new resource the signals need, read once at its cheapest price, in as few requests as can be.

    Targets' original posts at the post price; our posts, and targets' replies to us, at the owned price
    (our timeline and mentions); follow-backs from our owned followers list (every new follower) or a
    lookup of the targets, whichever is cheaper. Requests: one per 100 resources of each source.
    """
    target_names = set(scenario.targets)
    originals = ours = to_us = followers = 0
    for event in scenario.events:
        if isinstance(event, PostEvent):
            if event.by == ME.username:
                ours += 1
            elif event.by in target_names:
                if event.reply_to is not None or f"@{ME.username}" in event.text:
                    to_us += 1
                else:
                    originals += 1
        elif isinstance(event, RetweetEvent) and event.by == ME.username:
            ours += 1
        elif isinstance(event, FollowEvent):
            followers += 1
    follow_cost = min(OWNED_PRICE * followers, read_price("users", owned=False) * len(target_names))
    requests = sum(math.ceil(n / 100) for n in (originals, ours, to_us, followers))
    dollars = (
        read_price("posts", owned=False) * originals + OWNED_PRICE * (ours + to_us) + follow_cost
    ).dollars
    return {"requests": requests, "resources": originals + ours + to_us + followers, "cost_usd": dollars}


def _naive_run(client: tweepy.Client, scenario: Scenario) -> None:
    """Every target's newest page and all our followers, each run, no cursors; stops at a 429."""
    try:
        for user in scenario.users[: len(scenario.targets)]:
            client.get_users_tweets(user.id, max_results=100, tweet_fields=TWEET_FIELDS, user_auth=True)
    except tweepy.TooManyRequests:
        pass
    try:
        client.get_users_mentions(ME.id, max_results=100, tweet_fields=TWEET_FIELDS, user_auth=True)
        token = None
        while True:
            page = client.get_users_followers(ME.id, max_results=1000, pagination_token=token, user_auth=True)
            token = (page.get("meta") or {}).get("next_token") if isinstance(page, dict) else None
            if not token:
                break
    except tweepy.TooManyRequests:
        pass


def missed_signals(evidence: EvidenceStore, signals: Sequence[Signal]) -> list[Signal]:
    stored: dict[str, set[tuple[InteractionKind, str | None]]] = {}
    for target_id in {s.target_id for s in signals}:
        found = evidence.interactions(target_id)
        stored[target_id] = {(i.kind, i.id) for i in found} | {(i.kind, None) for i in found}
    return [s for s in signals if (s.kind, s.post_id) not in stored[s.target_id]]


def bench_size(targets: int, days: int, every_hours: int, seed: int) -> dict[str, Any]:
    world = generate(targets, days, seed)
    scenario = world.scenario
    table = f"rapport-bench-{uuid.uuid4().hex[:8]}"
    create_table(table, REGION)
    stores = dynamodb_stores(table, REGION)
    stores.settings.put_me(ME.id, ME.username)
    stores.settings.put_policy(
        Policy(x_monthly_budget_usd=10_000)
    )  # the bench measures reads, not the budget
    for user in scenario.users[:targets]:
        stores.targets.put_target(Target(id=user.id, username=user.username, name=user.name, added_at=START))
    started = time.monotonic()
    ours, naive = XSimApp(scenario), XSimApp(scenario)
    naive_client = _reader(naive).client
    now = START
    while now <= scenario.end:
        ours.world.set_now(now)
        naive.world.set_now(now)
        collect(stores, _reader(ours), now)
        _naive_run(naive_client, scenario)
        now += timedelta(hours=every_hours)
    # One more run after the month's last window (rate limits have reset), to finish a rotation.
    final = scenario.end + timedelta(minutes=20)
    ours.world.set_now(final)
    collect(stores, _reader(ours), final)
    rapport_usage, naive_usage = ours.ledger.usage(), naive.ledger.usage()
    return {
        "targets": targets,
        "signals": len(world.signals),
        "missed": len(missed := missed_signals(stores.evidence, world.signals)),
        "missed_signals": [f"{m.kind.value} {m.target_id} {m.post_id or ''}" for m in missed],
        "rapport": _figures(rapport_usage),
        "naive": _figures(naive_usage),
        "lower_bound": world.lower_bound,
        "seconds": round(time.monotonic() - started, 1),
    }


def _reader(app: XSimApp) -> XReader:
    """The real tweepy client, answered by the simulator in this process (no loopback socket)."""
    reader = make_reader(KEYS)
    reader.client.session.trust_env = False  # no proxy lookups per request
    mount_in_process(reader.client.session, app)
    reader.sleep = lambda _seconds: None
    return reader


def _figures(usage: dict[str, Any]) -> dict[str, float]:
    return {
        "requests": usage["requests"],
        "resources": sum(usage["resources"].values()),
        "cost_usd": float(usage["cost_usd"]),
    }


@contextmanager
def in_process_dynamodb() -> Iterator[None]:
    """DynamoDB for the bench: moto in this process. The bench measures X reads, not the table."""
    saved = dict(os.environ)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106 - moto accepts any key
        AWS_DEFAULT_REGION=REGION,
    )
    try:
        with mock_aws(), faster_moto():
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def faster_moto() -> Iterator[None]:
    """moto, in this process (mock_aws or a ThreadedMotoServer), without the whole-table work that
    makes a large table slow; what it answers is unchanged."""
    with _no_transaction_backup(), partition_queries():
        yield


class _ShallowCopy:
    """moto deep-copies a whole table before each transaction, to roll it back on failure; with tens of
    thousands of items that copy, not Rapport, would be the bench's time. The bench's transactions (a
    follow change: a conditional put, then an update) fail only on their first item, before any write."""

    @staticmethod
    def deepcopy(value: Any) -> Any:
        return value


@contextmanager
def _no_transaction_backup() -> Iterator[None]:
    import moto.dynamodb.models as dynamodb_models

    backend = dynamodb_models.DynamoDBBackend
    original = backend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = vars(dynamodb_models)["copy"]
        setattr(dynamodb_models, "copy", _ShallowCopy)  # noqa: B010 - a module attribute mypy cannot see
        try:
            original(self, transact_items)
        finally:
            setattr(dynamodb_models, "copy", saved)  # noqa: B010

    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        backend.transact_write_items = original  # type: ignore[method-assign]


def run_bench(
    sizes: Sequence[int] = (10, 100, 1000),
    days: int = 30,
    every_hours: int = 12,
    seed: int = 7,
    echo: Echo = print,
) -> list[dict[str, Any]]:
    echo(f"rapport bench: {days} simulated days, a collect every {every_hours} h, seed {seed}")
    results = []
    with in_process_dynamodb():
        for size in sizes:
            result = bench_size(size, days, every_hours, seed)
            results.append(result)
            echo(f"  {size} targets: done in {result['seconds']} s")
    echo("")
    for line in format_table(results):
        echo(line)
    return results


def format_table(results: Sequence[dict[str, Any]]) -> list[str]:
    head = "| targets | collector | requests | resources | dollars | vs lower bound | missed signals |"
    lines = [head, "| ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        bound = r["lower_bound"]["cost_usd"] or 1e-9
        for name in ("rapport", "naive", "lower_bound"):
            f = r[name]
            missed = str(r["missed"]) if name == "rapport" else ""
            label = name.replace("_", " ")
            lines.append(
                f"| {r['targets']} | {label} | {int(f['requests']):,} | {int(f['resources']):,} "
                f"| ${f['cost_usd']:,.2f} | {f['cost_usd'] / bound:.2f}x | {missed} |"
            )
    return lines
