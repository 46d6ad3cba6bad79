"""The small worlds the stack tests play: ana_builds, whose one target is person_x; a local stack on them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from rapport_local.aws import LocalAws
from rapport_local.scenario import Scenario
from rapport_local.stack import LocalStack
from rapport_local.xsim import XSimServer


def person_x_world(
    start: datetime, *, days: int, settings: dict[str, Any], events: list[dict[str, Any]]
) -> dict[str, Any]:
    """A scenario (as parse_scenario reads it) where ana_builds follows person_x through ``events``."""
    return {
        "start": start.isoformat(),
        "days": days,
        "me": {"id": "100", "username": "ana_builds", "name": "Ana"},
        "users": [{"id": "200", "username": "person_x", "name": "Person X"}],
        "targets": ["person_x"],
        "settings": settings,
        "events": events,
    }


def post_event(at: datetime, post_id: str, by: str, text: str, **extra: str) -> dict[str, Any]:
    """A scenario's post event (``extra``: reply_to, quote_of)."""
    return {"at": at.isoformat(), "post": {"id": post_id, "by": by, "text": text, **extra}}


def one_post_world(start: datetime, text: str) -> dict[str, Any]:
    """Two days (UTC, the digest at 07:00) in which person_x posts ``text`` (id 1001) an hour in."""
    return person_x_world(
        start,
        days=2,
        settings={"timezone": "UTC", "digest_hour": 7},
        events=[post_event(start + timedelta(hours=1), "1001", "person_x", text)],
    )


def served_posts(stack: LocalStack, path: str, **params: str) -> list[dict[str, Any]]:
    """The posts the stack's X simulator serves at ``path`` to Rapport's keys (``params``: the query)."""
    answer = stack.xsim.app.api.handle(
        "GET", path, list(params.items()), {"Authorization": 'OAuth oauth_token="t"'}
    )
    posts: list[dict[str, Any]] = answer.body["data"]
    return posts


@contextmanager
def stack_on(
    aws: LocalAws, table_name: str, scenario: Scenario, *, at: datetime, now: datetime | None = None
) -> Iterator[LocalStack]:
    """A local stack on ``table_name``, set up at ``at``; its X simulator serves ``scenario`` from ``now``."""
    with XSimServer(scenario) as sim:
        if now is not None:
            sim.set_now(now)
        local = LocalStack(aws, sim, table=table_name)
        local.setup(scenario, at=at)
        yield local
