"""Query parameters of the simulated endpoints, checked as X checks them (names, enums, ranges, patterns).

The lists mirror X's OpenAPI description (2.159); the tests compare every request the simulator accepts
with that description, so a drift shows up there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

TWEET_FIELDS = (
    "article", "attachments", "author_id", "card_uri", "community_id", "context_annotations",
    "conversation_id", "created_at", "display_text_range", "edit_controls", "edit_history_tweet_ids",
    "entities", "geo", "id", "in_reply_to_user_id", "lang", "media_metadata", "non_public_metrics",
    "note_tweet", "organic_metrics", "possibly_sensitive", "promoted_metrics", "public_metrics",
    "referenced_tweets", "reply_settings", "scopes", "source", "suggested_source_links",
    "suggested_source_links_with_counts", "text", "withheld",
)  # fmt: skip
USER_FIELDS = (
    "affiliation", "confirmed_email", "connection_status", "created_at", "description", "entities", "id",
    "is_identity_verified", "location", "most_recent_tweet_id", "name", "parody", "pinned_tweet_id",
    "profile_banner_url", "profile_image_url", "protected", "public_metrics", "receives_your_dm",
    "subscription", "subscription_type", "url", "username", "verified", "verified_followers_count",
    "verified_type", "withheld",
)  # fmt: skip
TWEET_EXPANSIONS = (
    "article.cover_media", "article.media_entities", "attachments.media_keys",
    "attachments.media_source_tweet", "attachments.poll_ids", "author_id", "edit_history_tweet_ids",
    "entities.mentions.username", "geo.place_id", "in_reply_to_user_id", "entities.note.mentions.username",
    "referenced_tweets.id", "referenced_tweets.id.attachments.media_keys", "referenced_tweets.id.author_id",
)  # fmt: skip
USER_EXPANSIONS = ("affiliation.user_id", "most_recent_tweet_id", "pinned_tweet_id")
MEDIA_FIELDS = (
    "alt_text", "duration_ms", "height", "media_key", "non_public_metrics", "organic_metrics",
    "preview_image_url", "promoted_metrics", "public_metrics", "type", "url", "variants", "width",
)  # fmt: skip
POLL_FIELDS = ("duration_minutes", "end_datetime", "id", "options", "voting_status")
PLACE_FIELDS = (
    "contained_within", "country", "country_code", "full_name", "geo", "id", "name", "place_type",
)  # fmt: skip
EXCLUDE = ("replies", "retweets")
SORT_ORDERS = ("recency", "relevancy")

ID_PATTERN = "^[0-9]{1,19}$"
USERNAME_PATTERN = "^[A-Za-z0-9_]{1,15}$"
_ID = re.compile(ID_PATTERN)
_USERNAME = re.compile(USERNAME_PATTERN)
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")

Kind = Literal["enum_list", "ids", "usernames", "int", "id", "token", "datetime", "enum", "text"]


@dataclass(frozen=True, slots=True)
class Param:
    kind: Kind
    enum: tuple[str, ...] = ()
    low: int = 0  # int: minimum; lists: minimum count; token, text: minimum length
    high: int = 0  # int: maximum; lists: maximum count
    required: bool = False


def fields(enum: tuple[str, ...]) -> Param:
    return Param("enum_list", enum=enum, low=1)


USER_LOOKUP: dict[str, Param] = {
    "user.fields": fields(USER_FIELDS),
    "expansions": fields(USER_EXPANSIONS),
    "tweet.fields": fields(TWEET_FIELDS),
}
TWEET_LOOKUP: dict[str, Param] = {
    "tweet.fields": fields(TWEET_FIELDS),
    "expansions": fields(TWEET_EXPANSIONS),
    "media.fields": fields(MEDIA_FIELDS),
    "poll.fields": fields(POLL_FIELDS),
    "user.fields": fields(USER_FIELDS),
    "place.fields": fields(PLACE_FIELDS),
}
_TIMELINE: dict[str, Param] = {
    "since_id": Param("id"),
    "until_id": Param("id"),
    "max_results": Param("int", low=5, high=100),
    "pagination_token": Param("token", low=1),
    "start_time": Param("datetime"),
    "end_time": Param("datetime"),
    **TWEET_LOOKUP,
}

# endpoint template -> accepted query parameters (path parameters are checked by the router)
_FOLLOW_LIST: dict[str, Param] = {
    "max_results": Param("int", low=1, high=1000),
    "pagination_token": Param("token", low=16),
    **USER_LOOKUP,
}
ENDPOINT_PARAMS: dict[str, dict[str, Param]] = {
    "/2/users/me": USER_LOOKUP,
    "/2/users/by": {"usernames": Param("usernames", low=1, high=100, required=True), **USER_LOOKUP},
    "/2/users": {"ids": Param("ids", low=1, high=100, required=True), **USER_LOOKUP},
    "/2/users/by/username/:username": USER_LOOKUP,
    "/2/users/:id/mentions": _TIMELINE,
    "/2/users/:id/tweets": {**_TIMELINE, "exclude": Param("enum_list", enum=EXCLUDE, low=1)},
    "/2/users/:id/followers": _FOLLOW_LIST,
    "/2/users/:id/following": _FOLLOW_LIST,
    "/2/tweets": {"ids": Param("ids", low=1, high=100, required=True), **TWEET_LOOKUP},
    "/2/tweets/search/recent": {
        # The description allows 4,096 characters; self-serve access 512, checked with the query itself.
        "query": Param("text", low=1, high=4096, required=True),
        "since_id": Param("id"),
        "until_id": Param("id"),
        "max_results": Param("int", low=10, high=100),
        "next_token": Param("token", low=1),
        "pagination_token": Param("token", low=1),
        "start_time": Param("datetime"),
        "end_time": Param("datetime"),
        "sort_order": Param("enum", enum=SORT_ORDERS),
        **TWEET_LOOKUP,
    },
}
# X's newer description renames tweet.fields to post.fields; accept both spellings.
ALIASES = {"post.fields": "tweet.fields"}


@dataclass(frozen=True, slots=True)
class ParamProblem:
    name: str
    values: tuple[str, ...]
    message: str

    def as_error(self) -> dict[str, Any]:
        return {"parameters": {self.name: list(self.values)}, "message": self.message}


class Query:
    """Validated parameters of one request: typed accessors over the raw strings."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def has(self, name: str) -> bool:
        return name in self._values

    def items(self, name: str) -> list[str]:
        value = self._values.get(name, [])
        return list(value) if isinstance(value, list) else []

    def item_set(self, name: str) -> set[str]:
        return set(self.items(name))

    def integer(self, name: str, default: int) -> int:
        value = self._values.get(name)
        return value if isinstance(value, int) else default

    def string(self, name: str) -> str | None:
        value = self._values.get(name)
        return value if isinstance(value, str) else None

    def moment(self, name: str) -> datetime | None:
        value = self._values.get(name)
        return value if isinstance(value, datetime) else None


