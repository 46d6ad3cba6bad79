"""The daily digest email as its reader sees it: working links, inert text, two equal parts."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.domain.model import CircleMember, Stage, Suggestion, SuggestionKind, Transition
from rapport.domain.money import USD
from rapport.email.links import circle_links, intent_links, named_links
from rapport.email.mime import build_mime
from rapport.email.render import RenderedDigest, render_digest
from rapport.email.view import DigestView, LosingTouch, SpendSummary, TargetStatus

NOW = datetime(2025, 3, 14, 6, 0, tzinfo=UTC)
TODAY = date(2025, 3, 14)
HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(2)> Tom & Jerry'

# What the digest is allowed to be made of: layout tables and a few text elements, nothing active.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "body", "table", "tr", "td", "div", "span", "p", "a",
    "strong", "ul", "li", "br",
}  # fmt: skip


def a_suggestion(kind: SuggestionKind = SuggestionKind.RETWEET, **overrides: object) -> Suggestion:
    fields: dict[str, object] = {
        "kind": kind,
        "target_id": "1001",
        "target_username": "alice",
        "created_at": NOW,
        "reason": "A fresh post your network will find useful.",
        "post_id": "1899999999999999999",
        "post_text": "Five lessons from shipping a data pipeline",
        "post_author_username": "alice",
    }
    if kind is SuggestionKind.ENGAGE_CIRCLE:
        fields.update(post_id=None, post_text=None, post_author_username=None, users=("bob", "carol"))
    fields.update(overrides)
    return Suggestion(**fields)  # type: ignore[arg-type]


def a_view(*suggestions: Suggestion, **overrides: object) -> DigestView:
    fields: dict[str, object] = {
        "local_date": TODAY,
        "me_username": "me",
        "suggestions": suggestions,
        "transitions": (),
        "targets": (TargetStatus("alice", Stage.RETWEET, datetime(2025, 3, 1, tzinfo=UTC)),),
    }
    fields.update(overrides)
    return DigestView(**fields)  # type: ignore[arg-type]


class _Page(HTMLParser):
    """Collects what a mail client would act on: tags, attributes, links, and the visible text."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.hrefs: list[str] = []
        self.chunks: list[str] = []
        self.cells: list[str] = []
        self._in_td = 0
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        self.hrefs.extend(v for k, v in attrs if k == "href" and v is not None)
        if tag == "td":
            self.cells.append("")

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)
        if self.cells:
            self.cells[-1] += data

    @property
    def text(self) -> str:
        return "".join(self.chunks)


def text_urls(text: str) -> list[str]:
    return re.findall(r"https://\S+", text)


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, strict_parsing=True)


# --- Web Intents ---------------------------------------------------------------------------------------


def test_a_retweet_suggestion_links_to_the_retweet_intent_and_the_post() -> None:
    # Given a suggestion to retweet one of alice's posts
    s = a_suggestion(SuggestionKind.RETWEET)

    # When its links are built
    links = dict(intent_links(s))

    # Then one retweets exactly that post and the other opens it on x.com
    retweet = urlsplit(links["Retweet"])
    assert (retweet.scheme, retweet.netloc, retweet.path) == ("https", "x.com", "/intent/retweet")
    assert query(links["Retweet"]) == {"tweet_id": [s.post_id]}
    assert links["Open post"] == f"https://x.com/alice/status/{s.post_id}"
    assert not any("intent/like" in url for url in links.values())


def test_a_reply_is_prefilled_with_the_draft_url_encoded() -> None:
    # Given an answer whose draft holds characters that would break a naive URL
    draft = "Try this: a/b & c #tips ?x=1 — works 🎉"
    s = a_suggestion(SuggestionKind.ANSWER, draft=draft)

    # When its links are built
    links = dict(intent_links(s))

    # Then the reply intent targets the post and carries the exact draft, fully encoded
    reply = links["Reply"]
    assert urlsplit(reply).path == "/intent/tweet"
    assert query(reply) == {"in_reply_to": [s.post_id], "text": [draft]}
    assert " " not in reply
    assert "#" not in reply
    assert "🎉" not in reply
    assert "Open post" in links


def test_a_reply_without_a_draft_opens_an_empty_reply() -> None:
    # Given someone spoke to us and there is no draft
    s = a_suggestion(SuggestionKind.REPLY, draft=None, post_author_username="alice")

    # When its links are built
    links = dict(intent_links(s))

    # Then the reply intent has no text parameter at all
    assert query(links["Reply"]) == {"in_reply_to": [s.post_id]}


