"""The admin function under generated requests: never a 5xx (but 503 when X fails), always the error
shape, and the table unchanged by every refused request.

Two sources of requests, both run in-process against the handler on in-memory stores:
- schemathesis, from docs/admin-openapi.json: requests that fit the document and requests that break it;
- hypothesis strategies for hostile input the document cannot describe: deep nesting, bodies that are
  not objects, base64 and not-quite-base64 bodies, huge, unicode and null-byte strings, odd usernames,
  times and settings, sent as direct invokes, as commands POSTed to the root and to the routes.

The seed is fixed and the examples bounded (RAPPORT_FUZZ_EXAMPLES, default 60 a test); `make fuzz`
runs a bigger budget and prints the outcomes (docs/operations.md).
"""

from __future__ import annotations

import base64
import copy
import json
import os
import sys
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core import NotSet

from functions.admin.handler import lambda_handler
from rapport.domain.policy import Policy
from rapport.domain.x import XUser
from rapport.usecases.admin import ACTIONS, COMMANDS
from rapport_local.admin_openapi import DOCUMENT
from rapport_local.stack import LambdaContext
from tests.factories import ME, ME_ID, T0, function_url_event
from tests.fakes import FakeX, Memory
from tests.unit.test_admin_api import PEOPLE, Api

EXAMPLES = int(os.environ.get("RAPPORT_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same requests at every run: a failure is reproducible as is
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
X_ENDPOINTS = ("users/by", "users/me", "users/:id/following")
OUTCOMES: Counter[str] = Counter()


@dataclass(slots=True)
class AnyoneX(FakeX):
    """An X where every well-formed username exists, so generated adds and imports are stored."""

    def users_by_username(self, usernames: list[str]) -> list[XUser]:
        self._call("users/by")
        return [XUser(str(zlib.crc32(u.lower().encode())), u, u.title()) for u in usernames]


def _seeded() -> Memory:
    api = Api()
    api("POST", "/targets", {"username": "person_x", "topics": ["lambda"], "note": "met at a meetup"})
    api("POST", "/targets", {"username": "zoe_dev"})
    api("PATCH", "/settings", {"daily_actions": 4})
    return api.memory


SEEDED = _seeded()


def _world(x_fails: str | None) -> Api:
    """Two targets and saved settings; X either knows everyone or fails as ``x_fails`` says."""
    x = AnyoneX(XUser(ME_ID, ME, "Ana"), users=dict(PEOPLE))
    if x_fails == "rate_limited":
        x.rate_limited.update(dict.fromkeys(X_ENDPOINTS, T0 + timedelta(minutes=15)))
    elif x_fails == "unavailable":
        x.unavailable.update(X_ENDPOINTS)
    return Api(copy.deepcopy(SEEDED), x)


def _check(api: Api, before: Memory, status: int, body: Any, x_fails: str | None, kind: str) -> None:
    """The properties every answer keeps, whatever was asked."""
    OUTCOMES[f"{kind} {status // 100}xx" if status != 503 else f"{kind} 503"] += 1
    if status == 503:
        assert x_fails is not None, body  # only X failing may make the function unavailable
        assert body["error"] == [{"field": "x", "message": "X is unavailable, try again later"}]
    else:
        assert status < 500, body
    if status >= 400:
        assert isinstance(body, dict) and isinstance(body.get("error"), list) and body["error"], body
        for problem in body["error"]:
            assert isinstance(problem["field"], str) and problem["field"], body
            assert isinstance(problem["message"], str) and problem["message"], body
        assert api.memory == before, f"a refused request changed the table: {body}"


def _http(api: Api, event: dict[str, Any], x_fails: str | None, kind: str) -> None:
    before = copy.deepcopy(api.memory)
    response = lambda_handler(event, LambdaContext("rapport-admin"), deps=api.deps)
    status = int(response["statusCode"])
    content_type = {k.lower(): v for k, v in response["headers"].items()}["content-type"]
    body = json.loads(response["body"]) if "json" in content_type else response["body"]
    _check(api, before, status, body, x_fails, kind)


# --- from the OpenAPI document (schemathesis) -----------------------------------------------------

SCHEMA = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text(encoding="utf-8")))


def _event_of(case: Any) -> dict[str, Any]:
    """A schemathesis case as the Function URL delivers it (payload 2.0)."""
    query = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in (case.query or {}).items()}
    media_type = case.media_type or "application/json"
    event = function_url_event(case.method, case.formatted_path, None, query, media_type)
    body = case.body
    if isinstance(body, NotSet):
        return event
    if isinstance(body, bytes):  # not text: sent base64-encoded, as a Function URL does
        return event | {"body": base64.b64encode(body).decode(), "isBase64Encoded": True}
    text = body if isinstance(body, str) and "json" not in media_type else json.dumps(body)
    return event | {"body": text}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_requests_generated_from_the_openapi_document_get_2xx_or_the_error_shape(mode: GenerationMode):
    @FUZZ
    @given(
        case=SCHEMA.as_strategy(generation_mode=mode), x_fails=st.sampled_from([None, None, "unavailable"])
    )
    def run(case: Any, x_fails: str | None) -> None:
        _http(_world(x_fails), _event_of(case), x_fails, f"openapi-{mode.value}")

    run()


