"""The scenario file format, declared: which keys a scenario file has and what each one holds.

These models check the *shape* of a file (keys, types, ranges) and say each problem in plain words;
``rapport_local.scenario`` then checks what refers to what (users, posts, follows, time order) and builds
the frozen dataclasses the simulator runs on. ``docs/scenarios.md`` describes the same format for people.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Strict,
    Tag,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

EVENT_KINDS = ("post", "retweet", "edit", "follow", "unfollow")
PROBLEM = "scenario"  # the error type of every problem said here, in the file's own words


def problem(template: str, **parts: str) -> PydanticCustomError:
    """A problem in plain words; each ``{name}`` in the template is filled with that part, as given."""
    return PydanticCustomError(PROBLEM, template, dict(parts))


def _said(template: str) -> WrapValidator:
    """Pydantic's own check of a value, its failure told in the scenario's words (``{got}``: the value)."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise problem(template, got=repr(value)) from None

    return WrapValidator(check)


def _listed(what: str) -> BeforeValidator:
    """A list whose items have their own model; left out, null or empty is ``[]``; not a list, ``what``."""

    def check(value: Any) -> Any:
        if not value:
            return []
        if not isinstance(value, list):
            raise problem(what)
        return value

    return BeforeValidator(check)


def _mapped(what: str) -> BeforeValidator:
    """A mapping whose values have their own model; left out, null or empty is ``{}``; else ``what``."""

    def check(value: Any) -> Any:
        if not value:
            return {}
        if not isinstance(value, Mapping):
            raise problem(what)
        return dict(value)

    return BeforeValidator(check)


