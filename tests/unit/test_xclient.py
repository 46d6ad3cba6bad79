"""The X client wrapper's handling of failed reads, without any network."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import tweepy

from rapport.adapters.x_client import RETRIES, XReader, parse_post
from rapport.domain.x import XRateLimited, XUnavailable, candidate_filter


def reader() -> tuple[XReader, list[float]]:
    waits: list[float] = []
    return XReader(client=tweepy.Client(bearer_token="unused"), sleep=waits.append), waits


def flaky(*outcomes: Any) -> Callable[..., Any]:
    """A stand-in for a tweepy method: raises or returns each outcome in turn."""
    queue = list(outcomes)

    def call(**_: Any) -> Any:
        outcome = queue.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return call


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead"),
        requests.exceptions.JSONDecodeError("Expecting value", '{"data": [', 10),
        requests.Timeout("read timed out"),
    ],
)
def test_a_read_that_fails_once_is_tried_again_and_its_page_returned(failure):
    # Given X fails one read (a cut body, a body that is not JSON, a time-out), then answers
    x, waits = reader()
    page = {"data": [{"id": "1"}]}
    # When the reader calls it
    got = x._call("users/:id/mentions", flaky(failure, page))
    # Then the page comes back after one short wait, and both requests are counted
    assert got == page
    assert waits == [0.2]
    assert x.usage.requests == 2


def test_a_read_that_keeps_failing_is_given_up_after_the_bounded_retries():
    # Given every try returns a body that is not JSON
    x, waits = reader()
    failures = [requests.exceptions.JSONDecodeError("Expecting value", "<html>", 0)] * (RETRIES + 1)
    # When the reader calls it / Then it gives up with XUnavailable, so the source waits for the next run
    with pytest.raises(XUnavailable):
        x._call("users/:id/mentions", flaky(*failures))
    assert waits == [0.2 * 2**attempt for attempt in range(RETRIES)]
    assert x.usage.requests == RETRIES + 1


def test_the_following_list_is_read_page_by_page_up_to_the_limit_and_billed_as_owned():
    # Given X lists three pages of people the user follows
    x, _ = reader()
    pages: list[dict[str, Any]] = [
        {"data": [{"id": "1", "username": "a"}, {"id": "2", "username": "b"}], "meta": {"next_token": "t1"}},
        {"data": [{"id": "3", "username": "c"}, {"id": "4", "username": "d"}], "meta": {"next_token": "t2"}},
        {"data": [{"id": "5", "username": "e"}], "meta": {}},
    ]
    asked: list[dict[str, Any]] = []

    def following(**params: Any) -> dict[str, Any]:
        asked.append(params)
        return pages[len(asked) - 1]

    x.client.get_users_following = following
    # When at most three are wanted
    users = x.following("100", 3)
    # Then two pages are read, the second asking only for what is missing, and three users come back
    assert [u.username for u in users] == ["a", "b", "c"]
    assert [(p["max_results"], p["pagination_token"]) for p in asked] == [(3, None), (1, "t1")]
    # And each costs $0.001, as an owned read
    assert (x.usage.users, x.usage.cost.dollars) == (3, 0.003)


def test_a_batched_search_sends_one_query_pages_with_next_token_and_bills_posts_at_full_price():
    # Given recent search answering two pages of posts by two targets
    x, _ = reader()
    pages: list[dict[str, Any]] = [
        {"data": [_raw("12", "201")], "meta": {"newest_id": "12", "next_token": "n1"}},
        {"data": [_raw("11", "202")], "meta": {}},
    ]
    asked: list[dict[str, Any]] = []

    def search(**params: Any) -> dict[str, Any]:
        asked.append(params)
        return pages[len(asked) - 1]

    x.client.search_recent_tweets = search
    since = datetime(2026, 3, 1, tzinfo=UTC)
    # When the new posts of both are searched for
    found = x.search_posts(["201", "202"], since)
    # Then one query names both, the second page is asked with search's next_token, oldest post first
    assert asked[0]["query"] == "(from:201 OR from:202) -is:retweet -is:reply"
    assert asked[0]["start_time"] == since
    assert [p.get("next_token") for p in asked] == [None, "n1"]
    assert "pagination_token" not in asked[0]
    assert ([p.id for p in found.posts], found.newest_id) == (["11", "12"], "12")
    # And search is never an owned read: $0.005 a post
    assert (x.usage.posts, x.usage.cost.dollars) == (2, 0.01)


def test_a_narrowed_search_sends_its_filter_after_the_authors():
    # Given recent search answering nothing
    x, _ = reader()
    asked: list[dict[str, Any]] = []

    def search(**params: Any) -> dict[str, Any]:
        asked.append(params)
        return {"meta": {}}

    x.client.search_recent_tweets = search
    # When the candidate posts of one target are searched for
    x.search_posts(["201"], datetime(2026, 3, 1, tzinfo=UTC), only=candidate_filter())
    # Then the query asks for their own posts, and only those with a link or an asking word
    assert asked[0]["query"] == f"(from:201) -is:retweet -is:reply {candidate_filter()}"


def _raw(post_id: str, author: str) -> dict[str, Any]:
    return {"id": post_id, "author_id": author, "text": "tip", "created_at": "2026-03-01T10:00:00.000Z"}


class CannedX(requests.adapters.BaseAdapter):
    """Answers every request with one canned response, without any network."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        super().__init__()
        self.status, self.body, self.headers = status, body, headers
        self.sent = 0

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.sent += 1
        response = requests.Response()
        response.status_code = self.status
        response.reason = "Too Many Requests"
        response._content = self.body
        response.headers.update(self.headers)
        response.request = request
        response.url = str(request.url)
        return response

    def close(self) -> None:
        """Nothing to release."""


