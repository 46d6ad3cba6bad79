"""The simulator's text as X serves it, its search query language and its windows, without a server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rapport_local.xsim.entities import (
    LONG_POST,
    RETWEET_CUT,
    escape_text,
    guess_lang,
    long_post_head,
    retweet_text,
    serve_text,
)
from rapport_local.xsim.ratelimit import RateLimiter
from rapport_local.xsim.search import Clause, Group, QueryError, authors_of, parse_search

USERS = {"ana_builds": "100", "person_x": "200", "friend_y": "300"}


def resolve(handle: str) -> str | None:
    return USERS.get(handle.lower())


def test_only_ampersand_and_angle_brackets_are_escaped():
    assert escape_text('a < b & c > d "q" it\'s &amp;') == 'a &lt; b &amp; c &gt; d "q" it\'s &amp;amp;'


def test_a_short_retweet_keeps_the_whole_text_and_its_entities():
    original = serve_text("Thanks @friend_y https://example.com/a", "1", resolve)
    retweet = retweet_text("person_x", "200", original)
    assert retweet.text == "RT @person_x: " + original.text
    assert [m.username for m in retweet.mentions] == ["person_x", "friend_y"]
    assert len(retweet.links) == 1


def test_a_long_retweet_is_cut_with_an_ellipsis_and_loses_what_the_cut_reaches():
    # Given a post whose link and mention come after the 140th character of the retweet
    original = serve_text("word " * 30 + "@friend_y https://example.com/a", "1", resolve)
    retweet = retweet_text("person_x", "200", original)
    assert len(retweet.text) == RETWEET_CUT
    assert retweet.text.endswith("…")
    assert retweet.text.startswith("RT @person_x: word word")
    assert [m.username for m in retweet.mentions] == ["person_x"]
    assert retweet.links == ()


def test_a_long_post_is_served_cut_at_a_space_and_keeps_the_entities_before_the_cut():
    # Given a post of 330 characters, a mention early and a link and a question past the 280th
    words = "@friend_y " + "word " * 60 + "https://example.com/a what do you think?"
    served = serve_text(words, "1", resolve)
    # When X serves its text
    head = long_post_head(served)
    # Then the text stops at a space within 280 characters, without an ellipsis, and only the
    # entities it still holds are listed
    assert len(served.text) > LONG_POST >= len(head.text)
    assert served.text.startswith(head.text) and head.text.endswith("word")
    assert [m.username for m in head.mentions] == ["friend_y"]
    assert head.links == ()


def test_a_post_within_280_characters_is_served_whole():
    served = serve_text("word " * 55 + "done?", "1", resolve)
    assert long_post_head(served) is served


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("How we halved cold starts", "en"),
        ("日本語のテスト", "ja"),
        ("한국어 글", "ko"),
        ("中文帖子", "zh"),
        ("Привет всем", "ru"),
        ("🚀🚀 @friend_y https://example.com/a", "und"),
    ],
)
def test_lang_is_told_by_script_and_und_without_words(text, lang):
    assert guess_lang(serve_text(text, "1", resolve)) == lang


def test_and_binds_before_or_and_a_minus_negates_a_group():
    tree = parse_search("from:a OR from:b -(is:reply OR has:links)")
    assert tree == Group(
        True,
        (
            Clause("from", "a"),
            Group(
                False,
                (Clause("from", "b"), Group(True, (Clause("is", "reply"), Clause("has", "links")), True)),
            ),
        ),
    )


def test_a_batched_query_is_served_from_its_authors_only():
    assert authors_of(parse_search("(from:person_x OR from:friend_y) -is:retweet"), resolve) == {"200", "300"}
    assert authors_of(parse_search("from:person_x OR lambda"), resolve) is None
    assert authors_of(parse_search("-from:person_x lambda"), resolve) is None


@pytest.mark.parametrize(
    "query",
    [
        "foo:bar from:a",
        "from:a is:pinned",
        "has:links",
        "-lambda",
        "(from:a",
        "from:a)",
        "OR from:a",
        "",
    ],
)
def test_queries_x_refuses(query):
    with pytest.raises(QueryError):
        parse_search(query)


def test_each_user_lookup_endpoint_has_a_window_of_its_own():
    # Given the app's window on /2/users/by used up (300 a 15 minutes)
    limiter, now = RateLimiter(), datetime(2026, 3, 2, 8, tzinfo=UTC)
    for _ in range(300):
        assert limiter.hit("/2/users/by", "app:k", False, now).allowed
    assert not limiter.hit("/2/users/by", "app:k", False, now).allowed
    # Then /2/users and /2/users/by/username/:username, with the same figures, are still open
    for endpoint in ("/2/users", "/2/users/by/username/:username"):
        status = limiter.hit(endpoint, "app:k", False, now)
        assert (status.allowed, status.limit, status.remaining) == (True, 300, 299)
    # And recent search has its own 60
    assert limiter.hit("/2/tweets/search/recent", "app:k", False, now).limit == 60
