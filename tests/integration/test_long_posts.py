"""A post over 280 characters: X serves its text cut short, and the whole of it only when asked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from rapport.domain.model import InteractionKind
from rapport_local.aws import LocalAws
from rapport_local.scenario import parse_scenario
from rapport_local.stack import LocalStack
from tests.integration.worlds import one_post_world, served_posts, stack_on

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
QUESTION = "Any recommendations for a guide to SnapStart with Python?"
LONG_POST = (
    "Our Python Lambdas import boto3, pydantic, PynamoDB and Powertools, and a cold start takes 2.1 s"
    " before our own code runs. Lazy imports, smaller layers and shipped bytecode got us to 1.4 s and"
    " no further, and provisioned concurrency would cost more than the function itself. " + QUESTION
)
WORLD = one_post_world(START, LONG_POST)


WRITE_UP = (
    "We cut our Lambda cold starts from 2.1 s to 0.6 s & it took three changes: measure every import,"
    " drop what a handler never uses, and ship the layers as bytecode built by the runtime's own"
    " Python. Each one is small; together they took two thirds off. The write-up, with every figure:"
    " https://example.com/cold-starts"
)
WORLD_WITH_LINK = one_post_world(START, WRITE_UP)


@pytest.fixture
def stack(aws: LocalAws, table_name: str) -> Iterator[LocalStack]:
    with stack_on(aws, table_name, parse_scenario(WORLD), at=START) as local:
        yield local


@pytest.fixture
def stack_with_link(aws: LocalAws, table_name: str) -> Iterator[LocalStack]:
    with stack_on(aws, table_name, parse_scenario(WORLD_WITH_LINK), at=START) as local:
        yield local


def test_a_long_post_is_read_whole_and_its_closing_question_is_seen(stack: LocalStack):
    # Given person_x's post of more than 280 characters, whose question comes at its end
    assert len(LONG_POST) > 280
    # When Rapport collects it
    stack.tick(START + timedelta(hours=2), digest=False)
    # (X serves its text cut before the question, and the whole of it under note_tweet when asked)
    (cut,) = served_posts(stack, "/2/tweets", ids="1001", **{"tweet.fields": "created_at"})
    assert QUESTION not in str(cut["text"]) and "note_tweet" not in cut
    (whole,) = served_posts(stack, "/2/tweets", ids="1001", **{"tweet.fields": "note_tweet"})
    assert whole["note_tweet"] == {"text": LONG_POST}
    # Then the post stored is the whole of it, as written, and it counts as a question to their network
    (post,) = [
        i for i in stack.deps.stores.evidence.interactions("200") if i.kind is InteractionKind.TARGET_POST
    ]
    assert post.post is not None and post.post.text == LONG_POST
    assert post.is_question


def test_a_long_post_with_its_link_past_the_cut_is_suggested_with_it(stack_with_link: LocalStack):
    # Given person_x's long write-up, whose link comes after the 280th character
    stack = stack_with_link
    assert len(WRITE_UP) > 280 and WRITE_UP.index("https://") > 280
    # When Rapport collects it, and the next morning's digest is sent
    stack.tick(START + timedelta(hours=2), digest=False)
    sent_before = len(stack.aws.sent_emails())
    assert stack.tick(START + timedelta(hours=23)).sent
    (email,) = stack.aws.sent_emails()[sent_before:]
    # Then the digest suggests it, showing the post's end and where its link leads
    plain = email.get_body(preferencelist=("plain",))
    assert isinstance(plain, EmailMessage)
    shown = " ".join(plain.get_content().split())
    assert "with every figure:" in shown and "example.com/cold-starts" in shown
