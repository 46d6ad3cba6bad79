"""One small world shared by the stack tests: person_x posts, we retweet it, they thank us."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from rapport_local.aws import LocalAws
from rapport_local.scenario import parse_scenario
from rapport_local.stack import LocalStack
from tests.integration.worlds import person_x_world, stack_on

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def schedule(hours: float) -> datetime:
    return START + timedelta(hours=hours)


WORLD = person_x_world(
    START,
    days=2,
    settings={"timezone": "UTC", "digest_hour": 7, "send_empty_digest": True},
    events=[
        {
            "at": schedule(1).isoformat(),
            "post": {"id": "1001", "by": "person_x", "text": "Cold starts, halved https://e.com/a"},
        },
        {"at": schedule(2).isoformat(), "retweet": {"id": "5001", "by": "ana_builds", "post": "1001"}},
        {
            "at": schedule(3).isoformat(),
            "post": {"id": "1002", "by": "person_x", "text": "@ana_builds thanks for sharing!"},
        },
    ],
)


@contextmanager
def stack_after_the_thanks(aws: LocalAws, table_name: str) -> Iterator[LocalStack]:
    """The world played up to 12:00, an hour after the thanks; person_x is a target since 08:00."""
    with stack_on(aws, table_name, parse_scenario(WORLD), at=START, now=schedule(4)) as local:
        yield local
