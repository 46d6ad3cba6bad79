"""The user's policy: every threshold of the method, in one typed object the admin can edit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator


def plain_text(value: str) -> str:
    """Text DynamoDB and an email can carry: no control characters but new lines and tabs, and no
    lone surrogate (JSON's "\\ud800" decodes to one, and UTF-8 cannot encode it)."""
    for char in value:
        if (char < " " and char not in "\n\t") or char == "\x7f" or "\ud800" <= char <= "\udfff":
            raise ValueError(f"the character {char!r} is not allowed")
    return value


def _known_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    # OSError: a name of the zone database's folders ("America" is a directory) or too long a path.
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/London") from exc
    return value


TOPIC_MAX = 50  # characters of one topic
TOPICS_MAX = 50  # the user's own topics
TimeZoneName = Annotated[str, Field(max_length=64), AfterValidator(_known_timezone)]
Topic = Annotated[str, Field(max_length=TOPIC_MAX), AfterValidator(plain_text)]
DigestHour = Annotated[int, Field(ge=0, le=23, description="local hour the digest is sent")]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
LookbackDay = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "never"]
MonthlyBudgetUSD = Annotated[float, Field(ge=0, le=10_000, description="X API spend per month")]

# The link library's limits: the whole policy is one DynamoDB item (400 KB), and a title or topic is
# something a person types, not a document.
MAX_LINKS = 50
MAX_URL_CHARS = 500
MAX_TITLE_CHARS = 100
MAX_LINK_TOPICS = 8
MAX_TOPIC_CHARS = 40


def _web_address(value: str) -> str:
    url = value.strip()
    scheme, _, rest = url.partition("://")
    if scheme.lower() not in ("http", "https") or not rest or any(c.isspace() for c in url):
        raise ValueError(f"expected an http(s) address without spaces, got {value!r}")
    return url


class Resource(BaseModel):
    """One of the person's own useful resources: what an answer to a question can point to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: Annotated[str, Field(min_length=8, max_length=MAX_URL_CHARS), AfterValidator(_web_address)]
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE_CHARS)]
    topics: tuple[Annotated[str, Field(max_length=MAX_TOPIC_CHARS)], ...] = Field(
        default=(), max_length=MAX_LINK_TOPICS, description="what it helps with: matched against questions"
    )

    @field_validator("title")
    @classmethod
    def _one_line_title(cls, value: str) -> str:
        title = " ".join(value.split())
        if not title:
            raise ValueError("a title needs at least one visible character")
        return title

    @field_validator("topics")
    @classmethod
    def _normalise_topics(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(" ".join(t.lower().split()) for t in value if t.strip()))


class PolicyDefaults(BaseModel):
    """The stack's deploy-time answers (TimeZone, DigestHour, XMonthlyBudgetUSD): defaults of the policy.

    Settings saved with update_settings win over them. Whoever reads the environment passes them in,
    so the domain itself never does.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: TimeZoneName = "UTC"
    digest_hour: DigestHour = 7
    x_monthly_budget_usd: MonthlyBudgetUSD = 5.0

    def policy(self, stored: Mapping[str, Any] | None = None) -> Policy:
        """The policy in force: what was stored, these defaults for what was not."""
        return Policy.model_validate(self.model_dump() | dict(stored or {}))


class Policy(BaseModel):
    """Thresholds and preferences. Stored in DynamoDB; defaults follow the method's advice."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    thanks_to_advance: int = Field(default=1, ge=1, le=10, description="thanks that move retweet -> answer")
    retweets_before_giving_up: int = Field(
        default=5, ge=1, le=50, description="our retweets with no response before a target is unresponsive"
    )
    retweet_suggestions_per_week: int = Field(default=2, ge=0, le=14)
    circle_size: int = Field(default=3, ge=2, le=3, description="people of their circle to engage")
    freshness_days: int = Field(default=3, ge=1, le=14, description="older posts are not worth acting on")
    first_read_days: int = Field(default=7, ge=1, le=7, description="history read when a target is added")
    batched_search: bool = Field(
        default=True, description="read targets' new posts with a few recent searches, not a timeline each"
    )
    search_candidates_only: bool = Field(
        default=False,
        description="the batched search returns only posts with a link or an asking word: fewer post "
        "reads, but a question asked without one is missed (docs/costs.md)",
    )
    topics: tuple[Topic, ...] = Field(
        default=(), max_length=TOPICS_MAX, description="what you know about: ranks questions and asks"
    )
    timezone: TimeZoneName = "UTC"
    digest_hour: DigestHour = 7
    daily_actions: int = Field(default=5, ge=1, le=50, description="the digest's attention budget")
    send_empty_digest: bool = Field(
        default=False, description="a one-line digest when nothing is worth doing (off: nothing is sent)"
    )
    weekly_lookback: LookbackDay = Field(
        default="sunday", description="the day of the week the look-back email goes out, or never"
    )
    cadence_days: int = Field(
        default=7, ge=1, le=90, description="no interaction for longer than this: the target is losing touch"
    )
    x_monthly_budget_usd: MonthlyBudgetUSD = 5.0
    digest_paused: bool = Field(
        default=False, description="no digest is sent while paused (the digest's pause link sets it)"
    )
    links: tuple[Resource, ...] = Field(
        default=(), max_length=MAX_LINKS, description="your own resources, offered in answers to questions"
    )

    @field_validator("links")
    @classmethod
    def _one_entry_per_url(cls, value: tuple[Resource, ...]) -> tuple[Resource, ...]:
        seen: set[str] = set()
        for link in value:
            if link.url in seen:
                raise ValueError(f"{link.url} is in the library twice")
            seen.add(link.url)
        return value

    @field_validator("topics")
    @classmethod
    def _normalise_topics(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.strip().lower() for t in value if t.strip()))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def lookback_on(self, day: date) -> bool:
        """Whether ``day`` (a local date) is the day of the week for the look-back."""
        return self.weekly_lookback != "never" and WEEKDAYS[day.weekday()] == self.weekly_lookback
