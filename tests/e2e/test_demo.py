"""The embedded default, end to end: `rapport demo` on the shipped scenario."""

from __future__ import annotations

import json
from email import message_from_bytes, policy

import pytest

from rapport_local.demo import run_demo

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    lines: list[str] = []
    summary = run_demo(None, out, echo=lines.append)
    return out, summary, lines


def stages_of(summary, username):
    return [t["to"] for t in summary["targets"][username]["transitions"]]


def test_a_responsive_target_walks_the_whole_method(demo):
    _, summary, _ = demo
    assert stages_of(summary, "person_x") == ["retweet", "answer", "ask", "circle"]
    answer = summary["targets"]["person_x"]["transitions"][1]
    assert answer["evidence"] == ["1002"]  # their thanks
    circle = summary["targets"]["person_x"]["transitions"][3]
    assert circle["evidence"] == ["1004"]  # their answer to our question


def test_a_target_who_never_acknowledges_becomes_unresponsive(demo):
    _, summary, _ = demo
    assert stages_of(summary, "quiet_q") == ["retweet", "unresponsive"]
    assert summary["targets"]["quiet_q"]["transitions"][1]["evidence"] == [
        "5101",
        "5102",
        "5103",
        "5104",
        "5105",
    ]


def test_a_digest_on_each_day_with_something_to_do_is_written_as_ses_received_it(demo):
    out, summary, _ = demo
    dates = [d["date"] for d in summary["digests"]]
    # Quiet days send nothing: 6 of the 14 days had something to do
    assert dates == ["2026-03-03", "2026-03-06", "2026-03-08", "2026-03-09", "2026-03-10", "2026-03-13"]
    assert all(d["suggestions"] for d in summary["digests"])
    first = summary["digests"][0]
    html = (out / first["html"]).read_text()
    text = (out / first["text"]).read_text()
    eml = message_from_bytes((out / "digests" / f"{first['date']}.eml").read_bytes(), policy=policy.default)
    assert eml["To"]
    assert first["date"] in eml["Subject"]
    assert "<html" in html.lower()
    assert "<script" not in html.lower()
    for s in first["suggestions"]:
        if s["post_id"]:
            assert s["post_id"] in html
            assert s["post_id"] in text


def test_the_digests_carry_each_step_of_the_method(demo):
    _, summary, _ = demo
    kinds = {s["kind"] for d in summary["digests"] for s in d["suggestions"]}
    assert {"retweet", "answer", "ask", "engage_circle", "reply"} <= kinds
    circle = next(s for d in summary["digests"] for s in d["suggestions"] if s["kind"] == "engage_circle")
    assert circle["post_id"] is None
    assert 2 <= len(circle["users"]) <= 3


def test_the_circle_step_says_why_each_member_and_where_to_meet_them(demo):
    out, summary, _ = demo
    day, circle = next(
        (d, s) for d in summary["digests"] for s in d["suggestions"] if s["kind"] == "engage_circle"
    )
    members = circle["circle"]
    assert [m["username"] for m in members] == circle["users"]
    # friend_y first: person_x replied twice under friend_y's post 3000, so that is where to meet them
    assert members[0]["username"] == "friend_y"
    assert members[0]["reason"].startswith("@person_x replied to them twice")
    assert (members[0]["post_id"], members[0]["post_author"]) == ("3000", "friend_y")
    assert "tweet_id=3000" in members[0]["links"]["retweet"]
    assert all(m["reason"] and m["post_id"] and m["links"]["follow"] for m in members)
    text = (out / day["text"]).read_text()
    assert all(m["reason"] in text and m["links"]["reply"] in text for m in members)


def test_a_weekly_look_back_goes_each_sunday(demo):
    out, summary, _ = demo
    assert [w["date"] for w in summary["lookbacks"]] == ["2026-03-08", "2026-03-15"]
    first = (out / summary["lookbacks"][0]["text"]).read_text()
    assert "@person_x: Ask → Circle" in first
    assert "@person_x followed you back" in first
    assert "PROGRESS OVER THE WEEKS" in first
    assert "<script" not in (out / summary["lookbacks"][0]["html"]).read_text().lower()


def test_every_suggestion_carries_the_draft_and_the_links_the_email_shows(demo):
    out, summary, _ = demo
    suggestions = [(d, s) for d in summary["digests"] for s in d["suggestions"]]
    for digest, s in suggestions:
        text = (out / digest["text"]).read_text()
        # Reply-type suggestions have a draft, and the email shows it and pre-fills the reply with it
        assert (s["draft"] is not None) == (s["kind"] in {"answer", "ask", "reply"}), s
        if s["draft"] is not None:
            assert s["draft"] in text
        # Every link is on x.com, by name, and in the email
        for url in s["links"].values():
            assert url.startswith("https://x.com/")
            assert url in text
    named = {s["kind"]: set(s["links"]) for _, s in suggestions}
    assert named["retweet"] == {"retweet", "open", "follow"}
    assert named["answer"] == named["ask"] == named["reply"] == {"reply", "open"}
    # The load-testing question is answered with Ana's load-testing resource (scenario settings.links)
    answer = next(s for _, s in suggestions if s["post_id"] == "1005")
    assert "https://example.com/ana/load-testing" in answer["draft"]
    # The ask names what the post was about, and is a question
    ask = next(s for _, s in suggestions if s["kind"] == "ask")
    assert "Python typing" in ask["draft"]
    assert ask["draft"].endswith("?")


def test_a_question_from_a_target_in_their_circle_is_not_labelled_step_2(demo):
    out, summary, _ = demo
    circle_from = summary["targets"]["person_x"]["transitions"][3]["at"][:10]
    later = [d for d in summary["digests"] if d["date"] > circle_from]
    answers = [d for d in later if any(s["kind"] == "answer" for s in d["suggestions"])]
    assert answers
    for d in answers:
        text = (out / d["text"]).read_text()
        assert "Answer their question" in text
        assert "Step 2" not in text


def test_the_summary_counts_what_x_would_have_billed(demo):
    out, summary, lines = demo
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk == summary
    assert summary["x_api"]["requests"] > 0
    assert 0 < summary["x_api"]["cost_usd"] < 1
    assert any("person_x" in line and "circle" in line for line in lines)


def test_the_summary_counts_the_hourly_collects_and_the_few_that_read_new_posts(demo):
    _, summary, printed = demo
    x = summary["x_api"]
    # 14 days of hourly collects; the two targets post now and then, so most hours read nothing
    assert x["collect_runs"] == 14 * 24
    assert 0 < x["collect_runs_reading_posts"] < x["collect_runs"] / 4
    said = f"{x['collect_runs_reading_posts']} of 336 hourly collects read new posts"
    assert any(said in line for line in printed)
