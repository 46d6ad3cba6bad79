"""The admin REST API through its handler: Function URL requests (payload 2.0) on in-memory stores."""

from __future__ import annotations

import base64
import copy
import dataclasses
import itertools
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import requests
import tweepy
from botocore.exceptions import ClientError

from functions.admin.handler import lambda_handler
from rapport.domain.x import XUser
from rapport.runtime.services import Services
from rapport.runtime.settings import AdminSettings
from rapport_local.stack import LambdaContext
from tests.factories import ME, ME_ID, T0, function_url_event
from tests.fakes import FakeX, Memory, memory_stores

PEOPLE = {
    "200": XUser("200", "Person_X", "Person X"),
    "201": XUser("201", "zoe_dev", "Zoe"),
    "202": XUser("202", "quiet_q", "Q"),
}


@dataclass(slots=True)
class _Services(Services):
    x: FakeX | None = None
    mailbox: list[bytes] = field(default_factory=list)

    def reader(self) -> Any:
        return self.x

    def send_raw(self, raw: bytes) -> str:
        self.mailbox.append(raw)
        return f"message-{len(self.mailbox)}"


@dataclass
class Reply:
    status: int
    body: Any
    content_type: str


class Api:
    def __init__(self, memory: Memory | None = None, x: FakeX | None = None) -> None:
        self.memory = memory or Memory()
        self.x = x or FakeX(XUser(ME_ID, ME, "Ana"), users=dict(PEOPLE))
        settings = AdminSettings(
            table_name="rapport", x_secret_id="x", sender="rapport@example.com", recipient="ana@example.com"
        )
        ticks = itertools.count()  # now is T0, a second later at each request
        self.deps = _Services(
            settings, memory_stores(self.memory), x=self.x, clock=lambda: T0 + timedelta(seconds=next(ticks))
        )
        self.deps.stores.settings.put_me(ME_ID, ME)

    def __call__(self, method: str, path: str, body: Any = None, **query: str) -> Reply:
        raw = body if isinstance(body, str) or body is None else json.dumps(body)
        event = function_url_event(
            method, path, raw, query, "text/csv" if isinstance(body, str) else "application/json"
        )
        response = lambda_handler(event, LambdaContext("rapport-admin"), deps=self.deps)
        content_type = {k.lower(): v for k, v in response["headers"].items()}["content-type"]
        text = response["body"]
        return Reply(
            response["statusCode"], json.loads(text) if "json" in content_type else text, content_type
        )

    def raw(self, method: str, path: str, body: str, *, base64_encoded: bool = False) -> Reply:
        """A request whose body is sent as given (and, like a Function URL does, maybe base64)."""
        event = function_url_event(method, path, body)
        if base64_encoded:
            event |= {"body": base64.b64encode(body.encode()).decode(), "isBase64Encoded": True}
        response = lambda_handler(event, LambdaContext("rapport-admin"), deps=self.deps)
        return Reply(response["statusCode"], json.loads(response["body"]), "application/json")

    def invoke(self, event: Any) -> dict[str, Any]:
        """A direct invoke: the event is the command."""
        result: dict[str, Any] = lambda_handler(event, LambdaContext("rapport-admin"), deps=self.deps)
        return result

    def snapshot(self) -> Memory:
        return copy.deepcopy(self.memory)


@pytest.fixture
def api() -> Api:
    return Api()


# --- targets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given", ["person_x", "@Person_X", "https://x.com/person_x", "https://twitter.com/Person_X/"]
)
def test_a_target_is_added_from_a_name_a_handle_or_a_profile_link(api: Api, given: str):
    # When someone is added with topics and a note
    added = api("POST", "/targets", {"username": given, "topics": ["Lambda"], "note": "met at a meetup"})
    # Then it is created at step 1, and listed with its note
    assert added.status == 201
    assert (added.body["target"]["username"], added.body["target"]["stage"]) == ("Person_X", "retweet")
    listed = api("GET", "/targets").body["targets"]
    assert [(t["username"], t["topics"], t["note"]) for t in listed] == [
        ("Person_X", ["lambda"], "met at a meetup")
    ]