def reader_over(canned: CannedX) -> XReader:
    """A user-context reader whose HTTP goes to ``canned``, never waiting between tries."""
    client = tweepy.Client(consumer_key="k", consumer_secret="s", access_token="t", access_token_secret="u")
    client.session.mount("https://", canned)
    return XReader(client=client, sleep=lambda _s: None)


RESET = 1_772_440_200  # 2026-03-02T08:30:00Z


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (
            b'{"title":"Too Many Requests","type":"about:blank","status":429,"detail":"Too Many Requests"}',
            "application/problem+json",
        ),
        (b'{"errors":[{"code":88,"message":"Rate limit exceeded"}]}', "application/json"),
        (b"<html><body>Slow down</body></html>", "text/html"),
        (b"", "application/json"),
        (b'{"title":"Something else entirely"}', "application/json"),
    ],
    ids=["problem", "v1.1", "html", "empty", "odd-json"],
)
def test_a_429_is_known_by_its_status_and_reset_whatever_its_body(body, content_type):
    # Given X answers 429 with its reset header and any body at all
    headers = {"content-type": content_type, "x-rate-limit-reset": str(RESET), "x-rate-limit-remaining": "0"}
    canned = CannedX(429, body, headers)
    x = reader_over(canned)
    # When the mentions are read
    with pytest.raises(XRateLimited) as caught:
        x.mentions("100", since_id=None, start_time=None)
    # Then the reader stops at once (no retry) and knows when the window resets
    assert caught.value.reset_at == datetime.fromtimestamp(RESET, UTC)
    assert canned.sent == 1


def test_a_429_without_its_reset_header_still_stops_the_read():
    canned = CannedX(429, b"{}", {"content-type": "application/json"})
    with pytest.raises(XRateLimited) as caught:
        reader_over(canned).mentions("100", since_id=None, start_time=None)
    assert caught.value.reset_at is None


