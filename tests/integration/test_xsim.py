"""The X API simulator, through the real tweepy client, checked against X's own OpenAPI description.

Every response the simulator serves in these tests is validated against the response schemas of
``openapi-2.159.json``, and every request's query against the path's parameter list (see ``sim`` and the
last test). Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema  # type: ignore[import-untyped,unused-ignore]  # stubs are not a dev dependency
import pytest
import requests
import tweepy
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from rapport.adapters.x_client import TWEET_FIELDS
from rapport.adapters.x_transport import BaseUrlAdapter, mount_base_url
from rapport_local.scenario import Scenario, parse_scenario
from rapport_local.xsim import Exchange, XSimServer
from rapport_local.xsim.faults import TRUNCATED
from rapport_local.xsim.inprocess import mount_in_process

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ME, PERSON_X, FRIEND_Y, LOCKED, GONE = "100", "200", "300", "400", "500"
EMOJI_TEXT = "🚀🇬🇧 merci @ana_builds — 日本語 https://example.com/emoji 👍🏽 @person_x!"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A time on day ``day`` (1 = the scenario's first day, 2026-03-02)."""
    return datetime(2026, 3, 1 + day, hour, minute, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def scenario_data() -> dict[str, Any]:
    events: list[dict[str, Any]] = [
        {
            "at": iso(at(1, 9, 15)),
            "post": {
                "id": "1001",
                "by": "person_x",
                "text": "How we halved cold starts https://example.com/a",
                "metrics": {"like_count": 40},
            },
        },
        {
            "at": iso(at(1, 10)),
            "post": {"id": "1002", "by": "person_x", "text": "@ana_builds welcome aboard"},
        },
        {
            "at": iso(at(1, 11)),
            "post": {"id": "3001", "by": "friend_y", "text": "Hello @person_x and @ana_builds"},
        },
        {
            "at": iso(at(1, 12)),
            "post": {"id": "4001", "by": "locked_l", "text": "private thoughts @ana_builds"},
        },
        {"at": iso(at(1, 13)), "post": {"id": "5555", "by": "gone_g", "text": "spam @ana_builds"}},
        {
            "at": iso(at(1, 14)),
            "post": {"id": "5000", "by": "ana_builds", "text": "Reading @person_x's post"},
        },
        {"at": iso(at(2, 10)), "retweet": {"id": "5001", "by": "ana_builds", "post": "1001"}},
        {
            "at": iso(at(2, 11)),
            "post": {
                "id": "1003",
                "by": "person_x",
                "text": "@ana_builds thanks for sharing!",
                "reply_to": "5000",
            },
        },
        {"at": iso(at(2, 12)), "retweet": {"id": "1004", "by": "person_x", "post": "3001"}},
        {
            "at": iso(at(3, 9)),
            "post": {"id": "1005", "by": "person_x", "text": "Anyone tracing Lambda init time?"},
        },
        {
            "at": iso(at(3, 10, 30)),
            "post": {
                "id": "5002",
                "by": "ana_builds",
                "text": "@person_x this helped me https://example.com/b",
                "reply_to": "1005",
            },
        },
        {
            "at": iso(at(3, 11)),
            "post": {"id": "1006", "by": "person_x", "text": EMOJI_TEXT, "quote_of": "5002"},
        },
        {"at": iso(at(4, 8)), "follow": {"by": "person_x", "user": "ana_builds"}},
        {"at": iso(at(5, 9)), "unfollow": {"by": "person_x", "user": "ana_builds"}},
        {
            "at": iso(at(5, 10)),
            "post": {
                "id": "1007",
                "by": "person_x",
                "text": "@ana_builds replying to an old thread",
                "reply_to": "999",
            },
        },
    ]
    # A long run of plain posts for pagination, one per hour on day 6.
    events += [
        {
            "at": iso(at(6, hour)),
            "post": {"id": str(2000 + hour), "by": "person_x", "text": f"Tip #{hour} on Python"},
        }
        for hour in range(12)
    ]
    return {
        "start": iso(START),
        "days": 14,
        "me": {"id": ME, "username": "ana_builds", "name": "Ana Builds"},
        "users": [
            {"id": PERSON_X, "username": "person_x", "name": "Person X", "followers": ["friend_y"]},
            {"id": FRIEND_Y, "username": "friend_y", "name": "Friend Y", "metrics": {"followers_count": 10}},
            {"id": LOCKED, "username": "locked_l", "name": "Locked L", "protected": True},
            {"id": GONE, "username": "gone_g", "name": "Gone G", "suspended": True},
        ],
        "targets": ["person_x"],
        "settings": {"topics": ["python"]},
        "events": events,
    }


# -- the contract: X's OpenAPI description as JSON Schema ------------------------------------------


def spec_path() -> Path | None:
    candidates = [Path(__file__).resolve().parents[2].parent / "shared" / "x-api" / "openapi-2.159.json"]
    shared = os.environ.get("RAPPORT_SHARED_DIR")
    if shared:
        candidates += [Path(shared) / "x-api" / "openapi-2.159.json", Path(shared) / "openapi-2.159.json"]
    return next((p for p in candidates if p.is_file()), None)


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects -> JSON Schema: ``nullable``, boolean ``exclusiveMinimum``, no doc keys."""
    if isinstance(node, list):
        return [to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_json_schema(v) for k, v in node.items() if k not in ("example", "externalDocs", "xml")}
    if out.pop("nullable", False):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        if "$ref" in out:
            out = {"anyOf": [{"$ref": out.pop("$ref")}, {"type": "null"}], **out}
    for bound in ("Minimum", "Maximum"):
        flag = out.get(f"exclusive{bound}")
        if isinstance(flag, bool):
            limit = out.pop(bound.lower(), None)
            out.pop(f"exclusive{bound}")
            if flag and limit is not None:
                out[f"exclusive{bound}"] = limit
            elif limit is not None:
                out[bound.lower()] = limit
    return out


def resolve_discriminators(schemas: dict[str, Any]) -> None:
    """Make ``discriminator`` mappings checkable: a Problem with type X must match X's own schema.

    The mapped schemas extend the base through ``allOf: [$ref base]``; they get a copy of the base without
    the discriminator, or validation would recurse forever.
    """
    for name, schema in list(schemas.items()):
        discriminator = schema.get("discriminator") if isinstance(schema, dict) else None
        if not discriminator or "mapping" not in discriminator:
            continue
        base_name = f"{name}__base"
        schemas[base_name] = {k: v for k, v in schema.items() if k != "discriminator"}
        ref, base_ref = f"#/components/schemas/{name}", f"#/components/schemas/{base_name}"
        prop = discriminator["propertyName"]
        branches: list[dict[str, Any]] = [{"$ref": base_ref}]
        for value, target in discriminator["mapping"].items():
            target_name = target.rsplit("/", 1)[-1]
            text = json.dumps(schemas[target_name]).replace(json.dumps(ref), json.dumps(base_ref))
            schemas[target_name] = json.loads(text)
            branches.append(
                {"if": {"properties": {prop: {"const": value}}, "required": [prop]}, "then": {"$ref": target}}
            )
        schemas[name] = {"allOf": branches}


def close_objects(node: Any) -> None:
    """Reject undocumented fields: objects with ``properties`` and no ``additionalProperties`` get false."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            close_objects(value)
    elif isinstance(node, list):
        for value in node:
            close_objects(value)


def format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker(formats=())

    def is_datetime(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", value):
            return False
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True

    def is_uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme and parts.netloc)

    checker.checks("date-time", raises=ValueError)(is_datetime)
    checker.checks("uri")(is_uri)
    return checker


# What the simulator serves: closed so that a field X does not document fails the check.
CLOSED = ("Tweet", "User", "Expansions")
# The README's 429 body: a Problem of type about:blank, every field of it present.
RATE_LIMIT_BODY = {
    "allOf": [
        {"$ref": "#/components/schemas/Problem"},
        {
            "required": ["title", "type", "status", "detail"],
            "properties": {"status": {"const": 429}, "type": {"const": "about:blank"}},
        },
    ]
}


class Contract:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        doc = copy.deepcopy(spec)
        schemas = doc["components"]["schemas"] = to_json_schema(doc["components"]["schemas"])
        resolve_discriminators(schemas)
        for name in CLOSED:
            close_objects(schemas[name])
        for name in schemas:
            if name.startswith("Get2"):
                close_objects(schemas[name])
        self.doc = doc
        self.registry = Registry().with_resource("urn:x-api", Resource.from_contents(doc, DRAFT7))
        self.formats = format_checker()

    def errors(self, schema: dict[str, Any], instance: Any) -> list[str]:
        validator = jsonschema.Draft7Validator(
            self._anchor(to_json_schema(schema)), registry=self.registry, format_checker=self.formats
        )
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '$'}: {e.message}"
            for e in validator.iter_errors(instance)
        ]

    @staticmethod
    def _anchor(schema: dict[str, Any]) -> dict[str, Any]:
        """Resolve the description's local ``#/...`` refs inside the stored document."""
        text = json.dumps(schema).replace('"#/components/', '"urn:x-api#/components/')
        return dict(json.loads(text))

    def operation(self, template: str) -> dict[str, Any]:
        path = re.sub(r":(\w+)", r"{\1}", template)
        return dict(self.spec["paths"][path]["get"])

    def parameters(self, template: str) -> list[dict[str, Any]]:
        out = []
        for entry in self.operation(template)["parameters"]:
            if "$ref" in entry:
                entry = self.spec["components"]["parameters"][entry["$ref"].rsplit("/", 1)[-1]]  # noqa: PLW2901
            out.append(entry)
        return out

    def response_schema(self, exchange: Exchange) -> dict[str, Any]:
        if exchange.status == 429:
            return RATE_LIMIT_BODY
        responses = self.operation(exchange.endpoint)["responses"] if exchange.endpoint else {}
        media = "application/problem+json" if "problem+json" in exchange.content_type else "application/json"
        if exchange.status == 200 and exchange.endpoint:
            return dict(responses["200"]["content"]["application/json"]["schema"])
        if exchange.endpoint:
            return dict(responses["default"]["content"][media]["schema"])
        return {
            "$ref": "#/components/schemas/Problem"
            if media.endswith("problem+json")
            else "#/components/schemas/Error"
        }

    def request_problems(self, exchange: Exchange) -> list[str]:
        """What in the request's path and query the description does not allow."""
        assert exchange.endpoint is not None
        problems: list[str] = []
        params = {p["name"]: p for p in self.parameters(exchange.endpoint) if p["in"] == "query"}
        seen: set[str] = set()
        for name, raw in exchange.query:
            if name not in params:
                problems.append(f"unknown query parameter {name!r}")
                continue
            if name in seen:
                problems.append(f"{name!r} given twice")
            seen.add(name)
            problems += [
                f"{name}={raw!r}: {e}"
                for e in self.errors(params[name]["schema"], self._value(params[name], raw))
            ]
        problems += [
            f"missing required {n!r}" for n, p in params.items() if p.get("required") and n not in seen
        ]
        template = re.sub(r":(\w+)", r"(?P<\1>[^/]+)", exchange.endpoint)
        found = re.fullmatch(template, exchange.path)
        assert found is not None, exchange.path
        for param in self.parameters(exchange.endpoint):
            if param["in"] == "path":
                value = found.group(param["name"])
                problems += [
                    f"path {param['name']}={value!r}: {e}" for e in self.errors(param["schema"], value)
                ]
        return problems

    def _value(self, param: dict[str, Any], raw: str) -> Any:
        schema = param["schema"]
        if "$ref" in schema:
            schema = self.spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        if schema.get("type") == "array":  # style: form, explode: false -> comma-separated
            return raw.split(",") if raw else []
        if schema.get("type") == "integer":
            return int(raw) if re.fullmatch(r"-?\d+", raw) else raw
        return raw

    def check(self, exchanges: list[Exchange]) -> list[str]:
        """Everything wrong with what was served, one line per problem."""
        failures: list[str] = []
        for ex in exchanges:
            if not ex.path.startswith("/2/"):
                continue  # the /_sim control API is the simulator's own
            label = f"{ex.method} {ex.path}?{'&'.join(f'{k}={v}' for k, v in ex.query)} -> {ex.status}"
            failures += [f"{label}: body {e}" for e in self.errors(self.response_schema(ex), ex.body)]
            if ex.endpoint is None:
                continue
            request_problems = self.request_problems(ex)
            if request_problems and ex.status not in (400, 401, 403, 429):
                failures.append(
                    f"{label}: answered although the request breaks the contract: {request_problems}"
                )
            if ex.status in (200, 400, 403, 429) and "x-rate-limit-remaining" not in {
                k.lower() for k in ex.headers
            }:
                failures.append(f"{label}: no x-rate-limit headers")
        return failures


