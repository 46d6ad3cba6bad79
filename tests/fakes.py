"""In-memory stores (from rapport_local.memory_stores), an in-memory X source and mailbox for the tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from rapport.domain.model import Post
from rapport.domain.x import (
    NewFollowers,
    ReadUsage,
    Timeline,
    XNotAuthorized,
    XRateLimited,
    XUnavailable,
    XUser,
    candidate_filter,
    is_candidate,
)
from rapport.usecases.ports import Stores
from rapport_local.memory_stores import Memory, memory_stores

__all__ = ["FakeX", "Mailbox", "Memory", "memory_stores", "removed_after"]

# --- X ------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class FakeX:
    """A tiny X: users, posts by author, followers; charges reads at list price like the real reader.

    ``rate_limited`` names endpoints that answer 429 (e.g. "users/:id/tweets"); ``unavailable`` those
    that fail as X does after the reader's retries (5xx, time-outs).
    """

    me_user: XUser
    users: dict[str, XUser] = field(default_factory=dict)  # by id
    posts: list[Post] = field(default_factory=list)
    followers: list[str] = field(default_factory=list)  # newest first
    following_ids: list[str] = field(default_factory=list)  # whom we follow, newest first
    following_of: list[str] = field(default_factory=list)  # whose follow list was asked for
    rate_limited: dict[str, datetime] = field(default_factory=dict)  # endpoint -> reset
    unavailable: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)  # users whose timelines X will not show us (protected)
    usage: ReadUsage = field(default_factory=ReadUsage)
    calls: list[str] = field(default_factory=list)
    searched: list[list[str]] = field(default_factory=list)  # the authors of each recent search
    narrowed: list[str] = field(default_factory=list)  # the ``only`` clause of each recent search
    returned: list[str] = field(default_factory=list)  # ids of the posts each read returned, in order

    def _call(self, endpoint: str) -> None:
        self.usage.requests += 1
        self.calls.append(endpoint)
        if endpoint in self.rate_limited:
            raise XRateLimited(endpoint, self.rate_limited[endpoint])
        if endpoint in self.unavailable:
            raise XUnavailable(f"{endpoint}: 503 Service Unavailable")

    def me(self) -> XUser:
        self._call("users/me")
        self.usage.charge("users", [self.me_user.id], owned=False)
        return self.me_user

    def users_by_username(self, usernames: list[str]) -> list[XUser]:
        self._call("users/by")
        wanted = {u.lower() for u in usernames}
        found = [u for u in self.users.values() if u.username.lower() in wanted]
        self.usage.charge("users", [u.id for u in found], owned=False)
        return found

    def following(self, user_id: str, limit: int) -> list[XUser]:
        self._call("users/:id/following")
        self.following_of.append(user_id)
        found = [self.users[i] for i in self.following_ids[:limit] if i in self.users]
        self.usage.charge("users", [u.id for u in found], owned=True)  # as the real reader charges it
        return found

    def users_by_id(self, ids: list[str]) -> list[XUser]:
        self._call("users")
        found = [replace(self.users[i], follows_me=i in self.followers) for i in ids if i in self.users]
        self.usage.charge("users", [u.id for u in found], owned=False)
        return found

    def mentions(self, me_id: str, since_id: str | None, start_time: datetime | None) -> Timeline:
        self._call("users/:id/mentions")
        return self._timeline(
            lambda p: me_id in p.mention_ids and p.author_id != me_id, since_id, start_time, owned=True
        )

    def posts_of(
        self,
        user_id: str,
        since_id: str | None,
        start_time: datetime | None,
        *,
        owned: bool,
        exclude: list[str] | None = None,
        end_time: datetime | None = None,
    ) -> Timeline:
        self._call("users/:id/tweets")
        if user_id in self.refused:
            raise XNotAuthorized(f"users/:id/tweets: not authorized to see the user [{user_id}]")
        skip = set(exclude or ())

        def wanted(p: Post) -> bool:
            if p.author_id != user_id or (end_time is not None and p.created_at >= end_time):
                return False
            if "retweets" in skip and p.retweeted_id is not None:
                return False
            return not ("replies" in skip and p.replied_to_id is not None)

        return self._timeline(wanted, since_id, start_time, owned=owned)

    def search_posts(self, user_ids: list[str], start_time: datetime, *, only: str = "") -> Timeline:
        self._call("tweets/search/recent")
        self.searched.append(list(user_ids))
        self.narrowed.append(only)
        if only not in ("", candidate_filter()):
            raise ValueError(f"the fake knows only the candidate filter, not {only!r}")
        authors = set(user_ids)

        def wanted(p: Post) -> bool:
            public = p.author_id in self.users and not self.users[p.author_id].protected
            own = p.retweeted_id is None and p.replied_to_id is None
            return p.author_id in authors and public and own and (not only or is_candidate(p))

        return self._timeline(wanted, None, start_time, owned=False)

    def new_followers(
        self, me_id: str, known_head: set[str] | None, page_size: int, *, max_pages: int = 10
    ) -> NewFollowers:
        self._call("users/:id/followers")
        reachable, size = 0, max(1, min(1000, page_size))
        for _ in range(max_pages):  # pages grow fourfold, as the X client reads them
            reachable, size = reachable + size, min(1000, size * 4)
        shown = self.followers[:reachable]
        self.usage.charge("followers", shown, owned=True)
        if known_head is None:
            return NewFollowers([], shown[:5], complete=False)
        new = []
        for user_id in shown:
            if user_id in known_head:
                break
            new.append(user_id)
        complete = len(new) < len(shown) or len(shown) == len(self.followers)
        return NewFollowers(new, shown[:5], complete=complete)

    def _timeline(
        self, wanted: Any, since_id: str | None, start: datetime | None, *, owned: bool
    ) -> Timeline:
        found = [
            p
            for p in self.posts
            if wanted(p)
            and (int(p.id) > int(since_id) if since_id else start is None or p.created_at >= start)
        ]
        found.sort(key=lambda p: int(p.id))
        self.returned += [p.id for p in found]
        self.usage.charge("posts", [p.id for p in found], owned=owned)
        return Timeline(found, found[-1].id if found else None)


# --- SES ----------------------------------------------------------------------------------------------


class Mailbox:
    """The digest's ``send_raw``: keeps each raw message it is given."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send_raw(self, raw: bytes) -> str:
        self.sent.append(raw)
        return f"message-{len(self.sent)}"


class _RemovingAfter:
    """A store whose ``method`` answers, then removes the targets ``removed`` names in its answer."""

    def __init__(
        self, store: Any, method: str, removed: Callable[[Any], Iterable[str]], targets: Any
    ) -> None:
        self._store, self._method, self._removed, self._targets = store, method, removed, targets

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._store, name)
        if name != self._method:
            return found

        def answer_then_remove(*args: Any, **kwargs: Any) -> Any:
            answer = found(*args, **kwargs)
            for target_id in self._removed(answer):
                self._targets.remove_target(target_id)
            return answer

        return answer_then_remove


def removed_after(stores: Stores, port: str, method: str, removed: Callable[[Any], Iterable[str]]) -> Stores:
    """``stores`` with `rapport targets remove` racing a run: just after ``port.method`` answers, the
    targets ``removed(answer)`` names are removed, as if the person did it at that instant."""
    racing = _RemovingAfter(getattr(stores, port), method, removed, stores.targets)
    return replace(stores, **{port: racing})
