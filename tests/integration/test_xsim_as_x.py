"""The simulator answers as X does: escaped text, cut retweets, ``lang``, Problem 429s, recent search.

Through the real tweepy client on loopback; every answer of this module is checked against X's OpenAPI
description at the end, as ``test_xsim.py`` checks its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import tweepy

from rapport.adapters.x_client import XReader
from rapport.domain.x import candidate_filter
from rapport_local.scenario import Scenario, parse_scenario
from rapport_local.xsim import Exchange, XSimServer
from rapport_local.xsim.search import MAX_QUERY_LENGTH
from tests.integration.test_xsim import load_contract, user_client

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ME, PERSON_X, FRIEND_Y, LOCKED = "100", "200", "300", "400"
ESCAPED = 'Is a < b & c? Yes => "see" <this>, isn\'t it 🚀 https://example.com/lt'
LONG = "Cold starts, measured over a month of traffic on three runtimes: " + "numbers " * 20 + "@ana_builds"
# Over 280 characters: X serves it cut short, the whole under note_tweet.
NOTE = (
    "A long one, @ana_builds: "
    + "every import measured, " * 12
    + "details https://example.com/long @person_x"
)
SERVED: list[Exchange] = []


def day(n: int, hour: int = 9, minute: int = 0) -> datetime:
    """A time on day ``n`` (1 = 2026-03-02)."""
    return START.replace(hour=hour, minute=minute) + timedelta(days=n - 1)


def post(post_id: str, by: str, text: str, when: datetime, **extra: Any) -> dict[str, Any]:
    return {"at": when.isoformat(), "post": {"id": post_id, "by": by, "text": text, **extra}}


def world() -> dict[str, Any]:
    events = [
        post("1000", "person_x", "An old tip https://example.com/old", day(1)),
        post("1001", "person_x", ESCAPED, day(8)),
        post(
            "3001",
            "friend_y",
            "Lambda cold starts are back, see https://example.com/cs #serverless",
            day(8, 10),
        ),
        post("1002", "person_x", "@friend_y agreed, measured it too", day(8, 11), reply_to="3001"),
        {"at": day(8, 12).isoformat(), "retweet": {"id": "1003", "by": "person_x", "post": "3001"}},
        post("1004", "person_x", "Anyone tracing Lambda init time?", day(9)),
        post("3002", "friend_y", "@person_x we use X-Ray for that", day(9, 10), reply_to="1004"),
        post("4001", "locked_l", "Lambda thoughts, followers only", day(9, 11)),
        post("3003", "friend_y", LONG, day(9, 12)),
        {"at": day(9, 13).isoformat(), "retweet": {"id": "1005", "by": "person_x", "post": "3003"}},
        post("1006", "person_x", "日本語のテスト https://example.com/ja", day(9, 14)),
    ]
    events += [post(str(2000 + n), "person_x", f"Python tip {n}", day(10, 8, n)) for n in range(25)]
    return {
        "start": START.isoformat(),
        "days": 14,
        "me": {"id": ME, "username": "ana_builds", "name": "Ana Builds"},
        "users": [
            {"id": PERSON_X, "username": "person_x", "name": "Person X"},
            {"id": FRIEND_Y, "username": "friend_y", "name": "Friend Y", "followers": ["ana_builds"]},
            {
                "id": LOCKED,
                "username": "locked_l",
                "name": "Locked L",
                "protected": True,
                "followers": ["ana_builds"],
            },
        ],
        "targets": ["person_x"],
        "events": events,
    }


@pytest.fixture
def scenario() -> Scenario:
    return parse_scenario(world(), source="test_xsim_as_x")


@pytest.fixture
def sim(scenario: Scenario) -> Iterator[XSimServer]:
    with XSimServer(scenario, record=True) as server:
        server.set_now(day(11))
        yield server
    SERVED.extend(server.exchanges)


@pytest.fixture
def client(sim: XSimServer) -> tweepy.Client:
    return user_client(sim)


def ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body.get("data") or []]


def search(client: tweepy.Client, query: str, **params: Any) -> dict[str, Any]:
    body = client.search_recent_tweets(query, user_auth=True, **params)
    assert isinstance(body, dict)
    return body


def search_refused(sim: XSimServer, **params: str) -> dict[str, Any]:
    """A search X refuses, read raw: its 400 Problem."""
    raw = user_client(sim)
    raw.return_type = requests.Response
    with pytest.raises(tweepy.BadRequest) as refused:
        raw.search_recent_tweets(user_auth=True, **params)
    body = refused.value.response.json()
    assert isinstance(body, dict)
    return body


# -- text as X serves it ----------------------------------------------------------------------------


def test_post_text_is_html_escaped_and_entities_count_the_text_as_written(sim, client):
    # Given person_x wrote "a < b & c ... => <this> 🚀" and a link
    body = client.get_tweets(["1001"], tweet_fields=["entities"], user_auth=True)
    served = body["data"][0]
    # Then X's text escapes &, < and > (only those), and leaves the emoji alone
    assert served["text"].startswith(
        'Is a &lt; b &amp; c? Yes =&gt; "see" &lt;this&gt;, isn\'t it 🚀 https://t.co/'
    )
    # And the link's offsets count the text before escaping
    (url,) = served["entities"]["urls"]
    written = ESCAPED.replace("https://example.com/lt", url["url"])
    assert written[url["start"] : url["end"]] == url["url"]


def test_the_reader_unescapes_once_so_posts_read_as_written(sim):
    # Given Rapport's X reader over the simulator
    reader = XReader(user_client(sim))
    # When it reads person_x's posts
    posts = reader.posts_of(PERSON_X, None, day(8, 0), owned=False).posts
    # Then the post reads as its author wrote it, neither escaped nor unescaped twice
    (escaped,) = [p for p in posts if p.id == "1001"]
    assert escaped.text.startswith('Is a < b & c? Yes => "see" <this>, isn\'t it 🚀 https://t.co/')


def test_a_retweet_is_cut_to_about_140_characters_and_the_original_is_whole(sim, client):
    # Given person_x retweeted friend_y's long post (which mentions Ana at its very end)
    body = client.get_tweets(
        ["1005"],
        tweet_fields=["entities", "referenced_tweets"],
        expansions=["referenced_tweets.id"],
        user_auth=True,
    )
    retweet = body["data"][0]
    # Then the retweet's text is "RT @friend_y: ..." cut at 140 characters, the last one "…"
    assert retweet["text"].startswith("RT @friend_y: Cold starts, measured")
    assert len(retweet["text"]) == 140
    assert retweet["text"].endswith("…")
    # And the mention the cut reached is gone from its entities; the original keeps it, whole
    assert [m["username"] for m in retweet["entities"]["mentions"]] == ["friend_y"]
    (original,) = body["includes"]["tweets"]
    assert original["text"] == LONG
    assert original["entities"]["mentions"][0]["username"] == "ana_builds"


@pytest.fixture
def long_sim() -> Iterator[XSimServer]:
    """The same people, with one post: friend_y's, over 280 characters."""
    only_long = {**world(), "events": [post("3004", "friend_y", NOTE, day(9, 15))]}
    with XSimServer(parse_scenario(only_long, source="test_xsim_as_x"), record=True) as server:
        server.set_now(day(11))
        yield server
    SERVED.extend(server.exchanges)


