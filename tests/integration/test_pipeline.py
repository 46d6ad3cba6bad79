"""The four handlers against a moto server and the X API simulator, through real clients.

Each test reads as a small story: a world on X, the handlers run on a simulated clock, and what a
user would notice (a stage, a suggestion, an email) is checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rapport_local.aws import LocalAws
from rapport_local.scenario import parse_scenario
from rapport_local.stack import LocalStack
from rapport_local.xsim import XSimServer

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def world(*events: dict[str, Any], settings: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "start": START.isoformat(),
        "days": 3,
        "me": {"id": "100", "username": "ana_builds", "name": "Ana"},
        "users": [
            {"id": "200", "username": "person_x", "name": "Person X"},
            {"id": "300", "username": "friend_y", "name": "Friend Y"},
        ],
        "targets": ["person_x"],
        "settings": settings or {"timezone": "Europe/London", "digest_hour": 7},
        "events": list(events),
    }


def ts(hours: float) -> str:
    return (START + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


THANKED = world(
    {
        "at": ts(1),
        "post": {"id": "1001", "by": "person_x", "text": "Cold starts, halved https://example.com/a"},
    },
    {"at": ts(2), "retweet": {"id": "5001", "by": "ana_builds", "post": "1001"}},
    {"at": ts(3), "post": {"id": "1002", "by": "person_x", "text": "@ana_builds thanks for sharing!"}},
)


class Stack(LocalStack):
    """The local stack on the test's clock: hours after START."""

    def hour(self, hours: float) -> dict[str, Any]:
        """One scheduled collect at START + hours, then evaluate on every event it emitted."""
        now = START + timedelta(hours=hours)
        self.xsim.set_now(now)
        report = self.collect(now)
        self.evaluate_collected()
        return report

    def digest_at(self, hours: float) -> dict[str, Any]:
        return self.digest(START + timedelta(hours=hours))

    def stage(self, username: str = "person_x") -> str:
        return str(self.admin(action="show_target", username=username)["target"]["stage"])


@pytest.fixture
def stack_for(aws: LocalAws, table_name: str) -> Iterator[Any]:
    servers: list[XSimServer] = []

    def make(data: dict[str, Any]) -> Stack:
        scenario = parse_scenario(data)
        sim = XSimServer(scenario).start()
        servers.append(sim)
        sim.set_now(START)
        stack = Stack(aws, sim, table=table_name)
        assert all(added["ok"] for added in stack.setup(scenario, at=START))
        return stack

    yield make
    for sim in servers:
        sim.stop()


def test_adding_a_target_looks_up_its_id_once_and_starts_step_1(stack_for):
    stack = stack_for(THANKED)
    again = stack.admin(action="add_target", username="@Person_X")
    assert again["ok"]
    assert not again["created"]
    listed = stack.admin(action="list_targets")["targets"][0]
    assert listed.items() >= again["target"].items()  # the list adds since, last contact, next suggestion
    assert stack.xsim.usage()["requests_by_endpoint"] == {"/2/users/by": 1}
    assert stack.stage() == "retweet"


@pytest.mark.parametrize(
    ("command", "complaint"),
    [
        ({"action": "add_target", "username": "not a name!"}, "username"),
        ({"action": "add_target", "username": "nobody_here"}, "does not exist"),
        ({"action": "fly"}, "action"),
        ({"action": "pause_target", "username": "friend_y"}, "not a target"),
        ({"action": "update_settings", "settings": {"timezone": "Mars/Olympus"}}, "time zone"),
        ({"action": "update_settings", "settings": {"thanks_to_advance": 0}}, "thanks_to_advance"),
    ],
)
def test_bad_admin_input_gets_a_clear_error_and_changes_nothing(stack_for, command, complaint):
    stack = stack_for(THANKED)
    before = stack.admin(action="list_targets"), stack.admin(action="get_settings")
    result = stack.admin(**command)
    assert (result["ok"], result["status"]) == (False, 400 if complaint != "not a target" else 404)
    assert any(complaint in f"{e['field']}: {e['message']}" for e in result["error"]), result
    assert (stack.admin(action="list_targets"), stack.admin(action="get_settings")) == before


def test_the_admin_url_answers_http_requests(stack_for):
    stack = stack_for(THANKED)

    def url_request(body: str) -> dict[str, Any]:
        """POST / as a Function URL delivers it (payload 2.0)."""
        return {
            "version": "2.0",
            "rawPath": "/",
            "rawQueryString": "",
            "headers": {"content-type": "application/json"},
            "requestContext": {"stage": "$default", "http": {"method": "POST", "path": "/"}},
            "body": body,
            "isBase64Encoded": False,
        }

    response = stack.invoke("admin", url_request('{"action": "list_targets"}'))
    assert response["statusCode"] == 200
    assert "person_x" in response["body"]
    bad = stack.invoke("admin", url_request("{not json"))
    assert bad["statusCode"] == 400
    assert "not JSON" in bad["body"]