def parse_query(
    spec: Mapping[str, Param], pairs: Sequence[tuple[str, str]]
) -> tuple[Query, list[ParamProblem]]:
    """Check raw ``(name, value)`` pairs against ``spec``; returns the typed query and every problem."""
    problems: list[ParamProblem] = []
    seen: dict[str, str] = {}
    for raw_name, value in pairs:
        name = ALIASES.get(raw_name, raw_name)
        if name not in spec:
            allowed = ",".join(sorted(spec))
            problems.append(
                ParamProblem(
                    raw_name, (value,), f"The query parameter [{raw_name}] is not one of [{allowed}]"
                )
            )
        elif name in seen:
            problems.append(
                ParamProblem(raw_name, (value,), f"The query parameter [{raw_name}] may be given only once")
            )
        else:
            seen[name] = value
    parsed: dict[str, Any] = {}
    for name, param in spec.items():
        if name not in seen:
            if param.required:
                problems.append(ParamProblem(name, (), f"The `{name}` query parameter can not be empty"))
            continue
        value, problem = _check(name, param, seen[name])
        if problem is not None:
            problems.append(problem)
        else:
            parsed[name] = value
    return Query(parsed), problems


def check_path(name: str, value: str) -> ParamProblem | None:
    pattern, regex = (USERNAME_PATTERN, _USERNAME) if name == "username" else (ID_PATTERN, _ID)
    if regex.match(value):
        return None
    return ParamProblem(
        name, (value,), f"The `{name}` query parameter value [{value}] does not match {pattern}"
    )


def _check(name: str, param: Param, raw: str) -> tuple[Any, ParamProblem | None]:
    def problem(message: str, values: tuple[str, ...] = (raw,)) -> tuple[Any, ParamProblem]:
        return None, ParamProblem(name, values, message)

    if param.kind == "int":
        if not re.fullmatch(r"-?[0-9]+", raw):
            return problem(f"The `{name}` query parameter value [{raw}] is not a number")
        number = int(raw)
        if not param.low <= number <= param.high:
            return problem(
                f"The `{name}` query parameter value [{raw}] is not between {param.low} and {param.high}"
            )
        return number, None
    if param.kind == "id":
        if not _ID.match(raw):
            return problem(f"The `{name}` query parameter value [{raw}] does not match {ID_PATTERN}")
        return raw, None
    if param.kind == "token":
        if len(raw) < param.low:
            return problem(
                f"The `{name}` query parameter value [{raw}] is shorter than {param.low} characters"
            )
        return raw, None
    if param.kind == "text":
        if not param.low <= len(raw) <= param.high:
            return problem(
                f"The `{name}` query parameter value [{raw}] is not between {param.low} and {param.high} "
                "characters long"
            )
        return raw, None
    if param.kind == "enum":
        if raw not in param.enum:
            allowed = ",".join(param.enum)
            return problem(f"The `{name}` query parameter value [{raw}] is not one of [{allowed}]")
        return raw, None
    if param.kind == "datetime":
        if not _DATETIME.match(raw):
            return problem(f"The `{name}` query parameter value [{raw}] is not a valid RFC 3339 date-time")
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC), None
        except ValueError:
            return problem(f"The `{name}` query parameter value [{raw}] is not a valid RFC 3339 date-time")

    items = raw.split(",") if raw else []
    if param.kind in ("ids", "usernames") and not param.low <= len(items) <= param.high:
        return problem(
            f"The number of values in the `{name}` query parameter list [{len(items)}] is not between "
            f"{param.low} and {param.high}"
        )
    if not items:
        return problem(f"The `{name}` query parameter can not be empty")
    for item in items:
        if param.kind == "enum_list" and item not in param.enum:
            return problem(
                f"The `{name}` query parameter value [{item}] is not one of [{','.join(param.enum)}]"
            )
        if param.kind == "ids" and not _ID.match(item):
            return problem(f"The `{name}` query parameter value [{item}] does not match {ID_PATTERN}")
        if param.kind == "usernames" and not _USERNAME.match(item):
            return problem(f"The `{name}` query parameter value [{item}] does not match {USERNAME_PATTERN}")
    if param.kind == "enum_list" and len(set(items)) != len(items):
        duplicate = next(i for i in items if items.count(i) > 1)
        return problem(f"The `{name}` query parameter value [{duplicate}] is given more than once")
    return items, None
