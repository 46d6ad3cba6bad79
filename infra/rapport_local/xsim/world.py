"""The simulated X world: people, posts and the follow graph, seen as of a simulated clock.

Pure state and questions about it; nothing here knows HTTP. The API layer (``api.py``) asks the world what
a reader may see *now* and renders it as X does. Everything that happened later than ``now`` is invisible.

Ordering: X post ids are time-ordered snowflakes, so X compares ``since_id``/``until_id`` numerically.
Scenario ids are hand-written and need not grow with time, so the world orders posts by ``(at, seq)``
(``seq`` = order of creation) and compares a known post id by that position instead.
"""

from __future__ import annotations

import bisect
import sys
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from rapport_local.scenario import (
    EditEvent,
    FollowEvent,
    PostEvent,
    PostMetrics,
    RetweetEvent,
    Scenario,
    ScenarioUser,
    UnfollowEvent,
)
from rapport_local.xsim.behaviour import Reactions
from rapport_local.xsim.entities import ServedText, guess_lang, retweet_text, serve_text
from rapport_local.xsim.records import Follower, SimPost, SimUser

# Follows listed in the scenario's ``followers`` exist "since forever"; X was founded on this day.
BEGINNING = datetime(2006, 3, 21, tzinfo=UTC)
_TWEPOCH_MS = 1288834974657  # X snowflake epoch


@dataclass(frozen=True, slots=True)
class _Change:
    at: datetime
    seq: int
    following: bool


def _by_key(post: SimPost) -> tuple[datetime, int]:
    return post.key


