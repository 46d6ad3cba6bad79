"""The X API v2 read endpoints of the simulator, answering as X's OpenAPI description (2.159) says.

``XApi.handle`` takes a method, path, query pairs and headers and returns status, JSON body and headers; it
knows nothing of sockets (``server.py`` does). Shapes follow X: ``data`` / ``includes`` / ``errors`` /
``meta``, empty arrays omitted (``minItems: 1``), partial errors with HTTP 200, Problem bodies for
request errors, ``x-rate-limit-*`` headers on every authenticated answer.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from rapport_local.scenario import EDIT_WINDOW, EDITS_MAX
from rapport_local.xsim.billing import Ledger, Resource
from rapport_local.xsim.entities import ServedText, escape_text, long_post_head
from rapport_local.xsim.faults import TIMEOUT, TRUNCATED, Faults
from rapport_local.xsim.params import ENDPOINT_PARAMS, ParamProblem, Query, check_path, parse_query
from rapport_local.xsim.ratelimit import RateLimiter, RateStatus
from rapport_local.xsim.records import Follower, SimPost, SimUser
from rapport_local.xsim.search import Matcher, QueryError, authors_of, parse_search
from rapport_local.xsim.world import World

JSON = "application/json; charset=utf-8"
PROBLEM_JSON = "application/problem+json"
PROBLEMS = "https://api.twitter.com/2/problems/"
MENTIONS_CAP = 800  # the mentions timeline reaches the newest 800 posts only
TWEETS_CAP = 3_200  # the user timeline reaches the newest 3,200 (retweets and replies included)
TWEETS_CAP_NO_REPLIES = 800  # ... and 800 when exclude=replies
SEARCH_WINDOW = timedelta(days=7)  # recent search reaches the last seven days
SEARCH_END_GAP = timedelta(seconds=10)  # end_time must be at least 10 seconds before the request
OWNED_ENDPOINTS = frozenset(
    {"/2/users/:id/mentions", "/2/users/:id/tweets", "/2/users/:id/followers", "/2/users/:id/following"}
)
_STATUS_TITLES = {
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True, slots=True)
class Auth:
    user_context: bool  # OAuth 1.0a user context (Authorization: OAuth ...) or app-only bearer
    credential: str  # whose rate-limit windows apply
    user_id: str | None  # the authenticated user, in user context


@dataclass(slots=True)
class ApiResponse:
    status: int
    body: dict[str, Any]
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    endpoint: str | None = None  # the route template, e.g. "/2/users/:id/mentions"
    delay_seconds: float = 0.0  # wall time to wait before answering (an injected time-out)
    truncated: bool = False  # the connection drops halfway through the body (an injected fault)


class _Keyed(Protocol):
    @property
    def key(self) -> tuple[datetime, int]: ...


K = TypeVar("K", bound=_Keyed)


@dataclass(frozen=True, slots=True)
class _Route:
    template: str
    pattern: re.Pattern[str]
    data_kind: Resource


_ROUTES = (
    _Route("/2/users/me", re.compile(r"^/2/users/me$"), "users"),
    _Route(
        "/2/users/by/username/:username", re.compile(r"^/2/users/by/username/(?P<username>[^/]+)$"), "users"
    ),
    _Route("/2/users/by", re.compile(r"^/2/users/by$"), "users"),
    _Route("/2/users/:id/mentions", re.compile(r"^/2/users/(?P<id>[^/]+)/mentions$"), "posts"),
    _Route("/2/users/:id/tweets", re.compile(r"^/2/users/(?P<id>[^/]+)/tweets$"), "posts"),
    _Route("/2/users/:id/followers", re.compile(r"^/2/users/(?P<id>[^/]+)/followers$"), "followers"),
    _Route("/2/users/:id/following", re.compile(r"^/2/users/(?P<id>[^/]+)/following$"), "users"),
    _Route("/2/users", re.compile(r"^/2/users$"), "users"),
    _Route("/2/tweets", re.compile(r"^/2/tweets$"), "posts"),
    _Route("/2/tweets/search/recent", re.compile(r"^/2/tweets/search/recent$"), "posts"),
)


def match_route(path: str) -> tuple[_Route, dict[str, str]] | None:
    for route in _ROUTES:
        found = route.pattern.match(path)
        if found:
            return route, found.groupdict()
    return None


class XApi:
    def __init__(self, world: World, ledger: Ledger, limiter: RateLimiter, faults: Faults) -> None:
        self.world = world
        self.ledger = ledger
        self.limiter = limiter
        self.faults = faults

    def handle(
        self, method: str, path: str, query: Sequence[tuple[str, str]], headers: Mapping[str, str]
    ) -> ApiResponse:
        matched = match_route(path)
        if matched is None:
            return _problem(404, "about:blank", "Not Found", f"No such endpoint: {path}")
        route, path_params = matched
        response = self._handle(route, path_params, method, query, headers)
        response.endpoint = route.template
        return response

    def _handle(
        self,
        route: _Route,
        path_params: dict[str, str],
        method: str,
        query: Sequence[tuple[str, str]],
        headers: Mapping[str, str],
    ) -> ApiResponse:
        with self.world.lock:  # one consistent view of the world per request
            now = self.world.now
            self.ledger.record_request(route.template, now.date())
            if method != "GET":
                return _problem(405, "about:blank", "Method Not Allowed", "The simulator serves reads only")
            auth = self._authenticate(headers)
            if auth is None:
                return _problem(401, "about:blank", "Unauthorized", "Unauthorized")
            if self.limiter.limit_for(route.template, auth.user_context) is None:
                # X puts its rate-limit headers on a 403 too; without an app limit, the user one's figures.
                refused = self.limiter.peek(route.template, auth.credential, True, now)
                return _with_limits(
                    _problem(
                        403,
                        PROBLEMS + "unsupported-authentication",
                        "Unsupported Authentication",
                        "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  "
                        "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User "
                        "Context].",
                    ),
                    refused,
                )
            fault = self.faults.take(route.template)
            if fault == TRUNCATED:
                # X did all the work (rate limit, billing) and sent its answer; only the wire lost part of it.
                answer = self._answer(route, path_params, query, auth, now)
                answer.truncated = True
                return answer
            if fault == TIMEOUT:  # the client gives up first; what it would finally get is a 503
                problem = _problem(503, "about:blank", _STATUS_TITLES[503], _STATUS_TITLES[503])
                problem.delay_seconds = self.faults.timeout_seconds
                return problem
            if fault == 401:  # the keys refused, as X answers a bad signature
                return _problem(401, "about:blank", "Unauthorized", "Unauthorized")
            if fault == 429:
                return _rate_limited(
                    self.limiter.exhaust(route.template, auth.credential, auth.user_context, now)
                )
            if isinstance(fault, int):  # 500, 502, 503, 504
                status = self.limiter.peek(route.template, auth.credential, auth.user_context, now)
                return _with_limits(
                    _problem(fault, "about:blank", _STATUS_TITLES[fault], _STATUS_TITLES[fault]), status
                )
            return self._answer(route, path_params, query, auth, now)

    def _answer(
        self,
        route: _Route,
        path_params: dict[str, str],
        query: Sequence[tuple[str, str]],
        auth: Auth,
        now: datetime,
    ) -> ApiResponse:
        """The endpoint's own answer (rate limit, parameters, data) once authentication has passed."""
        rate = self.limiter.hit(route.template, auth.credential, auth.user_context, now)
        if not rate.allowed:
            return _rate_limited(rate)

        problems = [p for name, value in path_params.items() if (p := check_path(name, value)) is not None]
        parsed, query_problems = parse_query(ENDPOINT_PARAMS[route.template], query)
        problems += query_problems
        if problems:
            return _with_limits(_invalid_request(problems), rate)
        reply = _Handler(self.world, auth, parsed, path_params).run(route.template)
        if isinstance(reply, ApiResponse):
            return _with_limits(reply, rate)
        owned = (
            route.template in OWNED_ENDPOINTS
            and auth.user_id is not None
            and path_params["id"] == auth.user_id
        )
        self.ledger.charge(now.date(), _data_resources(reply, route.data_kind), owned=owned)
        # Only what the owned endpoint lists is an owned read: an expanded user or post is billed at its
        # own price (README: owned reads are the listed endpoints of the authenticated user's own data).
        self.ledger.charge(now.date(), _included_resources(reply), owned=False)
        return _with_limits(ApiResponse(200, reply), rate)

    def _authenticate(self, headers: Mapping[str, str]) -> Auth | None:
        header = headers.get("Authorization") or headers.get("authorization") or ""
        if header.startswith("OAuth "):
            token = re.search(r'oauth_token="([^"]+)"', header)
            if token is None:
                return None  # OAuth 1.0a without an access token is not a user context
            return Auth(True, "user:" + token.group(1), self.world.me.id)
        if header.startswith("Bearer "):
            token_value = header[len("Bearer ") :].strip()
            if token_value in ("", "None"):  # what tweepy sends when it has no bearer token
                return None
            return Auth(False, "app:" + token_value, None)
        return None


