"""What the digest function reports for each suggestion: what the email shows (summary.json)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from rapport.domain.model import CircleMember, SuggestionKind
from rapport.email.links import intent_links
from rapport.usecases.digest import DigestReport
from tests.factories import suggestion


def reported(*suggestions):
    return DigestReport("2026-03-03", True, "sent", suggestions).as_dict()["suggestions"]


def test_each_suggestion_is_reported_with_its_draft_and_its_links_by_name():
    # Given a day with a retweet and an answer with a draft
    retweet = suggestion(SuggestionKind.RETWEET, post_id="1001")
    answer = suggestion(SuggestionKind.ANSWER, post_id="1003", draft="This might help: https://example.com/a")
    # When the digest reports them
    shown_retweet, shown_answer = reported(retweet, answer)
    # Then each carries its draft (or null) and the email's links, by name
    assert shown_retweet["draft"] is None
    assert shown_retweet["links"] == {
        "retweet": "https://x.com/intent/retweet?tweet_id=1001",
        "open": "https://x.com/person_x/status/1001",
        "follow": "https://x.com/intent/follow?user_id=200",
    }
    assert shown_answer["draft"] == answer.draft
    assert set(shown_answer["links"]) == {"reply", "open"}
    assert parse_qs(urlsplit(shown_answer["links"]["reply"]).query) == {
        "in_reply_to": ["1003"],
        "text": [answer.draft],
    }
    # And they are exactly the links the email shows
    for s, shown in ((retweet, shown_retweet), (answer, shown_answer)):
        assert list(shown["links"].values()) == [url for _, url in intent_links(s)]


def test_a_circle_suggestion_reports_each_member_with_why_where_and_their_links():
    # Given a circle step with a member met at their own post and one known only by name
    members = (
        CircleMember("friend_y", "@person_x replied to them twice in 1 day", "301", "3001", "friend_y"),
        CircleMember("friend_z", "@person_x named them once in 1 day", "302"),
    )
    circle = suggestion(
        SuggestionKind.ENGAGE_CIRCLE, post_id=None, users=("friend_y", "friend_z"), circle=members
    )
    # When the digest reports it
    (shown,) = reported(circle)
    # Then each member carries why them, the post to meet them at, and the email's links by name
    assert shown["draft"] is None
    assert shown["links"] == {}
    assert [(m["username"], m["reason"], m["post_id"]) for m in shown["circle"]] == [
        ("friend_y", "@person_x replied to them twice in 1 day", "3001"),
        ("friend_z", "@person_x named them once in 1 day", None),
    ]
    assert shown["circle"][0]["links"] == {
        "reply": "https://x.com/intent/tweet?in_reply_to=3001",
        "retweet": "https://x.com/intent/retweet?tweet_id=3001",
        "open": "https://x.com/friend_y/status/3001",
        "follow": "https://x.com/intent/follow?user_id=301",
    }
    assert shown["circle"][1]["links"] == {
        "open": "https://x.com/friend_z",
        "follow": "https://x.com/intent/follow?user_id=302",
    }