def test_a_thanks_after_our_retweet_moves_the_target_to_step_2_with_its_evidence(stack_for):
    stack = stack_for(THANKED)
    stack.hour(4)
    shown = stack.admin(action="show_target", username="person_x")
    assert shown["target"]["stage"] == "answer"
    assert shown["transitions"][-1]["evidence"] == ["1002"]


def test_the_next_run_reads_nothing_twice_and_stores_nothing_twice(stack_for):
    stack = stack_for(THANKED)
    first = stack.hour(4)
    posts_read = stack.xsim.usage()["returned"]
    # The next window, with nothing new on X: the cursors, not the idempotency record, answer it
    # (the same scheduled payload again is tests/integration/test_stack_idempotency.py's case).
    second = stack.hour(5)
    assert first["stored"] > 0
    assert second["stored"] == 0
    assert second["targets_with_news"] == []
    assert stack.xsim.usage()["returned"]["posts"] == posts_read["posts"]


def test_a_rate_limit_defers_a_source_and_the_next_run_loses_nothing(stack_for):
    stack = stack_for(THANKED)
    # Their thanks shows in our mentions and in their own timeline: both are rate limited.
    stack.xsim.inject_fault("/2/users/:id/mentions", 429, count=1)
    stack.xsim.inject_fault("/2/users/:id/tweets", 429, count=2)
    limited = stack.hour(4)
    assert len(limited["deferred"]) == 3
    assert stack.stage() == "retweet"
    stack.hour(5)
    assert stack.stage() == "answer"
    thanks = [
        t
        for t in stack.admin(action="show_target", username="person_x")["transitions"]
        if t["to"] == "answer"
    ]
    assert len(thanks) == 1


def test_x_failing_is_retried_then_left_for_the_next_run(stack_for):
    stack = stack_for(THANKED)
    # Three tries (the first and two retries) for each of mentions, our posts and theirs.
    stack.xsim.inject_fault("/2/users/:id/mentions", 503, count=3)
    stack.xsim.inject_fault("/2/users/:id/tweets", 503, count=6)
    failed = stack.hour(4)
    assert len(failed["deferred"]) == 3
    assert stack.stage() == "retweet"
    recovered = stack.hour(5)
    assert recovered["deferred"] == []
    assert stack.stage() == "answer"


def test_a_follow_back_and_an_unfollow_are_both_seen(stack_for):
    stack = stack_for(
        world(
            {"at": ts(1), "follow": {"by": "person_x", "user": "ana_builds"}},
            {"at": ts(3), "unfollow": {"by": "person_x", "user": "ana_builds"}},
        )
    )
    stack.hour(2)
    assert stack.stage() == "ask"
    stack.hour(4)
    assert stack.stage() == "retweet"


def test_the_digest_goes_out_once_per_local_day_even_when_triggered_twice(stack_for):
    useful = {"id": "1003", "by": "person_x", "text": "Serverless tips https://example.com/t"}
    stack = stack_for(world(*THANKED["events"], {"at": ts(3.5), "post": useful}))
    stack.hour(4)
    sent_before = len(stack.aws.sent_emails())
    # Ana retweeted person_x on day 1, so person_x rests on day 2 (the digest's spacing rule)
    early = stack.digest_at(44)  # 04:00 local on day 3
    first = stack.digest_at(47)  # 07:00 local
    again = stack.digest_at(47.5)  # another trigger within the digest hour (a new payload)
    assert (early["sent"], first["sent"], again["sent"]) == (False, True, False)
    assert again["reason"] == "already sent today"
    (email,) = stack.aws.sent_emails()[sent_before:]
    assert first["local_date"] in email["Subject"]
    assert [(s["kind"], s["post_id"]) for s in first["suggestions"]] == [("retweet", "1003")]
    assert "tweet_id=1003" in email.get_body(preferencelist=("plain",)).get_content()


def test_post_text_from_x_is_escaped_in_the_email(stack_for):
    hostile = '<script>alert("x")</script> & <b>bold</b> https://example.com/h'
    stack = stack_for(world({"at": ts(1), "post": {"id": "1001", "by": "person_x", "text": hostile}}))
    stack.hour(2)
    sent_before = len(stack.aws.sent_emails())
    report = stack.digest_at(23)
    assert report["sent"]
    (email,) = stack.aws.sent_emails()[sent_before:]
    html = email.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<b>bold</b>" not in html