# --- hostile input the document cannot describe (hypothesis) --------------------------------------

SIZES = st.sampled_from([0, 1, 15, 16, 50, 51, 1000, 1001, 70_000, 400_001])
huge = SIZES.flatmap(lambda n: st.sampled_from(["a", "é", "\x00", "🙂", " "]).map(lambda c: c * n))
odd_text = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=20),  # surrogates and controls too
    huge,
    st.sampled_from(["", " ", "\n", "null", "NaN", "\u202eevil", "a\x00b", "\ud800", "💥" * 3]),
)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), odd_text)
json_values = st.recursive(
    json_scalars,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(odd_text, kids, max_size=3),
    max_leaves=8,
)
usernames = st.one_of(
    st.from_regex(r"\A@?[A-Za-z0-9_]{1,16}\Z"),
    st.sampled_from(
        [
            "person_x",
            "@Person_X",
            "https://x.com/zoe_dev",
            "x.com/",
            "person_x\n",
            "https://x.com/person_x\n/",
        ]
    ),
    st.from_regex(r"\A(https?://)?(www\.|mobile\.)?(x|twitter)\.com/[^\n]{0,20}\Z"),
    odd_text,
    json_values,
)
_offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
times = st.one_of(
    st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30), timezones=st.one_of(st.none(), _offsets)).map(
        datetime.isoformat
    ),
    st.datetimes(datetime(2026, 1, 1), datetime(2026, 5, 1), timezones=st.just(UTC)).map(datetime.isoformat),
    st.sampled_from(["1", "0", "-1", "1772438400", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00"]),
    st.integers(),
    st.floats(),
    odd_text,
)
_policy_fields = sorted(Policy.model_fields)
settings_changes = st.dictionaries(
    st.sampled_from([*_policy_fields, "colour"]) | odd_text,
    st.one_of(
        json_values,
        st.integers(-(10**30), 10**30),
        st.sampled_from(["America", "Europe", "posix", "UTC", "Europe/London", "../etc/passwd", "A" * 300]),
        st.lists(odd_text, max_size=60),
    ),
    max_size=4,
)
commands = st.fixed_dictionaries(
    {"action": st.sampled_from(sorted(ACTIONS)) | odd_text},
    optional={
        "username": usernames,
        "topics": st.lists(odd_text, max_size=30) | json_values,
        "note": odd_text | json_values,
        "at": times,
        "settings": settings_changes | json_values,
        "rows": st.lists(
            st.fixed_dictionaries({"username": usernames}, optional={"note": odd_text}), max_size=5
        ),
        "csv": st.one_of(
            odd_text,
            st.lists(usernames.filter(lambda u: isinstance(u, str)), max_size=5).map(
                lambda us: "username\n" + "\n".join(us)
            ),
        ),
        "limit": st.integers() | json_values,
        "format": st.sampled_from(["csv", "json", "xml"]) | json_values,
        "dry_run": st.booleans() | json_values,
        "colour": json_values,
    },
)


_plausible_fields: dict[str, st.SearchStrategy[Any]] = {
    "username": st.sampled_from(["person_x", "@zoe_dev", "https://x.com/quiet_q", "new_one", "ghost"]),
    "topics": st.lists(st.text(min_size=1, max_size=12), max_size=4),
    "note": st.text(max_size=30),
    "at": st.datetimes(datetime(2026, 2, 20), datetime(2026, 3, 4), timezones=st.just(UTC)).map(
        datetime.isoformat
    ),
    "settings": st.dictionaries(
        st.sampled_from(_policy_fields),
        st.integers(0, 30) | st.booleans() | st.just("Europe/Paris"),
        max_size=2,
    ),
    "rows": st.lists(st.fixed_dictionaries({"username": st.from_regex(r"\A[a-z_]{1,15}\Z")}), max_size=4),
    "csv": st.lists(st.from_regex(r"\A[a-z_]{1,15}\Z"), max_size=4).map(
        lambda us: "username\n" + "\n".join(us)
    ),
    "limit": st.integers(0, 6000),
    "format": st.sampled_from(["csv", "json"]),
    "skip_invalid": st.booleans(),
    "dry_run": st.booleans(),
}


def _plausible(action: str) -> st.SearchStrategy[dict[str, Any]]:
    """A command of ``action`` with its own fields only, drawn from values a script could send."""
    fields = {name: info for name, info in COMMANDS[action].model_fields.items() if name != "action"}
    return st.fixed_dictionaries(
        {"action": st.just(action)} | {n: _plausible_fields[n] for n, f in fields.items() if f.is_required()},
        optional={n: _plausible_fields[n] for n, f in fields.items() if not f.is_required()},
    )


# Commands a script could well send, so that many are carried out (and their writes checked too).
plausible_commands = st.sampled_from(sorted(ACTIONS)).flatmap(_plausible)


def _nested(depth: int, kind: str) -> str:
    return ("[" * depth + "]" * depth) if kind == "list" else ('{"a":' * depth + "1" + "}" * depth)


def _json_text(value: Any) -> str:
    # Lone surrogates cannot be UTF-8: ASCII escapes carry them, as a client writing "\ud800" would.
    return json.dumps(value, ensure_ascii=True)


bodies = st.one_of(
    plausible_commands.map(_json_text),
    commands.map(_json_text),
    st.builds(_nested, st.integers(1, 100_000), st.sampled_from(["list", "dict"])),
    json_values.map(_json_text),
    st.sampled_from(["", "{", "NaN", '{"action": Infinity}', "1e999", "9" * 5000, "\x00", "\ufeff{}"]),
    odd_text,
)
routes = st.sampled_from(
    [
        ("POST", "/"),
        ("POST", "/targets"),
        ("PATCH", "/targets/person_x"),
        ("PATCH", "/settings"),
        ("POST", "/targets/import"),
        ("DELETE", "/targets/zoe_dev"),
        ("GET", "/targets"),
    ]
)
x_failures = st.sampled_from([None, None, None, "rate_limited", "unavailable"])


@FUZZ
@given(command=st.one_of(plausible_commands, plausible_commands, commands, json_values), x_fails=x_failures)
def test_a_direct_invoke_of_anything_answers_ok_or_the_error_shape(command: Any, x_fails: str | None):
    api = _world(x_fails)
    before = copy.deepcopy(api.memory)
    result = api.invoke(command)
    assert isinstance(result, dict) and isinstance(result.get("ok"), bool), result
    status = 200 if result["ok"] else result["status"]
    _check(api, before, status, result, x_fails, "direct")
    json.dumps(result)  # what Lambda sends back must serialise


@FUZZ
@given(
    parts=st.dictionaries(
        st.sampled_from(["requestContext", "rawPath", "headers", "queryStringParameters", "body", "version"]),
        json_values | st.just({"http": {"method": "GET"}}) | st.just("/targets"),
        min_size=1,
    ),
    x_fails=x_failures,
)
def test_an_event_shaped_almost_like_a_url_request_answers_ok_or_the_error_shape(
    parts: dict[str, Any], x_fails: str | None
):
    api = _world(x_fails)
    before = copy.deepcopy(api.memory)
    result = api.invoke(parts)
    if "statusCode" in result:  # taken for a Function URL request
        status, body = int(result["statusCode"]), json.loads(result["body"])
    else:
        status, body = (200 if result["ok"] else result["status"]), result
    _check(api, before, status, body, x_fails, "event")


@FUZZ
@given(
    route=routes,
    body=bodies,
    content_type=st.sampled_from(["application/json", "text/csv", "text/plain", ""]),
    encoding=st.sampled_from(["text", "base64", "broken base64", "latin-1 base64"]),
    x_fails=x_failures,
)
def test_a_hostile_body_on_any_route_answers_2xx_or_the_error_shape(
    route: tuple[str, str], body: str, content_type: str, encoding: str, x_fails: str | None
):
    method, path = route
    event = function_url_event(method, path, body, None, content_type)
    if encoding == "base64":
        event |= {
            "body": base64.b64encode(body.encode("utf-8", "surrogatepass")).decode(),
            "isBase64Encoded": True,
        }
    elif encoding == "broken base64":
        event |= {"body": body[:50] + "!", "isBase64Encoded": True}
    elif encoding == "latin-1 base64":
        event |= {
            "body": base64.b64encode(b"\xff\xfe" + body[:20].encode("utf-8", "replace")).decode(),
            "isBase64Encoded": True,
        }
    _http(_world(x_fails), event, x_fails, "hostile")


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    """With RAPPORT_FUZZ_REPORT set (``make fuzz``), write how many requests got which answer."""
    yield
    if os.environ.get("RAPPORT_FUZZ_REPORT"):
        lines = [f"admin fuzz: {sum(OUTCOMES.values())} requests, {EXAMPLES} examples a test"]
        lines += [f"  {outcome}: {count}" for outcome, count in sorted(OUTCOMES.items())]
        sys.stderr.write("\n" + "\n".join(lines) + "\n")
