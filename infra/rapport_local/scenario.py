"""Scenarios: a small scripted X world (people, posts, follows) for the demo and the tests.

A scenario is YAML or JSON; ``load_scenario`` turns it into frozen dataclasses or raises ``ScenarioError``
naming the file, the event index and what is wrong. The file's shape is declared in ``scenario_format``;
this module checks what refers to what (users, posts, follows, time order). See ``docs/scenarios.md``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rapport_local.scenario_format import (
    BehaviourEntry,
    CountedReactionEntry,
    EditEntry,
    EditEventEntry,
    EventEntry,
    FollowEventEntry,
    PostEventEntry,
    ReactionEntry,
    RetweetEventEntry,
    ScenarioFile,
    UnfollowEventEntry,
    UserEntry,
)


class ScenarioError(ValueError):
    """A scenario that cannot be loaded, with where (file, event index) and what is wrong."""

    def __init__(self, source: str, detail: str, *, event_index: int | None = None) -> None:
        where = source if event_index is None else f"{source}: events[{event_index}]"
        super().__init__(f"{where}: {detail}")
        self.source = source
        self.event_index = event_index
        self.detail = detail


@dataclass(frozen=True, slots=True)
class UserMetrics:
    """Counts from outside the simulated world; the simulator adds what happens inside it."""

    followers_count: int = 0
    following_count: int = 0
    tweet_count: int = 0
    listed_count: int = 0
    like_count: int = 0


@dataclass(frozen=True, slots=True)
class PostMetrics:
    """Engagement from outside the simulated world; in-world retweets, replies and quotes are added."""

    like_count: int = 0
    retweet_count: int = 0
    reply_count: int = 0
    quote_count: int = 0
    impression_count: int = 0
    bookmark_count: int = 0


@dataclass(frozen=True, slots=True)
class ScenarioUser:
    id: str
    username: str
    name: str
    protected: bool = False
    suspended: bool = False
    followers: tuple[str, ...] = ()  # usernames following this user when the scenario begins
    metrics: UserMetrics = field(default_factory=UserMetrics)
    description: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PostEvent:
    at: datetime
    id: str
    by: str  # username
    text: str
    reply_to: str | None = None  # post id; may be a post from outside the scenario
    quote_of: str | None = None  # post id; may be a post from outside the scenario
    metrics: PostMetrics = field(default_factory=PostMetrics)


@dataclass(frozen=True, slots=True)
class RetweetEvent:
    at: datetime
    id: str
    by: str  # username
    post: str  # id of the retweeted post (a post of this scenario)


@dataclass(frozen=True, slots=True)
class FollowEvent:
    at: datetime
    by: str  # the follower's username
    user: str  # the followed user's username


@dataclass(frozen=True, slots=True)
class UnfollowEvent:
    at: datetime
    by: str
    user: str


@dataclass(frozen=True, slots=True)
class EditEvent:
    at: datetime
    id: str  # the new version's id
    post: str  # the version it replaces (the newest so far)
    text: str


# X's rules for edits (its "Edit Posts" docs): within 30 minutes of posting, at most 5 times.
EDIT_WINDOW = timedelta(minutes=30)
EDITS_MAX = 5

Event = PostEvent | RetweetEvent | EditEvent | FollowEvent | UnfollowEvent


@dataclass(frozen=True, slots=True)
class Reaction:
    """Someone answering what we do: after ``after`` of our acts, with ``probability``, some hours later."""

    probability: float
    hours: tuple[float, float] = (1.0, 12.0)  # the delay is drawn uniformly between the two
    after: int = 1


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How a user acts on their own, so a month needs no scripted posts, and how they react to us."""

    posts_per_day: float = 0.0
    questions: float = 0.0  # share of their posts that ask their network something
    links: float = 0.0  # share of their posts that share a link
    topics: tuple[str, ...] = ("serverless",)
    talks_with: tuple[str, ...] = ()  # usernames a quarter of their posts address: their circle
    thanks: Reaction | None = None  # thanks us after ``after`` of our retweets of their posts
    follows_back: Reaction | None = None  # follows us after ``after`` of our answers to their questions
    replies_to_questions: Reaction | None = None  # answers a question we ask them