def test_a_long_post_is_served_cut_and_whole_under_note_tweet_when_asked(long_sim):
    sim, client = long_sim, user_client(long_sim)
    # Given friend_y's post of more than 280 characters, a mention at its start and a link at its end
    assert len(NOTE) > 280
    # When it is read with and without note_tweet
    cut = client.get_tweets(["3004"], tweet_fields=["entities"], user_auth=True)["data"][0]
    body = client.get_tweets(["3004"], tweet_fields=["entities", "note_tweet"], user_auth=True)
    whole = body["data"][0]
    # Then the text is cut within 280 characters, with the entities it still holds
    assert len(cut["text"]) <= 280 and NOTE.startswith(cut["text"]) and "note_tweet" not in cut
    assert [m["username"] for m in cut["entities"]["mentions"]] == ["ana_builds"]
    assert "urls" not in cut["entities"]
    # And note_tweet holds the whole post, with the entities of all of it
    note = whole["note_tweet"]
    assert note["text"].startswith(NOTE.split(" https://", maxsplit=1)[0]) and note["text"].endswith(
        "@person_x"
    )
    assert [m["username"] for m in note["entities"]["mentions"]] == ["ana_builds", "person_x"]
    assert [u["expanded_url"] for u in note["entities"]["urls"]] == ["https://example.com/long"]
    # And Rapport's reader takes the whole post
    (read,) = [
        p
        for p in XReader(user_client(sim)).posts_of(FRIEND_Y, None, day(9, 0), owned=False).posts
        if p.id == "3004"
    ]
    assert read.urls == ("https://example.com/long",) and read.mention_usernames == ("ana_builds", "person_x")