@cache
def load_contract() -> Contract | None:
    path = spec_path()
    return Contract(json.loads(path.read_text(encoding="utf-8"))) if path else None


SERVED: list[Exchange] = []  # every exchange of this module, for the last test


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def scenario() -> Scenario:
    return parse_scenario(scenario_data(), source="test_xsim")


@pytest.fixture
def sim(scenario: Scenario) -> Iterator[XSimServer]:
    with XSimServer(scenario, record=True) as server:
        yield server
    SERVED.extend(server.exchanges)
    contract = load_contract()
    if contract is not None:  # every test's traffic is checked as it ends (and all of it at the end)
        failures = contract.check(server.exchanges)
        assert not failures, "responses or requests outside X's OpenAPI description:\n" + "\n".join(failures)


def user_client(sim: XSimServer, *, in_process: bool = False) -> tweepy.Client:
    """The real tweepy client with (dummy) OAuth 1.0a user-context keys, sent to the simulator
    over loopback, or ``in_process`` as the bench sends it (no socket)."""
    client = tweepy.Client(
        consumer_key="ck",
        consumer_secret="cs",
        access_token="100-at",
        access_token_secret="ats",
        return_type=dict,
    )
    if in_process:
        mount_in_process(client.session, sim.app)
    else:
        mount_base_url(client.session, sim.url)
    return client