def test_an_ask_without_a_post_writes_a_mention() -> None:
    # Given a question to ask alice that is not a reply to any post of hers
    s = a_suggestion(SuggestionKind.ASK, post_id=None, post_text=None, draft="What do you use for CI?")

    # When its links are built
    links = intent_links(s)

    # Then the user can write a mention to her, pre-filled, and open her profile
    (_, write), (_, profile) = links
    assert query(write) == {"text": ["@alice What do you use for CI?"]}
    assert profile == "https://x.com/alice"


def test_engaging_the_circle_offers_a_profile_and_a_follow_per_person() -> None:
    # Given two people of alice's circle (one written with an '@')
    s = a_suggestion(SuggestionKind.ENGAGE_CIRCLE, users=("bob", "@carol_99"))

    # When its links are built
    urls = [url for _, url in intent_links(s)]

    # Then each person has a profile link and a follow intent with the bare screen name
    assert urls[0] == "https://x.com/bob"
    assert query(urls[1]) == {"screen_name": ["bob"]}
    assert urlsplit(urls[1]).path == "/intent/follow"
    assert urls[2] == "https://x.com/carol_99"
    assert query(urls[3]) == {"screen_name": ["carol_99"]}


def test_every_suggestion_in_the_email_has_its_links_and_they_are_well_formed() -> None:
    # Given one suggestion of every kind
    suggestions = (
        a_suggestion(SuggestionKind.RETWEET, post_id="1"),
        a_suggestion(SuggestionKind.ANSWER, post_id="2", draft="Use pandas"),
        a_suggestion(SuggestionKind.ASK, post_id="3", draft="How do you test it?"),
        a_suggestion(SuggestionKind.ENGAGE_CIRCLE, users=("bob", "carol")),
        a_suggestion(SuggestionKind.REPLY, post_id="5", post_author_username="alice"),
    )

    # When the digest is rendered
    page = _Page(render_digest(a_view(*suggestions)).html)

    # Then every intent link of every suggestion is in the HTML, as https on X's hosts
    expected = [url for s in suggestions for _, url in intent_links(s)]
    assert page.hrefs == expected
    for href in page.hrefs:
        parts = urlsplit(href)
        assert parts.scheme == "https"
        assert parts.netloc == "x.com"


# --- Escaping ------------------------------------------------------------------------------------------


def test_hostile_text_from_x_is_shown_as_text_and_never_as_markup() -> None:
    # Given a post, a username, a reason and a draft that all try to inject markup
    s = a_suggestion(
        SuggestionKind.ANSWER,
        post_text=HOSTILE,
        reason=HOSTILE,
        draft=HOSTILE,
        target_username='alice"><script>x</script>',
        post_author_username="<b>eve</b>",
    )
    view = a_view(
        s,
        transitions=(("<i>bob</i>", Transition(NOW, Stage.RETWEET, Stage.ANSWER, reason=HOSTILE)),),
        targets=(TargetStatus("<u>zed</u>", Stage.ASK, NOW),),
    )

    # When the digest is rendered
    markup = render_digest(view).html
    page = _Page(markup)

    # Then no script (or any foreign tag or handler) exists, and the hostile text reads as written
    assert "<script" not in markup.lower()
    assert HOSTILE not in markup
    assert "<img" not in markup
    assert "<b>" not in markup
    assert "<i>" not in markup
    assert "<u>" not in markup
    assert "Tom &amp; Jerry" in markup
    assert set(page.tags) <= ALLOWED_TAGS
    assert not [name for name, _ in page.attrs if name.startswith("on")]
    assert page.text.count(HOSTILE) >= 4  # reason, post, draft, transition reason
    assert '@alice"><script>x</script>' in page.text


def test_attribute_values_stay_inside_their_quotes() -> None:
    # Given a draft with quotes and angle brackets that ends up inside an href
    s = a_suggestion(SuggestionKind.REPLY, draft='"><a href="javascript:alert(1)">x</a>')

    # When the digest is rendered
    page = _Page(render_digest(a_view(s)).html)

    # Then the only links are ours, and the draft travels inside the reply URL untouched
    assert page.hrefs == [url for _, url in intent_links(s)]
    assert not any(href.startswith("javascript:") for href in page.hrefs)
    assert query(page.hrefs[0])["text"] == [s.draft]