def test_lang_is_served_when_asked(sim, client):
    body = client.get_tweets(["1001", "1006", "1003"], tweet_fields=["lang"], user_auth=True)
    langs = {p["id"]: p["lang"] for p in body["data"]}
    # English, Japanese, and a retweet tagged as its original
    assert langs == {"1001": "en", "1006": "ja", "1003": "en"}
    # And not served unless asked
    assert "lang" not in client.get_tweets(["1001"], user_auth=True)["data"][0]


# -- rate limits and billing ----------------------------------------------------------------------------


def test_a_429_is_a_problem_with_the_rate_limit_headers_and_no_retry_after(sim):
    raw = user_client(sim)
    raw.return_type = requests.Response
    # Given the search window (60 a 15 minutes) used up
    for _ in range(60):
        raw.search_recent_tweets("from:person_x", user_auth=True)
    # When one more search is sent
    with pytest.raises(tweepy.TooManyRequests) as caught:
        raw.search_recent_tweets("from:person_x", user_auth=True)
    # Then X's v2 answer: a Problem, the limit and its reset in the headers, no Retry-After
    response = caught.value.response
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "title": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
        "detail": "Too Many Requests",
    }
    assert response.headers["x-rate-limit-limit"] == "60"
    assert response.headers["x-rate-limit-remaining"] == "0"
    assert response.headers["x-rate-limit-reset"] == str(int((day(11) + timedelta(minutes=15)).timestamp()))
    assert "Retry-After" not in response.headers
    # And the search window is its own: the timelines are still open
    assert raw.get_users_tweets(PERSON_X, user_auth=True).status_code == 200


def test_an_expanded_user_in_an_owned_read_is_billed_at_the_user_price(sim, client):
    # Given Ana's mentions on day 11: friend_y's post 3003 mentions her
    # When she reads them (an owned read) with their authors expanded
    body = client.get_users_mentions(ME, user_auth=True, expansions=["author_id"], max_results=5)
    assert ids(body) == ["3003"]
    assert [u["id"] for u in body["includes"]["users"]] == [FRIEND_Y]
    # Then the post is billed at the owned price, its author at the user price
    usage = sim.usage()
    assert usage["resources"] == {"posts": 1, "users": 1, "followers": 0}
    assert usage["cost_usd"] == pytest.approx(0.001 + 0.010)


# -- recent search ----------------------------------------------------------------------------------


def test_search_batches_targets_with_or_and_leaves_out_retweets_protected_and_old_posts(sim, client):
    # When two people's posts of the last seven days are searched in one request
    body = search(client, "(from:person_x OR from:friend_y OR from:locked_l) -is:retweet", max_results=100)
    found = ids(body)
    # Then both people's posts come back, newest first; not the retweets (1003, 1005), not the protected
    # account's post, not 1000 (ten days old)
    assert found[:3] == ["2024", "2023", "2022"]
    assert found[25:] == ["1006", "3003", "3002", "1004", "1002", "3001", "1001"]
    assert not {"1003", "1005", "4001", "1000"} & set(found)
    assert body["meta"]["result_count"] == 32
    assert body["meta"]["newest_id"] == "2024"
    assert body["meta"]["oldest_id"] == "1001"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("from:person_x -is:reply -is:retweet -python", ["1006", "1004", "1001"]),
        ("from:friend_y is:reply", ["3002"]),
        ("from:person_x has:links -python", ["1006", "1001"]),
        ("to:friend_y", ["1002"]),
        ("to:person_x OR @person_x", ["3002"]),
        ("conversation_id:3001", ["1002", "3001"]),
        ("lambda -from:friend_y", ["1004"]),
        ('"cold starts" #serverless', ["3001"]),
        ("from:friend_y lang:en has:mentions", ["3003", "3002"]),
        ("(from:person_x tracing) OR (from:friend_y X-Ray)", ["3002", "1004"]),
        ("from:person_x -(python OR lambda OR has:links)", ["1002"]),
        ("from:200 init", ["1004"]),
        # The batched search narrowed to candidates: a link or an asking word ("Anyone"), not "Python tip"
        (f"(from:person_x) -is:retweet -is:reply {candidate_filter()}", ["1006", "1004", "1001"]),
        ("from:person_x what's", []),  # "what's" is the words "what" and "s": no post has them in a row
        ('from:person_x ? OR "?"', []),  # punctuation is not a word: X cannot search for a "?"
    ],
)
def test_search_operators_rapport_may_use(client, query, expected):
    assert ids(search(client, query, max_results=100)) == expected