def circle_world() -> dict[str, Any]:
    """person_x walks to the circle in ten hours, then talks with friend_y and friend_z under their posts."""

    def post(hours: float, post_id: str, by: str, text: str, reply_to: str | None = None) -> dict[str, Any]:
        body = {"id": post_id, "by": by, "text": text} | ({"reply_to": reply_to} if reply_to else {})
        return {"at": ts(hours), "post": body}

    data = world(
        *THANKED["events"],
        {"at": ts(4), "follow": {"by": "person_x", "user": "ana_builds"}},
        post(6, "1003", "person_x", "Packaging Python for Lambda layers https://example.com/c"),
        post(8, "5002", "ana_builds", "@person_x how do you decide when to split a layer?", "1003"),
        post(10, "1004", "person_x", "@ana_builds when the init code differs a lot", "5002"),
        post(11, "5003", "ana_builds", "@person_x makes sense, thank you", "1004"),
        post(11.5, "3000", "friend_y", "Our Lambda layers got messy past three functions"),
        post(12, "1005", "person_x", "@friend_y split them by what init needs", "3000"),
        post(13, "3001", "friend_y", "Testing Lambda locally without containers"),
        post(14, "1006", "person_x", "@friend_y this saved us a day of CI", "3001"),
        post(15, "3100", "friend_z", "Typing a big Python codebase, week one"),
        post(16, "1007", "person_x", "@friend_z following along", "3100"),
    )
    data["users"].append({"id": "301", "username": "friend_z", "name": "Friend Z"})
    return data


def test_the_circle_step_names_whom_they_talk_with_and_where_with_no_extra_x_read(stack_for):
    # Given person_x reached the circle, then replied twice to friend_y's posts and once to friend_z's
    stack = stack_for(circle_world())
    for hours in range(1, 18):
        stack.hour(hours)
    assert stack.stage() == "circle"
    sent_before = len(stack.aws.sent_emails())
    # When the next morning's digest goes out (07:00 London)
    report = stack.digest_at(23)
    # Then its circle step ranks friend_y first, with why and friend_y's newest post person_x answered
    (circle,) = [s for s in report["suggestions"] if s["kind"] == "engage_circle"]
    assert [m["username"] for m in circle["circle"]] == ["friend_y", "friend_z"]
    first = circle["circle"][0]
    assert first["reason"] == "@person_x replied to them twice in 1 day"
    assert (first["post_id"], first["post_author"]) == ("3001", "friend_y")
    assert set(first["links"]) == {"reply", "retweet", "open", "follow"}
    assert circle["circle"][1]["post_id"] == "3100"
    # And the email carries the reply and retweet intents for that post
    (email,) = stack.aws.sent_emails()[sent_before:]
    text = email.get_body(preferencelist=("plain",)).get_content()
    assert "in_reply_to=3001" in text
    assert "tweet_id=3001" in text
    # And no X read was added for it (no post lookup): the circle came from person_x's replies already
    # read (their new posts before step 3 came from recent search)
    endpoints = set(stack.xsim.usage()["requests_by_endpoint"])
    assert not {e for e in endpoints if e.startswith("/2/tweets") and e != "/2/tweets/search/recent"}


def test_an_answer_is_pre_filled_with_the_resource_of_the_scenarios_link_library(stack_for):
    # Given a library of two resources in the scenario's settings, and a target who thanked us
    library = [
        {"url": "https://example.com/monorepo", "title": "Monorepos that stay fast", "topics": ["monorepo"]},
        {"url": "https://example.com/cold", "title": "Measuring Lambda cold starts", "topics": ["cold"]},
    ]
    question = {"id": "1004", "by": "person_x", "text": "Anyone know a good way to test Lambda cold starts?"}
    settings = {"timezone": "Europe/London", "digest_hour": 7, "topics": ["lambda"], "links": library}
    stack = stack_for(world(*THANKED["events"], {"at": ts(5), "post": question}, settings=settings))
    # When they ask their network about cold starts, and the digest goes out (day 3: day 2 they rest)
    stack.hour(6)
    sent_before = len(stack.aws.sent_emails())
    stack.digest_at(23)
    report = stack.digest_at(47)
    # Then the answer's draft and its reply intent carry the cold-start resource, and so does the email
    (answer,) = [s for s in report["suggestions"] if s["kind"] == "answer"]
    assert answer["post_id"] == "1004"
    assert "https://example.com/cold" in answer["draft"]
    assert "Measuring Lambda cold starts" in answer["why"]
    reply = answer["links"]["reply"]
    assert reply.startswith("https://x.com/intent/tweet?in_reply_to=1004&text=")
    assert "https%3A%2F%2Fexample.com%2Fcold" in reply
    text = stack.aws.sent_emails()[-1].get_body(preferencelist=("plain",)).get_content()
    assert len(stack.aws.sent_emails()) > sent_before
    assert answer["draft"] in text
