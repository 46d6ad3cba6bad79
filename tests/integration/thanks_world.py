"""One small world shared by the stack tests: person_x posts, we retweet it, they thank us."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from rapport_local.aws import LocalAws
from rapport_local.scenario import parse_scenario
from rapport_local.stack import LocalStack
from rapport_local.xsim import XSimServer

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def schedule(hours: float) -> datetime:
    return START + timedelta(hours=hours)


WORLD = {
    "start": START.isoformat(),
    "days": 2,
    "me": {"id": "100", "username": "ana_builds", "name": "Ana"},
    "users": [{"id": "200", "username": "person_x", "name": "Person X"}],
    "targets": ["person_x"],
    "settings": {"timezone": "UTC", "digest_hour": 7, "send_empty_digest": True},
    "events": [
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
}


@contextmanager
def stack_after_the_thanks(aws: LocalAws, table_name: str) -> Iterator[LocalStack]:
    """The world played up to 12:00, an hour after the thanks; person_x is a target since 08:00."""
    scenario = parse_scenario(WORLD)
    with XSimServer(scenario) as sim:
        sim.set_now(schedule(4))
        local = LocalStack(aws, sim, table=table_name)
        local.setup(scenario, at=START)
        yield local
