"""A post's text from X to the digest: X escapes it, Rapport unescapes it once, the email shows it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from rapport_local.aws import LocalAws
from rapport_local.scenario import parse_scenario
from rapport_local.stack import LocalStack
from tests.integration.worlds import one_post_world, served_posts, stack_on

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
WRITTEN = "Cold starts: a < b & c, so p99 > p50 🚀 https://example.com/a"
WORLD = one_post_world(START, WRITTEN)


@pytest.fixture
def stack(aws: LocalAws, table_name: str) -> Iterator[LocalStack]:
    with stack_on(aws, table_name, parse_scenario(WORLD), at=START) as local:
        yield local


def next_digest(stack: LocalStack) -> EmailMessage:
    """The next morning's digest (07:00 UTC); the email it sent."""
    sent_before = len(stack.aws.sent_emails())
    tick = stack.tick(START + timedelta(hours=23))  # 07:00 UTC, the digest hour
    assert tick.sent
    (email,) = stack.aws.sent_emails()[sent_before:]
    return email


def test_a_post_with_angle_brackets_ampersand_and_emoji_reaches_the_digest_as_written(stack):
    # Given Rapport collected person_x's post, which X serves HTML-escaped
    stack.tick(START + timedelta(hours=2), digest=False)
    assert served_posts(stack, "/2/tweets", ids="1001")[0]["text"].startswith(
        "Cold starts: a &lt; b &amp; c, so p99 &gt; p50 🚀"
    )
    # When the next digest is sent
    email = next_digest(stack)
    text = email.get_body(preferencelist=("plain",))
    html = email.get_body(preferencelist=("html",))
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    plain, page = text.get_content(), html.get_content()
    # Then the plain part shows the text as person_x wrote it, no entity left in it
    assert "Cold starts: a < b & c, so p99 > p50 🚀" in plain
    assert "&amp;" not in plain and "&lt;" not in plain and "&gt;" not in plain
    # And the HTML part escapes it exactly once: neither raw nor escaped twice
    assert "Cold starts: a &lt; b &amp; c, so p99 &gt; p50 🚀" in page
    assert "&amp;lt;" not in page and "&amp;amp;" not in page and "&amp;gt;" not in page
