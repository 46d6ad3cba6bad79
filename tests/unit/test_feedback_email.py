"""The answer links as the reader meets them: in the digest, in its headers, and on the endpoint's pages."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from rapport.domain.feedback import FeedbackLinks
from rapport.domain.model import Stage, Suggestion, SuggestionKind, suggestion_ref
from rapport.email.feedback_page import PAGE_HEADERS, render_page
from rapport.email.mime import build_mime
from rapport.email.render import render_digest
from rapport.email.view import DigestView, TargetStatus
from rapport.runtime.observability import logger
from rapport.runtime.services import Services
from rapport.runtime.settings import FeedbackSettings
from rapport.usecases.digest import with_feedback
from tests.factories import function_url_event, target
from tests.fakes import memory_stores

NOW = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
KEY_TEXT = "feedback-key-" * 4
KEY = KEY_TEXT.encode()
LINKS = FeedbackLinks("https://abc.lambda-url.eu-west-1.on.aws", KEY)
HOSTILE = '<script>alert(1)</script>"><b>'


def a_view(*suggestions: Suggestion, snoozed: datetime | None = None) -> DigestView:
    view = DigestView(
        local_date=date(2026, 3, 3),
        me_username="me",
        suggestions=suggestions,
        transitions=(),
        targets=(TargetStatus("person_x", Stage.RETWEET, NOW - timedelta(days=3), snoozed),),
    )
    return with_feedback(view, LINKS, NOW)


def a_retweet() -> Suggestion:
    return Suggestion(
        kind=SuggestionKind.RETWEET,
        target_id="200",
        target_username="person_x",
        created_at=NOW,
        reason="a useful post",
        post_id="1001",
        post_text="How we halved cold starts",
    )


class _Links(HTMLParser):
    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[dict[str, str | None]] = []
        self.tags: set[str] = set()
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "a":
            self.links.append(dict(attrs)["href"] or "")
        if tag == "form":
            self.forms.append(dict(attrs))


def test_each_suggestion_carries_its_answers_and_the_footer_the_pause_link_in_both_parts():
    s = a_retweet()
    view = a_view(s)

    rendered = render_digest(view)

    answers = view.feedback[suggestion_ref(s)]
    html_links = _Links(rendered.html).links
    for action, url in answers.items():
        assert url in html_links, action
        assert url in rendered.text, action
    assert view.pause_url in html_links and view.pause_url in rendered.text
    for words in (
        "I did it",
        "Not this one",
        "Not now: 1 week",
        "Not for me",
        "Pause these emails",
        "rapport targets",
    ):
        assert words in rendered.text, words
    # The answers are quiet: the main action stays the one button
    assert rendered.html.index("Retweet") < rendered.html.index("I did it")


def test_the_overview_says_until_when_a_target_is_snoozed():
    rendered = render_digest(a_view(a_retweet(), snoozed=datetime(2026, 3, 17, 7, 30, tzinfo=UTC)))

    assert "snoozed until 2026-03-17" in rendered.text
    assert "snoozed until 2026-03-17" in rendered.html


def test_the_digest_offers_one_click_unsubscribe_that_pauses_it():
    view = a_view(a_retweet())
    rendered = render_digest(view)

    raw = build_mime(
        rendered, "digest@example.com", "me@example.com", sent_at=NOW, unsubscribe=view.pause_url
    )

    message = message_from_bytes(raw, policy=default)
    assert message["List-Unsubscribe"] == f"<{view.pause_url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert urlsplit(view.pause_url or "").scheme == "https"


def test_a_digest_without_a_feedback_endpoint_has_no_answer_links_nor_unsubscribe_header():
    # Given a stack without the feedback function (no links to sign)
    plain = DigestView(date(2026, 3, 3), "me", (a_retweet(),), (), ())
    view = with_feedback(plain, None, NOW)

    rendered = render_digest(view)
    raw = build_mime(
        rendered, "digest@example.com", "me@example.com", sent_at=NOW, unsubscribe=view.pause_url
    )

    assert (view.feedback, view.pause_url) == ({}, None)
    assert "List-Unsubscribe" not in message_from_bytes(raw, policy=default)
    assert "I did it" not in rendered.text and "Pause these emails" not in rendered.text


def test_the_confirmation_page_is_escaped_has_one_post_button_and_nothing_active():
    page = render_page(HOSTILE, HOSTILE, button=HOSTILE, post_to='/skip?t=a"b')

    parsed = _Links(page)
    assert "<script>" not in page
    assert parsed.forms == [{"method": "post", "action": '/skip?t=a"b'}]
    assert parsed.tags <= {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "h1",
        "p",
        "form",
        "button",
        "small",
    }
    assert "src=" not in page and "http" not in page


# --- the handler ------------------------------------------------------------------------------------


@pytest.fixture
def deps() -> Services:
    stores = memory_stores()
    stores.targets.put_target(target())
    services = Services(
        FeedbackSettings.from_env(
            {"RAPPORT_TABLE_NAME": "rapport-test", "RAPPORT_FEEDBACK_SECRET_ID": "key"}
        ),
        stores,
    )
    services.clock = lambda: NOW
    services._secrets = _Secrets()  # type: ignore[assignment]
    return services


class _Secrets:
    """Secrets Manager as the handler reads it (through Powertools' provider): the key by its name."""

    def get(self, name: str, max_age: int) -> str:
        assert name == "key"
        return KEY_TEXT


def request(method: str, url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return function_url_event(method, parts.path, body="List-Unsubscribe=One-Click", query=query)


def invoke(deps: Services, event: dict[str, Any]) -> dict[str, Any]:
    from functions.feedback.handler import lambda_handler

    class Context:
        function_name = "rapport-feedback"
        memory_limit_in_mb = 256
        invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:rapport-feedback"
        aws_request_id = "r1"

    result: dict[str, Any] = lambda_handler(event, Context(), deps=deps)
    return result


def test_every_page_is_sent_with_the_strict_headers(deps: Services):
    skip = LINKS.for_suggestion(a_retweet(), NOW)["skip"]

    for event in (request("GET", skip), request("GET", skip.replace("/skip", "/drop")), request("PUT", skip)):
        result = invoke(deps, event)
        headers = result["headers"]
        assert headers == PAGE_HEADERS
        assert "default-src 'none'" in headers["content-security-policy"]
        assert "script-src" not in headers["content-security-policy"]
        assert (headers["referrer-policy"], headers["x-robots-tag"]) == ("no-referrer", "noindex, nofollow")


def test_the_token_never_appears_in_a_log_line(deps: Services):
    # Given the handler's log lines captured
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(logger.registered_formatter)  # the JSON lines Lambda would ship
    logger.addHandler(handler)
    links = LINKS.for_suggestion(a_retweet(), NOW)
    tokens = [parse_qs(urlsplit(url).query)["t"][0] for url in links.values()]
    try:
        # When every link is opened, confirmed, replayed and tampered with
        for url in links.values():
            invoke(deps, request("GET", url))
            invoke(deps, request("POST", url))
            invoke(deps, request("POST", url))
            invoke(deps, request("POST", url[:-4] + "AAAA"))
    finally:
        logger.removeHandler(handler)  # type: ignore[attr-defined]

    # Then every request was logged, and none of its token
    lines = [json.loads(line) for line in captured.getvalue().splitlines() if line.startswith("{")]
    assert len([line for line in lines if line.get("message") == "feedback"]) == 4 * len(links)
    for token in tokens:
        assert token not in captured.getvalue()
        assert token[-20:] not in captured.getvalue()
