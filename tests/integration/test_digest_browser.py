"""The digest as a reader sees it: rendered by headless Chromium at phone and desktop widths.

Chromium is Debian's package (``make test`` installs it when missing). Each render writes a
screenshot under out/test-artifacts/digest/ and measures the laid-out page with a probe script
that only the test copy carries: the email itself stays script-free.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from rapport.domain.drafts import ResourceFit, answer_draft, ask_draft, reply_draft
from rapport.domain.feedback import FeedbackLinks
from rapport.domain.model import (
    CircleMember,
    Stage,
    Suggestion,
    SuggestionKind,
    Transition,
    suggestion_ref,
)
from rapport.domain.money import USD
from rapport.domain.policy import Resource
from rapport.email.links import intent_links
from rapport.email.lookback import render_lookback
from rapport.email.render import render_digest
from rapport.email.view import (
    DigestView,
    LookbackView,
    LosingTouch,
    Received,
    SpendSummary,
    TargetStatus,
    TargetWeeks,
)
from rapport.usecases.digest import with_feedback
from tests.integration.browser import CHROMIUM_FLAGS, chromium

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parents[2] / "out" / "test-artifacts" / "digest"
WIDTHS = {"phone": (375, 3200), "desktop": (1280, 2400)}
NOW = datetime(2026, 3, 9, 7, 0, tzinfo=UTC)
LONG_WORD = "https://example.com/" + "a-very-long-path-segment-without-spaces-" * 6

# Runs after the page laid out: what overflows the viewport, and every link, written into the DOM.
# Headless Chromium keeps its window at least 500px wide when dumping the DOM, so the probe pins the
# page to the device's width itself (the email has no media queries: percentages follow that width).
PROBE = """
<script>
(function () {
  var width = __WIDTH__, wide = [];
  document.documentElement.style.width = width + 'px';
  document.documentElement.style.overflow = 'visible';
  var all = document.body.getElementsByTagName('*');
  for (var i = 0; i < all.length; i++) {
    var r = all[i].getBoundingClientRect();
    if (r.width > 0 && (r.right > width + 1 || r.left < -1)) {
      wide.push(all[i].tagName + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
    }
  }
  var links = [];
  var anchors = document.getElementsByTagName('a');
  for (var j = 0; j < anchors.length; j++) {
    var b = anchors[j].getBoundingClientRect();
    links.push({href: anchors[j].getAttribute('href'), text: anchors[j].textContent,
                visible: b.width > 0 && b.height > 0});
  }
  var out = document.createElement('pre');
  out.id = 'rapport-probe';
  out.textContent = JSON.stringify({viewport: width, scrollWidth: document.body.scrollWidth,
                                    overflowing: wide, links: links});
  document.body.appendChild(out);
})();
</script>
"""


def run_chromium(*args: str) -> str:
    with tempfile.TemporaryDirectory(prefix="rapport-chromium-") as profile:
        done = subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def render_in_browser(markup: str, name: str, device: str) -> dict[str, Any]:
    """Screenshot the email as is, then lay out a probed copy and return what the probe measured."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    width, height = WIDTHS[device]
    page = ARTIFACTS / f"{name}.html"
    page.write_text(markup, encoding="utf-8")
    shot = ARTIFACTS / f"{name}-{device}.png"
    shot.unlink(missing_ok=True)
    run_chromium(f"--window-size={width},{height}", f"--screenshot={shot}", page.as_uri())
    assert shot.exists() and shot.stat().st_size > 1000, f"no screenshot at {shot}"

    probed = ARTIFACTS / f"{name}-{device}-probe.html"
    probe = PROBE.replace("__WIDTH__", str(width))
    probed.write_text(markup.replace("</body>", probe + "</body>"), encoding="utf-8")
    dom = run_chromium(f"--window-size={width},{height}", "--dump-dom", probed.as_uri())
    found = re.search(r'<pre id="rapport-probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run"
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result


# --- a full, difficult day ------------------------------------------------------------------------------

# A resource of the person's library with a long address: the answer's draft carries it whole.
LOAD_TESTING = Resource(
    url=LONG_WORD, title="Load testing serverless APIs, step by step", topics=("load testing",)
)


def a_full_day() -> DigestView:
    """Every kind of suggestion, hostile and overlong text from X, and every part of the overview."""
    posted = NOW - timedelta(hours=5)

    def s(kind: SuggestionKind, post_id: str | None, **kw: Any) -> Suggestion:
        fields: dict[str, Any] = {
            "kind": kind,
            "target_id": "200",
            "target_username": "person_x",
            "created_at": NOW - timedelta(hours=1),
            "reason": "why now",
            "post_id": post_id,
            "post_author_username": "person_x" if post_id else None,
        }
        fields.update(kw)
        return Suggestion(**fields)

    suggestions = (
        s(
            SuggestionKind.REPLY,
            "1004",
            reason="@person_x replied to your question: they spoke first, so a reply is welcome",
            post_text="@ana_builds good question! We split when init code differs <b>a lot</b>.",
            draft=reply_draft("1004", "init code", to_our_question=True),
        ),
        s(
            SuggestionKind.ANSWER,
            "1005",
            target_id="201",
            target_username="serverless_sam",
            post_author_username="serverless_sam",
            reason="@serverless_sam asked their network a question on a topic you know: answer while fresh",
            post_text=f"What's your go-to tool for load testing serverless APIs? {LONG_WORD}",
            draft=answer_draft("1005", "serverless APIs", ResourceFit(LOAD_TESTING, 3)),
        ),
        s(
            SuggestionKind.ASK,
            "1012",
            target_id="202",
            target_username="pythonista_pat",
            post_author_username="pythonista_pat",
            reason="@pythonista_pat follows you now: ask them about what they know",
            post_text='<script>alert("x")</script> What @friend_w taught me about Python packaging',
            draft=ask_draft("1012", "Python packaging"),
        ),
        s(
            SuggestionKind.ENGAGE_CIRCLE,
            None,
            target_id="203",
            target_username="circle_cleo",
            reason="@circle_cleo talks most with these people: follow and engage two or three of them",
            users=("friend_y", "friend_z", "friend_w"),
        ),
        s(
            SuggestionKind.RETWEET,
            "1001",
            target_id="204",
            target_username="a_rather_long_username_15",
            post_author_username="a_rather_long_username_15",
            reason="a useful post with a link by @a_rather_long_username_15: retweet until they thank you",
            post_text="How we halved cold starts on Lambda https://example.com/a 🚀",
        ),
    )
    targets = (
        TargetStatus("a_rather_long_username_15", Stage.RETWEET, NOW - timedelta(days=7)),
        TargetStatus("circle_cleo", Stage.CIRCLE, NOW - timedelta(days=2)),
        TargetStatus("person_x", Stage.CIRCLE, NOW - timedelta(days=2)),
        TargetStatus("pythonista_pat", Stage.ASK, NOW - timedelta(days=1)),
        TargetStatus("quiet_q", Stage.UNRESPONSIVE, NOW - timedelta(days=2)),
        TargetStatus("serverless_sam", Stage.ANSWER, NOW - timedelta(days=3)),
        TargetStatus("sleepy_sue", Stage.PAUSED, NOW - timedelta(days=9)),
    )
    return DigestView(
        local_date=date(2026, 3, 9),
        me_username="ana_builds",
        suggestions=suggestions,
        transitions=(
            (
                "pythonista_pat",
                Transition(NOW - timedelta(hours=20), Stage.ANSWER, Stage.ASK, "followed you back"),
            ),
        ),
        targets=targets,
        generated_at=NOW,
        posted_at=dict.fromkeys(("1004", "1005", "1012", "1001"), posted),
        losing_touch=(LosingTouch("a_rather_long_username_15", 9, NOW - timedelta(days=9)),),
        spend=SpendSummary(yesterday=USD.of("0.26"), month_to_date=USD.of("1.14"), monthly_budget=USD.of(5)),
    )


# --- tests ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def full_day() -> DigestView:
    return a_full_day()


@pytest.mark.parametrize("device", sorted(WIDTHS))
def test_the_digest_fits_the_screen_and_every_action_link_is_there(full_day: DigestView, device: str) -> None:
    # Given a full day with long words, hostile markup and every kind of action
    rendered = render_digest(full_day)

    # When Chromium lays it out at a phone's and at a desktop's width
    page = render_in_browser(rendered.html, "full-day", device)

    # Then nothing spills past the screen's edge
    assert page["overflowing"] == [], page["overflowing"][:5]
    assert page["scrollWidth"] <= page["viewport"]
    # And every action of every suggestion is a visible link, in order, exactly as built
    expected = [url for s in full_day.suggestions for _, url in intent_links(s)]
    shown = [link["href"] for link in page["links"]]
    assert shown == expected
    assert all(link["visible"] for link in page["links"])
    # And each one is a well-formed https link to X
    for link in page["links"]:
        url = urlsplit(link["href"])
        assert url.scheme == "https" and url.netloc == "x.com", link
        if url.query:
            parse_qs(url.query, strict_parsing=True)
    # And nothing from X became markup
    assert not any("alert" in link["text"] for link in page["links"])
    # And each reply is pre-filled with the draft the card shows, the answer's with its resource
    replies = [parse_qs(urlsplit(h).query).get("text", [""])[0] for h in shown if "in_reply_to=" in h]
    assert replies == [s.draft for s in full_day.suggestions if s.draft]
    assert any(LOAD_TESTING.url in text for text in replies)


def test_the_plain_text_part_carries_the_same_suggestions(full_day: DigestView) -> None:
    rendered = render_digest(full_day)

    # Every suggestion's target, step and links are in the text part too, in the same order
    positions = []
    for s in full_day.suggestions:
        for _, url in intent_links(s):
            assert url in rendered.text
            positions.append(rendered.text.index(url))
        assert f"@{s.target_username}" in rendered.text
    assert positions == sorted(positions)
    assert (
        "Targets per stage: Retweet 1, Answer 1, Ask 1, Circle 2, Unresponsive 1, Paused 1" in rendered.text
    )
    assert "This month so far: $1.14 of your $5.00 budget (23% used)" in rendered.text
    assert "@a_rather_long_username_15: 9 days since your last exchange" in rendered.text


@pytest.mark.parametrize("device", sorted(WIDTHS))
def test_the_empty_day_is_one_line_on_any_screen(device: str) -> None:
    view = DigestView(
        local_date=date(2026, 3, 10),
        me_username="ana_builds",
        suggestions=(),
        transitions=(),
        targets=(TargetStatus("person_x", Stage.CIRCLE, NOW),),
        spend=SpendSummary(USD.of("0.01"), USD.of("1.15"), USD.of(5)),
    )

    page = render_in_browser(render_digest(view).html, "empty-day", device)

    assert page["links"] == []
    assert page["overflowing"] == []


# --- a busy day, a circle day and a weekly look-back ---------------------------------------------------

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
DOC_WIDTH = 400  # small screenshots for docs/digest.md: a phone-sized column, cut at a fixed height


# The person's own resource, from their link library: the answer's draft offers it.
COLD_STARTS = Resource(
    url="https://ana.example/lambda-cold-starts",
    title="Measuring Lambda cold starts",
    topics=("cold starts", "lambda"),
)


def a_busy_day() -> DigestView:
    """Three targets at three steps: an answer with a link of the library, the step-3 question, a retweet.

    Each action carries its answer links (done, skip, snooze, drop), signed as the digest signs them.
    """

    def s(kind: SuggestionKind, post_id: str, target: tuple[str, str], **kw: Any) -> Suggestion:
        target_id, username = target
        return Suggestion(
            kind=kind,
            target_id=target_id,
            target_username=username,
            created_at=NOW - timedelta(hours=2),
            post_id=post_id,
            post_author_username=username,
            **kw,
        )

    suggestions = (
        s(
            SuggestionKind.ANSWER,
            "1005",
            ("201", "serverless_sam"),
            reason="@serverless_sam asked their network a question on a topic you know: answer while it "
            "is fresh, with your link “Measuring Lambda cold starts”",
            post_text="Anyone know a good way to test Lambda cold starts locally?",
            draft=answer_draft("1005", "Lambda cold starts", ResourceFit(COLD_STARTS, 7)),
        ),
        s(
            SuggestionKind.ASK,
            "1012",
            ("202", "pythonista_pat"),
            reason="@pythonista_pat follows you now: ask them about what they know",
            post_text="Pairing with @friend_z and @friend_y on Python typing this afternoon",
            draft=ask_draft("1012", "Python typing"),
        ),
        s(
            SuggestionKind.RETWEET,
            "1001",
            ("204", "cloud_carla"),
            reason="a useful post with a link by @cloud_carla: retweet until they thank you",
            post_text="How we halved cold starts on Lambda https://example.com/cold-starts",
        ),
    )
    view = DigestView(
        local_date=date(2026, 3, 9),
        me_username="ana_builds",
        suggestions=suggestions,
        transitions=(
            (
                "pythonista_pat",
                Transition(NOW - timedelta(hours=20), Stage.ANSWER, Stage.ASK, "followed you back"),
            ),
        ),
        targets=(
            TargetStatus("cloud_carla", Stage.RETWEET, NOW - timedelta(days=4)),
            TargetStatus("pythonista_pat", Stage.ASK, NOW - timedelta(hours=20)),
            TargetStatus("serverless_sam", Stage.ANSWER, NOW - timedelta(days=3)),
        ),
        generated_at=NOW,
        posted_at={
            "1005": NOW - timedelta(hours=5),
            "1012": NOW - timedelta(hours=9),
            "1001": NOW - timedelta(days=1),
        },
        spend=SpendSummary(USD.of("0.18"), USD.of("1.32"), USD.of(5)),
    )
    links = FeedbackLinks("https://feedback.example", b"a key for the screenshots only")
    return with_feedback(view, links, NOW)


def a_circle_day() -> DigestView:
    """The circle step with three ranked members (their post, the target's post naming them, no post)."""
    members = (
        CircleMember(
            "friend_y",
            "@person_x replied to them 3 times in 2 weeks",
            "300",
            "3001",
            post_author_username="friend_y",
        ),
        CircleMember(
            "friend_z",
            "@person_x named them in 2 posts in 9 days",
            "301",
            "1013",
            "person_x",
            "Shipping a talk with @friend_w and @friend_z next month https://example.com/d",
        ),
        CircleMember("friend_w", "@person_x named them in 1 post in 5 days", "302"),
    )
    circle = Suggestion(
        kind=SuggestionKind.ENGAGE_CIRCLE,
        target_id="200",
        target_username="person_x",
        created_at=NOW - timedelta(hours=3),
        reason="@person_x talks most with these people: join a conversation @person_x is in, "
        "so they see you there, then follow them",
        users=tuple(m.username for m in members),
        circle=members,
    )
    warning = (
        "At their posting rates your targets will cost about $6.15 a month to read, over your $5.00 "
        "budget (most posts: @person_x 38.0/day, @quiet_q 3.0/day). Raise x_monthly_budget_usd or pause "
        "a target, or news will arrive late."
    )
    return DigestView(
        local_date=date(2026, 3, 9),
        me_username="ana_builds",
        suggestions=(circle,),
        transitions=(),
        targets=(
            TargetStatus("person_x", Stage.CIRCLE, NOW - timedelta(days=2)),
            TargetStatus("quiet_q", Stage.UNRESPONSIVE, NOW - timedelta(days=2)),
        ),
        generated_at=NOW,
        spend=SpendSummary(USD.of("0.21"), USD.of("1.60"), USD.of(5), budget_warning=warning),
    )


def a_week() -> LookbackView:
    """Three targets over six weeks: one up the ladder, one slow, one unresponsive."""
    day = date(2026, 3, 15)
    at = datetime(2026, 3, 15, 7, tzinfo=UTC)
    r, a, k, c, u = Stage.RETWEET, Stage.ANSWER, Stage.ASK, Stage.CIRCLE, Stage.UNRESPONSIVE
    return LookbackView(
        local_date=day,
        first_day=day - timedelta(days=6),
        me_username="ana_builds",
        transitions=(
            ("person_x", Transition(at - timedelta(days=3), k, c, "they answered your question")),
            (
                "quiet_q",
                Transition(at - timedelta(days=2), r, u, "5 retweets with no thanks, reply or follow"),
            ),
        ),
        received=(
            Received("person_x", "answered your question", at - timedelta(days=3), "1004"),
            Received("slow_s", "thanked you", at - timedelta(days=1), "2002"),
        ),
        week_ends=tuple(day - timedelta(days=7 * n) for n in reversed(range(6))),
        progress=(
            TargetWeeks("person_x", (None, None, r, a, k, c), (0, 0, 2, 3, 2, 4)),
            TargetWeeks("slow_s", (r, r, r, r, r, a), (1, 1, 2, 1, 1, 2)),
            TargetWeeks("quiet_q", (None, r, r, r, r, u), (0, 1, 1, 2, 1, 0)),
        ),
        spend_week=USD.of("0.34"),
        spend=SpendSummary(USD.of("0.05"), USD.of("0.71"), USD.of(5)),
    )


@pytest.mark.parametrize("device", sorted(WIDTHS))
def test_a_busy_day_shows_each_action_s_draft_and_answers(device: str) -> None:
    # Given a busy day: three targets at three steps, each action with its answer links
    view = a_busy_day()
    rendered = render_digest(view)

    # When Chromium lays it out
    page = render_in_browser(rendered.html, "busy-day", device)

    # Then nothing spills past the screen's edge
    assert page["overflowing"] == [], page["overflowing"][:5]
    # And each action's X links come first, then its answers (done, skip, snooze, drop); the pause link last
    expected = [
        url
        for s in view.suggestions
        for url in [u for _, u in intent_links(s)] + list(view.feedback[suggestion_ref(s)].values())
    ]
    assert [link["href"] for link in page["links"]] == [*expected, view.pause_url]
    assert all(link["visible"] for link in page["links"])
    # And the answer's draft offers the person's own resource, whole
    assert COLD_STARTS.url in rendered.html
    assert sum(1 for link in page["links"] if link["text"] == "I did it") == len(view.suggestions)


@pytest.mark.parametrize("device", sorted(WIDTHS))
def test_a_circle_day_fits_the_screen_with_each_member_s_actions(device: str) -> None:
    view = a_circle_day()
    page = render_in_browser(render_digest(view).html, "circle-day", device)
    assert page["overflowing"] == [], page["overflowing"][:5]
    # Each member's reply, retweet, open and follow links, ranked, all visible
    assert [link["href"] for link in page["links"]] == [url for _, url in intent_links(view.suggestions[0])]
    assert all(link["visible"] for link in page["links"])


@pytest.mark.parametrize("device", sorted(WIDTHS))
def test_the_weekly_look_back_fits_the_screen_with_its_chart(device: str) -> None:
    view = a_week()
    rendered = render_lookback(view)
    page = render_in_browser(rendered.html, "weekly-look-back", device)
    assert page["overflowing"] == [], page["overflowing"][:5]
    assert page["links"] == []  # a look back: nothing to act on, nothing to click
    assert "@person_x: Ask → Circle" in rendered.text


def test_the_screenshots_in_the_docs_come_from_these_renders() -> None:
    """`make doc-shots` refreshes docs/img/ from the busy day, the circle day and the look-back, small."""
    if not os.environ.get("RAPPORT_DOC_SHOTS"):
        pytest.skip("set RAPPORT_DOC_SHOTS=1 (make doc-shots) to refresh docs/img/")
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    for name, markup, height in (
        ("busy-day", render_digest(a_busy_day()).html, 1360),
        ("circle-day", render_digest(a_circle_day()).html, 1480),
        ("weekly-look-back", render_lookback(a_week()).html, 820),
    ):
        page = ARTIFACTS / f"{name}-doc.html"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.write_text(markup, encoding="utf-8")
        shot = DOCS_IMG / f"{name}.png"
        run_chromium(
            f"--window-size={DOC_WIDTH},{height}",
            "--force-device-scale-factor=1",
            f"--screenshot={shot}",
            page.as_uri(),
        )
        # Kept small for the docs: each is cut at a height that ends after what it shows
        assert 1000 < shot.stat().st_size < 130_000, f"{shot}: {shot.stat().st_size} bytes"
