"""A world of a few hours for the crash sweep's sample: a post, our retweet, their thanks, the digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rapport_local.scenario import Scenario, parse_scenario
from tests.integration.worlds import person_x_world

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
HOURS = 6  # 09:00 to 14:00: the thanks is collected at 11:00, the digest goes at 12:00


def _at(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat()


def _by_x(post_id: str, text: str) -> dict[str, str]:
    return {"id": post_id, "by": "person_x", "text": text}


def crash_world() -> Scenario:
    return parse_scenario(
        person_x_world(
            START,
            days=1,
            settings={"timezone": "UTC", "digest_hour": 12, "send_empty_digest": True},
            events=[
                {"at": _at(0.5), "post": _by_x("1001", "Cold starts, halved https://e.com/a")},
                {"at": _at(1.5), "retweet": {"id": "5001", "by": "ana_builds", "post": "1001"}},
                {"at": _at(2.5), "post": _by_x("1002", "@ana_builds thanks for sharing!")},
                {"at": _at(3.5), "post": _by_x("1003", "Anyone know a good way to trace Lambda init?")},
            ],
        )
    )