def test_adding_a_target_twice_changes_nothing_and_asks_x_once(api: Api):
    api("POST", "/targets", {"username": "person_x"})
    again = api("POST", "/targets", {"username": "@person_x", "note": "other"})
    assert (again.status, again.body["created"]) == (200, False)
    assert api.x.calls.count("users/by") == 1
    assert api("GET", "/targets/person_x").body["target"]["note"] == ""


def test_showing_a_target_gives_its_history_with_links_to_the_evidence_posts(api: Api):
    # Given a target added, paused and resumed
    api("POST", "/targets", {"username": "person_x"})
    assert api("POST", "/targets/person_x/pause").body["target"]["stage"] == "paused"
    assert api("POST", "/targets/person_x/resume").body["target"]["stage"] == "retweet"
    # When it is shown
    shown = api("GET", "/targets/Person_X").body
    # Then each transition has its date, stages and reason; the links point at X posts only
    steps = [(t["from"], t["to"]) for t in shown["transitions"]]
    assert steps == [(None, "retweet"), ("retweet", "paused"), ("paused", "retweet")]
    assert all(t["at"] and t["reason"] for t in shown["transitions"])
    assert all(t["evidence_links"] == [] for t in shown["transitions"])  # "added", "pause", "resume"


def test_a_transition_proved_by_a_post_links_to_it(api: Api):
    from rapport.domain.model import Stage, Transition
    from tests.factories import at

    api("POST", "/targets", {"username": "person_x"})
    api.deps.stores.evidence.add_transitions(
        "200", [Transition(at(5), Stage.RETWEET, Stage.ANSWER, "thanked", ("987",))]
    )
    shown = api("GET", "/targets/person_x").body["transitions"]
    thanked = next(t for t in shown if t["reason"] == "thanked")
    assert thanked["evidence_links"] == ["https://x.com/Person_X/status/987"]


def test_topics_and_note_are_edited_separately(api: Api):
    api("POST", "/targets", {"username": "person_x", "topics": ["lambda"], "note": "first"})
    edited = api("PATCH", "/targets/person_x", {"note": "second"}).body["target"]
    assert (edited["topics"], edited["note"]) == (["lambda"], "second")
    edited = api("PATCH", "/targets/person_x", {"topics": ["DynamoDB", "sam"]}).body["target"]
    assert (edited["topics"], edited["note"]) == (["dynamodb", "sam"], "second")


def test_removing_a_target_forgets_it(api: Api):
    api("POST", "/targets", {"username": "person_x"})
    removed = api("DELETE", "/targets/person_x")
    assert (removed.status, removed.body["removed"]) == (200, "Person_X")
    assert api("GET", "/targets/person_x").status == 404


# --- errors: a field, a message, a 4xx, and nothing changed --------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field", "words"),
    [
        ("POST", "/targets", {"username": "not a name!"}, 400, "username", "1-15 letters"),
        ("POST", "/targets", {"username": "https://x.com/"}, 400, "username", "1-15 letters"),
        ("POST", "/targets", {"username": "nobody_here"}, 400, "username", "does not exist on X"),
        ("POST", "/targets", {"topics": ["a"]}, 400, "username", "Field required"),
        ("POST", "/targets", {"username": "zoe_dev", "colour": "red"}, 400, "colour", "Extra inputs"),
        ("POST", "/targets", {"username": "zoe_dev", "note": "x" * 1001}, 400, "note", "1000"),
        ("PATCH", "/targets/friend_y", {"note": "hi"}, 404, "username", "not a target"),
        ("PATCH", "/targets/person_x", {}, 400, "body", "topics, note or both"),
        ("POST", "/targets/friend_y/pause", None, 404, "username", "not a target"),
        ("DELETE", "/targets/bad!name", None, 400, "username", "1-15 letters"),
        ("PATCH", "/settings", {"timezone": "Mars/Olympus"}, 400, "timezone", "time zone"),
        ("PATCH", "/settings", {"thanks_to_advance": 0}, 400, "thanks_to_advance", "greater than or equal"),
        ("PATCH", "/settings", {"daily_actions": 3, "colour": "red"}, 400, "colour", "Extra inputs"),
        ("POST", "/targets/import", [{"username": "zoe_dev", "": None}], 400, "row", "Extra inputs"),
        ("POST", "/targets/import", [{"username": "zoe_dev", " ": 1}], 400, "row", "Extra inputs"),
        ("POST", "/targets", {"username": "zoe_dev", "": None}, 400, "body", "Extra inputs"),
        ("PATCH", "/settings", {"": None}, 400, "body", "Extra inputs"),
        ("PATCH", "/settings", {"  ": 1}, 400, "body", "Extra inputs"),
        ("GET", "/nowhere", None, 404, "path", "no route GET /nowhere"),
    ],
)
def test_a_bad_request_is_refused_naming_the_field_and_changes_nothing(
    api: Api, method: str, path: str, body: Any, status: int, field: str, words: str
):
    # Given a target and default settings
    api("POST", "/targets", {"username": "person_x", "note": "kept"})
    before = api.snapshot()
    # When a bad request comes
    reply = api(method, path, body)
    # Then it is refused with the field and the problem, and nothing changed
    assert reply.status == status
    assert any(e["field"] == field and words in e["message"] for e in reply.body["error"]), reply.body
    assert api.memory == before