def app_client(sim: XSimServer) -> tweepy.Client:
    client = tweepy.Client(bearer_token="app-bearer", return_type=dict)
    mount_base_url(client.session, sim.url)
    return client


@pytest.fixture
def client(sim: XSimServer) -> tweepy.Client:
    return user_client(sim)


def ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body.get("data") or []]


# -- transport ------------------------------------------------------------------------------------


def test_the_adapter_keeps_path_and_query_and_leaves_other_hosts_alone():
    adapter = BaseUrlAdapter("http://127.0.0.1:8123")
    assert adapter.rewrite("https://api.twitter.com/2/users/by?usernames=a,b") == (
        "http://127.0.0.1:8123/2/users/by?usernames=a,b"
    )
    assert (
        adapter.rewrite("https://api.twitter.com.evil.example/2/x")
        == "https://api.twitter.com.evil.example/2/x"
    )


# -- polling, pagination, filters -------------------------------------------------------------------


def test_since_id_polling_returns_only_what_is_new(sim, client):
    # Given the clock at the end of day 1 and a first read of Ana's mentions
    sim.set_now(at(1, 23))
    first = client.get_users_mentions(ME, user_auth=True, tweet_fields=TWEET_FIELDS, max_results=100)
    assert ids(first) == ["3001", "1002"]  # newest first; locked and suspended authors are hidden
    assert first["meta"] == {"result_count": 2, "newest_id": "3001", "oldest_id": "1002"}

    # When day 2 passes and she polls with the stored newest_id
    sim.set_now(at(2, 23))
    second = client.get_users_mentions(
        ME, user_auth=True, since_id=first["meta"]["newest_id"], max_results=100
    )

    # Then only the newer mentions come back (1004 retweets a post that mentions her), and a third poll
    # finds nothing (and meta has no ids)
    assert ids(second) == ["1004", "1003"]
    third = client.get_users_mentions(ME, user_auth=True, since_id=second["meta"]["newest_id"])
    assert third == {"meta": {"result_count": 0}}


def test_since_id_follows_time_order_even_when_scenario_ids_do_not(sim, client):
    # Given 5001 (day 2, 10:00) is older than 1003 (day 2, 11:00) although its id is larger
    sim.set_now(at(2, 23))
    # When Ana polls her own timeline since her retweet 5001
    body = client.get_users_tweets(ME, user_auth=True, since_id="5001")
    # Then nothing of hers is newer, while 1003 and 1004 (ids below 5001) are newer in time
    assert body == {"meta": {"result_count": 0}}
    assert ids(client.get_users_mentions(ME, user_auth=True, since_id="5001")) == ["1004", "1003"]


def test_pagination_walks_the_whole_timeline_with_max_results(sim, client):
    # Given day 6 is over: person_x has 19 posts and retweets
    sim.set_now(at(7, 0))
    # When the timeline is read five at a time with tweepy's Paginator
    pages = list(tweepy.Paginator(client.get_users_tweets, PERSON_X, user_auth=True, max_results=5))
    # Then pages follow meta.next_token, newest first, without gaps or repeats, and the last has no token
    seen = [post_id for page in pages for post_id in ids(page)]
    assert [len(ids(p)) for p in pages] == [5, 5, 5, 4]
    assert seen[:3] == ["2011", "2010", "2009"]
    assert seen[-1] == "1001"
    assert len(set(seen)) == len(seen) == 19
    assert "next_token" not in pages[-1]["meta"]
    assert "previous_token" in pages[1]["meta"]
    assert "previous_token" not in pages[0]["meta"]

    # And the previous_token of page 2 leads back to page 1
    back = client.get_users_tweets(
        PERSON_X, user_auth=True, max_results=5, pagination_token=pages[1]["meta"]["previous_token"]
    )
    assert ids(back) == ids(pages[0])


