"""Small builders for test data, in the method's words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from rapport.domain.model import Interaction, InteractionKind, Post, Suggestion, SuggestionKind, Target

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ME_ID, ME = "100", "ana_builds"
_ids = count(1000)


def at(hours: float = 0, days: float = 0) -> datetime:
    return T0 + timedelta(hours=hours, days=days)


def next_id() -> str:
    return str(next(_ids))


def target(username: str = "person_x", target_id: str = "200", **kw: object) -> Target:
    return Target(id=target_id, username=username, name=username.title(), added_at=T0, **kw)  # type: ignore[arg-type]


def post(
    text: str = "How we halved cold starts https://example.com/a",
    *,
    by: str = "200",
    when: datetime | None = None,
    post_id: str | None = None,
    **kw: object,
) -> Post:
    return Post(id=post_id or next_id(), author_id=by, text=text, created_at=when or T0, **kw)  # type: ignore[arg-type]


def evidence(
    kind: InteractionKind,
    when: datetime | None = None,
    *,
    target_id: str = "200",
    ev_id: str | None = None,
    the_post: Post | None = None,
    is_question: bool = False,
    refers_to: str | None = None,
) -> Interaction:
    return Interaction(
        id=ev_id or next_id(),
        target_id=target_id,
        kind=kind,
        at=when or T0,
        post=the_post,
        is_question=is_question,
        refers_to=refers_to,
    )


def added(when: datetime | None = None) -> Interaction:
    return evidence(InteractionKind.ADDED, when or T0, ev_id="added")


def suggestion(
    kind: SuggestionKind = SuggestionKind.RETWEET, *, post_id: str | None = "1001", **kw: object
) -> Suggestion:
    defaults: dict[str, object] = {
        "target_id": "200",
        "target_username": "person_x",
        "created_at": T0,
        "reason": "a useful post",
        "post_id": post_id,
    }
    defaults.update(kw)
    return Suggestion(kind=kind, **defaults)  # type: ignore[arg-type]


def function_url_event(
    method: str,
    path: str,
    body: str | None = None,
    query: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> dict[str, Any]:
    """A request as a Lambda Function URL delivers it (payload format 2.0)."""
    query = query or {}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in query.items()),
        "queryStringParameters": query or None,
        "headers": {"content-type": content_type, "host": "abc.lambda-url.eu-west-1.on.aws"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc",
            "domainName": "abc.lambda-url.eu-west-1.on.aws",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": "r1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "02/Mar/2026:08:00:00 +0000",
            "timeEpoch": 1772438400000,
        },
        "body": body,
        "isBase64Encoded": False,
    }