def test_the_people_you_follow_are_listed_marked_when_already_targets(api: Api):
    # Given we follow zoe_dev and person_x, a target already
    api("POST", "/targets", {"username": "person_x"})
    api.x.following_ids = ["201", "200"]
    # When the following list is asked for
    reply = api("GET", "/following", limit="10")
    # Then both are listed, newest follow first, person_x marked as a target
    assert reply.status == 200
    assert [(f["username"], f["target"]) for f in reply.body["following"]] == [
        ("zoe_dev", False),
        ("Person_X", True),
    ]


def test_a_following_limit_out_of_bounds_is_refused_naming_it(api: Api):
    reply = api("GET", "/following", limit="0")
    assert reply.status == 400
    assert reply.body["error"][0]["field"] == "limit"
    assert "users/:id/following" not in api.x.calls


def test_settings_are_read_and_changed_in_part(api: Api):
    changed = api("PATCH", "/settings", {"daily_actions": 3})
    assert changed.status == 200
    settings = api("GET", "/settings").body["settings"]
    assert (settings["daily_actions"], settings["thanks_to_advance"]) == (3, 1)


def test_status_counts_targets_by_stage_and_the_months_x_spend(api: Api):
    api("POST", "/targets", {"username": "person_x"})
    api("POST", "/targets", {"username": "zoe_dev"})
    api("POST", "/targets/zoe_dev/pause")
    status = api("GET", "/status").body
    assert (status["targets_by_stage"]["retweet"], status["targets_by_stage"]["paused"]) == (1, 1)
    assert status["x_spend"]["budget_usd"] == 5.0


def test_a_command_posted_to_the_root_is_still_carried_out(api: Api):
    # Given a client of the first admin URL, which POSTs a direct-invoke command to "/"
    reply = api("POST", "/", {"action": "add_target", "username": "person_x"})
    # Then it is carried out and answered as before
    assert (reply.status, reply.body["ok"], reply.body["created"]) == (200, True, True)
    assert [t["username"] for t in api("GET", "/targets").body["targets"]] == ["Person_X"]


# --- import and export -------------------------------------------------------------------------

GOOD_CSV = "username,topics,note\n@Person_X,lambda;sam,met at a meetup\nhttps://x.com/zoe_dev,,\n"


def test_a_csv_import_adds_everyone_once_and_a_second_import_adds_nothing(api: Api):
    first = api("POST", "/targets/import", GOOD_CSV)
    assert (first.status, first.body["added"], first.body["existing"]) == (200, ["Person_X", "zoe_dev"], [])
    again = api("POST", "/targets/import", GOOD_CSV)
    assert (again.body["added"], again.body["existing"]) == ([], ["Person_X", "zoe_dev"])
    person = api("GET", "/targets/person_x").body["target"]
    assert (person["topics"], person["note"]) == (["lambda", "sam"], "met at a meetup")