def test_exclude_retweets_and_replies(sim, client):
    # Given person_x retweeted 3001, replied (1003, 1007) and posted originals by day 5
    sim.set_now(at(5, 23))
    everything = ids(client.get_users_tweets(PERSON_X, user_auth=True, max_results=100))
    assert everything == ["1007", "1006", "1005", "1004", "1003", "1002", "1001"]
    # When retweets and replies are excluded
    body = client.get_users_tweets(PERSON_X, user_auth=True, exclude=["retweets", "replies"], max_results=100)
    # Then only originals remain (1006 quotes, it is not a reply)
    assert ids(body) == ["1006", "1005", "1002", "1001"]
    assert ids(client.get_users_tweets(PERSON_X, user_auth=True, exclude=["retweets"]))[:2] == [
        "1007",
        "1006",
    ]


def test_time_filters_and_since_id_precedence(sim, client):
    sim.set_now(at(5, 23))
    in_day_3 = client.get_users_tweets(PERSON_X, user_auth=True, start_time=at(3, 0), end_time=at(4, 0))
    assert ids(in_day_3) == ["1006", "1005"]
    # since_id takes precedence over start_time (X's parameter description)
    both = client.get_users_tweets(PERSON_X, user_auth=True, since_id="1005", start_time=at(1, 0))
    assert ids(both) == ["1007", "1006"]
    assert ids(client.get_users_tweets(PERSON_X, user_auth=True, until_id="1003")) == ["1002", "1001"]


# -- time and the follow graph ------------------------------------------------------------------------


def test_mentions_become_visible_only_when_their_time_has_come(sim, client):
    # Given the clock just before person_x's thanks (day 2, 11:00)
    sim.set_now(at(2, 10, 58))
    sim.advance(timedelta(minutes=1))
    assert sim.now == at(2, 10, 59)
    assert "1003" not in ids(client.get_users_mentions(ME, user_auth=True))
    assert client.get_tweets(["1003"], user_auth=True)["errors"][0]["resource_id"] == "1003"

    # When the clock moves on, over the HTTP control API this time
    answer = requests.post(f"{sim.url}/_sim/clock", json={"advance_seconds": 60}, timeout=5)
    assert answer.json() == {"now": "2026-03-03T11:00:00Z"}
    backwards = requests.post(f"{sim.url}/_sim/clock", json={"advance_seconds": -1}, timeout=5)
    assert backwards.status_code == 400
    assert requests.post(f"{sim.url}/_sim/clock", json={"now": "2026-03-03T11:00:00Z"}, timeout=5).ok

    # Then the mention is there, with its fields as asked
    body = client.get_users_mentions(
        ME, user_auth=True, tweet_fields=TWEET_FIELDS, expansions=["author_id", "referenced_tweets.id"]
    )
    newest = body["data"][0]
    assert newest["id"] == "1003"
    assert newest["created_at"] == "2026-03-03T11:00:00.000Z"
    assert newest["author_id"] == PERSON_X
    assert newest["in_reply_to_user_id"] == ME
    assert newest["referenced_tweets"] == [{"type": "replied_to", "id": "5000"}]
    assert newest["conversation_id"] == "5000"
    assert [u["username"] for u in body["includes"]["users"]] == ["person_x", "friend_y"]
    assert [t["id"] for t in body["includes"]["tweets"]] == ["5000"]
    assert body["includes"]["tweets"][0]["text"] == "Reading @person_x's post"


def test_only_requested_fields_plus_defaults(sim, client):
    sim.set_now(at(2, 12))
    plain = client.get_users_mentions(ME, user_auth=True)
    assert all(set(p) == {"id", "text", "edit_history_tweet_ids"} for p in plain["data"])
    users = client.get_users(usernames=["person_x"], user_auth=True)
    assert users == {"data": [{"id": PERSON_X, "name": "Person X", "username": "person_x"}]}


def test_connection_status_followed_by_after_a_follow_and_gone_after_the_unfollow(sim, client):
    def status() -> list[str]:
        body = client.get_users(usernames=["person_x"], user_fields=["connection_status"], user_auth=True)
        return list(body["data"][0]["connection_status"])

    # Given person_x does not follow Ana yet
    sim.set_now(at(4, 7, 59))
    assert status() == []
    # When the follow event has happened
    sim.set_now(at(4, 8))
    # Then connection_status says followed_by, and Ana's followers list shows them
    assert status() == ["followed_by"]
    assert ids(client.get_users_followers(ME, user_auth=True)) == [PERSON_X]
    # And once Ana follows back, both ways
    sim.world.follow("ana_builds", "person_x")
    assert status() == ["followed_by", "following"]
    # When person_x unfollows (day 5, 09:00), followed_by is gone
    sim.set_now(at(5, 9))
    assert status() == ["following"]
    assert client.get_users_followers(ME, user_auth=True) == {"meta": {"result_count": 0}}


def test_followers_pagination_and_metrics(sim, client):
    sim.set_now(at(1, 8))
    for n, name in enumerate(["person_x", "friend_y", "locked_l"]):
        sim.world.follow(name, "ana_builds", at=at(1, 8) - timedelta(minutes=3 - n))
    first = client.get_users_followers(ME, user_auth=True, max_results=2)
    assert ids(first) == [LOCKED, FRIEND_Y]  # most recent follow first
    assert len(first["meta"]["next_token"]) >= 16  # X's followers tokens are base32, 16+ characters
    second = client.get_users_followers(
        ME, user_auth=True, max_results=2, pagination_token=first["meta"]["next_token"]
    )
    assert ids(second) == [PERSON_X]
    me = client.get_me(user_fields=["public_metrics"])["data"]
    assert me["public_metrics"]["followers_count"] == 3
    friend = client.get_users(ids=[FRIEND_Y], user_fields=["public_metrics"], user_auth=True)["data"][0]
    assert friend["public_metrics"]["followers_count"] == 10  # from the scenario; nobody follows in-world


