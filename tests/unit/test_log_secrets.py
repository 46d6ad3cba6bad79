"""No log level of the stack prints secrets: the chatty libraries stay at WARNING with the root at DEBUG.

Everything runs offline: botocore's requests are answered by a ``before-send`` hook, tweepy's by a
requests adapter, after each library has signed (and, at DEBUG, would have logged) the request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.awsrequest import AWSResponse
from pydantic import SecretStr

from rapport.adapters.x_client import XCredentials, make_reader
from rapport.adapters.x_transport import X_API_PREFIX
from rapport.runtime.observability import QUIET_LOGGERS, quiet_libraries

X_KEYS = {
    "consumer_key": "ck-CONSUMER-KEY-1234",
    "consumer_secret": "cs-CONSUMER-SECRET-5678",
    "access_token": "at-ACCESS-TOKEN-9012",
    "access_token_secret": "ats-TOKEN-SECRET-3456",
}
AWS_TOKEN = "aws-SESSION-TOKEN-7890"
RECIPIENT = "ana.private@example.com"
SECRETS = [*X_KEYS.values(), AWS_TOKEN, RECIPIENT]


class _Raw:
    """What AWSResponse reads its body from."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self) -> Iterator[bytes]:
        yield self.body


def _answer(body: bytes, content_type: str) -> Any:
    def before_send(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, {"content-type": content_type}, _Raw(body))

    return before_send


def _aws_client(service: str, body: bytes, content_type: str) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", aws_session_token=AWS_TOKEN
    )
    client = session.client(service, region_name="eu-west-1")
    client.meta.events.register("before-send", _answer(body, content_type))
    return client


def _read_the_secret_and_send_an_email() -> None:
    secrets = _aws_client(
        "secretsmanager",
        json.dumps({"SecretString": json.dumps(X_KEYS)}).encode(),
        "application/x-amz-json-1.1",
    )
    assert json.loads(secrets.get_secret_value(SecretId="x")["SecretString"]) == X_KEYS
    sent = b"<SendRawEmailResponse><SendRawEmailResult><MessageId>m-1</MessageId></SendRawEmailResult>"
    sent += b"</SendRawEmailResponse>"
    ses = _aws_client("ses", sent, "text/xml")
    raw = f"From: rapport@example.com\r\nTo: {RECIPIENT}\r\nSubject: digest\r\n\r\nhi".encode()
    ses.send_raw_email(Source="rapport@example.com", Destinations=[RECIPIENT], RawMessage={"Data": raw})


class _X(requests.adapters.BaseAdapter):
    """X answering /2/users/me, after tweepy and the OAuth library have signed the request."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.status_code, response.url, response.request = 200, str(request.url), request
        response._content = json.dumps(
            {"data": {"id": "100", "username": "ana_builds", "name": "Ana"}}
        ).encode()
        response.headers["content-type"] = "application/json"
        return response

    def close(self) -> None:
        pass


def _ask_x_who_we_are() -> None:
    credentials = XCredentials(**{name: SecretStr(value) for name, value in X_KEYS.items()})
    reader = make_reader(credentials, base_url="http://127.0.0.1:9")
    reader.client.session.mount(X_API_PREFIX, _X())  # in place of the adapter to the base URL
    assert reader.me().username == "ana_builds"


def _everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    caplog.clear()
    _read_the_secret_and_send_an_email()
    _ask_x_who_we_are()
    return caplog.text


@pytest.fixture
def root_at_debug(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)  # the root logger, as LOG_LEVEL=DEBUG or Lambda's log level set it
    yield caplog
    quiet_libraries()


def test_with_the_root_logger_at_debug_no_credential_or_address_is_logged(root_at_debug):
    # Given the root logger at DEBUG, and the runtime loaded (it pins the libraries' loggers)
    # When the X secret is read, an email sent and X asked, as the functions do
    logged = _everything_logged(root_at_debug)
    # Then no X credential, AWS token or email address is in the logs
    assert [secret for secret in SECRETS if secret in logged] == []


def test_without_the_pinned_levels_the_same_calls_would_log_them(root_at_debug):
    # Given the libraries' loggers left to follow the root logger (what the runtime prevents)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    # When the same calls are made
    logged = _everything_logged(root_at_debug)
    # Then the secrets are printed: the first test would catch a library that is not pinned
    assert X_KEYS["consumer_key"] in logged
    assert AWS_TOKEN in logged
    assert RECIPIENT in logged