def test_a_bad_row_is_reported_with_every_other_and_nothing_is_added(api: Api):
    # Given a file with a malformed name, someone X does not know, a repeat and one good row
    text = "username,topics\nzoe_dev,lambda\nnot a name!,\nnobody_here,\nZoe_Dev,\n"
    before = api.snapshot()
    # When it is imported
    reply = api("POST", "/targets/import", text)
    # Then each bad row is named by its line, value and problem, and nothing was added
    assert reply.status == 400
    problems = [(e["row"], e["value"], e["message"]) for e in reply.body["error"]]
    assert [(row, value) for row, value, _ in problems] == [
        (3, "not a name!"),
        (4, "nobody_here"),
        (5, "Zoe_Dev"),
    ]
    assert "1-15 letters" in problems[0][2]
    assert "does not exist on X" in problems[1][2]
    assert "already on row 2" in problems[2][2]
    assert api.memory == before


def test_skip_invalid_adds_the_good_rows_and_lists_the_bad(api: Api):
    reply = api("POST", "/targets/import", "username\nzoe_dev\nnobody_here\n", skip_invalid="true")
    assert (reply.status, reply.body["added"]) == (200, ["zoe_dev"])
    assert [p["row"] for p in reply.body["invalid"]] == [3]


def test_a_dry_run_says_what_would_happen_and_changes_nothing(api: Api):
    before = api.snapshot()
    reply = api("POST", "/targets/import", GOOD_CSV, dry_run="true")
    assert (reply.body["dry_run"], reply.body["added"]) == (True, ["Person_X", "zoe_dev"])
    assert api.memory == before


def test_unknown_users_are_looked_up_on_x_in_batches_of_100(api: Api):
    # Given 150 people X knows, none of them targets yet
    for n in range(150):
        api.x.users[str(1000 + n)] = XUser(str(1000 + n), f"user_{n}", "")
    rows = [{"username": f"user_{n}"} for n in range(150)]
    # When they are imported as JSON
    reply = api("POST", "/targets/import", rows, dry_run="true")
    # Then X was asked twice
    assert (len(reply.body["added"]), reply.body["x_lookups"]) == (150, 2)
    assert api.x.calls.count("users/by") == 2


def test_a_json_row_with_a_bad_field_is_reported_by_its_number(api: Api):
    reply = api("POST", "/targets/import", [{"username": "zoe_dev"}, {"username": "quiet_q", "topics": "x"}])
    assert reply.status == 400
    assert [(e["row"], e["field"]) for e in reply.body["error"]] == [(2, "topics")]
    assert api("GET", "/targets").body["targets"] == []


@pytest.mark.parametrize("form", ["csv", "json"])
def test_an_export_imports_back_to_the_same_targets(api: Api, form: str):
    # Given targets with topics and notes (one with a comma and quotes in it)
    api("POST", "/targets", {"username": "person_x", "topics": ["lambda", "sam"], "note": 'said "hi", twice'})
    api("POST", "/targets", {"username": "zoe_dev"})
    exported = api("GET", "/targets/export", format=form)
    assert exported.content_type.startswith("text/csv" if form == "csv" else "application/json")
    # When the export is imported into an empty stack
    fresh = Api()
    imported = fresh("POST", "/targets/import", exported.body)
    # Then the same targets, topics and notes are there, and importing it again adds nothing
    assert imported.body["added"] == ["Person_X", "zoe_dev"]
    assert fresh("GET", "/targets/export", format=form).body == exported.body
    assert api("POST", "/targets/import", exported.body).body["added"] == []


def test_a_test_digest_is_emailed_without_using_up_the_day_s_digest(api: Api):
    # Given a target
    api("POST", "/targets", {"username": "person_x"})

    # When a test digest is asked for
    reply = api("POST", "/digest/test")

    # Then one email went out, its subject marked as a test, and the day is still unclaimed
    assert reply.status == 200
    assert reply.body["subject"].startswith("[test] ")
    assert reply.body["message_id"] == "message-1"
    assert len(api.deps.mailbox) == 1
    assert b"Subject: [test] " in api.deps.mailbox[0]
    assert api.deps.stores.digests.digest(reply.body["local_date"]) is None