def test_following_lists_whom_we_follow_newest_first_and_bills_each_as_an_owned_user_read(sim, client):
    # Given Ana follows locked_l, then friend_y, then person_x, and unfollows friend_y
    sim.set_now(at(1, 8))
    for n, name in enumerate(["locked_l", "friend_y", "person_x"]):
        sim.world.follow("ana_builds", name, at=at(1, 8) - timedelta(minutes=3 - n))
    sim.world.unfollow("ana_builds", "friend_y", at=at(1, 8))
    requests.post(f"{sim.url}/_sim/reset_usage", timeout=5)
    # When she reads her following list a page of one at a time
    first = client.get_users_following(ME, user_auth=True, max_results=1)
    second = client.get_users_following(
        ME, user_auth=True, max_results=1, pagination_token=first["meta"]["next_token"]
    )
    # Then the most recent follow comes first, the unfollowed one is gone, and the pages end
    assert (ids(first), ids(second)) == ([PERSON_X], [LOCKED])
    assert "next_token" not in second["meta"]
    # And each user read from her own list costs $0.001 (an owned read)
    assert sim.usage()["resources"]["users"] == 2
    assert sim.usage()["cost_usd"] == pytest.approx(2 * 0.001)
    # While friend_y's list (person_x) is someone else's: the new user in it is a user read at list price
    sim.world.follow("friend_y", "ana_builds", at=at(1, 8))
    assert ids(client.get_users_following(FRIEND_Y, user_auth=True)) == [ME, PERSON_X]
    assert sim.usage()["cost_usd"] == pytest.approx(2 * 0.001 + 0.010)


def test_in_process_actions_of_the_simulated_user(sim, client):
    # Given the demo acts for Ana at a simulated time
    sim.set_now(at(3, 12))
    reply = sim.world.add_post("ana_builds", "@person_x glad it helped 🙌", reply_to="1006")
    retweet = sim.world.add_retweet("ana_builds", "1005")
    # Then X shows them like any other post, with time-ordered snowflake ids
    body = client.get_users_tweets(ME, user_auth=True, tweet_fields=TWEET_FIELDS)
    assert ids(body)[:2] == [retweet.id, reply.id]
    assert int(retweet.id) > int(reply.id) > 10**17
    assert body["data"][0]["referenced_tweets"] == [{"type": "retweeted", "id": "1005"}]
    assert body["data"][0]["text"] == "RT @person_x: Anyone tracing Lambda init time?"
    assert body["data"][0]["entities"]["mentions"] == [
        {"start": 3, "end": 12, "username": "person_x", "id": PERSON_X}
    ]
    assert body["data"][1]["in_reply_to_user_id"] == PERSON_X
    mentions = client.get_users_mentions(PERSON_X, user_auth=True)
    assert reply.id in ids(mentions)
    metrics = client.get_tweets(["1005"], tweet_fields=["public_metrics"], user_auth=True)["data"][0]
    assert metrics["public_metrics"]["retweet_count"] == 1
    assert metrics["public_metrics"]["reply_count"] == 1  # Ana's reply 5002
    # A reply to a retweet is, on X, a reply to the original post
    assert sim.world.add_post("friend_y", "@person_x same here", reply_to=retweet.id).reply_to == "1005"


# -- billing ----------------------------------------------------------------------------------------


def test_billing_charges_each_resource_once_per_utc_day_and_owned_reads_less(sim, client):
    # Given day 2 in the evening
    sim.set_now(at(2, 20))
    # When Ana reads her own mentions (owned) twice, and person_x's timeline (not owned)
    client.get_users_mentions(ME, user_auth=True)  # 1004, 1003, 3001, 1002: 4 posts at $0.001
    client.get_users_mentions(ME, user_auth=True)  # the same posts again: free today
    client.get_users_tweets(PERSON_X, user_auth=True, max_results=5)  # 1004, 1003, 1002, 1001 (not owned)
    usage = sim.usage()
    # Then 4 owned posts + 1 new post (1001) are billed; 1004, 1003 and 1002 were billed already today
    assert usage["resources"] == {"posts": 5, "users": 0, "followers": 0}
    assert usage["cost_usd"] == pytest.approx(4 * 0.001 + 1 * 0.005)
    assert usage["requests"] == 3
    assert usage["requests_by_endpoint"] == {"/2/users/:id/mentions": 2, "/2/users/:id/tweets": 1}

    # When the UTC day changes, the same reads are billed again; an empty page costs nothing
    sim.set_now(at(3, 0, 5))
    client.get_users_mentions(ME, user_auth=True, max_results=5)
    client.get_users_tweets(FRIEND_Y, user_auth=True, since_id="3001")
    usage = sim.usage()
    assert usage["by_day"]["2026-03-04"]["resources"]["posts"] == 4
    assert usage["by_day"]["2026-03-04"]["cost_usd"] == pytest.approx(0.004)
    assert usage["by_day"]["2026-03-04"]["requests"] == 2

    # Includes count too: users and followers are their own resources
    client.get_users_tweets(FRIEND_Y, user_auth=True, expansions=["author_id"])  # post 3001 + user friend_y
    client.get_users_followers(PERSON_X, user_auth=True)  # friend_y as a follower ($0.010)
    over_http = requests.get(f"{sim.url}/_sim/usage", timeout=5).json()
    # (3001 itself came with the mentions earlier today: not billed twice)
    assert over_http["by_day"]["2026-03-04"]["resources"] == {"posts": 4, "users": 1, "followers": 1}
    assert over_http["by_day"]["2026-03-04"]["cost_usd"] == pytest.approx(0.004 + 0.010 + 0.010)

    requests.post(f"{sim.url}/_sim/reset_usage", timeout=5)
    assert sim.usage()["requests"] == 0
    assert sim.usage()["cost_usd"] == 0


# -- limits, errors, faults --------------------------------------------------------------------------