@dataclass(frozen=True, slots=True)
class Scenario:
    start: datetime  # aware, UTC
    days: int
    me: ScenarioUser
    users: tuple[ScenarioUser, ...]
    targets: tuple[str, ...]  # usernames
    settings: dict[str, Any]
    events: tuple[Event, ...]
    name: str = ""
    description: str = ""
    source: str = "<memory>"
    seed: int = 0
    behaviours: Mapping[str, Behaviour] = field(default_factory=dict)  # by username
    me_acts: Reaction | None = None  # the simulated me takes each digest suggestion with this chance

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    @property
    def all_users(self) -> tuple[ScenarioUser, ...]:
        return (self.me, *self.users)

    def user(self, username: str) -> ScenarioUser:
        """The user with this username (case-insensitive, as on X)."""
        wanted = username.lower()
        for user in self.all_users:
            if user.username.lower() == wanted:
                return user
        raise KeyError(username)


def load_scenario(path: Path) -> Scenario:
    """Read a scenario file (``.yaml``/``.yml`` or ``.json``) and validate it."""
    source = str(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(source, f"cannot read the file: {exc.strerror or exc}") from exc
    try:
        data = json.loads(raw) if path.suffix.lower() == ".json" else yaml.safe_load(raw)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ScenarioError(
            source, f"not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {exc}"
        ) from exc
    return parse_scenario(data, source=source)


def parse_scenario(data: Any, *, source: str = "<memory>") -> Scenario:
    """Validate already-parsed scenario data (a mapping, as YAML or JSON gives it)."""
    try:
        declared = ScenarioFile.model_validate(data)
    except ValidationError as exc:
        raise _shape_error(source, exc) from None
    return _Resolver(source, declared).scenario()


def _shape_error(source: str, exc: ValidationError) -> ScenarioError:
    """The first problem pydantic found, as a ScenarioError: where in the file, then what, in plain words."""
    error = exc.errors()[0]
    loc = list(error["loc"])
    event_index = None
    if len(loc) >= 2 and loc[0] == "events" and isinstance(loc[1], int):
        event_index = loc[1]
        loc = loc[3:]  # after the index pydantic names the event's kind, which the rest of the path repeats
    detail = f"missing {loc.pop()!r}" if error["type"] == "missing" else error["msg"]
    where = _path(loc)
    return ScenarioError(source, f"{where}: {detail}" if where else detail, event_index=event_index)


def _path(loc: Iterable[int | str]) -> str:
    """``users[0].metrics``: keys joined by dots, list positions in brackets."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "[key]":  # pydantic's mark for a problem with a mapping's key rather than its value
            out += f".{part}" if out else part
    return out


class _Resolver:
    """What refers to what in a well-shaped file: users by handle, posts by id, the follow graph, time."""

    def __init__(self, source: str, declared: ScenarioFile) -> None:
        self.source = source
        self.declared = declared
        self.me = _user(declared.me)
        self.users = tuple(_user(entry) for entry in declared.users)
        self.by_name = self.unique((self.me, *self.users))  # lower-cased: X handles are case-insensitive

    def fail(self, detail: str, event_index: int | None = None) -> ScenarioError:
        return ScenarioError(self.source, detail, event_index=event_index)

    def scenario(self) -> Scenario:
        declared = self.declared
        for user in (self.me, *self.users):
            self.check_followers(user)
        start = declared.start
        return Scenario(
            start=start,
            days=declared.days,
            me=self.me,
            users=self.users,
            targets=self.targets(declared.targets),
            settings=declared.settings,
            events=self.events(declared.events, end=start + timedelta(days=declared.days)),
            name=declared.name,
            description=declared.description,
            source=self.source,
            seed=declared.seed,
            behaviours=self.behaviours(declared.behaviours),
            me_acts=None if declared.me_acts is None else _reaction(declared.me_acts),
        )

    # -- users ----------------------------------------------------------------------------------

    def unique(self, users: Sequence[ScenarioUser]) -> dict[str, ScenarioUser]:
        by_name: dict[str, ScenarioUser] = {}
        ids: set[str] = set()
        for user in users:
            key = user.username.lower()
            if key in by_name:
                raise self.fail(f"username {user.username!r} is used twice")
            if user.id in ids:
                raise self.fail(f"user id {user.id!r} is used twice")
            by_name[key] = user
            ids.add(user.id)
        return by_name

    def check_followers(self, user: ScenarioUser) -> None:
        for follower in user.followers:
            if follower.lower() not in self.by_name:
                raise self.fail(f"{user.username}: followers: unknown user {follower!r}")
            if follower.lower() == user.username.lower():
                raise self.fail(f"{user.username}: followers: a user cannot follow themselves")

    def named(self, name: str, where: str, event_index: int | None = None) -> str:
        """The username as the scenario spells it, for a name given in any case."""
        user = self.by_name.get(name.lower())
        if user is None:
            raise self.fail(f"{where}: unknown user {name!r}", event_index)
        return user.username

    def is_me(self, name: str) -> bool:
        return name.lower() == self.me.username.lower()

    def targets(self, names: Sequence[str]) -> tuple[str, ...]:
        out: list[str] = []
        for name in names:
            out.append(self.named(name, "targets"))
            if self.is_me(name):
                raise self.fail("targets: me cannot be a target")
        return tuple(out)

    # -- behaviours -----------------------------------------------------------------------------

    def behaviours(self, declared: Mapping[str, BehaviourEntry]) -> dict[str, Behaviour]:
        out: dict[str, Behaviour] = {}
        for name, entry in declared.items():
            where = f"behaviours.{name}"
            username = self.named(name, where)
            if self.is_me(name):
                raise self.fail(f"{where}: the simulated me acts on the digest; give it me_acts instead")
            out[username] = Behaviour(
                posts_per_day=entry.posts_per_day,
                questions=entry.questions,
                links=entry.links,
                topics=tuple(entry.topics),
                talks_with=tuple(self.named(n, f"{where}.talks_with") for n in entry.talks_with),
                thanks=_maybe_reaction(entry.thanks),
                follows_back=_maybe_reaction(entry.follows_back),
                replies_to_questions=_maybe_reaction(entry.replies_to_questions),
            )
        return out

    # -- events ---------------------------------------------------------------------------------

    def events(self, declared: Sequence[EventEntry], *, end: datetime) -> tuple[Event, ...]:
        timeline = _Timeline(
            follows={(f.lower(), u.username.lower()) for u in self.by_name.values() for f in u.followers},
            all_ids={e.post.id for e in declared if isinstance(e, PostEventEntry)}
            | {e.retweet.id for e in declared if isinstance(e, RetweetEventEntry)}
            | {e.edit.id for e in declared if isinstance(e, EditEventEntry)},
        )
        out: list[Event] = []
        previous: datetime | None = None
        for index, entry in enumerate(declared):
            event = self.event(entry, index, timeline)
            if previous is not None and event.at < previous:
                raise self.fail(
                    f"at {_iso(event.at)} is before the previous event ({_iso(previous)}); "
                    "events must be in time order",
                    index,
                )
            if event.at > end:
                raise self.fail(f"at {_iso(event.at)} is after the end of the scenario ({_iso(end)})", index)
            previous = event.at
            out.append(event)
        return tuple(out)

    def event(self, entry: EventEntry, index: int, timeline: _Timeline) -> Event:
        match entry:
            case FollowEventEntry(at=at, follow=body) | UnfollowEventEntry(at=at, unfollow=body):
                kind = "follow" if isinstance(entry, FollowEventEntry) else "unfollow"
                by, user = (
                    self.named(body.by, f"{kind}.by", index),
                    self.named(body.user, f"{kind}.user", index),
                )
                if by.lower() == user.lower():
                    raise self.fail(f"{kind}: {by} cannot {kind} themselves", index)
                pair = (by.lower(), user.lower())
                if kind == "follow":
                    if pair in timeline.follows:
                        raise self.fail(f"follow: {by} already follows {user}", index)
                    timeline.follows.add(pair)
                    return FollowEvent(at=at, by=by, user=user)
                if pair not in timeline.follows:
                    raise self.fail(f"unfollow: {by} does not follow {user}", index)
                timeline.follows.discard(pair)
                return UnfollowEvent(at=at, by=by, user=user)
            case RetweetEventEntry(at=at, retweet=body):
                by = self.new_post(body.id, body.by, "retweet", index, timeline)
                original = self.earlier_post(body.post, "retweet.post", index, timeline, must_exist=True)
                timeline.posts.add(body.id)
                return RetweetEvent(at=at, id=body.id, by=by, post=original)
            case EditEventEntry(at=at, edit=body):
                return self.edit(at, body, index, timeline)
            case PostEventEntry(at=at, post=body):
                by = self.new_post(body.id, body.by, "post", index, timeline)
                reply_to = body.reply_to and self.earlier_post(
                    body.reply_to, "post.reply_to", index, timeline
                )
                quote_of = body.quote_of and self.earlier_post(
                    body.quote_of, "post.quote_of", index, timeline
                )
                timeline.posts.add(body.id)
                timeline.chains[body.id] = _Chain(at, [body.id])
                return PostEvent(
                    at=at,
                    id=body.id,
                    by=by,
                    text=body.text,
                    reply_to=reply_to,
                    quote_of=quote_of,
                    metrics=PostMetrics(**body.given_metrics.model_dump()),
                )
        raise AssertionError(f"unknown event {entry!r}")  # pragma: no cover - the union is exhaustive

    def edit(self, at: datetime, body: EditEntry, index: int, timeline: _Timeline) -> EditEvent:
        """A new version of a post, on X's terms: of the newest version, soon enough, not too often."""
        new_id, edited = body.id, body.post
        if new_id in timeline.posts:
            raise self.fail(f"edit.id: post id {new_id!r} is used twice", index)
        self.earlier_post(edited, "edit.post", index, timeline, must_exist=True)
        chain = timeline.chains.get(edited)
        if chain is None:
            raise self.fail(f"edit.post: {edited!r} is a retweet; only a post can be edited", index)
        first_at, versions = chain.posted, chain.versions
        if versions[-1] != edited:
            raise self.fail(f"edit.post: {edited!r} was edited into {versions[-1]!r}; edit that one", index)
        if at > first_at + EDIT_WINDOW:
            raise self.fail(
                f"edit: X allows edits within 30 minutes of posting; {versions[0]!r} was posted at "
                f"{_iso(first_at)}",
                index,
            )
        if len(versions) > EDITS_MAX:
            raise self.fail(
                f"edit: X allows {EDITS_MAX} edits of a post; {versions[0]!r} has had them", index
            )
        versions.append(new_id)
        timeline.chains[new_id] = chain
        timeline.posts.add(new_id)
        return EditEvent(at=at, id=new_id, post=edited, text=body.text)

    def new_post(self, post_id: str, by: str, kind: str, index: int, timeline: _Timeline) -> str:
        """The author's username, once the post's id is known to be new."""
        if post_id in timeline.posts:
            raise self.fail(f"{kind}.id: post id {post_id!r} is used twice", index)
        return self.named(by, f"{kind}.by", index)

    def earlier_post(
        self, ref: str, where: str, index: int, timeline: _Timeline, *, must_exist: bool = False
    ) -> str:
        if ref in timeline.posts:
            return ref
        if ref in timeline.all_ids:
            raise self.fail(f"{where}: post {ref!r} is published later in the scenario", index)
        if must_exist:
            raise self.fail(f"{where}: unknown post {ref!r}", index)
        return ref  # a post from before the scenario (or deleted): X answers "not found" for it


@dataclass(slots=True)
class _Timeline:
    """What the events so far have made true, to check each next event against."""

    follows: set[tuple[str, str]]  # (follower, followed), lower-cased
    all_ids: set[str]  # every post and retweet id in the file
    posts: set[str] = field(default_factory=set)  # the ids published so far
    chains: dict[str, _Chain] = field(default_factory=dict)  # each post's (and version's) id -> its chain


@dataclass(slots=True)
class _Chain:
    """A post and its edits: when it was first posted, and the ids of its versions, oldest first."""

    posted: datetime
    versions: list[str]


def _user(entry: UserEntry) -> ScenarioUser:
    return ScenarioUser(
        id=entry.id,
        username=entry.username,
        name=entry.username if entry.name is None else entry.name,
        protected=entry.protected,
        suspended=entry.suspended,
        followers=tuple(entry.followers),
        metrics=UserMetrics(**entry.given_metrics.model_dump()),
        description=entry.description,
        created_at=entry.created_at,
    )


def _reaction(entry: ReactionEntry) -> Reaction:
    low, high = entry.hours
    after = entry.after if isinstance(entry, CountedReactionEntry) else 1
    return Reaction(probability=entry.probability, hours=(low, high), after=after)


def _maybe_reaction(entry: ReactionEntry | None) -> Reaction | None:
    return None if entry is None else _reaction(entry)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