# --- hostile requests: a 4xx naming the problem (or a 503), never a 500, and nothing written -------


def _problems(body: dict[str, Any]) -> list[tuple[str, str]]:
    assert body["error"], body
    return [(e["field"], e["message"]) for e in body["error"]]


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("/targets", DEEP, "nested"),
        ("/", DEEP, "nested"),
        ("/", '{"action": "add_target", "username": ' + "[" * 50 + "]" * 50 + "}", "nested"),
        ("/targets", "[1, 2]", "valid dictionary"),
        ("/", '"add_target"', "valid dictionary"),
        ("/", "[]", "valid dictionary"),
        ("/targets", '{"username": "zoe_dev", "note": NaN}', "NaN"),
        ("/targets", '{"username": ' + "9" * 5000 + "}", "not JSON"),
    ],
)
def test_a_body_too_deep_or_not_an_object_is_refused_as_such(api: Api, path: str, body: str, words: str):
    # Given a target
    api("POST", "/targets", {"username": "person_x"})
    before = api.snapshot()
    # When the body is nested thousands deep, not an object, or not JSON a parser can trust
    reply = api.raw("POST", path, body)
    # Then it is a 400 about the body, and nothing changed
    assert reply.status == 400
    assert any(words in message for _, message in _problems(reply.body)), reply.body
    assert api.memory == before


def test_a_direct_invoke_of_something_not_an_object_is_refused_in_the_error_shape(api: Api):
    for event in ([{"action": "add_target"}], "add_target", 7, None):
        result = api.invoke(event)
        assert (result["ok"], result["status"]) == (False, 400)
        assert _problems(result) == [("body", "a command is a JSON object with an action")]


def test_a_base64_encoded_body_is_decoded(api: Api):
    # When a Function URL delivers a JSON body base64-encoded (as it does for some clients)
    added = api.raw("POST", "/targets", json.dumps({"username": "person_x"}), base64_encoded=True)
    command = json.dumps({"action": "add_target", "username": "zoe_dev"})
    old_form = api.raw("POST", "/", command, base64_encoded=True)
    # Then it is read as the JSON it encodes
    assert (added.status, added.body["target"]["username"]) == (201, "Person_X")
    assert (old_form.status, old_form.body["ok"]) == (200, True)


def test_a_body_that_is_not_base64_when_it_says_so_is_refused(api: Api):
    event = function_url_event("POST", "/targets", "not base64!") | {"isBase64Encoded": True}
    response = lambda_handler(event, LambdaContext("rapport-admin"), deps=api.deps)
    assert response["statusCode"] == 400
    assert "base64" in json.loads(response["body"])["error"][0]["message"]


@pytest.mark.parametrize("zone", ["America", "Europe", "posix", "A" * 300, "Europe/London\x00"])
def test_a_time_zone_naming_a_folder_or_too_long_is_refused(api: Api, zone: str):
    before = api.snapshot()
    reply = api("PATCH", "/settings", {"timezone": zone})
    assert reply.status == 400
    assert [field for field, _ in _problems(reply.body)] == ["timezone"]
    assert api.memory == before


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/targets", {"username": "zoe_dev", "topics": ["t"] * 21}, "topics"),
        ("POST", "/targets", {"username": "zoe_dev", "topics": ["t" * 51]}, "topics.0"),
        ("POST", "/targets", {"username": "zoe_dev", "note": "n\x00te"}, "note"),
        ("POST", "/targets", {"username": "x.com/" + "z" * 400_000}, "username"),
        ("PATCH", "/targets/person_x", {"topics": [f"topic {n}" for n in range(10_000)]}, "topics"),
        ("PATCH", "/settings", {"topics": ["serverless" * 40_000]}, "topics.0"),
        ("PATCH", "/settings", {"topics": [f"t{n}" for n in range(51)]}, "topics"),
        ("GET", "/targets/" + "p" * 201, None, "username"),
    ],
)
def test_a_string_or_list_beyond_its_limit_is_refused_before_it_reaches_the_table(
    api: Api, method: str, path: str, body: Any, field: str
):
    # Given a target
    api("POST", "/targets", {"username": "person_x"})
    before = api.snapshot()
    # When a field is longer than its stated limit (some would not fit a DynamoDB item)
    reply = api(method, path, body)
    # Then it is refused naming the field, and nothing was written
    assert reply.status == 400
    assert field in [f for f, _ in _problems(reply.body)], reply.body
    assert api.memory == before