@settings(max_examples=60, deadline=None)
@given(st.text())
def test_no_post_text_can_add_an_element(post_text: str) -> None:
    # Given any post text at all
    s = a_suggestion(post_text=post_text or "x", reason=post_text)

    # When the digest is rendered
    baseline = _Page(render_digest(a_view(a_suggestion(post_text="x", reason=""))).html)
    page = _Page(render_digest(a_view(s)).html)

    # Then the document has exactly the tags it has for harmless text (line breaks aside)
    assert [t for t in page.tags if t != "br"] == [t for t in baseline.tags if t != "br"]


# --- Content -------------------------------------------------------------------------------------------


def test_the_plain_text_part_carries_the_same_suggestions_and_urls() -> None:
    # Given a day with a retweet, an answer with a multi-line draft and a circle to engage
    suggestions = (
        a_suggestion(SuggestionKind.RETWEET, post_id="11", reason="Useful thread, 3 hours old."),
        a_suggestion(
            SuggestionKind.ANSWER,
            target_username="bob",
            post_author_username="bob",
            post_id="12",
            post_text="Which logging library do you use?\nAsking for a friend",
            reason="bob asked his network a question you know about.",
            draft="structlog, with JSON output.\nHappy to share my config.",
        ),
        a_suggestion(SuggestionKind.ENGAGE_CIRCLE, users=("dan", "erin"), reason="alice answered you."),
    )

    # When the digest is rendered
    rendered = render_digest(a_view(*suggestions))
    page = _Page(rendered.html)

    # Then both parts hold the same links, and the text part has every reason, post line and draft line
    assert text_urls(rendered.text) == page.hrefs
    for s in suggestions:
        assert s.reason in rendered.text
        assert s.reason in page.text
    assert "> Which logging library do you use?" in rendered.text
    assert "> Asking for a friend" in rendered.text
    assert "| structlog, with JSON output." in rendered.text
    assert "| Happy to share my config." in rendered.text
    for label in ("Step 1 · Retweet", "Step 2 · Answer their question", "Their circle"):
        assert label in rendered.text
        assert label in page.text
    assert "1. @alice" in rendered.text
    assert "2. @bob" in rendered.text
    assert "3. @alice" in rendered.text


# The stage a target stands at when each kind is its current step.
AT_STEP = {
    SuggestionKind.RETWEET: Stage.RETWEET,
    SuggestionKind.ANSWER: Stage.ANSWER,
    SuggestionKind.ASK: Stage.ASK,
    SuggestionKind.ENGAGE_CIRCLE: Stage.CIRCLE,
    SuggestionKind.REPLY: Stage.ANSWER,
}


def test_each_kind_is_named_after_its_step_of_the_method() -> None:
    # Given one suggestion of every kind, each for a target standing at that step
    suggestions = tuple(a_suggestion(kind, target_username=f"t_{kind.value}") for kind in SuggestionKind)
    since = datetime(2025, 3, 1, tzinfo=UTC)
    stands = tuple(TargetStatus(f"t_{kind.value}", stage, since) for kind, stage in AT_STEP.items())

    # When the digest is rendered
    rendered = render_digest(a_view(*suggestions, targets=stands))

    # Then the reader sees which step each action belongs to
    for label in (
        "Step 1 · Retweet",
        "Step 2 · Answer their question",
        "Step 3 · Ask them",
        "Their circle",
        "They spoke to you",
    ):
        assert label in rendered.text
        assert label in _Page(rendered.html).text


def test_the_subject_names_the_date_and_counts_the_actions() -> None:
    # Given days with one and with three actions
    one = render_digest(a_view(a_suggestion()))
    three = render_digest(a_view(a_suggestion(), a_suggestion(post_id="2"), a_suggestion(post_id="3")))

    # Then the subject is stable and grammatical
    assert one.subject == "Rapport · 2025-03-14 · 1 action"
    assert three.subject == "Rapport · 2025-03-14 · 3 actions"


def test_an_empty_day_says_so_in_one_clear_line() -> None:
    # Given a day with nothing worth doing
    rendered = render_digest(a_view())

    # Then subject, HTML and text all say there is nothing to do, and offer no links
    assert rendered.subject == "Rapport · 2025-03-14 · nothing to do today"
    assert "Nothing worth doing today." in rendered.text
    assert "Nothing worth doing today." in _Page(rendered.html).text
    assert _Page(rendered.html).hrefs == []
    assert text_urls(rendered.text) == []


