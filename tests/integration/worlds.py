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


def one_post_world(start: datetime, text: str) -> dict[str, Any]:
    """Two days (UTC, the digest at 07:00) in which person_x posts ``text`` (id 1001) an hour in."""
    return person_x_world(
        start,
        days=2,
        settings={"timezone": "UTC", "digest_hour": 7},
        events=[
            {
                "at": (start + timedelta(hours=1)).isoformat(),
                "post": {"id": "1001", "by": "person_x", "text": text},
            }
        ],
    )


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
