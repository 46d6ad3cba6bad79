"""Scenarios: a small scripted X world (people, posts, follows) for the demo and the tests.

A scenario is YAML or JSON; ``load_scenario`` turns it into frozen dataclasses or raises
``ScenarioError`` naming the file, the event index and what is wrong. See ``docs/xsim.md`` for the format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

_DIGITS = re.compile(r"^[0-9]{1,19}$")  # X's UserId / TweetId pattern
_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,15}$")  # X's UserName pattern
_TOP_KEYS = {
    "start",
    "days",
    "me",
    "users",
    "targets",
    "settings",
    "events",
    "name",
    "description",
    "seed",
    "behaviours",
    "me_acts",
}
_BEHAVIOUR_KEYS = {
    "posts_per_day",
    "questions",
    "links",
    "topics",
    "talks_with",
    "thanks",
    "follows_back",
    "replies_to_questions",
}
_REACTION_KEYS = {"after", "probability", "hours"}
_USER_KEYS = {
    "id",
    "username",
    "name",
    "protected",
    "suspended",
    "followers",
    "metrics",
    "public_metrics",
    "description",
    "created_at",
}
_USER_METRICS = ("followers_count", "following_count", "tweet_count", "listed_count", "like_count")
_POST_METRICS = (
    "like_count",
    "retweet_count",
    "reply_count",
    "quote_count",
    "impression_count",
    "bookmark_count",
)
_EVENT_KINDS = ("post", "retweet", "follow", "unfollow")


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


Event = PostEvent | RetweetEvent | FollowEvent | UnfollowEvent


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
    return _Parser(source).scenario(data)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, detail: str, event_index: int | None = None) -> ScenarioError:
        return ScenarioError(self.source, detail, event_index=event_index)

    def scenario(self, data: Any) -> Scenario:
        if not isinstance(data, Mapping):
            raise self.fail("the scenario must be a mapping with start, days, me, users, targets, events")
        unknown = sorted(set(map(str, data)) - _TOP_KEYS)
        if unknown:
            raise self.fail(f"unknown key(s) {unknown}; expected some of {sorted(_TOP_KEYS)}")
        for key in ("start", "days", "me"):
            if key not in data:
                raise self.fail(f"missing required key {key!r}")
        start = self.when(data["start"], "start")
        days = data["days"]
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise self.fail(f"days: must be a whole number of days >= 1, got {days!r}")

        me = self.user(data["me"], "me")
        users_raw = data.get("users") or []
        if not isinstance(users_raw, list):
            raise self.fail("users: must be a list of users")
        users = tuple(self.user(u, f"users[{i}]") for i, u in enumerate(users_raw))
        by_name = self.check_unique_users((me, *users))
        for user in (me, *users):
            for follower in user.followers:
                if follower.lower() not in by_name:
                    raise self.fail(f"{user.username}: followers: unknown user {follower!r}")
                if follower.lower() == user.username.lower():
                    raise self.fail(f"{user.username}: followers: a user cannot follow themselves")

        targets = self.targets(data.get("targets") or [], by_name, me)
        settings = data.get("settings") or {}
        if not isinstance(settings, Mapping):
            raise self.fail("settings: must be a mapping")
        events = self.events(data.get("events") or [], by_name, (me, *users), start + timedelta(days=days))
        seed = data.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise self.fail(f"seed: expected a whole number, got {seed!r}")
        me_acts = data.get("me_acts")
        return Scenario(
            start=start,
            days=days,
            me=me,
            users=users,
            targets=targets,
            settings=dict(settings),
            events=events,
            name=self.text(data.get("name", ""), "name"),
            description=self.text(data.get("description", ""), "description"),
            source=self.source,
            seed=seed,
            behaviours=self.behaviours(data.get("behaviours") or {}, by_name, me),
            me_acts=None if me_acts is None else self.reaction(me_acts, "me_acts", counted=False),
        )

    # -- behaviours -----------------------------------------------------------------------------

    def behaviours(
        self, value: Any, by_name: Mapping[str, ScenarioUser], me: ScenarioUser
    ) -> dict[str, Behaviour]:
        if not isinstance(value, Mapping):
            raise self.fail("behaviours: expected a mapping of username to behaviour")
        out: dict[str, Behaviour] = {}
        for name, raw in value.items():
            where = f"behaviours.{name}"
            if not isinstance(name, str) or name.lower() not in by_name:
                raise self.fail(f"{where}: unknown user {name!r}")
            if name.lower() == me.username.lower():
                raise self.fail(f"{where}: the simulated me acts on the digest; give it me_acts instead")
            out[by_name[name.lower()].username] = self.behaviour(raw, where, by_name)
        return out

    def behaviour(self, value: Any, where: str, by_name: Mapping[str, ScenarioUser]) -> Behaviour:
        raw = self.mapping(value, where, _BEHAVIOUR_KEYS, f"a mapping with some of {sorted(_BEHAVIOUR_KEYS)}")
        topics = raw.get("topics", ["serverless"])
        if not isinstance(topics, list) or not topics or not all(isinstance(t, str) and t for t in topics):
            raise self.fail(f"{where}.topics: expected a non-empty list of words")
        questions = self.amount(raw.get("questions", 0.0), f"{where}.questions", 1.0)
        links = self.amount(raw.get("links", 0.0), f"{where}.links", 1.0)
        if questions + links > 1:
            raise self.fail(f"{where}: questions and links are shares of one's posts; together at most 1")
        reactions = {
            key: None if raw.get(key) is None else self.reaction(raw[key], f"{where}.{key}", counted=counted)
            for key, counted in (("thanks", True), ("follows_back", True), ("replies_to_questions", False))
        }
        return Behaviour(
            posts_per_day=self.amount(raw.get("posts_per_day", 0.0), f"{where}.posts_per_day", 50.0),
            questions=questions,
            links=links,
            topics=tuple(topics),
            talks_with=self.names(raw.get("talks_with", []), f"{where}.talks_with", by_name),
            **reactions,
        )

    def reaction(self, value: Any, where: str, *, counted: bool) -> Reaction:
        """``counted``: the reaction waits for ``after`` of our acts (answering a question does not)."""
        keys = _REACTION_KEYS if counted else _REACTION_KEYS - {"after"}
        optional = " and ".join(sorted(keys - {"probability"}))
        self.mapping(value, where, keys, f"a mapping with probability, and optionally {optional}")
        if "probability" not in value:
            raise self.fail(f"{where}: missing 'probability' (0 to 1)")
        after = value.get("after", 1)
        if not isinstance(after, int) or isinstance(after, bool) or after < 1:
            raise self.fail(f"{where}.after: expected a whole number >= 1, got {after!r}")
        hours = value.get("hours", [1, 12])
        if (
            not isinstance(hours, list)
            or len(hours) != 2
            or not all(isinstance(h, int | float) and not isinstance(h, bool) for h in hours)
            or not 0 <= hours[0] <= hours[1]
        ):
            raise self.fail(
                f"{where}.hours: expected [low, high] hours of delay, 0 <= low <= high, got {hours!r}"
            )
        return Reaction(
            probability=self.amount(value["probability"], f"{where}.probability", 1.0),
            hours=(float(hours[0]), float(hours[1])),
            after=after,
        )

    def mapping(self, value: Any, where: str, keys: set[str], expected: str) -> Mapping[str, Any]:
        """``value`` as a mapping whose keys are all among ``keys``, or a ScenarioError saying why not."""
        if not isinstance(value, Mapping):
            raise self.fail(f"{where}: expected {expected}")
        unknown = sorted(set(map(str, value)) - keys)
        if unknown:
            raise self.fail(f"{where}: unknown key(s) {unknown}; expected some of {sorted(keys)}")
        return value

    def amount(self, value: Any, where: str, most: float) -> float:
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= most:
            raise self.fail(f"{where}: expected a number from 0 to {most:g}, got {value!r}")
        return float(value)

    def names(self, value: Any, where: str, by_name: Mapping[str, ScenarioUser]) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
            raise self.fail(f"{where}: expected a list of usernames")
        for name in value:
            if name.lower() not in by_name:
                raise self.fail(f"{where}: unknown user {name!r}")
        return tuple(by_name[n.lower()].username for n in value)

    # -- values ---------------------------------------------------------------------------------

    def when(self, value: Any, where: str, event_index: int | None = None) -> datetime:
        if isinstance(value, datetime):
            parsed = value  # YAML turns unquoted timestamps into datetimes already
        elif isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError:
                raise self.fail(
                    f"{where}: {value!r} is not an ISO 8601 time like 2026-03-02T08:00:00Z", event_index
                ) from None
        else:
            raise self.fail(f"{where}: expected an ISO 8601 time string, got {value!r}", event_index)
        if parsed.tzinfo is None:
            raise self.fail(f"{where}: {value!s} has no time zone; add Z for UTC", event_index)
        return parsed.astimezone(UTC)

    def post_id(self, value: Any, where: str, event_index: int | None = None) -> str:
        return self.digits(value, where, event_index)

    def digits(self, value: Any, where: str, event_index: int | None = None) -> str:
        if not isinstance(value, str):
            hint = f' (quote it: "{value}")' if isinstance(value, int) and not isinstance(value, bool) else ""
            raise self.fail(f"{where}: ids must be strings of digits, got {value!r}{hint}", event_index)
        if not _DIGITS.match(value):
            raise self.fail(f"{where}: ids must be strings of 1 to 19 digits, got {value!r}", event_index)
        return value

    def text(self, value: Any, where: str, event_index: int | None = None) -> str:
        if not isinstance(value, str):
            raise self.fail(f"{where}: expected a string, got {value!r}", event_index)
        return value

    def flag(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(f"{where}: expected true or false, got {value!r}")
        return value

    def counts(
        self, value: Any, names: Sequence[str], where: str, event_index: int | None = None
    ) -> dict[str, int]:
        if not isinstance(value, Mapping):
            raise self.fail(f"{where}: expected a mapping of {', '.join(names)}", event_index)
        out: dict[str, int] = {}
        for key, count in value.items():
            if key not in names:
                raise self.fail(
                    f"{where}: unknown metric {key!r}; expected some of {list(names)}", event_index
                )
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise self.fail(f"{where}.{key}: expected a whole number >= 0, got {count!r}", event_index)
            out[str(key)] = count
        return out

    # -- users ----------------------------------------------------------------------------------

    def user(self, value: Any, where: str) -> ScenarioUser:
        self.mapping(value, where, _USER_KEYS, "a mapping with id, username, name")
        for key in ("id", "username"):
            if key not in value:
                raise self.fail(f"{where}: missing {key!r}")
        user_id = self.digits(value["id"], f"{where}.id")
        username = self.text(value["username"], f"{where}.username")
        if not _USERNAME.match(username):
            raise self.fail(f"{where}.username: {username!r} is not an X handle (1-15 letters, digits, _)")
        if "metrics" in value and "public_metrics" in value:
            raise self.fail(f"{where}: give metrics or public_metrics, not both")
        metrics_raw = value.get("metrics", value.get("public_metrics", {}))
        followers = value.get("followers") or []
        if not isinstance(followers, list) or not all(isinstance(f, str) for f in followers):
            raise self.fail(f"{where}.followers: expected a list of usernames")
        created_at = value.get("created_at")
        return ScenarioUser(
            id=user_id,
            username=username,
            name=self.text(value.get("name", username), f"{where}.name"),
            protected=self.flag(value.get("protected", False), f"{where}.protected"),
            suspended=self.flag(value.get("suspended", False), f"{where}.suspended"),
            followers=tuple(followers),
            metrics=UserMetrics(**self.counts(metrics_raw, _USER_METRICS, f"{where}.metrics")),
            description=self.text(value.get("description", ""), f"{where}.description"),
            created_at=None if created_at is None else self.when(created_at, f"{where}.created_at"),
        )

    def check_unique_users(self, users: Sequence[ScenarioUser]) -> dict[str, ScenarioUser]:
        by_name: dict[str, ScenarioUser] = {}
        ids: set[str] = set()
        for user in users:
            key = user.username.lower()  # X handles are case-insensitive
            if key in by_name:
                raise self.fail(f"username {user.username!r} is used twice")
            if user.id in ids:
                raise self.fail(f"user id {user.id!r} is used twice")
            by_name[key] = user
            ids.add(user.id)
        return by_name

    def targets(self, value: Any, by_name: Mapping[str, ScenarioUser], me: ScenarioUser) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail("targets: expected a list of usernames")
        out: list[str] = []
        for name in value:
            if not isinstance(name, str) or name.lower() not in by_name:
                raise self.fail(f"targets: unknown user {name!r}")
            if name.lower() == me.username.lower():
                raise self.fail("targets: me cannot be a target")
            out.append(by_name[name.lower()].username)
        return tuple(out)

    # -- events ---------------------------------------------------------------------------------

    def events(
        self,
        value: Any,
        by_name: Mapping[str, ScenarioUser],
        users: Sequence[ScenarioUser],
        end: datetime,
    ) -> tuple[Event, ...]:
        if not isinstance(value, list):
            raise self.fail("events: expected a list")
        # The follow graph as events unfold, to reject a follow of someone already followed.
        follows = {(f.lower(), u.username.lower()) for u in users for f in u.followers}
        posts: dict[str, datetime] = {}  # ids seen so far (posts and retweets)
        all_ids = self.all_post_ids(value)
        out: list[Event] = []
        previous: datetime | None = None
        for index, raw in enumerate(value):
            event = self.event(raw, index, by_name=by_name, posts=posts, all_ids=all_ids, follows=follows)
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

    @staticmethod
    def all_post_ids(events: list[Any]) -> set[str]:
        ids: set[str] = set()
        for raw in events:
            if isinstance(raw, Mapping):
                for kind in ("post", "retweet"):
                    body = raw.get(kind)
                    if isinstance(body, Mapping) and isinstance(body.get("id"), str):
                        ids.add(body["id"])
        return ids

    def event(
        self,
        raw: Any,
        index: int,
        *,
        by_name: Mapping[str, ScenarioUser],
        posts: dict[str, datetime],
        all_ids: set[str],
        follows: set[tuple[str, str]],
    ) -> Event:
        if not isinstance(raw, Mapping):
            raise self.fail("expected a mapping like {at: ..., post: {...}}", index)
        kinds = [k for k in _EVENT_KINDS if k in raw]
        extra = sorted(set(map(str, raw)) - {"at", *_EVENT_KINDS})
        if extra:
            raise self.fail(
                f"unknown key(s) {extra}; an event has 'at' and one of {list(_EVENT_KINDS)}", index
            )
        if len(kinds) != 1:
            raise self.fail(
                f"an event needs exactly one of {list(_EVENT_KINDS)}, got {kinds or 'none'}", index
            )
        if "at" not in raw:
            raise self.fail("missing 'at'", index)
        at = self.when(raw["at"], "at", index)
        kind = kinds[0]
        body = raw[kind]
        if not isinstance(body, Mapping):
            raise self.fail(f"{kind}: expected a mapping", index)

        def known_user(key: str) -> str:
            name = body.get(key)
            if not isinstance(name, str):
                raise self.fail(f"{kind}.{key}: expected a username, got {name!r}", index)
            if name.lower() not in by_name:
                raise self.fail(f"{kind}.{key}: unknown user {name!r}", index)
            return by_name[name.lower()].username

        def allowed(keys: set[str]) -> None:
            unknown = sorted(set(map(str, body)) - keys)
            if unknown:
                raise self.fail(f"{kind}: unknown key(s) {unknown}; expected some of {sorted(keys)}", index)

        if kind in ("follow", "unfollow"):
            allowed({"by", "user"})
            by, user = known_user("by"), known_user("user")
            if by.lower() == user.lower():
                raise self.fail(f"{kind}: {by} cannot {kind} themselves", index)
            pair = (by.lower(), user.lower())
            if kind == "follow":
                if pair in follows:
                    raise self.fail(f"follow: {by} already follows {user}", index)
                follows.add(pair)
                return FollowEvent(at=at, by=by, user=user)
            if pair not in follows:
                raise self.fail(f"unfollow: {by} does not follow {user}", index)
            follows.discard(pair)
            return UnfollowEvent(at=at, by=by, user=user)

        post_id = self.post_id(body.get("id"), f"{kind}.id", index)
        if post_id in posts:
            raise self.fail(f"{kind}.id: post id {post_id!r} is used twice", index)
        by = known_user("by")

        def earlier_post(key: str, *, must_exist: bool) -> str:
            ref = self.post_id(body.get(key), f"{kind}.{key}", index)
            if ref in posts:
                return ref
            if ref in all_ids:
                raise self.fail(f"{kind}.{key}: post {ref!r} is published later in the scenario", index)
            if must_exist:
                raise self.fail(f"{kind}.{key}: unknown post {ref!r}", index)
            return ref  # a post from before the scenario (or deleted): X answers "not found" for it

        if kind == "retweet":
            allowed({"id", "by", "post"})
            original = earlier_post("post", must_exist=True)
            posts[post_id] = at
            return RetweetEvent(at=at, id=post_id, by=by, post=original)

        allowed({"id", "by", "text", "reply_to", "quote_of", "metrics", "public_metrics"})
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise self.fail("post.text: expected a non-empty string", index)
        reply_to = earlier_post("reply_to", must_exist=False) if body.get("reply_to") is not None else None
        quote_of = earlier_post("quote_of", must_exist=False) if body.get("quote_of") is not None else None
        if "metrics" in body and "public_metrics" in body:
            raise self.fail("post: give metrics or public_metrics, not both", index)
        metrics = self.counts(
            body.get("metrics", body.get("public_metrics", {})), _POST_METRICS, "post.metrics", index
        )
        posts[post_id] = at
        return PostEvent(
            at=at,
            id=post_id,
            by=by,
            text=text,
            reply_to=reply_to,
            quote_of=quote_of,
            metrics=PostMetrics(**metrics),
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