def test_search_pages_with_next_token_and_polls_with_since_id(sim, client):
    # When person_x's 29 recent posts (and two retweets) are read ten at a time with tweepy's Paginator
    pages = list(
        tweepy.Paginator(client.search_recent_tweets, "from:person_x", user_auth=True, max_results=10)
    )
    seen = [post_id for page in pages for post_id in ids(page)]
    # Then the pages follow meta.next_token without gaps or repeats; search has no previous_token
    assert [len(ids(p)) for p in pages] == [10, 10, 9]
    assert len(set(seen)) == len(seen) == 29  # 25 tips, 1001, 1002, 1004, 1006: the retweets left out
    assert all("previous_token" not in p["meta"] for p in pages)
    assert "next_token" not in pages[-1]["meta"]
    # And a poll with the newest id finds only what was posted after it
    newest = pages[0]["meta"]["newest_id"]
    sim.world.add_post("person_x", "One more tip", at=day(11, 9, 30))
    sim.set_now(day(11, 10))
    assert [p["text"] for p in search(client, "from:person_x", since_id=newest)["data"]] == ["One more tip"]


def test_search_bills_each_post_returned_at_the_post_price_once_a_day(sim, client):
    search(client, "from:friend_y", max_results=10)  # 3003, 3002, 3001
    search(client, "from:friend_y OR from:person_x -python", max_results=10)  # + 1006, 1004, 1002, 1001
    usage = sim.usage()
    assert usage["resources"]["posts"] == 7
    assert usage["cost_usd"] == pytest.approx(7 * 0.005)
    assert usage["requests_by_endpoint"] == {"/2/tweets/search/recent": 2}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"query": "from:person_x foo:bar"}, "Reference to invalid operator 'foo:'"),
        ({"query": "from:person_x is:pinned"}, "Reference to invalid operator 'is:pinned'"),
        ({"query": "is:reply has:links"}, "at least one positive, non-stand-alone operator"),
        ({"query": "-from:person_x"}, "at least one positive"),
        ({"query": "(from:person_x OR from:friend_y"}, "Missing ')'"),
        ({"query": "from:person_x OR"}, "Ambiguous use of or"),
        ({"query": "from:a " * 80}, f"exceeds the maximum of {MAX_QUERY_LENGTH} characters"),
        (
            {"query": "from:person_x", "start_time": "2026-03-03T00:00:00Z"},
            "'start_time' must be on or after",
        ),
        ({"query": "from:person_x", "since_id": "1000"}, "'since_id' must be a tweet id created after"),
        ({"query": "from:person_x", "max_results": "5"}, "is not between 10 and 100"),
    ],
    ids=[
        "unknown",
        "unknown-value",
        "no-standalone",
        "only-negated",
        "unclosed",
        "dangling-or",
        "512",
        "start",
        "since",
        "size",
    ],
)
def test_search_refuses_what_x_refuses_with_a_400_invalid_request(sim, params, message):
    body = search_refused(sim, **params)
    assert body["type"] == "https://api.twitter.com/2/problems/invalid-request"
    (error,) = body["errors"]
    assert message in error["message"]


def test_a_query_of_512_characters_is_accepted(client):
    query = "from:person_x " + "x" * (MAX_QUERY_LENGTH - len("from:person_x "))
    assert search(client, query)["meta"]["result_count"] == 0


# -- the contract ------------------------------------------------------------------------------------------


def test_every_answer_of_this_module_matches_x_openapi_description():
    contract = load_contract()
    if contract is None:
        pytest.skip("openapi-2.159.json not found next to the repository nor under $RAPPORT_SHARED_DIR")
    assert {ex.endpoint for ex in SERVED} >= {"/2/tweets/search/recent", "/2/tweets", "/2/users/:id/mentions"}
    assert {ex.status for ex in SERVED} >= {200, 400, 429}
    failures = contract.check(SERVED)
    assert not failures, "\n".join(failures)