def test_an_import_longer_than_its_limit_is_refused_whole(api: Api):
    rows = [{"username": f"user_{n}"} for n in range(501)]
    csv_text = "username\n" + "\n".join(f"user_{n}" for n in range(501)) + "\n"
    for body in (rows, csv_text):
        reply = api("POST", "/targets/import", body)
        assert reply.status == 400, reply.body
        assert "500" in reply.body["error"][0]["message"]
    assert api.x.calls == []


@pytest.mark.parametrize(
    "when",
    [
        "9999-12-31T23:59:59+00:00",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z",  # two months before now
        "2026-03-04T08:00:00Z",  # two days after now
    ],
)
@pytest.mark.parametrize("action", ["pause_target", "add_target"])
def test_an_at_outside_its_window_is_refused_before_anything_is_written(api: Api, action: str, when: str):
    # Given a target (now is 2026-03-02T08:00Z)
    api("POST", "/targets", {"username": "person_x"})
    before = api.snapshot()
    # When a command says it happens near the ends of the calendar, or months away from now
    username = "person_x" if action == "pause_target" else "zoe_dev"
    result = api.invoke({"action": action, "username": username, "at": when})
    # Then it is refused naming `at`, and nothing was written (no pause, no target)
    assert (result["ok"], result["status"]) == (False, 400)
    assert [field for field, _ in _problems(result)] == ["at"]
    assert api.memory == before


@pytest.mark.parametrize("when", ["1", 1, 1.5, "1772438400", True, "yesterday", "2026-03-02T08:00:00Z" * 3])
def test_an_at_that_is_not_an_iso_time_is_refused_not_read_as_seconds_since_1970(api: Api, when: Any):
    result = api.invoke({"action": "add_target", "username": "person_x", "at": when})
    assert (result["ok"], result["status"]) == (False, 400)
    assert _problems(result) == [("at", "a time is ISO 8601 text such as 2026-03-02T09:00:00Z")]
    assert api.deps.stores.targets.list_targets() == []


def test_an_at_within_its_window_dates_the_command(api: Api):
    result = api.invoke({"action": "add_target", "username": "person_x", "at": "2026-03-01T09:30:00Z"})
    assert (result["ok"], result["target"]["added_at"]) == (True, "2026-03-01T09:30:00+00:00")


@pytest.mark.parametrize(
    "given", ["https://x.com/person_x\n/", "person_x\nzoe_dev", "x.com/person_x\n?ref=1", "@person_x\x00"]
)
def test_a_username_with_a_newline_or_null_inside_is_refused_and_never_sent_to_x(api: Api, given: str):
    reply = api("POST", "/targets", {"username": given})
    assert reply.status == 400
    assert [field for field, _ in _problems(reply.body)] == ["username"]
    assert api.x.calls == []


@pytest.mark.parametrize("failure", ["rate_limited", "unavailable"])
def test_x_failing_while_a_target_is_added_is_a_503_and_nothing_is_written(api: Api, failure: str):
    # Given X answers 429, or fails after the reader's retries
    if failure == "rate_limited":
        api.x.rate_limited["users/by"] = T0
    else:
        api.x.unavailable.add("users/by")
    before = api.snapshot()
    # When a target is added (over the URL, and invoked directly), or a list imported
    reply = api("POST", "/targets", {"username": "person_x"})
    direct = api.invoke({"action": "add_target", "username": "person_x"})
    imported = api("POST", "/targets/import", "username\nperson_x\n")
    # Then each is a 503 saying so, and nothing was written
    down = [("x", "X is unavailable, try again later")]
    assert (reply.status, _problems(reply.body)) == (503, down)
    assert (direct["status"], _problems(direct)) == (503, down)
    assert (imported.status, _problems(imported.body)) == (503, down)
    assert api.memory == before