def test_transitions_show_who_moved_where_and_why() -> None:
    # Given alice was thanked into step 2 and bob was just added
    transitions = (
        ("alice", Transition(NOW, Stage.RETWEET, Stage.ANSWER, reason="She thanked you for the retweet.")),
        ("bob", Transition(NOW, None, Stage.RETWEET, reason="You added him.")),
    )

    # When the digest is rendered
    rendered = render_digest(a_view(transitions=transitions))
    html_text = _Page(rendered.html).text

    # Then both parts tell each change with its reason
    for part in (rendered.text, html_text):
        assert "@alice: Retweet → Answer — She thanked you for the retweet." in part
        assert "@bob: started at Retweet — You added him." in part


def test_the_overview_draws_a_progress_strip_per_target() -> None:
    # Given targets at every kind of place in the method
    targets = (
        TargetStatus("alice", Stage.ASK, datetime(2025, 3, 4, tzinfo=UTC)),
        TargetStatus("bob", Stage.UNRESPONSIVE, datetime(2025, 2, 1, tzinfo=UTC)),
        TargetStatus("carol", Stage.PAUSED, datetime(2025, 3, 13, tzinfo=UTC)),
    )

    # When the digest is rendered
    rendered = render_digest(a_view(a_suggestion(), targets=targets))
    page = _Page(rendered.html)

    # Then alice's strip shows two steps done and "ask" current; bob and carol are off the ladder
    cells = [c.strip() for c in page.cells]
    alice_strip = cells[cells.index("✓ Retweet") : cells.index("✓ Retweet") + 4]
    assert alice_strip == ["✓ Retweet", "✓ Answer", "● Ask", "Circle"]
    assert cells.count("Unresponsive") == 1
    assert cells.count("Paused") == 1
    assert cells.count("● Ask") == 1
    assert not any(c.startswith("●") and c != "● Ask" for c in cells)
    assert "since 2025-03-04 (10 days)" in page.text
    # And the text part draws the same ladder
    assert "@alice  ✓ retweet > ✓ answer > [ASK] > circle  since 2025-03-04 (10 days)" in rendered.text
    assert "@bob  [UNRESPONSIVE]" in rendered.text
    assert "@carol  [PAUSED]" in rendered.text


def test_unresponsive_and_paused_look_different_from_each_other_and_from_the_ladder() -> None:
    # Given one unresponsive and one paused target
    markup = render_digest(
        a_view(
            a_suggestion(),
            targets=(TargetStatus("bob", Stage.UNRESPONSIVE, NOW), TargetStatus("carol", Stage.PAUSED, NOW)),
        )
    ).html

    # Then their badges use distinct background colours
    colours = re.findall(r'<td bgcolor="(#[0-9a-f]{6})"[^>]*>(Unresponsive|Paused)</td>', markup)
    assert len(colours) == 2
    assert colours[0][0] != colours[1][0]


def test_the_spend_line_appears_only_when_known() -> None:
    known = render_digest(a_view(spend=SpendSummary(USD.of("0.4251"), USD.of(1), USD.of(5))))
    unknown = render_digest(a_view())

    assert "X API spend yesterday: $0.43" in known.text
    assert "X API spend yesterday: $0.43" in _Page(known.html).text
    assert "spend" not in unknown.text
    assert "spend" not in unknown.html


def test_the_html_is_a_self_contained_mobile_friendly_email() -> None:
    # Given a full day
    markup = render_digest(a_view(a_suggestion(), a_suggestion(SuggestionKind.ENGAGE_CIRCLE))).html

    # Then it declares its charset and language, is 600px wide at most, and loads nothing
    assert markup.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in markup
    assert '<html lang="en"' in markup
    assert "max-width:600px" in markup
    assert 'name="viewport"' in markup
    for forbidden in ("<script", "<img", "<link", "<style", "<iframe", " src=", "url("):
        assert forbidden not in markup
    # And every element that sets a background also sets a text colour, so dark modes keep contrast
    for style in re.findall(r'style="([^"]*background-color[^"]*)"', markup):
        assert re.search(r"(^|;)color:", style), style


