"""`rapport bench`: seeded worlds on the X API simulator, Rapport's collector against simpler ones.

For each size (targets), one generated world (or a scenario file) is served to five collectors, each
with its own ledger and rate limits, advanced together on one simulated clock:

- ``rapport``: collect and evaluate as deployed (its DynamoDB table on moto in this process);
- ``since_id``: a cursor per target and for our mentions, everything read, our followers list down to
  the first follower already seen;
- ``since_id_exclude``: the same with ``exclude=retweets,replies``, and our own posts read (owned);
- ``tuitbot``: a TuitBot-like poller: each run looks the targets up by username and reads each one's
  newest posts without a cursor (it drops what it has seen), plus our mentions from a cursor;
- ``naive``: every target's newest page, our mentions and our whole followers list, no cursors.

Each simulator's ledger gives requests, resources billed and dollars. The lower bound is every
resource the method's signals need, read once at its cheapest price (docs/costs.md). A signal (a
target's question while their posts matter, a thanks, an answer to our question, a follow-back) that a
collector never saw is counted as missed: for Rapport, one it did not store.
"""

from __future__ import annotations

import copy
import json
import math
import os
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from moto import mock_aws

from rapport.adapters.dynamodb.stores import dynamodb_stores
from rapport.adapters.dynamodb.table import create_table
from rapport.adapters.x_client import XCredentials, XReader, make_reader
from rapport.domain.model import Interaction, InteractionKind, Target
from rapport.domain.money import OWNED_PRICE, read_price
from rapport.domain.policy import Policy
from rapport.usecases.collect import collect
from rapport.usecases.evaluate import evaluate
from rapport.usecases.ports import EvidenceStore, Stores
from rapport_local.aws import REGION, partition_queries
from rapport_local.scenario import Event, FollowEvent, PostEvent, RetweetEvent, Scenario, ScenarioUser
from rapport_local.xsim.api import XApi
from rapport_local.xsim.billing import Ledger
from rapport_local.xsim.faults import Faults
from rapport_local.xsim.inprocess import mount_in_process
from rapport_local.xsim.ratelimit import RateLimiter
from rapport_local.xsim.server import XSimApp
from rapport_local.xsim.world import World as SimWorld

START = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
HISTORY_DAYS = 7  # targets posted before the first run
ME = ScenarioUser(id="100", username="ana_builds", name="Ana Builds")
KEYS = XCredentials.model_validate(
    {"consumer_key": "k", "consumer_secret": "s", "access_token": "t", "access_token_secret": "u"}
)
POLICY = Policy(x_monthly_budget_usd=10_000)  # the bench measures reads, not the budget
COLLECTORS = ("rapport", "since_id", "since_id_exclude", "tuitbot", "naive")
ALWAYS = (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))
Echo = Callable[[str], None]
Window = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class Signal:
    target_id: str
    kind: InteractionKind | None  # None: any evidence of that post will do (a scenario file's signals)
    post_id: str | None  # None for a follow-back


@dataclass(slots=True)
class World:
    """A scenario and what the method needs of it: when each target's own posts can produce a suggestion
    (not while unresponsive or paused), from when their replies name their circle, and your pauses."""

    scenario: Scenario
    readable: dict[str, list[Window]] = field(default_factory=dict)  # target id -> windows; absent: always
    circle_from: dict[str, datetime] = field(default_factory=dict)  # target id -> step 3 began
    pauses: list[tuple[datetime, str]] = field(default_factory=list)  # (when, target id)
    kinds: dict[str, InteractionKind] = field(default_factory=dict)  # post id -> what it is to the method
    signals: list[Signal] = field(default_factory=list)
    lower_bound: dict[str, float] = field(default_factory=dict)

    def reads(self, target_id: str, at: datetime) -> bool:
        return any(a <= at < b for a, b in self.readable.get(target_id, [ALWAYS]))


# -- worlds that look like X ----------------------------------------------------------------------

TOPICS = ("lambda", "dynamodb", "python", "tracing", "queues", "caching", "auth", "billing")
# How targets ask their network, in turn: most with a wh-word or an asking word, two of nine with neither
# (about the share of tweet-acts' questions without a link that have neither: docs/costs.md), so a
# search narrowed to candidate posts misses some, as it would on X.
QUESTION_FORMS = (
    "How do you handle retries in {topic}?",
    "What's your go-to setup for {topic}?",
    "Anyone running {topic} in production?",
    "Any tips for debugging {topic}?",
    "Which {topic} library would you pick today?",
    "Where do you keep your {topic} config?",
    "Is {topic} worth it for a small team?",
    "Recommendations for a good {topic} course?",
    "Who here has moved {topic} to ARM?",
)


