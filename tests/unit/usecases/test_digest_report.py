"""What the digest function reports for each suggestion: what the email shows (summary.json)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from rapport.domain.model import SuggestionKind
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


def test_a_circle_suggestion_reports_each_member_with_their_links():
    circle = suggestion(SuggestionKind.ENGAGE_CIRCLE, post_id=None, users=("friend_y", "friend_z"))
    (shown,) = reported(circle)
    assert shown["draft"] is None
    assert shown["links"] == {}
    assert [m["username"] for m in shown["members"]] == ["friend_y", "friend_z"]
    assert shown["members"][0]["links"] == {
        "open": "https://x.com/friend_y",
        "follow": "https://x.com/intent/follow?screen_name=friend_y",
    }
