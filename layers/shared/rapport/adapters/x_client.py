"""The one X client wrapper: reads through tweepy, returns domain objects, counts what it cost.

Only reads live here. Rapport never posts, likes or follows: the person does, through Web Intents.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, SecretStr

from rapport.domain.model import Post
from rapport.domain.x import (
    NewFollowers,
    ReadUsage,
    Timeline,
    XNotAuthorized,
    XRateLimited,
    XUnavailable,
    XUser,
    search_query,
)

if TYPE_CHECKING:
    import tweepy

# tweepy and requests are imported when a reader is built or used, not with this module: functions
# that never read X (evaluate, digest, most admin commands) do not pay for them at cold start.

X_API_URL = "https://api.twitter.com"

TWEET_FIELDS = [
    "created_at",
    "author_id",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "entities",
    "public_metrics",
    "note_tweet",  # a long post's whole text: its ``text`` is cut short (parse_post)
]
MAX_PAGES = 10  # bounds one read: what is left is read on the next run, from the same cursor
RETRIES = 2
X_TIMEOUT_SECONDS = 10.0  # per request; a slower X counts as unavailable, retried, then left for next run
HEAD_SIZE = 5  # newest followers remembered: the next read stops at the first of them still there
# X HTML-escapes post text, these three only (README); one pass turns "&amp;lt;" into "&lt;", as written.
_X_ESCAPES = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_X_ESCAPED = re.compile("&(?:amp|lt|gt);")


class XCredentials(BaseModel):
    """OAuth 1.0a user-context keys of the person's own X app (kept in Secrets Manager)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    consumer_key: SecretStr
    consumer_secret: SecretStr
    access_token: SecretStr
    access_token_secret: SecretStr


