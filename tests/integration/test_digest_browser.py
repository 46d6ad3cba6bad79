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
import shutil
import subprocess
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from rapport.domain.drafts import ResourceFit, answer_draft, ask_draft, reply_draft
from rapport.domain.model import Stage, Suggestion, SuggestionKind, Transition
from rapport.domain.money import USD
from rapport.domain.policy import Resource
from rapport.email.links import intent_links
from rapport.email.render import render_digest
from rapport.email.view import DigestView, LosingTouch, SpendSummary, TargetStatus

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parents[2] / "out" / "test-artifacts" / "digest"
WIDTHS = {"phone": (375, 3200), "desktop": (1280, 2400)}
NOW = datetime(2026, 3, 9, 7, 0, tzinfo=UTC)
LONG_WORD = "https://example.com/" + "a-very-long-path-segment-without-spaces-" * 6
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)

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


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: `make chromium` installs Debian's package")
        pytest.skip("chromium is not installed (`make chromium` installs it)")
    return found


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
