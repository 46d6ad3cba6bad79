"""What Rapport exchanges with X, whoever reads it: users, timelines, followers, failures, usage."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from rapport.domain.model import Post
from rapport.domain.money import USD, ZERO, Resource, Spend, read_price


class XRateLimited(Exception):
    """X said 429: stop reading this source; the run resumes from the stored cursor next time."""

    def __init__(self, endpoint: str, reset_at: datetime | None) -> None:
        super().__init__(f"rate limited on {endpoint} until {reset_at.isoformat() if reset_at else '?'}")
        self.endpoint = endpoint
        self.reset_at = reset_at


class XUnavailable(Exception):
    """X failed (5xx, time-out, or a page cut mid-body) after bounded retries."""


class XNotAuthorized(Exception):
    """X will not show this user's posts to us: a protected account we do not follow (or were refused)."""


# Recent search on self-serve access: a query of at most 512 characters, posts of the last 7 days.
SEARCH_QUERY_LENGTH = 512
SEARCH_DAYS = 7
SEARCH_NEW_POSTS = "-is:retweet -is:reply"


# The words of the question detector's cues (wh-words, asking the audience, requests): X matches a
# keyword against the post's words, split at punctuation, so "?" itself cannot be searched for.
CANDIDATE_WORDS = (
    "what", "why", "how", "who", "where", "when", "which",
    "anyone", "anybody", "someone", "recommend", "recommendations", "suggestions", "advice",
    "help", "please", "know", "looking", "thoughts", "question", "wondering",
)  # fmt: skip


def candidate_filter(words: Iterable[str] = CANDIDATE_WORDS) -> str:
    """The clause that keeps only posts a suggestion can come from: a link (a retweet worth making)
    or a word a question to their network is asked with (``Policy.search_candidates_only``)."""
    return "(" + " OR ".join(("has:links", *words)) + ")"


def is_candidate(post: Post, words: Iterable[str] = CANDIDATE_WORDS) -> bool:
    """Whether ``candidate_filter(words)`` keeps this post, as X matches it: a link, or one of the
    words among the post's own words (X splits a post at punctuation)."""
    return bool(post.urls) or not set(re.findall(r"\w+", post.text.lower())).isdisjoint(words)


def search_query(user_ids: Iterable[str], *, only: str = "") -> str:
    """One recent-search query for these authors' own new posts (what a timeline read without
    retweets and replies returns), narrowed by ``only`` when given (``candidate_filter()``). Ids, not
    usernames: an id never changes."""
    authors = " OR ".join(f"from:{user_id}" for user_id in user_ids)
    query = f"({authors}) {SEARCH_NEW_POSTS}"
    return f"{query} {only}" if only else query


def search_batches(user_ids: Iterable[str], *, only: str = "") -> list[list[str]]:
    """The authors split into as few queries as fit in the query length, in the given order."""
    batches: list[list[str]] = []
    for user_id in user_ids:
        if batches and len(search_query([*batches[-1], user_id], only=only)) <= SEARCH_QUERY_LENGTH:
            batches[-1].append(user_id)
        else:
            batches.append([user_id])
    return batches


def authors_per_query(only: str = "", id_digits: int = 19) -> int:
    """How many authors with ids of ``id_digits`` digits (X's are 19 today) one query holds."""
    return len(search_batches(["9" * id_digits] * 100, only=only)[0])


@dataclass(frozen=True, slots=True)
class XUser:
    id: str
    username: str
    name: str
    follows_me: bool | None = None  # from connection_status; None when not asked
    protected: bool = False


@dataclass(frozen=True, slots=True)
class Timeline:
    """Posts read from one source, oldest first, and the cursor to store once they are saved."""

    posts: list[Post]
    newest_id: str | None
    complete: bool = True  # False when the page limit stopped the read early


@dataclass(frozen=True, slots=True)
class NewFollowers:
    """Who followed us since the last read, newest first, and the list's head to remember."""

    ids: list[str]
    head: list[str]
    complete: bool  # False when the known head was not reached within the page limit


@dataclass(slots=True)
class ReadUsage:
    """What a reader read, at list price, counting a resource once per UTC day as X bills it."""

    requests: int = 0
    posts: int = 0
    users: int = 0
    cost: USD = ZERO
    followers: int = 0  # users returned by our own followers list (an owned read)

    _seen: set[tuple[str, str]] = field(default_factory=set)
    _new: set[tuple[str, str]] = field(default_factory=set)

    def billed_before(self, keys: Iterable[str]) -> None:
        """Resources X already billed today, read by an earlier run ("kind:id"): not counted again."""
        for key in keys:
            kind, _, resource_id = key.partition(":")
            self._seen.add((kind, resource_id))

    def spend(self, deferred_for_budget: int = 0) -> Spend:
        """What was read, as a day's spend records it."""
        return Spend(self.requests, self.posts, self.users, self.cost, self.followers, deferred_for_budget)

    def billed_now(self, kinds: Iterable[str]) -> set[str]:
        """The "kind:id" keys of resources of these kinds this reader counted."""
        wanted = set(kinds)
        return {f"{kind}:{rid}" for kind, rid in self._new if kind in wanted}

    def charge(self, kind: Resource, ids: list[str], *, owned: bool) -> None:
        """Count resources returned; one already billed today is not counted again.

        X bills a resource once per UTC day. The reader knows what it read itself and, when told
        (``billed_before``), what earlier runs of the same day read.
        """
        new = [i for i in ids if (kind, i) not in self._seen]
        self._seen.update((kind, i) for i in new)
        self._new.update((kind, i) for i in new)
        count = len(new)
        if kind == "posts":
            self.posts += count
        elif kind == "followers":
            self.followers += count
        else:
            self.users += count
        self.cost += read_price(kind, owned=owned) * count