@dataclass(slots=True)
class _Draft:
    at: datetime
    by: str
    text: str = ""
    reply_to: int | None = None  # key of an earlier draft
    retweet_of: int | None = None
    follow: bool = False
    kind: InteractionKind | None = None
    key: int = 0


@dataclass(slots=True)
class _Own:
    """One of a target's own posts (not a retweet, not a reply): what we retweet or answer."""

    at: datetime
    key: int
    question: bool
    link: bool


class _Drafts:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.items: list[_Draft] = []

    def add(self, draft: _Draft) -> int:
        draft.key = len(self.items)
        self.items.append(draft)
        return draft.key

    def when(self, day: float) -> datetime:
        return START + timedelta(days=day, seconds=self.rng.randrange(86_400))

    def hours(self, low: float, high: float) -> timedelta:
        return timedelta(hours=self.rng.uniform(low, high))


def generate(targets: int, days: int, seed: int) -> World:
    """``days`` of X for ``targets`` people, and a week before: seeded, reproducible.

    Each target posts at their own rate (1 a week to 25 a day, log-uniform); a third to a half of it is
    retweets, 15 % replies to their circle (who sometimes answer back), the rest their own posts: 15 %
    questions (``QUESTION_FORMS``), 35 % links. How they respond to us depends on how much they post
    (busy accounts rarely answer strangers): keen ones thank a first retweet, follow back after an
    answer and answer our question; slow ones thank after two; silent ones never do (five retweets
    make them unresponsive), and some of those come back later with a thanks; some you pause. You act
    on each morning's digest as the method says: a retweet every third day, an answer to a fresh
    question, a question once they follow back, then a word to their circle.
    """
    rng = random.Random(seed)
    users = [ScenarioUser(id=str(10_000 + n), username=f"t{n}", name=f"Target {n}") for n in range(targets)]
    circle = [
        ScenarioUser(id=str(700_000 + n), username=f"c{n}", name=f"Circle {n}")
        for n in range(max(6, targets // 2))
    ]
    fans = [
        ScenarioUser(id=str(500_000 + n), username=f"fan{n}", name=f"Fan {n}")
        for n in range(targets // 2 + 5)
    ]
    drafts = _Drafts(rng)
    said: dict[str, list[int]] = {}  # circle member -> their posts' keys, oldest first
    for member in circle:
        said[member.username] = [
            drafts.add(_Draft(drafts.when(day), member.username, f"Thinking about {rng.choice(TOPICS)}"))
            for day in range(-HISTORY_DAYS, days)
            for _ in range(_poisson(rng, 1.0))
        ]
        said[member.username].sort(key=lambda k: drafts.items[k].at)
    world = World(_empty_scenario(days))
    for user in users:
        _live(drafts, user, members=rng.sample(circle, 3), said=said, days=days, world=world)
    for fan in fans:
        drafts.add(_Draft(drafts.when(rng.uniform(0, days - 1)), fan.username, follow=True))
    world.scenario = _scenario(drafts, days=days, users=users, circle=circle, fans=fans, world=world)
    return world


def _poisson(rng: random.Random, rate: float) -> int:
    # Knuth's method fails for large rates: split them in small parts.
    total = 0
    while rate > 0:
        part = min(rate, 10.0)
        limit, k, p = math.exp(-part), 0, rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        total += k
        rate -= part
    return total


def _live(
    drafts: _Drafts,
    user: ScenarioUser,
    *,
    members: list[ScenarioUser],
    said: dict[str, list[int]],
    days: int,
    world: World,
) -> None:
    rng = drafts.rng
    rate = math.exp(rng.uniform(math.log(1 / 7), math.log(25)))
    retweets = rng.uniform(1 / 3, 1 / 2)
    own: list[_Own] = []
    for day in range(-HISTORY_DAYS, days):
        for _ in range(_poisson(rng, rate)):
            at = drafts.when(day)
            roll = rng.random()
            member = rng.choice(members).username
            theirs = [k for k in said[member] if drafts.items[k].at < at][-5:]
            if roll < retweets + 0.15 and theirs:
                parent = rng.choice(theirs)
                if roll < retweets:
                    drafts.add(_Draft(at, user.username, retweet_of=parent))
                    continue
                reply = drafts.add(_Draft(at, user.username, f"@{member} agreed, same here", reply_to=parent))
                if rng.random() < 0.5:  # a circle conversation: they answer back
                    drafts.add(
                        _Draft(at + drafts.hours(0.2, 3), member, f"@{user.username} thanks!", reply_to=reply)
                    )
                continue
            topic = rng.choice(TOPICS)
            kind = rng.random()
            if kind < 0.15:  # the form goes by turn, not by the seed: the world's draws stay the same
                text = QUESTION_FORMS[len(drafts.items) % len(QUESTION_FORMS)].format(topic=topic)
            elif kind < 0.5:
                text = f"Notes on {topic} https://example.com/{user.username}/{rng.randrange(10**6)}"
            else:
                text = f"Shipping {topic} today"
            key = drafts.add(_Draft(at, user.username, text))
            own.append(_Own(at, key, question=kind < 0.15, link=0.15 <= kind < 0.5))
    own.sort(key=lambda o: o.at)
    _Method(drafts, user, members, own, days, world, rate).follow()


@dataclass(slots=True)
class _Method:
    """You, acting on each morning's digest for one target, and how they respond."""

    drafts: _Drafts
    user: ScenarioUser
    members: list[ScenarioUser]
    own: list[_Own]
    days: int
    world: World
    rate: float
    stage: str = "retweet"
    unthanked: int = 0
    retweeted: set[int] = field(default_factory=set)
    answered: set[int] = field(default_factory=set)

    def follow(self) -> None:
        rng = self.drafts.rng
        busy = 0.5 if self.rate < 1 else 0.3 if self.rate < 5 else 0.1
        roll = rng.random()
        character = (
            "keen"
            if roll < busy
            else "slow"
            if roll < busy + 0.2
            else "paused"
            if roll < busy + 0.3
            else "silent"
        )
        comeback = character == "silent" and rng.random() < 0.25
        pause_day = rng.randrange(3, max(4, self.days - 2)) if character == "paused" else None
        windows: list[Window] = []
        opened: datetime | None = START - timedelta(days=HISTORY_DAYS)
        last_retweet, back_on, follow_at = -99, -1, None
        for day in range(self.days):
            morning = START + timedelta(days=day, hours=7)
            act = morning + self.drafts.hours(0.5, 3)
            if pause_day is not None and day == pause_day:
                self.world.pauses.append((morning, self.user.id))
                windows.append((opened or morning, morning))
                opened = None
                break
            if day == back_on:
                at = morning + self.drafts.hours(0, 12)
                self._says(
                    at, f"@{ME.username} thanks for sharing my posts all this time!", InteractionKind.THANKS
                )
                self.stage, self.unthanked, opened = "answer", 0, at
            if self.stage in ("retweet", "answer") and day - last_retweet >= 3:
                post = self._fresh(morning, lambda o: o.key not in self.retweeted, prefer_links=True)
                if post is not None:
                    self.drafts.add(_Draft(act, ME.username, retweet_of=post.key))
                    self.retweeted.add(post.key)
                    last_retweet = day
                    self.unthanked += 1
                    self._after_retweet(character, act)
                    if self.stage == "retweet" and self.unthanked >= 5:
                        self.stage = "unresponsive"
                        windows.append((opened or act, act))
                        opened = None
                        if comeback and day + 6 < self.days:
                            back_on = day + rng.randrange(6, min(14, self.days - day))
            if self.stage in ("answer", "ask", "circle"):
                question = self._fresh(morning, lambda o: o.question and o.key not in self.answered, within=1)
                if question is not None:
                    self.answered.add(question.key)
                    text = f"@{self.user.username} this write-up answers it: https://example.com/guides/{question.key}"
                    self.drafts.add(_Draft(act, ME.username, text, reply_to=question.key))
                    if character == "keen" and follow_at is None and rng.random() < 0.8:
                        follow_at = act + self.drafts.hours(2, 20)
                        self.drafts.add(
                            _Draft(follow_at, self.user.username, follow=True, kind=InteractionKind.FOLLOW)
                        )
                        self.world.circle_from[self.user.id] = follow_at
                        self.stage = "ask"
                        continue
            if self.stage == "ask" and follow_at is not None and act > follow_at:
                ask = self.drafts.add(
                    _Draft(act, ME.username, f"@{self.user.username} how do you test {rng.choice(TOPICS)}?")
                )
                text = (
                    f"@{ME.username} contract tests, mostly. https://example.com/{self.user.username}/a{ask}"
                )
                self.drafts.add(
                    _Draft(
                        act + self.drafts.hours(1, 10),
                        self.user.username,
                        text,
                        reply_to=ask,
                        kind=InteractionKind.REPLY_TO_QUESTION,
                    )
                )
                self.stage = "circle"
            elif self.stage == "circle" and day % 3 == 0:
                member = rng.choice(self.members).username
                self.drafts.add(
                    _Draft(act, ME.username, f"@{member} enjoyed your thread with @{self.user.username}")
                )
        if opened is not None:
            windows.append((opened, ALWAYS[1]))
        self.world.readable[self.user.id] = windows

    def _after_retweet(self, character: str, at: datetime) -> None:
        rng = self.drafts.rng
        if (character == "keen" and rng.random() < 0.9) or (
            character == "slow" and self.unthanked >= 2 and rng.random() < 0.6
        ):
            self._says(
                at + self.drafts.hours(1, 12), f"@{ME.username} thanks for sharing!", InteractionKind.THANKS
            )
            self.unthanked = 0
            if self.stage == "retweet":
                self.stage = "answer"

    def _says(self, at: datetime, text: str, kind: InteractionKind) -> None:
        self.drafts.add(_Draft(at, self.user.username, text, kind=kind))

    def _fresh(
        self, before: datetime, wanted: Callable[[_Own], bool], *, within: int = 3, prefer_links: bool = False
    ) -> _Own | None:
        """The newest post of theirs from the last days that the digest would offer."""
        since = before - timedelta(days=within)
        found = [o for o in self.own if since <= o.at < before and wanted(o)]
        if prefer_links and any(o.link for o in found):
            found = [o for o in found if o.link]
        return found[-1] if found else None


def _empty_scenario(days: int) -> Scenario:
    return Scenario(start=START, days=days, me=ME, users=(), targets=(), settings={}, events=())


def _scenario(
    drafts: _Drafts,
    *,
    days: int,
    users: list[ScenarioUser],
    circle: list[ScenarioUser],
    fans: list[ScenarioUser],
    world: World,
) -> Scenario:
    end = START + timedelta(days=days)
    ordered = sorted((d for d in drafts.items if d.at < end), key=lambda d: (d.at, d.key))
    ids: dict[int, str] = {}
    events: list[Event] = []
    for seq, d in enumerate(ordered):
        post_id = ids[d.key] = str(1_000_000 + seq)
        if d.follow:
            events.append(FollowEvent(d.at, d.by, ME.username))
        elif d.retweet_of is not None:
            events.append(RetweetEvent(d.at, post_id, d.by, ids[d.retweet_of]))
        else:
            reply = ids[d.reply_to] if d.reply_to is not None else None
            events.append(PostEvent(d.at, post_id, d.by, d.text, reply_to=reply))
        if d.kind is not None and not d.follow:
            world.kinds[post_id] = d.kind
    world.pauses = [(at, uid) for at, uid in world.pauses if at < end]
    return Scenario(
        start=START,
        days=days,
        me=ME,
        users=(*users, *circle, *fans),
        targets=tuple(u.username for u in users),
        settings={},
        events=tuple(events),
        name=f"bench-{len(users)}",
    )


# -- what the method needs: its signals and the lower bound ---------------------------------------


def needs(world: World, sim: SimWorld, policy: Policy = POLICY) -> None:
    """The world's signals and lower bound, from what the simulator holds at the end."""
    scenario = world.scenario
    sim.set_now(scenario.end)
    me = sim.me
    targets = [sim.user_named(name) for name in scenario.targets]
    target_ids = {t.id for t in targets if t is not None}
    first_read = scenario.start - timedelta(days=policy.first_read_days)
    timeline = sim.timeline(me.id)
    ours = [p for p in timeline if p.at >= first_read]
    mine = {p.id for p in timeline}
    signals: list[Signal] = []
    originals = to_us = replies = 0
    fresh_from = scenario.start - timedelta(days=policy.freshness_days)
    for target in (t for t in targets if t is not None):
        for post in sim.timeline(target.id):
            if post.retweet_of is not None:
                continue
            speaks_to_us = post.reply_to in mine or any(m.user_id == me.id for m in post.mentions)
            if speaks_to_us:
                if post.at >= first_read:
                    to_us += 1
                if post.at >= scenario.start:
                    signals.append(Signal(target.id, world.kinds.get(post.id), post.id))
                continue
            if not world.reads(target.id, post.at):
                continue
            if post.reply_to is not None:
                step3 = world.circle_from.get(target.id)
                replies += step3 is not None and post.at >= step3
                continue
            if post.at >= fresh_from:
                originals += 1
            if post.at >= scenario.start and "?" in post.text:
                signals.append(Signal(target.id, InteractionKind.TARGET_POST, post.id))
    followers = sim.followers(me.id)
    for follower in followers:
        if follower.user.id in target_ids and follower.since >= scenario.start:
            signals.append(Signal(follower.user.id, InteractionKind.FOLLOW, None))
    new_followers = sum(1 for f in followers if f.since >= scenario.start) + 1  # and the head, read once
    follow_cost = min(OWNED_PRICE * new_followers, read_price("users", owned=False) * len(target_ids))
    requests = sum(math.ceil(n / 100) for n in (originals + replies, len(ours), to_us, new_followers))
    dollars = read_price("posts", owned=False) * (originals + replies) + OWNED_PRICE * (len(ours) + to_us)
    world.signals = signals
    world.lower_bound = {
        "requests": requests,
        "resources": originals + replies + len(ours) + to_us + new_followers,
        "cost_usd": (dollars + follow_cost).dollars,
    }


# -- the collectors --------------------------------------------------------------------------------


class RateLimited(Exception):
    """The simulator answered 429."""


class _Direct:
    """The few X reads the simple collectors make, asked of the simulator's API directly.

    Same answers, limits and bill as through tweepy, without building, signing and parsing an HTTP
    request each time: the simple collectors make four fifths of the bench's requests.
    """

    AUTH: dict[str, str] = {"Authorization": 'OAuth oauth_token="t"'}  # user context, as tweepy signs it

    def __init__(self, app: XSimApp) -> None:
        self.api = app.api

    def get_users_tweets(self, id: str, **params: Any) -> dict[str, Any]:
        return self._get(f"/2/users/{id}/tweets", params)

    def get_users_mentions(self, id: str, **params: Any) -> dict[str, Any]:
        return self._get(f"/2/users/{id}/mentions", params)

    def get_users_followers(self, id: str, **params: Any) -> dict[str, Any]:
        return self._get(f"/2/users/{id}/followers", params)

    def get_users(self, *, usernames: list[str], **params: Any) -> dict[str, Any]:
        return self._get("/2/users/by", {"usernames": usernames, **params})

    def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        query: list[tuple[str, str]] = []
        for name, value in params.items():
            if value is None or name == "user_auth":
                continue
            query.append((name.replace("tweet_fields", "tweet.fields"), _param(value)))
        answer = self.api.handle("GET", path, query, self.AUTH)
        if answer.status == 429:
            raise RateLimited(path)
        return answer.body


def _param(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ",".join(value) if isinstance(value, list) else str(value)


class _Poller:
    """A simple collector: what it was served is what it saw."""

    def __init__(self, app: XSimApp, scenario: Scenario) -> None:
        self.app = app
        self.client = _Direct(app)
        self.scenario = scenario
        self.targets = [scenario.user(name) for name in scenario.targets]
        self.seen: set[str] = set()  # post ids, and "follower:<id>"
        self.cursors: dict[str, str] = {}
        self.after = ""  # where a rate-limited round of timelines resumes

    def run(self, at: datetime) -> None:
        raise NotImplementedError

    def missed(self, signals: Sequence[Signal]) -> int:
        return sum(1 for s in signals if (s.post_id or f"follower:{s.target_id}") not in self.seen)

    def _posts(
        self, source: str, fn: Callable[..., Any], at: datetime, *, cursor: bool, **params: Any
    ) -> None:
        """All pages since the source's cursor (or the first read's days); the cursor moves to the newest."""
        since = self.cursors.get(source) if cursor else None
        if since:
            params["since_id"] = since
        elif cursor:
            params["start_time"] = at - timedelta(days=POLICY.first_read_days)
        token: str | None = None
        while True:
            # Ids are all a simple collector keeps here; X bills a post the same whatever its fields.
            page = fn(user_auth=True, pagination_token=token, **params)
            meta = page.get("meta") or {}
            self.seen.update(str(p["id"]) for p in page.get("data") or [])
            if cursor and token is None and meta.get("newest_id"):
                self.cursors[source] = meta["newest_id"]
            token = meta.get("next_token")
            if not token or not cursor:
                return

    def _round(self, read: Callable[[ScenarioUser], None]) -> None:
        """Each target once, in a rotation a 429 interrupts and the next run resumes."""
        order = [t for t in self.targets if t.id > self.after] + [
            t for t in self.targets if t.id <= self.after
        ]
        for user in order:
            try:
                read(user)
            except RateLimited:
                return
            self.after = user.id
        self.after = ""

    def _followers(self, *, whole: bool) -> None:
        """Our followers list, newest first: down to the first one already seen, or all of it."""
        token: str | None = None
        while True:
            page = self.client.get_users_followers(
                ME.id, max_results=1000, pagination_token=token, user_auth=True
            )
            ids = [f"follower:{u['id']}" for u in page.get("data") or []]
            known = not whole and any(i in self.seen for i in ids)
            self.seen.update(ids)
            token = (page.get("meta") or {}).get("next_token")
            if not token or known:
                return


class SinceId(_Poller):
    """The polling X's docs describe: since_id per target and for mentions; everything is read."""

    exclude: list[str] | None = None
    own_posts = False

    def run(self, at: datetime) -> None:
        c = self.client
        if self.own_posts:
            self._posts("me", c.get_users_tweets, at, cursor=True, id=ME.id, max_results=100)
        self._posts("mentions", c.get_users_mentions, at, cursor=True, id=ME.id, max_results=100)
        self._round(
            lambda u: self._posts(
                u.id, c.get_users_tweets, at, cursor=True, id=u.id, max_results=100, exclude=self.exclude
            )
        )
        self._followers(whole=False)


class SinceIdExclude(SinceId):
    """since_id without retweets and replies (those to us come from mentions), and our own posts."""

    exclude = ["retweets", "replies"]
    own_posts = True


class TuitbotLike(_Poller):
    """Like TuitBot's target loop: each run, a lookup of the targets by username, then each one's
    newest posts (no cursor: it drops what it already has); our mentions from a cursor."""

    def run(self, at: datetime) -> None:
        c = self.client
        try:
            for start in range(0, len(self.targets), 100):
                c.get_users(usernames=[u.username for u in self.targets[start : start + 100]], user_auth=True)
        except RateLimited:
            pass
        self._posts("mentions", c.get_users_mentions, at, cursor=True, id=ME.id, max_results=100)
        self._round(
            lambda u: self._posts(u.id, c.get_users_tweets, at, cursor=False, id=u.id, max_results=10)
        )


class Naive(_Poller):
    """Every target's newest page and all our followers, each run, no cursors; stops at a 429."""

    def run(self, at: datetime) -> None:
        c = self.client
        try:
            for user in self.targets:
                self._posts(user.id, c.get_users_tweets, at, cursor=False, id=user.id, max_results=100)
        except RateLimited:
            pass
        try:
            self._posts("mentions", c.get_users_mentions, at, cursor=False, id=ME.id, max_results=100)
            self._followers(whole=True)
        except RateLimited:
            pass


BASELINES: dict[str, type[_Poller]] = {
    "since_id": SinceId,
    "since_id_exclude": SinceIdExclude,
    "tuitbot": TuitbotLike,
    "naive": Naive,
}


class RapportCollector:
    """collect, then evaluate what it brought, on the DynamoDB table; your pauses as you make them."""

    def __init__(self, app: XSimApp, world: World, stores: Stores, policy: Policy = POLICY) -> None:
        self.app = app
        self.world = world
        self.stores = _with_targets(stores, world.scenario, policy)
        self.pauses = sorted(world.pauses)

    def run(self, at: datetime) -> None:
        while self.pauses and self.pauses[0][0] <= at:
            when, target_id = self.pauses.pop(0)
            stamp = when.strftime("%Y%m%dT%H%M%SZ")
            self.stores.evidence.add_interaction(
                Interaction(f"pause:{stamp}", target_id, InteractionKind.PAUSE, when)
            )
            # As the pause link and `rapport pause` do: the target is evaluated at once, so it rests.
            evaluate(self.stores, [target_id], when)
        report = collect(self.stores, _reader(self.app), at)
        evaluate(self.stores, report.targets_with_news, at)

    def missed(self, signals: Sequence[Signal]) -> int:
        return len(missed_signals(self.stores.evidence, signals))


def memory_stores() -> Stores:
    """Rapport's stores in memory (held to the DynamoDB stores' contract by tests/contract): the bench
    measures X reads, and on moto a month for 1,000 targets spends its time serialising answers."""
    from rapport_local.memory_stores import memory_stores as in_memory

    return in_memory()


def moto_stores() -> Stores:
    """Rapport's DynamoDB stores on a fresh table (moto, inside ``in_process_dynamodb``)."""
    table = f"rapport-bench-{uuid.uuid4().hex[:8]}"
    create_table(table, REGION)
    return dynamodb_stores(table, REGION)


def _with_targets(stores: Stores, scenario: Scenario, policy: Policy) -> Stores:
    stores.settings.put_me(ME.id, ME.username)
    stores.settings.put_policy(policy)
    for name in scenario.targets:
        user = scenario.user(name)
        profile = Target(user.id, user.username, user.name, added_at=START, protected=user.protected)
        stores.targets.put_target(profile)
        added = Interaction(f"added:{START:%Y%m%dT%H%M%SZ}", user.id, InteractionKind.ADDED, START)
        stores.evidence.add_interaction(added)
    return stores


def missed_signals(evidence: EvidenceStore, signals: Sequence[Signal]) -> list[Signal]:
    stored: dict[str, set[tuple[InteractionKind | None, str | None]]] = {}
    for target_id in {s.target_id for s in signals}:
        found = evidence.interactions(target_id)
        stored[target_id] = (
            {(i.kind, i.id) for i in found} | {(i.kind, None) for i in found} | {(None, i.id) for i in found}
        )
    return [s for s in signals if (s.kind, s.post_id) not in stored[s.target_id]]


Runner = RapportCollector | _Poller


def play(shared: XSimApp, runners: Iterable[Runner], every_hours: int) -> None:
    """Run after run on one clock, from the scenario's start to its end."""
    scenario = shared.world.scenario
    now = scenario.start
    while now <= scenario.end:
        shared.world.set_now(now)
        for runner in runners:
            runner.run(now)
        now += timedelta(hours=every_hours)
    # One more run once the last window's rate limits have reset, so a rotation that 900 timelines per
    # 15 minutes cut short (1,000 targets) ends for every collector.
    final = scenario.end + timedelta(minutes=20)
    shared.world.set_now(final)
    for runner in runners:
        runner.run(final)


def served(app: XSimApp) -> XSimApp:
    """Another simulator on the same world (built once): its own ledger, rate limits and faults."""
    other = copy.copy(app)
    other.ledger, other.limiter, other.faults = Ledger(), RateLimiter(), Faults()
    other.api = XApi(other.world, other.ledger, other.limiter, other.faults)
    return other


def bench_world(
    world: World,
    every_hours: int,
    collectors: Sequence[str] = COLLECTORS,
    stores: Callable[[], Stores] = memory_stores,
    *,
    shared: XSimApp | None = None,
    policy: Policy = POLICY,
) -> dict[str, Any]:
    """Every collector on the same world, run after run; each one's bill and missed signals.

    ``shared``: the simulator already built on this world (it only moves its clock), else a new one.
    ``policy``: Rapport's settings (``rapport bench --levers`` turns its search options).
    """
    started = time.monotonic()
    scenario = world.scenario
    shared = shared or XSimApp(scenario)
    needs(world, shared.world)
    runners: dict[str, Runner] = {}
    for name in collectors:
        app = served(shared)
        runners[name] = (
            RapportCollector(app, world, stores(), policy)
            if name == "rapport"
            else BASELINES[name](app, scenario)
        )
    play(shared, runners.values(), every_hours)
    bound = world.lower_bound
    rows = []
    for name, runner in runners.items():
        usage = runner.app.ledger.usage()
        rows.append(
            _row(
                scenario,
                collector=name,
                requests=usage["requests"],
                resources=sum(usage["resources"].values()),
                dollars=float(usage["cost_usd"]),
                bound=bound,
                missed=runner.missed(world.signals),
            )
        )
    rows.append(
        _row(
            scenario,
            collector="lower_bound",
            requests=bound["requests"],
            resources=bound["resources"],
            dollars=bound["cost_usd"],
            bound=bound,
            missed=0,
        )
    )
    return {
        "targets": len(scenario.targets),
        "days": scenario.days,
        "signals": len(world.signals),
        "rows": rows,
        "seconds": round(time.monotonic() - started, 1),
    }


def _row(
    scenario: Scenario,
    *,
    collector: str,
    requests: float,
    resources: float,
    dollars: float,
    bound: dict[str, float],
    missed: int,
) -> dict[str, Any]:
    return {
        "targets": len(scenario.targets),
        "days": scenario.days,
        "collector": collector,
        "requests": int(requests),
        "resources": int(resources),
        "dollars": round(dollars, 3),
        "ratio_to_lower_bound": round(dollars / (bound["cost_usd"] or 1e-9), 3),
        "missed": missed,
    }


def bench_size(targets: int, days: int, every_hours: int, seed: int) -> dict[str, Any]:
    return bench_world(generate(targets, days, seed), every_hours)


def scenario_world(scenario: Scenario) -> World:
    """A scenario file as a bench world: every target's posts always matter; nobody pauses."""
    return World(scenario)


def _reader(app: XSimApp) -> XReader:
    """The real tweepy client, answered by the simulator in this process (no loopback socket)."""
    reader = make_reader(KEYS)
    reader.client.session.trust_env = False  # no proxy lookups per request
    mount_in_process(reader.client.session, app)
    reader.sleep = lambda _seconds: None
    return reader


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


@contextmanager
def _lever_off(name: str) -> Iterator[Policy]:
    """collect as it was before one of its spend levers (docs/costs.md), or with an option that is off
    by default turned on, for ``rapport bench --levers``: the policy to run Rapport with."""
    from rapport.domain.model import Stage
    from rapport.usecases import collect as module

    saved = dict(vars(module))
    off: dict[str, Any] = {
        "resting targets read": {"RESTING_STAGES": ()},
        "targets made unresponsive read to the end of that run": {"retweeted_to_rest": lambda _run: set()},
        "new targets looked up": {"_whole_list": lambda _run, _unchecked, _state: False},
        "targets at the circle looked up for unfollows": {"UNFOLLOW_MATTERS": frozenset(Stage)},
        "targets at step 3 looked up for unfollows every run": {
            "unfollow_every": lambda _policy: timedelta(0)
        },
        "searched targets never checked from their timelines": {"_checks_due": lambda _run, _by, _seen: {}},
    }
    # The search's two settings are the policy's own: no need to reach into collect for them.
    options: dict[str, dict[str, bool]] = {
        "a timeline per target, no batched search": {"batched_search": False},
        "search filtered to candidates": {"search_candidates_only": True},
    }
    changes: dict[str, Any] = off.get(name, {})
    for key, value in changes.items():
        setattr(module, key, value)
    try:
        yield POLICY.model_copy(update=options.get(name, {}))
    finally:
        for key in changes:
            setattr(module, key, saved[key])


LEVERS = (
    "all levers",
    "resting targets read",
    "targets made unresponsive read to the end of that run",
    "new targets looked up",
    "targets at the circle looked up for unfollows",
    "targets at step 3 looked up for unfollows every run",
    "a timeline per target, no batched search",
    "searched targets never checked from their timelines",
    "search filtered to candidates",
)
DOLLAR_LEVERS = LEVERS[1:6]  # the next two trade requests, the last is an option


def lever_rows(targets: int, days: int, every_hours: int, seed: int) -> list[dict[str, Any]]:
    """Rapport alone on one world, each lever turned off in turn: what each one saves."""
    world = generate(targets, days, seed)  # bench_world only reads it (it copies the pauses)
    shared = XSimApp(world.scenario)
    rows = []
    for lever in LEVERS:
        with _lever_off(lever) as policy:
            result = bench_world(world, every_hours, collectors=("rapport",), shared=shared, policy=policy)
        row = result["rows"][0]
        rows.append({**row, "collector": f"rapport, {lever}" if lever != LEVERS[0] else "rapport"})
    return rows


def run_bench(
    sizes: Sequence[int] = (10, 100, 1000),
    days: Sequence[int] = (30,),
    *,
    every_hours: int = 24,
    seed: int = 7,
    scenario: Path | None = None,
    echo: Echo = print,
    as_json: bool = False,
    levers: bool = False,
) -> list[dict[str, Any]]:
    """The comparison on generated worlds (each size and window) or on one scenario file."""
    say: Echo = (lambda _line: None) if as_json else echo
    results: list[dict[str, Any]] = []
    if levers:
        for size in sizes:
            for window in days:
                rows = lever_rows(size, window, every_hours, seed)
                results.append({"targets": size, "days": window, "rows": rows})
    elif scenario is not None:
        from rapport_local.scenario import load_scenario

        say(f"rapport bench: {scenario}, a collect every {every_hours} h")
        results.append(bench_world(scenario_world(load_scenario(scenario)), every_hours))
    else:
        say(f"rapport bench: a collect every {every_hours} h, seed {seed}")
        for window in days:
            for size in sizes:
                result = bench_size(size, window, every_hours, seed)
                results.append(result)
                say(f"  {size} targets, {window} days: {result['seconds']} s")
    if as_json:
        echo(json.dumps([row for r in results for row in r["rows"]], indent=1))
    else:
        say("")
        for line in format_table(results):
            say(line)
    return results


def format_table(results: Sequence[dict[str, Any]]) -> list[str]:
    head = "| targets | days | collector | requests | resources | dollars | vs lower bound | missed signals |"
    lines = [head, "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        for row in r["rows"]:
            missed = "" if row["collector"] == "lower_bound" else str(row["missed"])
            lines.append(
                f"| {row['targets']} | {row['days']} | {row['collector'].replace('_', ' ')} "
                f"| {row['requests']:,} | {row['resources']:,} | ${row['dollars']:,.2f} "
                f"| {row['ratio_to_lower_bound']:.2f}x | {missed} |"
            )
    return lines