class _Handler:
    """One request's answer, once authentication, limits and parameters passed."""

    def __init__(self, world: World, auth: Auth, query: Query, path: dict[str, str]) -> None:
        self.world = world
        self.auth = auth
        self.query = query
        self.path = path
        self.viewer = auth.user_id
        self.tweet_fields = query.item_set("tweet.fields")
        self.user_fields = query.item_set("user.fields")
        self.expansions = query.item_set("expansions")

    def run(self, template: str) -> dict[str, Any] | ApiResponse:
        handlers: dict[str, Callable[[], dict[str, Any] | ApiResponse]] = {
            "/2/users/me": self.users_me,
            "/2/users/by": self.users_by_usernames,
            "/2/users": self.users_by_ids,
            "/2/users/by/username/:username": self.user_by_username,
            "/2/users/:id/mentions": self.mentions,
            "/2/users/:id/tweets": self.tweets,
            "/2/users/:id/followers": self.followers,
            "/2/users/:id/following": self.following,
            "/2/tweets": self.tweets_by_ids,
            "/2/tweets/search/recent": self.search_recent,
        }
        return handlers[template]()

    # -- users ----------------------------------------------------------------------------------

    def users_me(self) -> dict[str, Any]:
        return self.user_body(self.world.me, [])

    def user_by_username(self) -> dict[str, Any]:
        name = self.path["username"]
        user = self.usable(self.world.user_named(name), "username", name)
        if isinstance(user, dict):
            return {"errors": [user]}
        return self.user_body(user, [])

    def users_by_usernames(self) -> dict[str, Any]:
        return self.users_lookup(self.query.items("usernames"), "usernames", self.world.user_named)

    def users_by_ids(self) -> dict[str, Any]:
        return self.users_lookup(self.query.items("ids"), "ids", self.world.user)

    def users_lookup(
        self, keys: list[str], parameter: str, find: Callable[[str], SimUser | None]
    ) -> dict[str, Any]:
        found: list[SimUser] = []
        errors: list[dict[str, Any]] = []
        for key in dict.fromkeys(keys):
            user = self.usable(find(key), parameter, key)
            if isinstance(user, dict):
                errors.append(user)
            elif user not in found:
                found.append(user)
        includes = self.user_includes(found)
        return self.envelope([self.render_user(u) for u in found], includes, errors)

    def user_body(self, user: SimUser, errors: list[dict[str, Any]]) -> dict[str, Any]:
        return self.envelope(self.render_user(user), self.user_includes([user]), errors)

    def usable(self, user: SimUser | None, parameter: str, value: str) -> SimUser | dict[str, Any]:
        """The user, or the problem X reports instead (unknown or suspended)."""
        if user is None:
            return _not_found("user", parameter, value)
        if user.suspended:
            return {
                **_not_found("user", parameter, value),
                "title": "Forbidden",
                "detail": f"User has been suspended: [{value}].",
            }
        return user

    def user_includes(self, users: Iterable[SimUser]) -> _Includes:
        includes = _Includes()
        if "most_recent_tweet_id" in self.expansions:
            for user in users:
                post_id = self.world.most_recent_post_id(user.id)
                post = self.world.post(post_id) if post_id else None
                if post is not None and self.world.visible(post, self.viewer):
                    includes.add_post(post)
        return includes

    # -- timelines ------------------------------------------------------------------------------

    def timeline_owner(self) -> SimUser | dict[str, Any]:
        user_id = self.path["id"]
        user = self.usable(self.world.user(user_id), "id", user_id)
        if isinstance(user, dict):
            return {"errors": [user]}
        if not self.world.can_see_posts_of(self.viewer, user):
            return {"errors": [_unauthorized("user", "id", user_id, "data")]}
        return user

    def mentions(self) -> dict[str, Any] | ApiResponse:
        owner = self.timeline_owner()
        if isinstance(owner, dict):
            return owner
        posts = self.world.mentions(owner.id, self.viewer)[:MENTIONS_CAP]
        return self.post_page(posts)

    def tweets(self) -> dict[str, Any] | ApiResponse:
        owner = self.timeline_owner()
        if isinstance(owner, dict):
            return owner
        exclude = self.query.item_set("exclude")
        cap = TWEETS_CAP_NO_REPLIES if "replies" in exclude else TWEETS_CAP
        posts = self.world.timeline(owner.id)[:cap]
        posts = [
            p
            for p in posts
            if not ("replies" in exclude and p.is_reply) and not ("retweets" in exclude and p.retweet_of)
        ]
        return self.post_page(posts)

    def post_page(self, posts: list[SimPost], *, search: bool = False) -> dict[str, Any] | ApiResponse:
        posts = self.within_window(posts)
        paged = _paginate(posts, self.query, default_size=10, style="base36")
        if isinstance(paged, ApiResponse):
            return paged
        page, next_token, previous_token = paged
        if search:
            previous_token = None  # search pages forward only (its meta has no previous_token)
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"] = page[0].id
            meta["oldest_id"] = page[-1].id
        if next_token:
            meta["next_token"] = next_token
        if previous_token:
            meta["previous_token"] = previous_token
        includes = self.post_includes(page)
        return self.envelope([self.render_post(p) for p in page], includes, [], meta)

    def within_window(self, posts: list[SimPost]) -> list[SimPost]:
        since_id, until_id = self.query.string("since_id"), self.query.string("until_id")
        # since_id/until_id take precedence over start_time/end_time (X's parameter descriptions).
        start = None if since_id else self.query.moment("start_time")
        end = None if until_id else self.query.moment("end_time")
        out = []
        for post in posts:
            if since_id is not None and not self.newer(post, since_id):
                continue
            if until_id is not None and (self.newer(post, until_id) or post.id == until_id):
                continue
            if start is not None and post.at < start:  # start_time is inclusive
                continue
            if end is not None and post.at >= end:  # end_time is exclusive
                continue
            out.append(post)
        return out

    def newer(self, post: SimPost, reference_id: str) -> bool:
        """``post`` comes after ``reference_id``: by world order for a known post, else numerically (X)."""
        reference = self.world.any_post(reference_id)
        if reference is not None:
            return post.key > reference.key
        return int(post.id) > int(reference_id)

    # -- recent search ---------------------------------------------------------------------------

    def search_recent(self) -> dict[str, Any] | ApiResponse:
        """Posts of the last seven days matching ``query``, newest first; never retweets, never protected.

        Retweets: since 2026-05 search returns none (README). Protected posts are not searchable.
        """
        raw = self.query.string("query") or ""
        try:
            node = parse_search(raw)
        except QueryError as refused:
            return _invalid_request([ParamProblem("query", (raw,), str(refused))])
        now = self.world.now
        oldest = now - SEARCH_WINDOW
        problems = self.search_window_problems(oldest, now)
        if problems:
            return _invalid_request(problems)
        matcher = Matcher(self.user_id_named, self.author_of)
        candidates = self.world.published_since(oldest, authors_of(node, self.user_id_named))
        # What anyone may see (no viewer): never a protected or suspended author's post.
        found = [
            p
            for p in candidates
            if p.retweet_of is None and self.world.visible(p, None) and matcher.matches(node, p)
        ]
        return self.post_page(found, search=True)

    def search_window_problems(self, oldest: datetime, now: datetime) -> list[ParamProblem]:
        problems: list[ParamProblem] = []
        start, end = self.query.moment("start_time"), self.query.moment("end_time")
        if start is not None and start < oldest:
            shown = _timestamp(start)
            problems.append(
                ParamProblem(
                    "start_time",
                    (shown,),
                    f"Invalid 'start_time':'{shown}'. 'start_time' must be on or after {_timestamp(oldest)}",
                )
            )
        if end is not None and end > now - SEARCH_END_GAP:
            shown = _timestamp(end)
            problems.append(
                ParamProblem(
                    "end_time",
                    (shown,),
                    f"Invalid 'end_time':'{shown}'. 'end_time' must be a minimum of 10 seconds prior to the "
                    "request time.",
                )
            )
        since_id = self.query.string("since_id")
        since = self.world.any_post(since_id) if since_id else None
        if since_id and since is not None and since.at < oldest:
            problems.append(
                ParamProblem(
                    "since_id",
                    (since_id,),
                    f"Invalid 'since_id':'{since_id}'. 'since_id' must be a tweet id created after "
                    f"{_timestamp(oldest)}.",
                )
            )
        return problems

    def user_id_named(self, username: str) -> str | None:
        user = self.world.user_named(username)
        return user.id if user is not None else None

    def author_of(self, post_id: str) -> str | None:
        post = self.world.post(post_id)
        return post.author_id if post is not None else None

    def tweets_by_ids(self) -> dict[str, Any]:
        found: list[SimPost] = []
        errors: list[dict[str, Any]] = []
        for post_id in dict.fromkeys(self.query.items("ids")):
            post = self.world.post(post_id)
            author = self.world.user(post.author_id) if post is not None else None
            if post is None or author is None or author.suspended:
                errors.append(_not_found("tweet", "ids", post_id))
            elif not self.world.visible(post, self.viewer):
                errors.append(_unauthorized("tweet", "ids", post_id, "data"))
            else:
                found.append(post)
        return self.envelope([self.render_post(p) for p in found], self.post_includes(found), errors)

    def followers(self) -> dict[str, Any] | ApiResponse:
        owner = self.timeline_owner()
        if isinstance(owner, dict):
            return owner
        return self.follow_page(self.world.followers(owner.id))

    def following(self) -> dict[str, Any] | ApiResponse:
        owner = self.timeline_owner()
        if isinstance(owner, dict):
            return owner
        return self.follow_page(self.world.following(owner.id))

    def follow_page(self, follows: list[Follower]) -> dict[str, Any] | ApiResponse:
        """One page of a follow list, newest follow first, as X pages followers and following."""
        paged = _paginate(follows, self.query, default_size=100, style="base32")
        if isinstance(paged, ApiResponse):
            return paged
        page, next_token, previous_token = paged
        meta: dict[str, Any] = {"result_count": len(page)}
        if next_token:
            meta["next_token"] = next_token
        if previous_token:
            meta["previous_token"] = previous_token
        users = [f.user for f in page]
        return self.envelope([self.render_user(u) for u in users], self.user_includes(users), [], meta)

    # -- expansions -----------------------------------------------------------------------------

    def post_includes(self, posts: Iterable[SimPost]) -> _Includes:
        includes = _Includes()
        wanted = self.expansions
        for post in posts:
            if "author_id" in wanted:
                includes.add_user(self.world.user(post.author_id))
            if "in_reply_to_user_id" in wanted and post.in_reply_to_user_id:
                includes.add_user(self.world.user(post.in_reply_to_user_id))
            if "entities.mentions.username" in wanted:
                for mention in post.mentions:
                    includes.add_user(self.world.user(mention.user_id))
            if wanted & {"referenced_tweets.id", "referenced_tweets.id.author_id"}:
                for _, ref_id in _references(post):
                    ref = self.world.post(ref_id)
                    author = self.world.user(ref.author_id) if ref is not None else None
                    if ref is None or author is None or author.suspended:
                        includes.error(_not_found("tweet", "referenced_tweets.id", ref_id))
                    elif not self.world.visible(ref, self.viewer):
                        includes.error(_unauthorized("tweet", "referenced_tweets.id", ref_id, "includes"))
                    else:
                        if "referenced_tweets.id" in wanted:
                            includes.add_post(ref)
                        if "referenced_tweets.id.author_id" in wanted:
                            includes.add_user(author)
        return includes

    # -- rendering ------------------------------------------------------------------------------

    def envelope(
        self,
        data: list[dict[str, Any]] | dict[str, Any],
        includes: _Includes,
        errors: list[dict[str, Any]],
        meta: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """X's response shape; empty ``data``/``includes``/``errors`` are left out (minItems: 1)."""
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        rendered: dict[str, Any] = {}
        if includes.users:
            rendered["users"] = [self.render_user(u) for u in includes.users.values()]
        if includes.posts:
            rendered["tweets"] = [self.render_post(p) for p in includes.posts.values()]
        if rendered:
            body["includes"] = rendered
        all_errors = [*errors, *includes.errors]
        if all_errors:
            body["errors"] = all_errors
        if meta is not None:
            body["meta"] = meta
        return body

    def render_user(self, user: SimUser) -> dict[str, Any]:
        out: dict[str, Any] = {"id": user.id, "name": user.name, "username": user.username}
        wanted = self.user_fields
        if "created_at" in wanted:
            out["created_at"] = _timestamp(user.created_at)
        if "description" in wanted:
            out["description"] = user.description
        if "protected" in wanted:
            out["protected"] = user.protected
        if "public_metrics" in wanted:
            out["public_metrics"] = self.world.user_metrics(user)
        if "most_recent_tweet_id" in wanted:
            recent = self.world.most_recent_post_id(user.id)
            if recent is not None:
                out["most_recent_tweet_id"] = recent
        if "connection_status" in wanted and self.viewer is not None:
            # Only meaningful on behalf of a user: app-only answers leave it out.
            out["connection_status"] = self.world.connection_status(self.viewer, user.id)
        if "verified" in wanted:
            out["verified"] = False
        if "verified_type" in wanted:
            out["verified_type"] = "none"
        return out

    def render_post(self, post: SimPost) -> dict[str, Any]:
        # id, text and edit_history_tweet_ids are X's defaults ("By default, responses include only id,
        # text, and edit_history_tweet_ids", X timelines docs).
        # X HTML-escapes the text it serves (&, <, > only); entity offsets count the unescaped text.
        # A long post's text is cut short; the whole of it comes under note_tweet, when asked for.
        whole = ServedText(post.text, post.mentions, post.links)
        shown = long_post_head(whole)
        out: dict[str, Any] = {
            "id": post.id,
            "text": escape_text(shown.text),
            "edit_history_tweet_ids": list(post.edit_history or (post.id,)),
        }
        wanted = self.tweet_fields
        if "created_at" in wanted:
            out["created_at"] = _timestamp(post.at)
        if "author_id" in wanted:
            out["author_id"] = post.author_id
        if "conversation_id" in wanted:
            out["conversation_id"] = post.conversation_id
        if "in_reply_to_user_id" in wanted and post.in_reply_to_user_id:
            out["in_reply_to_user_id"] = post.in_reply_to_user_id
        references = _references(post)
        if "referenced_tweets" in wanted and references:
            out["referenced_tweets"] = [{"type": kind, "id": ref_id} for kind, ref_id in references]
        if "entities" in wanted:
            entities = _entities(shown)
            if entities:
                out["entities"] = entities
        if "note_tweet" in wanted and shown is not whole:
            out["note_tweet"] = {"text": escape_text(whole.text)}
            if entities := _entities(whole):
                out["note_tweet"]["entities"] = entities
        if "public_metrics" in wanted:
            out["public_metrics"] = self.world.post_metrics(post)
        if "edit_controls" in wanted:
            # Counted from the first version: an edit does not reopen the window.
            out["edit_controls"] = {
                "edits_remaining": EDITS_MAX - max(len(post.edit_history) - 1, 0),
                "is_edit_eligible": post.retweet_of is None,
                "editable_until": _timestamp(self.world.first_version(post).at + EDIT_WINDOW),
            }
        if "lang" in wanted:
            out["lang"] = post.lang
        if "possibly_sensitive" in wanted:
            out["possibly_sensitive"] = False
        if "reply_settings" in wanted:
            out["reply_settings"] = "everyone"
        return out


class _Includes:
    """What ``expansions`` pull in, each object once, plus problems with referenced objects."""

    def __init__(self) -> None:
        self.users: dict[str, SimUser] = {}
        self.posts: dict[str, SimPost] = {}
        self.errors: list[dict[str, Any]] = []

    def add_user(self, user: SimUser | None) -> None:
        if user is not None and not user.suspended:
            self.users.setdefault(user.id, user)

    def add_post(self, post: SimPost) -> None:
        self.posts.setdefault(post.id, post)

    def error(self, problem: dict[str, Any]) -> None:
        if problem not in self.errors:
            self.errors.append(problem)


def _references(post: SimPost) -> list[tuple[str, str]]:
    refs: list[tuple[str, str]] = []
    if post.retweet_of:
        refs.append(("retweeted", post.retweet_of))
    if post.quote_of:
        refs.append(("quoted", post.quote_of))
    if post.reply_to:
        refs.append(("replied_to", post.reply_to))
    return refs


def _entities(post: ServedText) -> dict[str, Any]:
    entities: dict[str, Any] = {}
    if post.mentions:
        entities["mentions"] = [
            {"start": m.start, "end": m.end, "username": m.username, "id": m.user_id} for m in post.mentions
        ]
    if post.links:
        entities["urls"] = [
            {
                "start": k.start,
                "end": k.end,
                "url": k.url,
                "expanded_url": k.expanded_url,
                "display_url": k.display_url,
            }
            for k in post.links
        ]
    return entities


def _data_resources(body: dict[str, Any], data_kind: Resource) -> list[tuple[Resource, str]]:
    data = body.get("data")
    items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    return [(data_kind, str(item["id"])) for item in items]


def _included_resources(body: dict[str, Any]) -> list[tuple[Resource, str]]:
    includes = body.get("includes") or {}
    out: list[tuple[Resource, str]] = [("users", str(u["id"])) for u in includes.get("users", [])]
    out += [("posts", str(t["id"])) for t in includes.get("tweets", [])]
    return out


# -- pagination ---------------------------------------------------------------------------------


def _paginate(
    items: list[K], query: Query, *, default_size: int, style: str
) -> tuple[list[K], str | None, str | None] | ApiResponse:
    """A page of ``items`` (newest first) from ``pagination_token``, with the next and previous tokens."""
    size = query.integer("max_results", default_size)
    token = query.string("pagination_token") or query.string("next_token")  # search accepts both
    if token is None:
        page = items[:size]
    else:
        cursor = _decode_token(token, style)
        if cursor is None:
            return _invalid_request(
                [
                    ParamProblem(
                        "pagination_token",
                        (token,),
                        f"The `pagination_token` query parameter value [{token}] is not valid",
                    )
                ]
            )
        forward, key = cursor
        if forward:
            page = [i for i in items if i.key < key][:size]
        else:
            newer = [i for i in items if i.key > key]
            page = newer[-size:] if newer else []
    next_token = previous_token = None
    if page and any(i.key < page[-1].key for i in items):
        next_token = _encode_token(True, page[-1].key, style)
    if token is not None and page and any(i.key > page[0].key for i in items):
        previous_token = _encode_token(False, page[0].key, style)
    return page, next_token, previous_token


_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_CHECK = 9973
_FORWARD, _BACKWARD = 0x5A, 0xA5


def _encode_token(forward: bool, key: tuple[datetime, int], style: str) -> str:
    millis, seq = int(key[0].timestamp() * 1000), key[1]
    if style == "base32":
        # Followers tokens are base32 and at least 16 characters (PaginationToken32).
        raw = bytes([_FORWARD if forward else _BACKWARD]) + millis.to_bytes(6, "big") + seq.to_bytes(3, "big")
        return base64.b32encode(raw).decode("ascii")
    number = ((millis << 24 | seq) << 1) | int(forward)
    number = number * _CHECK + number % _CHECK
    digits = []
    while number:
        number, rest = divmod(number, 36)
        digits.append(_B36[rest])
    return "".join(reversed(digits)) or "0"


def _decode_token(token: str, style: str) -> tuple[bool, tuple[datetime, int]] | None:
    try:
        if style == "base32":
            raw = base64.b32decode(token)
            if len(raw) != 10 or raw[0] not in (_FORWARD, _BACKWARD):
                return None
            forward = raw[0] == _FORWARD
            millis, seq = int.from_bytes(raw[1:7], "big"), int.from_bytes(raw[7:], "big")
        else:
            number = int(token, 36)
            payload, check = divmod(number, _CHECK)
            if payload % _CHECK != check:
                return None
            forward = bool(payload & 1)
            millis, seq = (payload >> 1) >> 24, (payload >> 1) & 0xFFFFFF
        return forward, (datetime.fromtimestamp(millis / 1000, UTC), seq)
    except (ValueError, OverflowError):
        return None


# -- bodies -------------------------------------------------------------------------------------


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _not_found(resource_type: str, parameter: str, value: str) -> dict[str, Any]:
    noun = "tweet" if resource_type == "tweet" else "user"
    return {
        "value": value,
        "detail": f"Could not find {noun} with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": value,
        "type": PROBLEMS + "resource-not-found",
    }


def _unauthorized(resource_type: str, parameter: str, value: str, section: str) -> dict[str, Any]:
    noun = "Tweet" if resource_type == "tweet" else "user"
    return {
        "value": value,
        "detail": f"Sorry, you are not authorized to see the {noun} with {parameter}: [{value}].",
        "title": "Authorization Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": value,
        "section": section,
        "type": PROBLEMS + "not-authorized-for-resource",
    }


def _problem(status: int, kind: str, title: str, detail: str) -> ApiResponse:
    return ApiResponse(
        status, {"title": title, "detail": detail, "type": kind, "status": status}, PROBLEM_JSON
    )


def _invalid_request(problems: list[ParamProblem]) -> ApiResponse:
    return ApiResponse(
        400,
        {
            "errors": [p.as_error() for p in problems],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": PROBLEMS + "invalid-request",
        },
        PROBLEM_JSON,
    )


def _rate_limited(status: RateStatus) -> ApiResponse:
    # As X's v2 answers a 429 (README): a Problem, no Retry-After, the reset in the headers.
    return _with_limits(_problem(429, "about:blank", "Too Many Requests", "Too Many Requests"), status)


def _with_limits(response: ApiResponse, status: RateStatus) -> ApiResponse:
    response.headers.update(status.headers())
    return response