def test_429_after_the_user_limit_with_rate_limit_headers(sim, client):
    # Given /2/users/me allows 75 user-context requests per 15 minutes
    sim.set_now(at(1, 9))
    for _ in range(75):
        client.get_me()
    # When the 76th is sent
    with pytest.raises(tweepy.TooManyRequests) as caught:
        client.get_me()
    # Then X's 429: a Problem, no Retry-After, the reset (simulated clock) in the headers
    response = caught.value.response
    assert response.json() == {
        "title": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
        "detail": "Too Many Requests",
    }
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-rate-limit-limit"] == "75"
    assert response.headers["x-rate-limit-remaining"] == "0"
    assert caught.value.reset_time == int((at(1, 9) + timedelta(minutes=15)).timestamp())
    assert "Retry-After" not in response.headers
    # And when the simulated window is over, reads work again
    sim.set_now(at(1, 9, 15))
    raw = client.get_me()
    assert raw["data"]["id"] == ME


def test_limits_differ_for_user_context_and_app_only(sim):
    sim.set_now(at(1, 23))
    raw_client = tweepy.Client(
        consumer_key="a",
        consumer_secret="b",
        access_token="c",
        access_token_secret="d",
        return_type=requests.Response,
    )
    mount_base_url(raw_client.session, sim.url)
    user = raw_client.get_users(usernames=["person_x"], user_auth=True)
    app = requests.get(f"{sim.url}/2/users/{ME}/mentions", headers={"Authorization": "Bearer app"}, timeout=5)
    assert user.headers["x-rate-limit-limit"] == "900"
    assert app.headers["x-rate-limit-limit"] == "450"
    assert app.headers["x-rate-limit-remaining"] == "449"
    # App-only reads see no connection_status and cannot call /2/users/me
    body = app_client(sim).get_users(usernames=["person_x"], user_fields=["connection_status"])
    assert "connection_status" not in body["data"][0]
    with pytest.raises(tweepy.Forbidden) as refused:
        app_client(sim).get_me(user_auth=False)
    # And the 403 carries the rate-limit headers, as X's answers do
    assert refused.value.response.headers["x-rate-limit-limit"] == "75"
    assert refused.value.response.headers["x-rate-limit-remaining"] == "75"


def test_401_without_authorization(sim):
    answer = requests.get(f"{sim.url}/2/users/by?usernames=person_x", timeout=5)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == {
        "title": "Unauthorized",
        "detail": "Unauthorized",
        "type": "about:blank",
        "status": 401,
    }
    no_token = tweepy.Client(return_type=dict)
    mount_base_url(no_token.session, sim.url)
    with pytest.raises(tweepy.Unauthorized):  # tweepy without a bearer token sends "Bearer None"
        no_token.get_users(usernames=["person_x"])


