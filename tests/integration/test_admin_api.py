"""The admin REST API on DynamoDB (a moto server) and the X simulator, through the real handler."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from rapport_local.aws import LocalAws
from rapport_local.scenario import parse_scenario
from rapport_local.stack import LocalStack
from rapport_local.xsim import XSimServer
from tests.factories import function_url_event

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
WORLD = {
    "start": START.isoformat(),
    "days": 1,
    "me": {"id": "100", "username": "ana_builds", "name": "Ana"},
    "users": [
        {"id": "200", "username": "person_x", "name": "Person X"},
        {"id": "300", "username": "friend_y", "name": "Friend Y"},
    ],
    "targets": [],
    "events": [],
}


class Api:
    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack

    def __call__(self, method: str, path: str, body: Any = None, **query: str) -> tuple[int, Any]:
        raw = body if isinstance(body, str) or body is None else json.dumps(body)
        kind = "text/csv" if isinstance(body, str) else "application/json"
        response = self.stack.invoke("admin", function_url_event(method, path, raw, query, kind))
        text = response["body"]
        return response["statusCode"], json.loads(text) if text.startswith(("{", "[")) else text


@pytest.fixture
def api(aws: LocalAws, table_name: str) -> Iterator[Api]:
    sim = XSimServer(parse_scenario(WORLD)).start()
    sim.set_now(START)
    try:
        yield Api(LocalStack(aws, sim, table=table_name))
    finally:
        sim.stop()


def test_targets_added_imported_edited_and_exported_through_the_url(api: Api):
    # Given one target added by its profile link, with a note
    status, added = api("POST", "/targets", {"username": "https://x.com/person_x", "note": "met at a meetup"})
    assert (status, added["target"]["stage"]) == (201, "retweet")
    # When a CSV with a bad row is imported, then nothing is added
    status, refused = api("POST", "/targets/import", "username,topics\nfriend_y,lambda\nnobody_here,\n")
    assert status == 400
    assert [(e["row"], e["value"]) for e in refused["error"]] == [(3, "nobody_here")]
    assert [t["username"] for t in api("GET", "/targets")[1]["targets"]] == ["person_x"]
    # When the good rows are imported, then they are stored with their topics
    status, imported = api("POST", "/targets/import", "username,topics\nfriend_y,lambda\n")
    assert (status, imported["added"]) == (200, ["friend_y"])
    api("PATCH", "/targets/friend_y", {"note": "runs the Lambda meetup"})
    # Then the export carries every target's topics and note, and imports back to nothing new
    status, exported = api("GET", "/targets/export", format="csv")
    assert exported.splitlines() == [
        "username,topics,note",
        "friend_y,lambda,runs the Lambda meetup",
        "person_x,,met at a meetup",
    ]
    assert api("POST", "/targets/import", exported)[1]["added"] == []


def test_a_malformed_setting_is_refused_by_name_and_the_table_is_unchanged(api: Api):
    before = api("GET", "/settings")[1]
    status, refused = api("PATCH", "/settings", {"digest_hour": 7, "timezone": "Mars/Olympus"})
    assert status == 400
    assert [e["field"] for e in refused["error"]] == ["timezone"]
    assert api("GET", "/settings")[1] == before


def _table(api: Api, table_name: str) -> list[dict[str, Any]]:
    items = api.stack.aws.client("dynamodb").scan(TableName=table_name, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def test_hostile_requests_on_dynamodb_are_refused_and_leave_the_table_as_it_was(api: Api, table_name: str):
    # Given a target on DynamoDB
    assert api("POST", "/targets", {"username": "person_x"})[0] == 201
    before = _table(api, table_name)
    # When requests the table could not take, or that once failed half-way, come
    hostile = [
        ("POST", "/targets", "[" * 50_000 + "]" * 50_000),
        ("PATCH", "/targets/person_x", json.dumps({"topics": [f"topic {n}" for n in range(20_000)]})),
        ("PATCH", "/targets/person_x", json.dumps({"note": "x" * 500_000})),
        ("PATCH", "/settings", json.dumps({"timezone": "America"})),
        ("PATCH", "/settings", json.dumps({"topics": ["serverless" * 50_000]})),
    ]
    answers = [
        api.stack.invoke("admin", function_url_event(method, path, body, None, "application/json"))
        for method, path, body in hostile
    ]
    direct = api.stack.invoke(
        "admin", {"action": "pause_target", "username": "person_x", "at": "9999-12-31T23:59:59Z"}
    )
    # Then each is a 400 naming its problem, and the table holds exactly what it held
    assert [answer["statusCode"] for answer in answers] == [400] * len(hostile)
    assert all(json.loads(answer["body"])["error"][0]["message"] for answer in answers)
    assert (direct["ok"], direct["status"], direct["error"][0]["field"]) == (False, 400, "at")
    assert _table(api, table_name) == before
