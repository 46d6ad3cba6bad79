"""The local Function URL: AWS_IAM auth (SigV4, checked as AWS checks it) and the 2.0 event it builds."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from rapport_local.function_url import (
    Forbidden,
    LocalCredentials,
    Received,
    function_url_event,
    http_answer,
    verify_signature,
)

URL = "http://127.0.0.1:8765"
REGION = "eu-west-1"
KEYS = LocalCredentials("AKIALOCALTEST", "local-secret")
BODY = json.dumps({"action": "list_targets"}).encode()


def signed(
    keys: LocalCredentials = KEYS,
    *,
    path: str = "/",
    body: bytes = BODY,
    region: str = REGION,
    service: str = "lambda",
) -> Received:
    """A request as botocore signs it now, as the server receives it (the Host header included)."""
    request = AWSRequest("POST", URL + path, data=body, headers={"content-type": "application/json"})
    SigV4Auth(keys.botocore(), service, region).add_auth(request)
    headers = dict(request.headers.items()) | {"Host": "127.0.0.1:8765", "Content-Length": str(len(body))}
    return Received("POST", URL + path, headers, body)


def refusal(request: Received, now: datetime | None = None) -> str:
    with pytest.raises(Forbidden) as refused:
        verify_signature(request, KEYS, REGION, now or datetime.now(UTC))
    return str(refused.value)


def test_a_request_signed_with_the_stacks_key_passes() -> None:
    # Given a request botocore signed with the stack's credentials, with a query string
    request = signed(path="/targets?stage=retweet&limit=5")

    # When the Function URL checks it, Then it is let through
    verify_signature(request, KEYS, REGION, datetime.now(UTC))


def test_an_unsigned_request_is_refused() -> None:
    request = signed()
    unsigned = Received("POST", URL + "/", {"Host": "127.0.0.1:8765"}, request.body)

    assert "Authorization" in refusal(unsigned)


def test_a_body_changed_after_signing_is_refused() -> None:
    # Given a signed request whose body someone changed on the way
    request = signed()
    tampered = Received(request.method, request.url, request.headers, b'{"action": "remove_target"}')

    # Then the recomputed signature differs
    assert "signature" in refusal(tampered)


def test_a_signature_by_another_secret_or_key_is_refused() -> None:
    wrong_secret = signed(LocalCredentials(KEYS.access_key_id, "not-the-secret"))
    other_key = signed(LocalCredentials("AKIAOTHER", KEYS.secret_access_key))

    assert "signature" in refusal(wrong_secret)
    assert "invalid" in refusal(other_key)


def test_a_signature_for_another_region_or_service_is_refused() -> None:
    assert "signature" in refusal(signed(region="us-east-1"))
    assert "signature" in refusal(signed(service="s3"))


def test_a_stale_signature_is_refused() -> None:
    # Given a request signed now, When it arrives six minutes later
    later = datetime.now(UTC) + timedelta(minutes=6)

    # Then it is refused as expired, while within five minutes it passes
    assert "expired" in refusal(signed(), now=later)
    verify_signature(signed(), KEYS, REGION, later - timedelta(minutes=2))


def test_the_event_is_a_function_url_payload_2_0() -> None:
    # Given a signed JSON request with a query string
    request = signed(path="/targets?stage=retweet&stage=answer")
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    # When the Function URL turns it into the handler's event
    event = function_url_event(request, "/targets", "stage=retweet&stage=answer", at)

    # Then it carries what Lambda gives a Function URL handler
    assert event["version"] == "2.0"
    assert (event["rawPath"], event["rawQueryString"]) == ("/targets", "stage=retweet&stage=answer")
    assert event["queryStringParameters"] == {"stage": "retweet,answer"}
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["http"]["path"] == "/targets"
    assert event["requestContext"]["authorizer"]["iam"]["accessKey"] == KEYS.access_key_id
    assert event["requestContext"]["timeEpoch"] == int(at.timestamp() * 1000)
    assert event["headers"]["content-type"] == "application/json"
    assert (json.loads(event["body"]), event["isBase64Encoded"]) == ({"action": "list_targets"}, False)


def test_a_binary_body_arrives_base64_encoded() -> None:
    raw = bytes(range(256))
    request = Received("PUT", URL + "/", {"Content-Type": "application/octet-stream"}, raw)

    event = function_url_event(request, "/", "", datetime.now(UTC))

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


def test_the_handlers_response_becomes_the_http_answer() -> None:
    response = {"statusCode": 400, "headers": {"Content-Type": "application/json"}, "body": '{"ok": false}'}
    encoded = {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True}

    assert http_answer(response).status == 400
    assert http_answer(response).body == b'{"ok": false}'
    assert http_answer(encoded).body == b"\x00\x01"
    # a result without statusCode is sent as JSON, 200, as the Function URL does
    plain = http_answer({"ok": True})
    assert (plain.status, json.loads(plain.body)) == (200, {"ok": True})
