"""A Lambda Function URL on loopback: AWS_IAM authentication and the payload version 2.0 event.

``verify_signature`` checks a request's SigV4 signature as AWS_IAM auth does: it recomputes it with
botocore over the request as received and compares in constant time. ``function_url_event`` turns a
verified request into the event Lambda gives a Function URL's handler, and ``http_answer`` turns the
handler's result back into a status, headers and a body, as the Function URL does.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE = "lambda"
ACCOUNT = "123456789012"
# AWS refuses a signature whose X-Amz-Date is more than five minutes from its own clock.
MAX_SKEW = timedelta(minutes=5)
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<scope>[^,]+), ?"
    r"SignedHeaders=(?P<signed>[^,]+), ?Signature=(?P<signature>[0-9a-f]{64})$"
)
_TEXT_TYPES = ("text/", "application/json", "application/x-www-form-urlencoded", "application/xml")


@dataclass(frozen=True, slots=True)
class LocalCredentials:
    """The access key a local stack issues; only requests signed with it reach the function."""

    access_key_id: str
    secret_access_key: str

    @classmethod
    def issue(cls) -> LocalCredentials:
        return cls("AKIALOCAL" + secrets.token_hex(6).upper(), secrets.token_urlsafe(30))

    def botocore(self) -> Credentials:
        return Credentials(self.access_key_id, self.secret_access_key)


@dataclass(frozen=True, slots=True)
class Received:
    """An HTTP request as the server got it: ``url`` is scheme, the Host header, path and query."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes


class Forbidden(Exception):
    """A request AWS_IAM auth refuses (403); the message says why."""


def verify_signature(request: Received, credentials: LocalCredentials, region: str, now: datetime) -> None:
    """Raise Forbidden unless ``request`` carries a fresh SigV4 signature by ``credentials``."""
    headers = {name.lower(): value for name, value in request.headers.items()}
    match = _AUTHORIZATION.match(headers.get("authorization", ""))
    if match is None:
        raise Forbidden("Missing or malformed SigV4 Authorization header")
    if not hmac.compare_digest(match["key"], credentials.access_key_id):
        raise Forbidden("The security token included in the request is invalid")
    signed_at = _signed_at(headers.get("x-amz-date", ""))
    if abs(now - signed_at) > MAX_SKEW:
        raise Forbidden(f"Signature expired: signed at {signed_at:%Y%m%dT%H%M%SZ}, now {now:%Y%m%dT%H%M%SZ}")
    signed = match["signed"].split(";")
    if "host" not in signed or any(name not in headers for name in signed):
        raise Forbidden("The signed headers must include host and be present in the request")
    expected = _signature(request, {name: headers[name] for name in signed}, credentials, region)
    if not hmac.compare_digest(expected, match["signature"]):
        raise Forbidden("The request signature we calculated does not match the signature you provided")


def _signed_at(raw: str) -> datetime:
    try:
        return datetime.strptime(raw, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
    except ValueError as exc:
        raise Forbidden("Missing or malformed X-Amz-Date header") from exc


def _signature(request: Received, signed: dict[str, str], credentials: LocalCredentials, region: str) -> str:
    """botocore's SigV4 signature of ``request`` over exactly the headers its sender signed."""
    rebuilt = AWSRequest(method=request.method, url=request.url, headers=signed, data=request.body)
    rebuilt.context["timestamp"] = signed["x-amz-date"]
    auth = SigV4Auth(credentials.botocore(), SERVICE, region)
    canonical = auth.canonical_request(rebuilt)
    return str(auth.signature(auth.string_to_sign(rebuilt, canonical), rebuilt))


def function_url_event(request: Received, raw_path: str, raw_query: str, now: datetime) -> dict[str, Any]:
    """The payload (version 2.0) Lambda gives the handler behind a Function URL for ``request``."""
    headers = {name.lower(): value for name, value in request.headers.items()}
    text = headers.get("content-type", "").startswith(_TEXT_TYPES) or not request.body
    query: dict[str, str] = {}
    for pair in filter(None, raw_query.split("&")):
        name, _, value = pair.partition("=")
        query[name] = f"{query[name]},{value}" if name in query else value
    host = headers.get("host", "localhost")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "authorizer": {"iam": {"accessKey": _access_key(headers), "accountId": ACCOUNT}},
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": request.method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": request.body.decode() if text else base64.b64encode(request.body).decode(),
        "isBase64Encoded": not text,
    }
    if query:
        event["queryStringParameters"] = query
    return event


def _access_key(headers: Mapping[str, str]) -> str:
    match = _AUTHORIZATION.match(headers.get("authorization", ""))
    return match["key"] if match else ""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def http_answer(result: Any) -> Answer:
    """The HTTP response a Function URL makes of the handler's result: a dict with ``statusCode`` is
    a response; anything else is sent as JSON with status 200."""
    if not (isinstance(result, dict) and "statusCode" in result):
        return Answer(200, {"content-type": "application/json"}, json.dumps(result).encode())
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    headers.setdefault("content-type", "application/json")
    return Answer(int(result["statusCode"]), headers, raw)


def forbidden(reason: str) -> Answer:
    return Answer(403, {"content-type": "application/json"}, json.dumps({"message": reason}).encode())