@dataclass(slots=True)
class XReader:
    client: tweepy.Client
    usage: ReadUsage = field(default_factory=ReadUsage)
    sleep: Callable[[float], None] = time.sleep

    def _call(self, endpoint: str, fn: Callable[..., Any], **params: Any) -> dict[str, Any]:
        import requests
        import tweepy

        for attempt in range(RETRIES + 1):
            try:
                self.usage.requests += 1
                response = fn(**params)
                return response if isinstance(response, dict) else {}
            except tweepy.TooManyRequests as exc:
                reset = exc.response.headers.get("x-rate-limit-reset") if exc.response is not None else None
                reset_at = datetime.fromtimestamp(int(reset), UTC) if reset else None
                raise XRateLimited(endpoint, reset_at) from exc
            except (
                tweepy.TwitterServerError,
                requests.Timeout,
                requests.ConnectionError,
                # A body cut short of its length (connection dropped mid-body): urllib3 refuses it, so
                # no half page is ever parsed; like a time-out, the whole request is tried again.
                requests.exceptions.ChunkedEncodingError,
                # A 200 whose body is not JSON (cut without a length, a proxy's error page): same.
                requests.exceptions.JSONDecodeError,
            ) as exc:
                if attempt == RETRIES:
                    raise XUnavailable(f"{endpoint}: {exc}") from exc
                self.sleep(0.2 * 2**attempt)  # short: a Lambda must not wait long
        raise AssertionError("unreachable")

    def me(self) -> XUser:
        data = self._call("users/me", self.client.get_me, user_auth=True).get("data") or {}
        self.usage.charge(
            "users", [str(data.get("id", ""))], owned=False
        )  # not an owned read: X lists only timelines and follow lists as owned
        return XUser(str(data["id"]), str(data["username"]), str(data.get("name", "")))

    def users_by_username(self, usernames: list[str]) -> list[XUser]:
        return self._users("users/by", "usernames", usernames)

    def users_by_id(self, ids: list[str]) -> list[XUser]:
        """Users with ``connection_status``: tells, 100 at a time, who follows us."""
        return self._users("users", "ids", ids)

    def _users(self, endpoint: str, key: str, values: list[str]) -> list[XUser]:
        """A user lookup, 100 a request (X's limit), each user charged once at the user price."""
        found: list[XUser] = []
        for chunk in _chunks(values, 100):
            body = self._call(
                endpoint,
                self.client.get_users,
                **{key: chunk},
                user_fields=["connection_status", "protected"],
                user_auth=True,
            )
            found.extend(_user(u) for u in body.get("data") or [])
        self.usage.charge("users", [u.id for u in found], owned=False)
        return found

    def mentions(self, me_id: str, since_id: str | None, start_time: datetime | None) -> Timeline:
        return self._timeline(
            "users/:id/mentions",
            self.client.get_users_mentions,
            owned=True,
            id=me_id,
            since_id=since_id,
            start_time=None if since_id else start_time,
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
        return self._timeline(
            "users/:id/tweets",
            self.client.get_users_tweets,
            owned=owned,
            id=user_id,
            since_id=since_id,
            start_time=None if since_id else start_time,
            end_time=end_time,
            exclude=exclude,
        )

    def search_posts(self, user_ids: list[str], start_time: datetime, *, only: str = "") -> Timeline:
        """These authors' own new posts since ``start_time`` (within 7 days), in one recent search."""
        return self._timeline(
            "tweets/search/recent",
            self.client.search_recent_tweets,
            owned=False,
            page_param="next_token",  # search names its page token so
            query=search_query(user_ids, only=only),
            start_time=start_time,
        )

    def new_followers(
        self, me_id: str, known_head: set[str] | None, page_size: int, *, max_pages: int = MAX_PAGES
    ) -> NewFollowers:
        """Our followers list (an owned read), newest first, up to the first follower already known.

        ``known_head`` is None before the first read: then only the newest page is read, as the head.
        ``page_size`` is the number of new followers expected, plus one: usually one page ends the read.
        """
        ids: list[str] = []
        head: list[str] = []
        size = max(1, min(1000, page_size))
        token: str | None = None
        for _ in range(max_pages):
            body = self._call(
                "users/:id/followers",
                self.client.get_users_followers,
                id=me_id,
                max_results=size,
                user_auth=True,
                pagination_token=token,
            )
            data = [str(u["id"]) for u in body.get("data") or []]
            self.usage.charge("followers", data, owned=True)
            if known_head is None:  # nothing to compare with yet: the newest page is the head
                return NewFollowers([], data[:HEAD_SIZE], complete=False)
            if not head:
                head = data[:HEAD_SIZE]
            for user_id in data:
                if user_id in known_head:
                    return NewFollowers(ids, head, complete=True)
                ids.append(user_id)
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                return NewFollowers(ids, head, complete=True)
            size = min(1000, size * 4)  # more new followers than expected: larger pages
        return NewFollowers(ids, head, complete=False)

    def following(self, user_id: str, limit: int) -> list[XUser]:
        """Whom ``user_id`` follows, most recent follow first: at most ``limit``, 1,000 a page.

        For our own id an owned read ($0.001 a user); each user is counted as it is returned.
        """
        users: list[XUser] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            body = self._call(
                "users/:id/following",
                self.client.get_users_following,
                id=user_id,
                max_results=max(1, min(1000, limit - len(users))),
                user_auth=True,
                pagination_token=token,
            )
            page = [_user(u) for u in body.get("data") or []][: limit - len(users)]
            self.usage.charge("users", [u.id for u in page], owned=True)
            users.extend(page)
            token = (body.get("meta") or {}).get("next_token")
            if not token or len(users) >= limit:
                break
        return users

    def _timeline(
        self,
        endpoint: str,
        fn: Callable[..., Any],
        *,
        owned: bool,
        page_param: str = "pagination_token",
        **params: Any,
    ) -> Timeline:
        params = {k: v for k, v in params.items() if v is not None}
        newest: str | None = None
        posts: list[Post] = []
        for page, body in enumerate(self._pages(endpoint, fn, params, page_param)):
            meta = body.get("meta") or {}
            data = body.get("data") or []
            if page == 0:
                newest = meta.get("newest_id")
                if not data and _not_authorized(body):
                    raise XNotAuthorized(f"{endpoint}: {body['errors'][0].get('detail', 'not authorized')}")
            self.usage.charge("posts", [str(raw["id"]) for raw in data], owned=owned)
            posts.extend(parse_post(raw) for raw in data)
            if page + 1 >= MAX_PAGES and meta.get("next_token"):
                # Keep the cursor where it was: the next run reads this window again, from the top.
                return Timeline(sorted(posts, key=_post_order), None, complete=False)
        return Timeline(sorted(posts, key=_post_order), newest)

    def _pages(
        self, endpoint: str, fn: Callable[..., Any], params: dict[str, Any], token_name: str
    ) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            body = self._call(
                endpoint,
                fn,
                max_results=100,
                tweet_fields=TWEET_FIELDS,
                user_auth=True,
                **{token_name: token},
                **params,
            )
            yield body
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                return


def _not_authorized(body: dict[str, Any]) -> bool:
    """X answers a protected account's timeline with a 200 and an Authorization Error, no data."""
    return any(
        str(e.get("type", "")).endswith("not-authorized-for-resource") for e in body.get("errors") or []
    )


def _post_order(post: Post) -> tuple[datetime, int]:
    return (post.created_at, int(post.id) if post.id.isdigit() else 0)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _user(raw: dict[str, Any]) -> XUser:
    status = raw.get("connection_status")
    return XUser(
        id=str(raw["id"]),
        username=str(raw["username"]),
        name=str(raw.get("name", "")),
        follows_me=("followed_by" in status) if isinstance(status, list) else None,
        protected=bool(raw.get("protected", False)),
    )


def parse_post(raw: dict[str, Any]) -> Post:
    """Map an X API v2 Tweet object to a Post (only the fields the method uses)."""
    refs = {r.get("type"): str(r.get("id")) for r in raw.get("referenced_tweets") or []}
    # A post over 280 characters comes with its ``text`` cut short, a question at its end cut off; the
    # whole post is under ``note_tweet``, with the entities of all of it (those of the cut text if
    # X leaves them out there).
    note = raw.get("note_tweet") or {}
    whole = note.get("text")
    entities = (note.get("entities") if whole else None) or raw.get("entities") or {}
    mentions = entities.get("mentions") or []
    metrics = raw.get("public_metrics") or {}
    versions = tuple(str(v) for v in raw.get("edit_history_tweet_ids") or ())  # X's default field
    return Post(
        id=str(raw["id"]),
        author_id=str(raw.get("author_id", "")),
        text=unescape_x_text(str(whole or raw.get("text", ""))),
        created_at=datetime.fromisoformat(str(raw["created_at"]).replace("Z", "+00:00")),
        in_reply_to_user_id=str(raw["in_reply_to_user_id"]) if raw.get("in_reply_to_user_id") else None,
        replied_to_id=refs.get("replied_to"),
        retweeted_id=refs.get("retweeted"),
        quoted_id=refs.get("quoted"),
        mention_ids=tuple(str(m["id"]) for m in mentions if m.get("id")),
        mention_usernames=tuple(str(m["username"]) for m in mentions if m.get("username")),
        urls=tuple(str(u.get("expanded_url") or u.get("url")) for u in entities.get("urls") or []),
        short_urls=tuple(str(u.get("url") or "") for u in entities.get("urls") or []),
        like_count=int(metrics.get("like_count", 0)),
        retweet_count=int(metrics.get("retweet_count", 0)),
        reply_count=int(metrics.get("reply_count", 0)),
        quote_count=int(metrics.get("quote_count", 0)),
        edit_history=versions if len(versions) > 1 else (),
    )


def unescape_x_text(text: str) -> str:
    """Post text as its author wrote it: X's ``&amp;``, ``&lt;``, ``&gt;`` undone, exactly once.

    Done here, where X's answer becomes a Post, so that classifying sees ``a < b`` and the digest escapes
    the text once for HTML itself.
    """
    return _X_ESCAPED.sub(lambda found: _X_ESCAPES[found.group(0)], text)


def make_reader(
    credentials: XCredentials, base_url: str = X_API_URL, timeout: float = X_TIMEOUT_SECONDS
) -> XReader:
    import tweepy

    from rapport.adapters.x_transport import mount_base_url

    client = tweepy.Client(
        consumer_key=credentials.consumer_key.get_secret_value(),
        consumer_secret=credentials.consumer_secret.get_secret_value(),
        access_token=credentials.access_token.get_secret_value(),
        access_token_secret=credentials.access_token_secret.get_secret_value(),
        return_type=dict,
        wait_on_rate_limit=False,  # never sleep in a Lambda until a reset
    )
    # Mounted for X itself too (the rewrite is then a no-op): it gives every request a time-out.
    mount_base_url(client.session, base_url.rstrip("/"), timeout=timeout)
    return XReader(client)