def test_help_lists_the_actions_and_their_fields(api: Api):
    result = api.invoke({"action": "help"})
    assert result["ok"] is True
    assert result["actions"]["add_target"] == {"required": ["username"], "optional": ["at", "topics", "note"]}
    assert set(result["actions"]) >= {"list_targets", "update_settings", "import_targets", "help"}


def test_an_unknown_action_is_refused_naming_the_actions(api: Api):
    result = api.invoke({"action": "fly"})
    assert (result["ok"], result["status"]) == (False, 400)
    [(field, message)] = _problems(result)
    assert field == "action"
    assert "add_target" in message and '{"action": "help"}' in message


@dataclass(slots=True)
class _TableDown:
    """A target store whose writes fail as DynamoDB does when it cannot be reached."""

    reads: Any

    def __getattr__(self, name: str) -> Any:
        return getattr(self.reads, name)

    def add_target(self, *_: Any) -> None:
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "TransactWriteItems")


def test_aws_failing_while_a_target_is_added_is_a_503_and_nothing_is_written(api: Api):
    # Given the table refusing writes
    api.deps.stores = dataclasses.replace(api.deps.stores, targets=_TableDown(api.deps.stores.targets))
    before = api.snapshot()
    # When a target is added, over the URL and directly
    reply = api("POST", "/targets", {"username": "person_x"})
    direct = api.invoke({"action": "add_target", "username": "person_x"})
    # Then each is a 503 naming AWS, and nothing was written
    down = [("aws", "AWS is unavailable, try again later")]
    assert (reply.status, _problems(reply.body)) == (503, down)
    assert (direct["status"], _problems(direct)) == (503, down)
    assert api.memory == before


@pytest.mark.parametrize("content_type", ["text/plain", ""])
@pytest.mark.parametrize("path", ["/targets/import", "/targets", "/settings"])
def test_a_body_nested_too_deep_is_refused_whatever_its_content_type(api: Api, path: str, content_type: str):
    deep = "[" * 100_000 + "]" * 100_000
    event = function_url_event("PATCH" if path == "/settings" else "POST", path, deep, None, content_type)
    response = lambda_handler(event, LambdaContext("rapport-admin"), deps=api.deps)
    assert response["statusCode"] in (400, 415)
    assert json.loads(response["body"])["error"][0]["field"] in ("body", "content-type")


def test_an_event_missing_parts_of_a_url_request_is_read_as_a_command_and_refused(api: Api):
    event = function_url_event("GET", "/targets")
    del event["requestContext"]["stage"]
    result = api.invoke(event)
    assert (result["ok"], result["status"]) == (False, 400)


def test_a_refused_import_row_repeats_a_long_value_cut_short(api: Api):
    reply = api("POST", "/targets/import", [{"username": "zoe_dev", "note": "n" * 5000}])
    assert reply.status == 400
    [problem] = reply.body["error"]
    assert (problem["field"], problem["value"]) == ("note", "n" * 100 + "…")


@dataclass(slots=True)
class _KeysRefusedX(FakeX):
    """X answering 401 to the stack's keys."""

    def users_by_username(self, usernames: list[str]) -> list[XUser]:
        refused = requests.Response()
        refused.status_code, refused.reason = 401, "Unauthorized"
        refused._content = b'{"title": "Unauthorized", "status": 401}'
        raise tweepy.Unauthorized(refused)


def test_x_refusing_the_stack_s_keys_is_a_503_saying_so(api: Api):
    # Given X refusing the stack's keys
    api.deps.x = _KeysRefusedX(api.x.me_user)
    before = api.snapshot()
    # When a target is added
    reply = api("POST", "/targets", {"username": "person_x"})
    # Then it is a 503 that says what to do, and nothing was written
    assert reply.status == 503
    assert _problems(reply.body) == [
        ("x", "X refused the stack's credentials: check them with `rapport setup`")
    ]
    assert api.memory == before