class World:
    """All state of the simulated X, thread-safe through ``lock`` (the HTTP server runs in a thread)."""

    def __init__(self, scenario: Scenario) -> None:
        self.lock = threading.RLock()
        self.scenario = scenario
        self._now = scenario.start
        self._seq = 0
        self._snowflake_seq = 0
        self._users: dict[str, SimUser] = {}
        self._protected_from: dict[str, datetime] = {}  # user id -> when they turned protected
        self._by_name: dict[str, SimUser] = {}
        self._posts: dict[str, SimPost] = {}
        self._served: dict[str, ServedText] = {}
        self._by_author: dict[str, list[SimPost]] = defaultdict(list)
        self._all: list[SimPost] = []  # every post, in time order (recent search reads a slice)
        self._mentioning: dict[str, list[SimPost]] = defaultdict(list)
        self._retweets: dict[str, list[SimPost]] = defaultdict(list)
        self._replies: dict[str, list[SimPost]] = defaultdict(list)
        self._quotes: dict[str, list[SimPost]] = defaultdict(list)
        # An edited post's version -> the one that replaced it: from then on X serves the new one.
        self._replaced_by: dict[str, SimPost] = {}
        self._changes: dict[tuple[str, str], list[_Change]] = defaultdict(list)  # (follower, followee)
        self._incoming: dict[str, set[str]] = defaultdict(set)
        self._outgoing: dict[str, set[str]] = defaultdict(set)
        # Behaving users post on their own and react to our posts (including scripted ones).
        self._reactions = Reactions(scenario, self) if scenario.behaviours else None
        for user in scenario.all_users:
            self._add_user(user, scenario.start)
        self.me = self._named(scenario.me.username)
        for user in scenario.all_users:
            for follower in user.followers:
                self._change(self._named(follower).id, user.id, BEGINNING, following=True)
        for event in scenario.events:
            self._apply(event)
        if self._reactions is not None:
            self._reactions.populate()

    # -- clock ----------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        with self.lock:
            return self._now

    def set_now(self, now: datetime) -> None:
        """Move the simulated clock (either way); the world shows what happened by then."""
        if now.tzinfo is None:
            raise ValueError("the simulated clock needs an aware datetime (UTC)")
        with self.lock:
            self._now = now.astimezone(UTC)

    # -- users ----------------------------------------------------------------------------------

    def user(self, user_id: str) -> SimUser | None:
        with self.lock:
            return self._as_now(self._users.get(user_id))

    def user_named(self, username: str) -> SimUser | None:
        with self.lock:
            return self._as_now(self._by_name.get(username.lower()))

    def protect(self, username: str, at: datetime) -> None:
        """``username`` turns their account protected at ``at``: from then on only they and their
        followers see their posts, and search never returns them."""
        with self.lock:
            self._protected_from[self._named(username).id] = at

    def _as_now(self, user: SimUser | None) -> SimUser | None:
        if user is None or user.protected or not self._protected_now(user):
            return user
        return replace(user, protected=True)

    def _protected_now(self, user: SimUser) -> bool:
        since = self._protected_from.get(user.id)
        return since is not None and since <= self._now

    def follows(self, follower_id: str, followee_id: str, *, at: datetime | None = None) -> bool:
        """Whether ``follower_id`` follows ``followee_id`` as of ``at`` (default: now)."""
        with self.lock:
            change = self._last_change(follower_id, followee_id, at)
            return change is not None and change.following

    def can_see_posts_of(self, viewer_id: str | None, author: SimUser) -> bool:
        """Protected accounts show their posts to themselves and their followers only."""
        if author.suspended:
            return False
        if not (author.protected or self._protected_now(author)):
            return True
        return viewer_id is not None and (viewer_id == author.id or self.follows(viewer_id, author.id))

    def followers(self, user_id: str) -> list[Follower]:
        """Who follows ``user_id`` now, most recent follow first (suspended accounts are hidden)."""
        with self.lock:
            out: list[Follower] = []
            for follower_id in self._incoming[user_id]:
                change = self._last_change(follower_id, user_id)
                follower = self._users[follower_id]
                if change is not None and change.following and not follower.suspended:
                    out.append(Follower(follower, change.at, change.seq))
            return sorted(out, key=lambda f: f.key, reverse=True)

    def following(self, user_id: str) -> list[Follower]:
        """Whom ``user_id`` follows now, most recent follow first (suspended accounts are hidden)."""
        with self.lock:
            out: list[Follower] = []
            for followee_id in self._outgoing[user_id]:
                change = self._last_change(user_id, followee_id)
                followee = self._users[followee_id]
                if change is not None and change.following and not followee.suspended:
                    out.append(Follower(followee, change.at, change.seq))
            return sorted(out, key=lambda f: f.key, reverse=True)

    def following_count(self, user_id: str) -> int:
        with self.lock:
            return sum(1 for other in self._outgoing[user_id] if self.follows(user_id, other))

    def connection_status(self, viewer_id: str, user_id: str) -> list[str]:
        """X's ``connection_status`` of ``user_id`` from ``viewer_id``'s point of view."""
        status: list[str] = []
        if viewer_id == user_id:
            return status
        if self.follows(user_id, viewer_id):
            status.append("followed_by")
        if self.follows(viewer_id, user_id):
            status.append("following")
        return status

    def user_metrics(self, user: SimUser) -> dict[str, int]:
        base = user.metrics
        with self.lock:
            return {
                "followers_count": base.followers_count + len(self.followers(user.id)),
                "following_count": base.following_count + self.following_count(user.id),
                "tweet_count": base.tweet_count + len(self.timeline(user.id)),
                "listed_count": base.listed_count,
                "like_count": base.like_count,
            }

    def most_recent_post_id(self, user_id: str) -> str | None:
        timeline = self.timeline(user_id)
        return timeline[0].id if timeline else None

    # -- posts ----------------------------------------------------------------------------------

    def post(self, post_id: str) -> SimPost | None:
        """The post with this id if it exists and has been published by now."""
        with self.lock:
            post = self._posts.get(post_id)
            return post if post is not None and post.at <= self._now else None

    def any_post(self, post_id: str) -> SimPost | None:
        """The post with this id, published or not (to order ``since_id`` by a future post)."""
        with self.lock:
            return self._posts.get(post_id)

    def visible(self, post: SimPost, viewer_id: str | None) -> bool:
        author = self._users[post.author_id]
        return post.at <= self.now and self.can_see_posts_of(viewer_id, author)

    def timeline(self, user_id: str) -> list[SimPost]:
        """The user's posts (retweets, replies, quotes included) published by now, newest first."""
        with self.lock:
            return self._live(self._by_author.get(user_id, []))

    def published_since(self, moment: datetime, authors: Iterable[str] | None = None) -> list[SimPost]:
        """Posts published from ``moment`` to now, newest first: everyone's, or only ``authors``'."""
        with self.lock:
            if authors is None:
                return self._current(self._between(self._all, moment))
            found = [p for a in set(authors) for p in self._between(self._by_author.get(a, []), moment)]
            return sorted(self._current(found), key=_by_key, reverse=True)

    def mentions(self, user_id: str, viewer_id: str | None) -> list[SimPost]:
        """Posts of others that mention ``user_id``, published by now and visible to the viewer."""
        with self.lock:
            return [
                p
                for p in self._live(self._mentioning.get(user_id, []))
                if p.author_id != user_id and self.can_see_posts_of(viewer_id, self._users[p.author_id])
            ]

    def post_metrics(self, post: SimPost) -> dict[str, int]:
        base = post.metrics
        if post.retweet_of is not None:
            return {
                "retweet_count": 0,
                "reply_count": 0,
                "like_count": 0,
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": 0,
            }
        with self.lock:
            # An edited reply or quote is one reply or quote, in its current version.
            return {
                "retweet_count": base.retweet_count + len(self._live(self._retweets.get(post.id, []))),
                "reply_count": base.reply_count + len(self._live(self._replies.get(post.id, []))),
                "like_count": base.like_count,
                "quote_count": base.quote_count + len(self._live(self._quotes.get(post.id, []))),
                "bookmark_count": base.bookmark_count,
                "impression_count": base.impression_count,
            }

    # -- the simulated user's own actions (and anything else the demo scripts) -------------------

    def add_post(
        self,
        by: str,
        text: str,
        *,
        at: datetime | None = None,
        reply_to: str | None = None,
        quote_of: str | None = None,
        post_id: str | None = None,
        metrics: PostMetrics | None = None,
    ) -> SimPost:
        """Publish a post by ``by`` (username or id) at ``at`` (default: now); returns it as X stores it."""
        with self.lock:
            author = self._resolve(by)
            when = self._when(at)
            new_id = self._new_id(post_id, when)
            return self._publish_post(
                PostEvent(when, new_id, author.username, text, reply_to, quote_of, metrics or PostMetrics())
            )

    def add_retweet(
        self, by: str, post_id: str, *, at: datetime | None = None, retweet_id: str | None = None
    ) -> SimPost:
        """Retweet ``post_id`` as ``by`` (username or id) at ``at`` (default: now)."""
        with self.lock:
            user = self._resolve(by)
            original = self._posts.get(post_id)
            if original is None:
                raise ValueError(f"unknown post {post_id!r}")
            target = original.retweet_of or original.id
            if any(rt.author_id == user.id for rt in self._retweets.get(target, [])):
                raise ValueError(f"{user.username} already retweeted {target}")
            when = self._when(at)
            return self._publish_retweet(
                RetweetEvent(when, self._new_id(retweet_id, when), user.username, target)
            )

    def follow(self, by: str, user: str, *, at: datetime | None = None) -> bool:
        """``by`` follows ``user`` (usernames or ids); False if it already did (as X, a no-op)."""
        return self._set_follow(by, user, at, following=True)

    def unfollow(self, by: str, user: str, *, at: datetime | None = None) -> bool:
        """``by`` stops following ``user``; False if it did not follow."""
        return self._set_follow(by, user, at, following=False)

    # -- internals ------------------------------------------------------------------------------

    def _add_user(self, user: ScenarioUser, start: datetime) -> None:
        sim = SimUser(
            id=user.id,
            username=user.username,
            name=user.name,
            created_at=user.created_at or (start - timedelta(days=3 * 365)),
            protected=user.protected,
            suspended=user.suspended,
            description=user.description,
            metrics=user.metrics,
        )
        self._users[sim.id] = sim
        self._by_name[sim.username.lower()] = sim

    def _named(self, username: str) -> SimUser:
        user = self._by_name.get(username.lower())
        if user is None:
            raise ValueError(f"unknown user {username!r}")
        return user

    def _resolve(self, who: str) -> SimUser:
        user = self._by_name.get(who.lower()) or self._users.get(who)
        if user is None:
            raise ValueError(f"unknown user {who!r}")
        return user

    def _when(self, at: datetime | None) -> datetime:
        if at is None:
            return self._now
        if at.tzinfo is None:
            raise ValueError("times need an aware datetime (UTC)")
        return at.astimezone(UTC)

    def _new_id(self, wanted: str | None, when: datetime) -> str:
        if wanted is not None:
            if not wanted.isdigit() or len(wanted) > 19:
                raise ValueError(f"post ids are strings of 1 to 19 digits, got {wanted!r}")
            if wanted in self._posts:
                raise ValueError(f"post id {wanted!r} already exists")
            return wanted
        # A snowflake like X's: milliseconds since X's epoch in the high bits, so ids grow with time.
        millis = int(when.timestamp() * 1000) - _TWEPOCH_MS
        while True:
            self._snowflake_seq += 1
            candidate = str((millis << 22) | (self._snowflake_seq & 0x3FFFFF))
            if candidate not in self._posts:
                return candidate

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _apply(self, event: PostEvent | RetweetEvent | EditEvent | FollowEvent | UnfollowEvent) -> None:
        if isinstance(event, PostEvent):
            self._publish_post(event)
        elif isinstance(event, EditEvent):
            self._publish_edit(event)
        elif isinstance(event, RetweetEvent):
            original = self._posts[event.post]
            self._publish_retweet(
                RetweetEvent(event.at, event.id, event.by, original.retweet_of or original.id)
            )
        else:
            follower, followee = self._named(event.by), self._named(event.user)
            self._change(follower.id, followee.id, event.at, following=isinstance(event, FollowEvent))

    def _resolve_handle(self, handle: str) -> str | None:
        user = self._by_name.get(handle.lower())
        return user.id if user is not None else None

    def _publish_edit(self, event: EditEvent) -> SimPost:
        """A new version of a post: a new id, the same place in its conversation (X's Edit Posts)."""
        old = self._posts[event.post]
        author = self._users[old.author_id]
        version = PostEvent(event.at, event.id, author.username, event.text, old.reply_to, old.quote_of)
        post = self._publish_post(version, edit_history=(*(old.edit_history or (old.id,)), event.id))
        self._replaced_by[old.id] = post
        return post

    def first_version(self, post: SimPost) -> SimPost:
        """The version a post was first published as (itself, unless it is an edit)."""
        return self._posts[post.edit_history[0]] if post.edit_history else post

    def _live(self, posts: Iterable[SimPost]) -> list[SimPost]:
        """``posts`` (kept in time order) published by now, newest first, each in its current version."""
        return self._current(self._published(posts))

    def _current(self, posts: Iterable[SimPost]) -> list[SimPost]:
        """``posts`` without the versions an edit published by now has replaced."""
        return [p for p in posts if (new := self._replaced_by.get(p.id)) is None or new.at > self._now]

    def _publish_post(self, event: PostEvent, edit_history: tuple[str, ...] = ()) -> SimPost:
        author = self._named(event.by)
        served = serve_text(event.text, event.id, self._resolve_handle)
        # On X a reply to (or quote of) a retweet is a reply to (or quote of) the original post.
        reply_to, quote_of = self._original(event.reply_to), self._original(event.quote_of)
        parent = self._posts.get(reply_to) if reply_to else None
        in_reply_to: str | None = None
        conversation = edit_history[0] if edit_history else event.id
        if reply_to is not None:
            if parent is not None:
                in_reply_to = parent.author_id
                conversation = parent.conversation_id
            else:
                # The parent is outside the world; a reply's text starts with the @handle it answers.
                indent = len(served.text) - len(served.text.lstrip())
                leading = [m for m in served.mentions if m.start == indent]
                in_reply_to = leading[0].user_id if leading else None
                conversation = reply_to
        post = SimPost(
            id=event.id,
            seq=self._next_seq(),
            at=event.at,
            author_id=author.id,
            text=served.text,
            mentions=served.mentions,
            links=served.links,
            reply_to=reply_to,
            quote_of=quote_of,
            in_reply_to_user_id=in_reply_to,
            conversation_id=conversation,
            metrics=event.metrics,
            lang=guess_lang(served),
            edit_history=edit_history,
        )
        self._index(post, served)
        if reply_to is not None:
            bisect.insort(self._replies[reply_to], post, key=_by_key)
        if quote_of is not None:
            bisect.insort(self._quotes[quote_of], post, key=_by_key)
        if not edit_history:  # an edit is not a new post to react to
            self._react(post)
        return post

    def _react(self, post: SimPost) -> None:
        if self._reactions is not None and post.author_id == self.me.id:
            self._reactions.after_ours(post)

    def _original(self, post_id: str | None) -> str | None:
        post = self._posts.get(post_id) if post_id else None
        return post.retweet_of if post is not None and post.retweet_of else post_id

    def _publish_retweet(self, event: RetweetEvent) -> SimPost:
        user = self._named(event.by)
        original = self._posts[event.post]
        original_author = self._users[original.author_id]
        served = retweet_text(original_author.username, original_author.id, self._served[original.id])
        post = SimPost(
            id=event.id,
            seq=self._next_seq(),
            at=event.at,
            author_id=user.id,
            text=served.text,
            mentions=served.mentions,
            links=served.links,
            retweet_of=original.id,
            conversation_id=event.id,
            lang=original.lang,
        )
        self._index(post, served)
        bisect.insort(self._retweets[original.id], post, key=_by_key)
        self._react(post)
        return post

    def _index(self, post: SimPost, served: ServedText) -> None:
        self._posts[post.id] = post
        self._served[post.id] = served
        bisect.insort(self._by_author[post.author_id], post, key=_by_key)
        bisect.insort(self._all, post, key=_by_key)
        for user_id in dict.fromkeys(m.user_id for m in post.mentions):
            bisect.insort(self._mentioning[user_id], post, key=_by_key)

    def _between(self, ordered: list[SimPost], moment: datetime) -> list[SimPost]:
        low = bisect.bisect_left(ordered, (moment, 0), key=_by_key)
        high = bisect.bisect_right(ordered, (self._now, sys.maxsize), key=_by_key)
        return ordered[low:high][::-1]

    def _published(self, posts: Iterable[SimPost]) -> list[SimPost]:
        ordered = list(posts)  # kept sorted by key on insert
        cut = bisect.bisect_right(ordered, (self._now, sys.maxsize), key=_by_key)
        return ordered[:cut][::-1]

    def _change(self, follower_id: str, followee_id: str, at: datetime, *, following: bool) -> None:
        changes = self._changes[(follower_id, followee_id)]
        bisect.insort(changes, _Change(at, self._next_seq(), following), key=lambda c: (c.at, c.seq))
        self._incoming[followee_id].add(follower_id)
        self._outgoing[follower_id].add(followee_id)

    def _last_change(self, follower_id: str, followee_id: str, at: datetime | None = None) -> _Change | None:
        changes = self._changes.get((follower_id, followee_id))
        if not changes:
            return None
        cut = bisect.bisect_right(changes, (at or self._now, sys.maxsize), key=lambda c: (c.at, c.seq))
        return changes[cut - 1] if cut else None

    def _set_follow(self, by: str, user: str, at: datetime | None, *, following: bool) -> bool:
        with self.lock:
            follower, followee = self._resolve(by), self._resolve(user)
            if follower.id == followee.id:
                raise ValueError("a user cannot follow themselves")
            when = self._when(at)
            change = self._last_change(follower.id, followee.id, when)
            if (change is not None and change.following) == following:
                return False
            self._change(follower.id, followee.id, when, following=following)
            return True