@pytest.mark.parametrize(
    ("served", "written"),
    [
        ("a &lt; b &amp; c 🚀", "a < b & c 🚀"),
        ("&amp;lt;b&amp;gt; is how you write &lt;b&gt;", "&lt;b&gt; is how you write <b>"),
        ("AT&amp;T &gt;&gt; &amp;quot;", "AT&T >> &quot;"),
        ("no escapes at all", "no escapes at all"),
    ],
)
def test_post_text_is_unescaped_exactly_once_as_it_becomes_a_post(served, written):
    # Given X's text, with & < > escaped (the only three X escapes)
    raw = {"id": "1", "text": served, "created_at": "2026-03-02T08:00:00.000Z", "author_id": "200"}
    # When the reader turns it into a Post / Then the text is what the author wrote
    assert parse_post(raw).text == written


def test_a_post_keeps_each_link_as_written_and_where_it_leads() -> None:
    # Given a post as X serves it: the link wrapped in t.co, its destination in the entities
    raw = {
        "id": "1001",
        "author_id": "200",
        "text": "How we halved cold starts https://t.co/AbC123",
        "created_at": "2026-03-02T09:15:00.000Z",
        "entities": {
            "urls": [
                {
                    "start": 26,
                    "end": 49,
                    "url": "https://t.co/AbC123",
                    "expanded_url": "https://example.com/cold-starts",
                    "display_url": "example.com/cold-starts",
                }
            ]
        },
    }
    # When it is read
    post = parse_post(raw)
    # Then both forms are kept, and it reads with the destination instead of t.co
    assert (post.urls, post.short_urls) == (("https://example.com/cold-starts",), ("https://t.co/AbC123",))
    assert post.readable_text == "How we halved cold starts https://example.com/cold-starts"


def test_a_long_post_is_read_whole_from_note_tweet_with_the_entities_of_all_of_it() -> None:
    # Given a post over 280 characters as X serves it: the text cut short before its question, and
    # the whole post (HTML-escaped too) with its entities under note_tweet
    whole = (
        "We moved the p99 &lt; 1 s. " + "Details follow. " * 16 + "Who has tried SnapStart? https://t.co/Q1"
    )
    raw = {
        "id": "1002",
        "author_id": "200",
        "text": whole[:270],
        "created_at": "2026-03-02T09:15:00.000Z",
        "note_tweet": {
            "text": whole,
            "entities": {
                "urls": [
                    {"start": 0, "end": 1, "url": "https://t.co/Q1", "expanded_url": "https://example.com/q"}
                ]
            },
        },
    }
    # When it is read
    post = parse_post(raw)
    # Then the post is the whole of it, unescaped once, its question and its link included
    assert post.text.startswith("We moved the p99 < 1 s.")
    assert post.text.endswith("Who has tried SnapStart? https://t.co/Q1")
    assert post.urls == ("https://example.com/q",)


def test_a_long_post_without_entities_under_note_tweet_keeps_those_of_its_cut_text() -> None:
    raw = {
        "id": "1003",
        "author_id": "200",
        "text": "@friend_y " + "word " * 50,
        "created_at": "2026-03-02T09:15:00.000Z",
        "entities": {"mentions": [{"start": 0, "end": 9, "username": "friend_y", "id": "300"}]},
        "note_tweet": {"text": "@friend_y " + "word " * 60 + "right?"},
    }
    post = parse_post(raw)
    assert (post.mention_ids, post.text.endswith("right?")) == (("300",), True)


def test_an_edited_post_keeps_its_versions_ids_and_one_never_edited_has_none() -> None:
    # Given X's default edit_history_tweet_ids: the first version's id first, this one last
    base = {"author_id": "200", "text": "hi", "created_at": "2026-03-02T09:15:00.000Z"}
    edited = parse_post({**base, "id": "1002", "edit_history_tweet_ids": ["1001", "1002"]})
    plain = parse_post({**base, "id": "1003", "edit_history_tweet_ids": ["1003"]})
    # Then the edited post knows the id it was first posted under; the other is its own first
    assert (edited.edit_history, edited.first_id) == (("1001", "1002"), "1001")
    assert (plain.edit_history, plain.first_id) == ((), "1003")
