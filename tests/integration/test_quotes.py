"""A target quoting a post of ours: no mention on X, but an answer to us all the same."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from rapport.domain.model import InteractionKind
from rapport_local.aws import LocalAws
from rapport_local.scenario import parse_scenario
from rapport_local.stack import LocalStack
from tests.integration.worlds import person_x_world, post_event, stack_on

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


WORLD = person_x_world(
    START,
    days=2,
    settings={"timezone": "UTC", "digest_hour": 7},
    events=[
        post_event(
            START + timedelta(hours=1),
            "5001",
            "ana_builds",
            "Cold starts, measured on three runtimes https://example.com/cs",
        ),
        # Read by the 10:00 collect; person_x quotes it in the afternoon, naming nobody.
        post_event(
            START + timedelta(hours=6),
            "1001",
            "person_x",
            "The most careful measurement of this I have seen",
            quote_of="5001",
        ),
    ],
)


@pytest.fixture
def stack(aws: LocalAws, table_name: str) -> Iterator[LocalStack]:
    with stack_on(aws, table_name, parse_scenario(WORLD), at=START) as local:
        yield local


def test_a_quote_of_our_post_read_hours_later_is_stored_as_their_answer(stack: LocalStack):
    # Given the 10:00 collect read our post, and person_x quoted it at 14:00
    stack.tick(START + timedelta(hours=2), digest=False)
    # When the 15:00 collect reads person_x's posts
    stack.tick(START + timedelta(hours=7), digest=False)
    # Then their quote is stored as an answer to us, about our post, and the digest will say so
    (quote,) = [i for i in stack.deps.stores.evidence.interactions("200") if i.id == "1001"]
    assert (quote.kind, quote.refers_to) == (InteractionKind.MENTION, "5001")
    pending = stack.deps.stores.suggestions.pending_suggestions(until=START + timedelta(days=1))
    assert [s.reason for s in pending if s.post_id == "1001"] == [
        "@person_x quoted your post: they spoke first, so a reply is welcome"
    ]