def _x_id(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        if isinstance(value, str):
            raise problem("ids must be strings of 1 to 19 digits, got {got}", got=repr(value)) from None
        hint = f' (quote it: "{value}")' if isinstance(value, int) and not isinstance(value, bool) else ""
        raise problem("ids must be strings of digits, got {got}{hint}", got=repr(value), hint=hint) from None


def _moment(value: Any) -> datetime:
    """An aware time, from an ISO 8601 string or the datetime YAML makes of an unquoted timestamp."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise problem(
                "{got} is not an ISO 8601 time like 2026-03-02T08:00:00Z", got=repr(value)
            ) from None
    else:
        raise problem("expected an ISO 8601 time string, got {got}", got=repr(value))
    if moment.tzinfo is None:
        raise problem("{got} has no time zone; add Z for UTC", got=str(value))
    return moment.astimezone(UTC)


def _in_order(hours: list[float]) -> list[float]:
    if hours[0] > hours[1]:
        raise ValueError("low above high")
    return hours


_NULL_AS_EMPTY = BeforeValidator(lambda value: value or [])  # a key left null lists no one

# X writes user and post ids as strings of digits; YAML would make an unquoted id a number.
XId = Annotated[str, Strict(), Field(pattern=r"^[0-9]{1,19}$"), WrapValidator(_x_id)]
Handle = Annotated[
    str,
    Strict(),
    Field(pattern=r"^[A-Za-z0-9_]{1,15}$"),
    _said("{got} is not an X handle (1-15 letters, digits, _)"),
]
Username = Annotated[str, Strict(), _said("expected a username, got {got}")]
Usernames = Annotated[list[str], Strict(), _said("expected a list of usernames"), _NULL_AS_EMPTY]
Text = Annotated[str, Strict(), _said("expected a string, got {got}")]
Words = Annotated[str, Strict(), Field(pattern=r"\S"), _said("expected a non-empty string")]
Flag = Annotated[bool, Strict(), _said("expected true or false, got {got}")]
Count = Annotated[int, Strict(), Field(ge=0), _said("expected a whole number >= 0, got {got}")]
Moment = Annotated[datetime, PlainValidator(_moment)]
Share = Annotated[float, Strict(), Field(ge=0, le=1), _said("expected a number from 0 to 1, got {got}")]
PostsPerDay = Annotated[
    float, Strict(), Field(ge=0, le=50), _said("expected a number from 0 to 50, got {got}")
]
Hours = Annotated[
    list[Annotated[float, Strict(), Field(ge=0)]],
    Strict(),
    Field(min_length=2, max_length=2),
    AfterValidator(_in_order),
    _said("expected [low, high] hours of delay, 0 <= low <= high, got {got}"),
]
Topics = Annotated[
    list[Annotated[str, Strict(), Field(min_length=1)]],
    Strict(),
    Field(min_length=1),
    _said("expected a non-empty list of words"),
]


class Entry(BaseModel):
    """A mapping in the file: it has only the keys its model declares."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    not_a_mapping: ClassVar[str | None] = None  # None: "expected a mapping with some of" its keys

    @model_validator(mode="before")
    @classmethod
    def _only_declared_keys(cls, data: Any) -> Any:
        # Before pydantic's own checks, so a typo is named with the keys that would be right.
        declared = sorted(cls.model_fields)
        if not isinstance(data, Mapping):
            raise problem("{what}", what=cls.not_a_mapping or f"expected a mapping with some of {declared}")
        unknown = sorted(set(map(str, data)) - set(declared))
        if unknown:
            raise problem(
                "unknown key(s) {unknown}; expected some of {declared}",
                unknown=repr(unknown),
                declared=repr(declared),
            )
        return dict(data)


# -- reactions and behaviours -----------------------------------------------------------------------


class ReactionEntry(Entry):
    """Someone answering what we do, with ``probability``, a delay drawn between ``hours``."""

    not_a_mapping = "expected a mapping with probability, and optionally hours"
    probability: Share
    hours: Hours = Field(default_factory=lambda: [1.0, 12.0])


class CountedReactionEntry(ReactionEntry):
    """A reaction that waits for ``after`` of our acts (a thanks, a follow-back)."""

    not_a_mapping = "expected a mapping with probability, and optionally after and hours"
    after: Annotated[int, Strict(), Field(ge=1), _said("expected a whole number >= 1, got {got}")] = 1


class BehaviourEntry(Entry):
    posts_per_day: PostsPerDay = 0.0
    questions: Share = 0.0
    links: Share = 0.0
    topics: Topics = Field(default_factory=lambda: ["serverless"])
    talks_with: Usernames = Field(default_factory=list)
    thanks: CountedReactionEntry | None = None
    follows_back: CountedReactionEntry | None = None
    replies_to_questions: ReactionEntry | None = None

    @model_validator(mode="after")
    def _shares_fit_in_one(self) -> Self:
        if self.questions + self.links > 1:
            raise problem("questions and links are shares of one's posts; together at most 1")
        return self


# -- users ------------------------------------------------------------------------------------------


class UserMetricsEntry(Entry):
    followers_count: Count = 0
    following_count: Count = 0
    tweet_count: Count = 0
    listed_count: Count = 0
    like_count: Count = 0


class UserEntry(Entry):
    not_a_mapping = "expected a mapping with id, username, name"
    id: XId
    username: Handle
    name: Text | None = None  # the username when left out
    protected: Flag = False
    suspended: Flag = False
    followers: Usernames = Field(default_factory=list)
    metrics: UserMetricsEntry | None = None
    public_metrics: UserMetricsEntry | None = None  # X's own name for metrics
    description: Text = ""
    created_at: Moment | None = None

    @model_validator(mode="after")
    def _one_name_for_metrics(self) -> Self:
        if self.metrics is not None and self.public_metrics is not None:
            raise problem("give metrics or public_metrics, not both")
        return self

    @property
    def given_metrics(self) -> UserMetricsEntry:
        return self.metrics or self.public_metrics or UserMetricsEntry()


# -- events -----------------------------------------------------------------------------------------


class PostMetricsEntry(Entry):
    like_count: Count = 0
    retweet_count: Count = 0
    reply_count: Count = 0
    quote_count: Count = 0
    impression_count: Count = 0
    bookmark_count: Count = 0


class PostEntry(Entry):
    id: XId
    by: Username
    text: Words
    reply_to: XId | None = None
    quote_of: XId | None = None
    metrics: PostMetricsEntry | None = None
    public_metrics: PostMetricsEntry | None = None

    @model_validator(mode="after")
    def _one_name_for_metrics(self) -> Self:
        if self.metrics is not None and self.public_metrics is not None:
            raise problem("give metrics or public_metrics, not both")
        return self

    @property
    def given_metrics(self) -> PostMetricsEntry:
        return self.metrics or self.public_metrics or PostMetricsEntry()


class RetweetEntry(Entry):
    id: XId
    by: Username
    post: XId


class EditEntry(Entry):
    """A new version of a post by its author (X: within 30 minutes of posting, a new id each time)."""

    id: XId
    post: XId
    text: Words


class FollowEntry(Entry):
    by: Username
    user: Username


class PostEventEntry(Entry):
    at: Moment
    post: PostEntry


class RetweetEventEntry(Entry):
    at: Moment
    retweet: RetweetEntry


class EditEventEntry(Entry):
    at: Moment
    edit: EditEntry


class FollowEventEntry(Entry):
    at: Moment
    follow: FollowEntry


class UnfollowEventEntry(Entry):
    at: Moment
    unfollow: FollowEntry


def _one_kind(raw: Any) -> Any:
    """An event is ``at`` and exactly one kind; said here, before the kind's own model checks the rest."""
    if not isinstance(raw, Mapping):
        raise problem("expected a mapping like {like}", like="{at: ..., post: {...}}")
    unknown = sorted(set(map(str, raw)) - {"at", *EVENT_KINDS})
    if unknown:
        raise problem(
            "unknown key(s) {unknown}; an event has 'at' and one of {kinds}",
            unknown=repr(unknown),
            kinds=repr(list(EVENT_KINDS)),
        )
    kinds = [kind for kind in EVENT_KINDS if kind in raw]
    if len(kinds) != 1:
        raise problem(
            "an event needs exactly one of {kinds}, got {got}",
            kinds=repr(list(EVENT_KINDS)),
            got=repr(kinds) if kinds else "none",
        )
    return raw


def _kind(raw: Any) -> str | None:
    return next((kind for kind in EVENT_KINDS if kind in raw), None) if isinstance(raw, Mapping) else None


EventEntry = Annotated[
    Annotated[PostEventEntry, Tag("post")]
    | Annotated[RetweetEventEntry, Tag("retweet")]
    | Annotated[EditEventEntry, Tag("edit")]
    | Annotated[FollowEventEntry, Tag("follow")]
    | Annotated[UnfollowEventEntry, Tag("unfollow")],
    Discriminator(_kind),
    BeforeValidator(_one_kind),
]


# -- the file ---------------------------------------------------------------------------------------


class ScenarioFile(Entry):
    not_a_mapping = "the scenario must be a mapping with start, days, me, users, targets, events"
    start: Moment
    days: Annotated[int, Strict(), Field(ge=1), _said("must be a whole number of days >= 1, got {got}")]
    me: UserEntry
    users: Annotated[list[UserEntry], _listed("must be a list of users")] = Field(default_factory=list)
    targets: Usernames = Field(default_factory=list)
    settings: Annotated[
        dict[str, Any], _said("must be a mapping of setting names to values"), _mapped("must be a mapping")
    ] = Field(default_factory=dict)
    events: Annotated[list[EventEntry], _listed("expected a list")] = Field(default_factory=list)
    name: Text = ""
    description: Text = ""
    seed: Annotated[int, Strict(), _said("expected a whole number, got {got}")] = 0
    behaviours: Annotated[
        dict[Username, BehaviourEntry], _mapped("expected a mapping of username to behaviour")
    ] = Field(default_factory=dict)
    me_acts: ReactionEntry | None = None  # the simulated me takes each suggestion with this chance