def test_unknown_and_suspended_users_come_back_as_errors(sim, client):
    # An unknown username: HTTP 200 with a resource-not-found problem and no data
    body = client.get_user(username="nobody", user_auth=True)
    assert body == {
        "errors": [
            {
                "value": "nobody",
                "detail": "Could not find user with username: [nobody].",
                "title": "Not Found Error",
                "resource_type": "user",
                "parameter": "username",
                "resource_id": "nobody",
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ]
    }
    # A batch lookup answers the known ones and lists the others
    batch = client.get_users(usernames=["person_x", "nobody", "gone_g"], user_auth=True)
    assert ids(batch) == [PERSON_X]
    assert [(e["resource_id"], e["title"]) for e in batch["errors"]] == [
        ("nobody", "Not Found Error"),
        ("gone_g", "Forbidden"),
    ]
    assert batch["errors"][1]["detail"] == "User has been suspended: [gone_g]."
    # Timelines of unknown or suspended users: the same problems, parameter "id"
    assert client.get_users_tweets("999", user_auth=True)["errors"][0]["parameter"] == "id"
    assert client.get_users_mentions(GONE, user_auth=True)["errors"][0]["title"] == "Forbidden"


def test_protected_accounts_need_a_follow(sim, client):
    sim.set_now(at(2, 0))
    body = client.get_users_tweets(LOCKED, user_auth=True)
    assert body["errors"][0]["type"] == "https://api.twitter.com/2/problems/not-authorized-for-resource"
    assert body["errors"][0]["section"] == "data"
    assert client.get_tweets(["4001"], user_auth=True)["errors"][0]["title"] == "Authorization Error"
    # When Ana follows them, their posts (and their mention of her) become visible
    sim.world.follow("ana_builds", "locked_l")
    assert ids(client.get_users_tweets(LOCKED, user_auth=True)) == ["4001"]
    assert "4001" in ids(client.get_users_mentions(ME, user_auth=True))
    # App-only never sees protected posts
    assert "errors" in app_client(sim).get_users_tweets(LOCKED)


def test_bad_parameters_are_400_invalid_request(sim, client):
    with pytest.raises(tweepy.BadRequest) as caught:
        client.get_users_mentions(ME, user_auth=True, max_results=1000)
    problem = caught.value.response.json()
    assert problem["type"] == "https://api.twitter.com/2/problems/invalid-request"
    assert problem["errors"] == [
        {
            "parameters": {"max_results": ["1000"]},
            "message": "The `max_results` query parameter value [1000] is not between 5 and 100",
        }
    ]
    with pytest.raises(tweepy.BadRequest):
        client.get_users_tweets(PERSON_X, user_auth=True, tweet_fields=["created_at", "nonsense"])
    with pytest.raises(tweepy.BadRequest):
        client.get_users_followers(ME, user_auth=True, max_results=0)
    with pytest.raises(tweepy.BadRequest):
        client.get_users_mentions("not-an-id", user_auth=True)
    with pytest.raises(tweepy.BadRequest):
        client.get_users_tweets(PERSON_X, user_auth=True, pagination_token="zzzz")


def test_unknown_and_protected_posts_in_lookups_and_includes(sim, client):
    sim.set_now(at(5, 23))
    body = client.get_tweets(["1001", "42", "4001"], user_auth=True, expansions=["referenced_tweets.id"])
    assert ids(body) == ["1001"]
    assert [(e["resource_id"], e["title"]) for e in body["errors"]] == [
        ("42", "Not Found Error"),
        ("4001", "Authorization Error"),
    ]
    # 1007 replies to 999, a post from before the scenario: X reports it under the includes' parameter
    reply = client.get_tweets(
        ["1007"], user_auth=True, tweet_fields=TWEET_FIELDS, expansions=["referenced_tweets.id"]
    )
    assert reply["data"][0]["in_reply_to_user_id"] == ME  # from the leading @mention
    assert reply["errors"][0]["parameter"] == "referenced_tweets.id"


def test_injected_faults_fail_the_next_requests(sim, client):
    requests.post(
        f"{sim.url}/_sim/faults",
        json={"endpoint": "/2/users/:id/mentions", "status": 503, "count": 2},
        timeout=5,
    )
    for _ in range(2):
        with pytest.raises(tweepy.TwitterServerError):
            client.get_users_mentions(ME, user_auth=True)
    client.get_users_mentions(ME, user_auth=True)  # the third goes through
    sim.inject_fault("/2/users/:id/tweets", 429)
    with pytest.raises(tweepy.TooManyRequests) as caught:
        client.get_users_tweets(ME, user_auth=True)
    assert caught.value.response.headers["x-rate-limit-remaining"] == "0"


def test_a_truncated_page_promises_its_whole_body_then_drops_the_connection(sim, client):
    # Given a truncated-page fault on our mentions, asked for over the control API
    sim.set_now(at(2, 0))
    faults = f"{sim.url}/_sim/faults"
    fault = {"endpoint": "/2/users/:id/mentions", "status": "truncated", "count": 2}
    asked = requests.post(faults, json=fault, timeout=5)
    assert asked.status_code == 200
    assert asked.json() == {"faults": [fault]}
    # When a plain HTTP client reads the page
    oauth = {"Authorization": 'OAuth oauth_token="100-at"'}
    mentions = f"{sim.url}/2/users/{ME}/mentions"
    with requests.get(mentions, headers=oauth, timeout=5, stream=True) as cut:
        # Then it is told of a whole 200 page, but the body ends short of its length: an error, not JSON
        assert cut.status_code == 200
        promised = int(cut.headers["Content-Length"])
        with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
            cut.json()
    # And tweepy gets the same error, never a shorter page
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        client.get_users_mentions(ME, user_auth=True)
    # And once the fault is used up, the same page arrives whole, exactly as long as was promised
    whole = requests.get(mentions, headers=oauth, timeout=5)
    assert len(whole.content) == promised
    assert ids(whole.json()) == ["3001", "1002"]
    # And a misspelt fault is refused with a message that names the right one
    typo = requests.post(faults, json={**fault, "status": "truncate"}, timeout=5)
    assert typo.status_code == 400
    assert '"truncated"' in typo.json()["error"]
    assert requests.get(faults, timeout=5).json() == {"faults": []}


def test_a_truncated_page_fails_the_same_way_through_the_in_process_transport(sim):
    # Given the bench's transport (no socket) and a truncated-page fault asked for in process
    sim.set_now(at(2, 0))
    client = user_client(sim, in_process=True)
    sim.inject_fault("/2/users/:id/mentions", TRUNCATED)
    # When tweepy reads our mentions, then it gets the error a socket closed mid-body gives
    with pytest.raises(
        requests.exceptions.ChunkedEncodingError, match=r"IncompleteRead\(\d+ bytes read, \d+ more expected\)"
    ):
        client.get_users_mentions(ME, user_auth=True)
    # And the next read gets the whole page
    assert ids(client.get_users_mentions(ME, user_auth=True)) == ["3001", "1002"]


def test_emoji_and_non_latin_offsets_count_code_points(sim, client):
    # Given a post with emoji (one astral, a flag of two code points, a skin-tone pair) and Japanese
    sim.set_now(at(3, 12))
    post = client.get_tweets(["1006"], tweet_fields=["entities"], user_auth=True)["data"][0]
    text, entities = post["text"], post["entities"]
    # Then every entity's [start, end) slices the text in code points, as X counts characters
    mentions = entities["mentions"]
    assert [(m["username"], m["id"]) for m in mentions] == [("ana_builds", ME), ("person_x", PERSON_X)]
    assert [text[m["start"] : m["end"]] for m in mentions] == ["@ana_builds", "@person_x"]
    before = "🚀🇬🇧 merci "
    assert mentions[0]["start"] == len(before) == 10  # code points; UTF-16 would say 13
    assert len(before.encode("utf-16-le")) // 2 == 13
    (url,) = entities["urls"]
    assert text[url["start"] : url["end"]] == url["url"]
    assert url["url"].startswith("https://t.co/")
    assert len(url["url"]) == 23
    assert url["expanded_url"] == "https://example.com/emoji"
    assert url["display_url"] == "example.com/emoji"


# -- the whole contract --------------------------------------------------------------------------------


def test_every_response_served_in_these_tests_matches_x_openapi_description(scenario):
    contract = load_contract()
    if contract is None:
        pytest.skip("openapi-2.159.json not found next to the repository nor under $RAPPORT_SHARED_DIR")
    # A tour of every endpoint and every answer shape, added to what the tests above were served
    with XSimServer(scenario, record=True) as server:
        client = user_client(server)
        server.set_now(at(6, 23))
        client.get_me(
            user_fields=["created_at", "description", "protected", "public_metrics", "most_recent_tweet_id"],
            expansions=["most_recent_tweet_id"],
            tweet_fields=["created_at"],
        )
        client.get_users(
            usernames=["person_x", "nobody"], user_fields=["connection_status", "verified"], user_auth=True
        )
        client.get_users(ids=[PERSON_X, "1"], user_auth=True)
        client.get_user(username="friend_y", user_auth=True)
        client.get_users_mentions(
            ME,
            user_auth=True,
            tweet_fields=TWEET_FIELDS,
            expansions=[
                "author_id",
                "referenced_tweets.id",
                "in_reply_to_user_id",
                "entities.mentions.username",
                "referenced_tweets.id.author_id",
            ],
            user_fields=["created_at"],
            max_results=5,
        )
        client.get_users_tweets(
            PERSON_X,
            user_auth=True,
            tweet_fields=[*TWEET_FIELDS, "edit_controls", "possibly_sensitive", "reply_settings", "lang"],
            exclude=["replies"],
            max_results=5,
        )
        client.get_users_followers(PERSON_X, user_auth=True, max_results=1, user_fields=["public_metrics"])
        client.get_users_following(FRIEND_Y, user_auth=True, max_results=1, user_fields=["public_metrics"])
        client.get_tweets(
            ["1006", "1", "4001"], user_auth=True, expansions=["referenced_tweets.id", "author_id"]
        )
        app_client(server).get_users_tweets(LOCKED)
        requests.get(f"{server.url}/2/tweets?ids=1001", timeout=5)
        requests.get(f"{server.url}/2/unknown", headers={"Authorization": "Bearer x"}, timeout=5)
        with pytest.raises(tweepy.BadRequest):
            client.get_users_tweets(PERSON_X, user_auth=True, max_results=3)
        with pytest.raises(tweepy.BadRequest):
            client.get_users(usernames=["not a handle!"], user_auth=True)
        with pytest.raises(tweepy.Forbidden):
            app_client(server).get_me(user_auth=False)
        server.inject_fault("*", 500)
        with pytest.raises(tweepy.TwitterServerError):
            client.get_me()
        server.inject_fault("/2/users/:id/mentions", 429)
        with pytest.raises(tweepy.TooManyRequests):
            client.get_users_mentions(ME, user_auth=True)
    served = SERVED + server.exchanges
    assert {ex.endpoint for ex in served} >= {
        "/2/users/me", "/2/users/by", "/2/users", "/2/users/by/username/:username", "/2/users/:id/mentions",
        "/2/users/:id/tweets", "/2/users/:id/followers", "/2/users/:id/following", "/2/tweets",
    }  # fmt: skip
    assert {ex.status for ex in served} >= {200, 400, 401, 403, 404, 429, 500}
    failures = contract.check(served)
    assert not failures, "\n".join(failures)


def test_the_contract_check_catches_what_x_would_not_send(scenario):
    contract = load_contract()
    if contract is None:
        pytest.skip("openapi-2.159.json not found next to the repository nor under $RAPPORT_SHARED_DIR")
    good = Exchange(
        "GET",
        "/2/users/100/mentions",
        (("max_results", "5"),),
        200,
        "application/json",
        {"x-rate-limit-remaining": "1"},
        {"meta": {"result_count": 0}},
        "/2/users/:id/mentions",
    )
    assert contract.check([good]) == []
    bad_body = {"data": [{"id": "1", "text": "x", "favourite_count": 3}], "meta": {"result_count": 1}}
    bad_query = (("max_results", "500"), ("since", "1"))
    problem = {
        "errors": [
            {"title": "Not Found Error", "type": "https://api.twitter.com/2/problems/resource-not-found"}
        ]
    }
    wrong = [
        Exchange(
            good.method, good.path, good.query, 200, good.content_type, good.headers, bad_body, good.endpoint
        ),
        Exchange(
            good.method, good.path, bad_query, 200, good.content_type, good.headers, good.body, good.endpoint
        ),
        Exchange(
            good.method, good.path, good.query, 200, good.content_type, good.headers, problem, good.endpoint
        ),
        Exchange(
            good.method,
            "/2/users/abc/mentions",
            (),
            200,
            good.content_type,
            good.headers,
            good.body,
            good.endpoint,
        ),
    ]
    assert all(contract.check([w]) for w in wrong)


def test_acting_through_the_control_api_brings_the_scripted_reactions():
    # Given a standalone simulator where person_x thanks every retweet an hour later
    world = parse_scenario(
        {
            "start": "2026-03-02T08:00:00Z",
            "days": 2,
            "seed": 1,
            "me": {"id": ME, "username": "ana_builds", "name": "Ana"},
            "users": [{"id": "200", "username": "person_x", "name": "Person X"}],
            "events": [
                {"at": "2026-03-02T09:00:00Z", "post": {"id": "1001", "by": "person_x", "text": "Notes"}}
            ],
            "behaviours": {"person_x": {"thanks": {"after": 1, "probability": 1, "hours": [1, 1]}}},
        }
    )
    with XSimServer(world) as sim:
        sim.set_now(datetime(2026, 3, 2, 10, tzinfo=UTC))
        # When you retweet their post through the control API, as a person clicking the intent
        done = requests.post(f"{sim.url}/_sim/retweets", json={"by": "ana_builds", "post": "1001"}, timeout=5)
        # Then the retweet is on X now, and their thanks arrives an hour later, addressed to you
        assert done.status_code == 200
        assert done.json()["at"] == "2026-03-02T10:00:00Z"
        client = user_client(sim)
        assert ids(client.get_users_mentions(ME, user_auth=True)) == []
        sim.set_now(datetime(2026, 3, 2, 11, tzinfo=UTC))
        thanks = client.get_users_mentions(ME, user_auth=True)["data"]
        assert len(thanks) == 1
        assert "thank" in thanks[0]["text"].lower()
        # And what X would refuse, the control API refuses with a reason
        again = requests.post(
            f"{sim.url}/_sim/retweets", json={"by": "ana_builds", "post": "1001"}, timeout=5
        )
        assert again.status_code == 400
        assert "already retweeted" in again.json()["error"]
        nobody = requests.post(f"{sim.url}/_sim/posts", json={"by": "ghost", "text": "hi"}, timeout=5)
        assert (nobody.status_code, nobody.json()["error"]) == (400, "unknown user 'ghost'")
        follow = requests.post(
            f"{sim.url}/_sim/follows", json={"by": "person_x", "user": "ana_builds"}, timeout=5
        )
        assert follow.json() == {"changed": True}
