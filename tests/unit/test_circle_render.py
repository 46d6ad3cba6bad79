"""The circle block of the digest: each member with why them, the post to meet them at, its links."""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

from rapport.domain.model import CircleMember, Stage, Suggestion, SuggestionKind
from rapport.domain.money import USD
from rapport.email.links import circle_links, intent_links
from rapport.email.render import render_digest
from rapport.email.view import DigestView, SpendSummary, TargetStatus
from rapport.usecases.digest import DigestReport
from tests.unit.test_digest_render import _Page, text_urls

KIM = CircleMember(
    "dev_kim", "@alice replied to them 3 times in 2 weeks", "501", "9002", post_author_username="dev_kim"
)
FRIEND = CircleMember(
    "friend_y", "@alice named them in 2 posts in 9 days", "502", "77", "alice", "Pairing with @friend_y"
)


def circle(*members: CircleMember) -> Suggestion:
    return Suggestion(
        kind=SuggestionKind.ENGAGE_CIRCLE,
        target_id="1",
        target_username="alice",
        created_at=datetime(2025, 3, 14, 6, tzinfo=UTC),
        reason="@alice talks most with these people",
        users=tuple(m.username for m in members),
        circle=members,
    )


def view_of(*suggestions: Suggestion, spend: SpendSummary | None = None) -> DigestView:
    return DigestView(
        local_date=date(2025, 3, 14),
        me_username="me",
        suggestions=suggestions,
        transitions=(),
        targets=(TargetStatus("alice", Stage.CIRCLE, datetime(2025, 3, 1, tzinfo=UTC)),),
        spend=spend,
    )


def test_a_member_met_at_their_own_post_gets_a_reply_and_a_retweet_there_then_a_follow():
    links = circle_links(KIM)
    assert list(links) == ["reply", "retweet", "open", "follow"]
    assert parse_qs(urlsplit(links["reply"]).query) == {"in_reply_to": ["9002"]}
    assert parse_qs(urlsplit(links["retweet"]).query) == {"tweet_id": ["9002"]}
    assert links["open"] == "https://x.com/dev_kim/status/9002"
    assert urlsplit(links["follow"]).path == "/intent/follow"


def test_a_member_met_in_the_target_s_post_gets_a_reply_there_but_no_retweet_of_the_target():
    links = circle_links(FRIEND)
    assert list(links) == ["reply", "open", "follow"]
    assert parse_qs(urlsplit(links["reply"]).query) == {"in_reply_to": ["77"]}
    assert links["open"] == "https://x.com/alice/status/77"


def test_a_member_without_a_known_post_gets_their_profile_and_a_follow():
    links = circle_links(CircleMember("carol", "@alice named them once in 1 day"))
    assert list(links) == ["open", "follow"]
    assert links["open"] == "https://x.com/carol"


def test_the_email_shows_each_member_ranked_with_why_and_where_and_their_links_in_both_parts():
    # Given a circle suggestion with two ranked members
    s = circle(KIM, FRIEND)
    # When the digest is rendered
    rendered = render_digest(view_of(s))
    page = _Page(rendered.html)
    # Then both parts name each member in order with the reason and where to meet them
    for part in (page.text, rendered.text):
        assert part.index("@dev_kim") < part.index("@friend_y")
        assert "@alice replied to them 3 times in 2 weeks" in part
        assert "Their post @alice replied to: reply or retweet it, @alice sees it there." in part
        assert "Reply to @alice's post that names them: both see it." in part
        assert "Pairing with @friend_y" in part
    # And the links are the members' links, in rank order, in the HTML and in the text
    expected = [url for _, url in intent_links(s)]
    assert expected == [*circle_links(KIM).values(), *circle_links(FRIEND).values()]
    assert page.hrefs == expected
    assert [u for u in text_urls(rendered.text) if u in expected] == expected


def test_what_x_wrote_in_a_member_s_post_is_escaped():
    hostile = CircleMember("eve", "@alice named them once in 1 day", None, "5", "alice", "<script>x</script>")
    html = render_digest(view_of(circle(KIM, hostile))).html
    assert "<script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


def test_summary_json_carries_each_member_s_reason_post_and_links_by_name():
    report = DigestReport("2025-03-14", True, "sent", (circle(KIM, FRIEND),))
    suggestions = report.as_dict()["suggestions"]
    assert isinstance(suggestions, list)
    (entry,) = suggestions
    assert [(m["username"], m["reason"], m["post_id"]) for m in entry["circle"]] == [
        ("dev_kim", KIM.reason, "9002"),
        ("friend_y", FRIEND.reason, "77"),
    ]
    assert entry["circle"][0]["links"] == circle_links(KIM)


def test_the_digest_warns_with_the_figure_when_the_targets_will_cost_more_than_the_budget():
    warning = "At their posting rates your targets will cost about $9.00 a month to read, over your $5.00"
    spend = SpendSummary(USD.of("0.30"), USD.of("2.10"), USD.of(5), budget_warning=warning)
    rendered = render_digest(view_of(circle(KIM, FRIEND), spend=spend))
    assert warning in rendered.text
    assert warning in _Page(rendered.html).text