# --- MIME ----------------------------------------------------------------------------------------------


def _parse(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_the_mime_message_holds_both_parts_in_utf8() -> None:
    # Given a digest whose post and draft carry emoji and accents
    s = a_suggestion(SuggestionKind.ANSWER, post_text="Qui a testé 🚀 ?", draft="Moi ! 🎉 Très bien.")
    rendered = render_digest(a_view(s))

    # When it is packed for SES
    raw = build_mime(rendered, "Rapport <digest@example.com>", "me@example.com", sent_at=NOW)
    msg = _parse(raw)

    # Then it parses back into text then HTML, with the same content, emoji intact
    assert msg.get_content_type() == "multipart/alternative"
    text_part, html_part = msg.iter_parts()
    assert text_part.get_content_type() == "text/plain"
    assert html_part.get_content_type() == "text/html"
    assert text_part.get_content_charset() == "utf-8"
    assert html_part.get_content_charset() == "utf-8"
    assert isinstance(text_part, EmailMessage)
    assert isinstance(html_part, EmailMessage)
    # (SMTP carries CRLF line endings; the content is otherwise byte for byte the same)
    assert text_part.get_content().replace("\r\n", "\n") == rendered.text
    assert html_part.get_content().replace("\r\n", "\n") == rendered.html
    assert "🚀" in text_part.get_content()
    assert "🎉" in html_part.get_content()
    raw.decode("ascii")  # every byte is 7-bit safe for SMTP relays


def test_the_mime_headers_are_set_and_encoded() -> None:
    # Given a rendered digest
    rendered = render_digest(a_view(a_suggestion()))

    # When it is packed
    msg = _parse(
        build_mime(rendered, "digest@example.com", "me@example.com", "mail.example.com", sent_at=NOW)
    )

    # Then the reader's client shows the right subject, sender, recipient and date
    assert msg["Subject"] == rendered.subject
    assert msg["From"] == "digest@example.com"
    assert msg["To"] == "me@example.com"
    assert msg["Date"].datetime == NOW
    assert msg["Message-ID"].endswith("@mail.example.com>")
    assert msg["MIME-Version"] == "1.0"


def test_the_mime_date_defaults_to_now() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    msg = _parse(build_mime(RenderedDigest("s", "<p>h</p>", "t"), "a@example.com", "b@example.com"))
    assert msg["Date"].datetime >= before


def test_rendering_depends_only_on_the_view() -> None:
    # Given a digest and the same digest a day later
    view = a_view(a_suggestion())

    # When each is rendered (twice, for the first)
    first, again = render_digest(view), render_digest(view)
    later = render_digest(replace(view, local_date=date(2025, 3, 15)))

    # Then rendering is repeatable and only the date-dependent parts move
    assert first == again
    assert later.subject == "Rapport · 2025-03-15 · 1 action"
    assert first.text.replace("2025-03-14", "2025-03-15").replace("13 days", "14 days") == later.text


# --- the overview -----------------------------------------------------------------------------------------


def test_each_quoted_post_shows_how_old_it_is_when_the_digest_is_read() -> None:
    # Given a post made 30 hours before the digest
    view = a_view(
        a_suggestion(), generated_at=NOW, posted_at={"1899999999999999999": NOW - timedelta(hours=30)}
    )

    rendered = render_digest(view)

    assert "@alice wrote (posted 30 hours ago):" in rendered.text
    assert "@alice wrote (posted 30 hours ago):" in _Page(rendered.html).text


def test_the_funnel_counts_targets_per_stage_in_both_parts() -> None:
    targets = (
        TargetStatus("a", Stage.RETWEET, NOW),
        TargetStatus("b", Stage.RETWEET, NOW),
        TargetStatus("c", Stage.ASK, NOW),
        TargetStatus("d", Stage.UNRESPONSIVE, NOW),
    )

    rendered = render_digest(a_view(a_suggestion(), targets=targets))

    assert "Targets per stage: Retweet 2, Answer 0, Ask 1, Circle 0, Unresponsive 1" in rendered.text
    cells = [c.strip() for c in _Page(rendered.html).cells]
    assert [c for c in cells if " · " in c and c.split(" · ")[-1].isdigit()] == [
        "Retweet · 2",
        "Answer · 0",
        "Ask · 1",
        "Circle · 0",
        "Unresponsive · 1",
    ]
    assert "Paused · 0" not in cells  # off-ladder stages appear only when someone is there
    # The bars are table cells sized in percent: half the targets are at Retweet
    assert 'width="50%" bgcolor="#16a34a"' in rendered.html


def test_losing_touch_and_the_budget_are_in_both_parts() -> None:
    view = a_view(
        a_suggestion(),
        losing_touch=(LosingTouch("bob", 9, datetime(2025, 3, 5, tzinfo=UTC)), LosingTouch("carol", 8, None)),
        spend=SpendSummary(USD.of("0.3"), USD.of("4.5"), USD.of(5), deferred_yesterday=4, deferred_month=6),
    )

    rendered = render_digest(view)
    page = _Page(rendered.html).text

    for line in (
        "@bob: 9 days since your last exchange (2025-03-05)",
        "@carol: no exchange yet, 8 days since you added them",
        "X API spend yesterday: $0.30",
        "This month so far: $4.50 of your $5.00 budget (90% used)",
        "Reads held back to stay within the budget: 4 yesterday, 6 this month (news may arrive late)",
    ):
        assert line in rendered.text
        assert line in page
    assert "#d97706" in rendered.html  # the budget bar turns amber past 80%


def test_an_empty_day_still_reports_who_is_slipping_away() -> None:
    rendered = render_digest(a_view(losing_touch=(LosingTouch("bob", 9, None),)))

    assert "@bob: no exchange yet, 9 days since you added them" in rendered.text
    assert "TODAY'S ACTIONS" not in rendered.text
    assert _Page(rendered.html).hrefs == []


def test_a_retweet_also_offers_to_follow_the_target_by_id() -> None:
    links = dict(intent_links(a_suggestion(SuggestionKind.RETWEET)))

    # By id: a screen name can change, the id stored for the target cannot
    follow = urlsplit(links["Follow @alice"])
    assert (follow.netloc, follow.path) == ("x.com", "/intent/follow")
    assert query(links["Follow @alice"]) == {"user_id": ["1001"]}


def test_a_question_of_a_target_already_in_their_circle_is_not_labelled_step_2() -> None:
    # Given alice is in her circle stage and asked her network a question (still worth answering)
    s = a_suggestion(SuggestionKind.ANSWER, draft="This might help: https://example.com/a")
    view = a_view(s, targets=(TargetStatus("alice", Stage.CIRCLE, datetime(2025, 3, 1, tzinfo=UTC)),))

    # When the digest is rendered
    rendered = render_digest(view)

    # Then the action is named, but not as step 2 of a method she is past
    for shown in (rendered.text, _Page(rendered.html).text):
        assert "Answer their question" in shown
        assert "Step 2" not in shown


def test_every_intent_is_on_x_com() -> None:
    # Given one suggestion of every kind, one of them with no post to act on
    suggestions = [a_suggestion(kind) for kind in SuggestionKind]
    suggestions.append(a_suggestion(SuggestionKind.ASK, post_id=None, post_text=None, draft="How?"))

    # Then every link, intent or plain, is on https://x.com (twitter.com intents do not open the app)
    for s in suggestions:
        for _, url in intent_links(s):
            assert url.startswith("https://x.com/"), url


def test_named_links_are_the_email_links_by_name() -> None:
    retweet = a_suggestion(SuggestionKind.RETWEET)
    answer = a_suggestion(SuggestionKind.ANSWER, draft="See https://example.com/a")

    assert set(named_links(retweet)) == {"retweet", "open", "follow"}
    assert set(named_links(answer)) == {"reply", "open"}
    assert list(named_links(answer).values()) == [url for _, url in intent_links(answer)]
    assert query(named_links(answer)["reply"])["text"] == ["See https://example.com/a"]
    circle = a_suggestion(SuggestionKind.ENGAGE_CIRCLE, users=("bob",))
    assert named_links(circle) == {}
    bob = CircleMember("bob", "@alice named them once in 1 day", user_id="301")
    assert circle_links(bob) == {
        "open": "https://x.com/bob",
        "follow": "https://x.com/intent/follow?user_id=301",
    }


def test_the_mime_parts_are_7bit_safe() -> None:
    raw = build_mime(render_digest(a_view()), "rapport@example.com", "ana@example.com")

    raw.decode("ascii")  # the one-line empty day too: no 8bit body
    assert b"Content-Transfer-Encoding: quoted-printable" in raw
