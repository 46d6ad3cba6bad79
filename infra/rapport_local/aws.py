"""A local AWS on loopback: a moto server and the resources the stack would create.

The Lambda code is unchanged: it reaches moto through the standard ``AWS_ENDPOINT_URL`` variable,
exactly as it reaches AWS without it.
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_string, policy
from email.message import EmailMessage
from typing import Any

import boto3
import requests
from botocore.exceptions import ClientError
from flask import Response as FlaskResponse
from moto.core import DEFAULT_ACCOUNT_ID  # type: ignore[attr-defined]
from moto.core.utils import convert_to_flask_response
from moto.moto_server.werkzeug_app import (
    BackendRequest,
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.ses.models import ses_backends
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

from rapport_local.keepalive import KeepAliveHandler
from rapport_local.template import stack_events, timeout_seconds

REGION = "eu-west-1"
TABLE = "rapport-local"
BUS = "rapport-local"
QUEUE = "rapport-evaluate"
SQS_BATCH = 10  # the most messages SQS answers (and deletes) at once
SECRET = "rapport/x-credentials"  # noqa: S105 - a secret name, not a secret
FEEDBACK_KEY = "rapport/feedback-key"  # the secret that signs the digest's links: a name too
# Where the digest's feedback links point until `rapport local` serves the endpoint on its own port.
FEEDBACK_URL = "http://127.0.0.1/feedback"
SENDER = "rapport@example.com"
RECIPIENT = "ana@example.com"
FAKE_X_CREDENTIALS = {
    "consumer_key": "local-consumer-key",
    "consumer_secret": "local-consumer-secret",
    "access_token": "100-local-access-token",
    "access_token_secret": "local-access-token-secret",
}


@dataclass(frozen=True, slots=True)
class LocalAws:
    endpoint: str
    queue_url: str
    # One client per service, as a warm Lambda keeps them: making one costs more than most calls.
    _clients: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def lambda_env(self, x_api_url: str) -> dict[str, str]:
        """The environment template.yaml gives each function, pointed at the local stack."""
        return {
            "RAPPORT_TABLE_NAME": TABLE,
            "RAPPORT_EVENT_BUS_NAME": BUS,
            "RAPPORT_X_SECRET_ID": SECRET,
            "RAPPORT_SENDER": SENDER,
            "RAPPORT_RECIPIENT": RECIPIENT,
            "RAPPORT_X_API_URL": x_api_url,
            "RAPPORT_FEEDBACK_SECRET_ID": FEEDBACK_KEY,
            "RAPPORT_FEEDBACK_URL": FEEDBACK_URL,
            # collect, evaluate and digest share one figure; the local stack runs them on one setting.
            "RAPPORT_TIMEOUT_SECONDS": str(timeout_seconds("collect")),
            "AWS_REGION": REGION,
        }

    def client(self, name: str) -> Any:
        if name not in self._clients:
            self._clients[name] = boto3.client(name, region_name=REGION, endpoint_url=self.endpoint)
        return self._clients[name]

    def collected_events(self) -> list[dict[str, Any]]:
        """Drain the events collect emitted, as the rule delivered them (full EventBridge envelope)."""
        sqs = self.client("sqs")
        events: list[dict[str, Any]] = []
        while True:
            got = sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=SQS_BATCH, WaitTimeSeconds=0
            )
            messages = got.get("Messages", [])
            if messages:
                sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)
                    ],
                )
            events.extend(json.loads(m["Body"]) for m in messages)
            # moto answers with every visible message up to the batch: a short batch drained the queue.
            if len(messages) < SQS_BATCH:
                return events

    def provisioned(self) -> bool:
        """False when something reset moto's shared state since (an in-process moto elsewhere)."""
        try:
            self.client("sqs").get_queue_url(QueueName=QUEUE)
        except self.client("sqs").exceptions.QueueDoesNotExist:
            return False
        return True

    def sent_emails(self) -> list[EmailMessage]:
        """Every message SES accepted, parsed, oldest first (read back from the emulator)."""
        backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
        found: list[EmailMessage] = []
        for message in backend.sent_messages:
            raw = getattr(message, "raw_data", None)
            if raw:
                parsed = message_from_string(raw, policy=policy.default)
                assert isinstance(parsed, EmailMessage)
                found.append(parsed)
        return found


@contextmanager
def local_aws() -> Iterator[LocalAws]:
    """Start moto on a free loopback port, point boto3 at it, and create the stack's resources."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with partition_queries(), lighter_moto(), _server() as endpoint:
        saved = {k: os.environ.get(k) for k in _AWS_ENV}
        os.environ.update(
            AWS_ENDPOINT_URL=endpoint,
            AWS_ACCESS_KEY_ID="local",
            AWS_SECRET_ACCESS_KEY="local",  # noqa: S106 - the emulator accepts any key
            AWS_DEFAULT_REGION=REGION,
            AWS_REGION=REGION,
            POWERTOOLS_METRICS_NAMESPACE="Rapport",
            POWERTOOLS_SERVICE_NAME="rapport",
            POWERTOOLS_TRACE_DISABLED="true",
        )
        try:
            yield provision(endpoint)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


class _Dispatcher(DomainDispatcherApplication):
    """moto's dispatcher, handing a POST (every AWS API call the stack makes) straight to the
    service's handler that moto's Flask app would call, as that app calls it: Flask's request
    context, hooks and response wrapping around it were a fifth of the server's time per request.
    Anything else goes through the Flask app."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        app = self.get_application(environ)
        view = None
        if environ.get("REQUEST_METHOD") == "POST":
            try:
                endpoint, _ = app.url_map.bind_to_environ(environ).match()
            except HTTPException:
                endpoint = None
            view = app.view_functions.get(endpoint) if endpoint else None
        if not isinstance(view, convert_to_flask_response):
            return app(environ, start_response)
        request = BackendRequest(environ)
        try:
            result = view.callback(request, request.raw_url, dict(request.headers))
        except ClientError as exc:
            result = 400, {}, exc.response["Error"]["Message"]
        status, headers, body = result if len(result) == 3 else (200, {}, result)
        return FlaskResponse(response=body, status=status, headers=headers)(environ, start_response)


class _KeepAliveHandler(KeepAliveHandler, MotoRequestHandler):
    """moto's handler, keeping a client's connection: a new one (and a server thread) per request
    was a good part of a local run's time."""


@contextmanager
def _server() -> Iterator[str]:
    """A moto server on a free loopback port, in this process; yields its endpoint."""
    server = make_server(
        "127.0.0.1",
        0,
        _Dispatcher(create_backend_app),
        True,
        request_handler=_KeepAliveHandler,
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="moto", daemon=True
    )
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


_AWS_ENV = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_TRACE_DISABLED",
)


def provision(endpoint: str) -> LocalAws:
    """Reset moto's state (it is per process) and create the stack's resources from nothing."""
    from rapport.adapters.dynamodb.table import create_table

    requests.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()

    def client(name: str) -> Any:
        return boto3.client(name, region_name=REGION, endpoint_url=endpoint)

    create_table(TABLE, REGION)
    client("sesv2").create_email_identity(EmailIdentity=SENDER)
    client("secretsmanager").create_secret(Name=SECRET, SecretString=json.dumps(FAKE_X_CREDENTIALS))
    # As the stack's GenerateSecretString does: a fresh random key, known to nobody but the secret.
    client("secretsmanager").create_secret(Name=FEEDBACK_KEY, SecretString=secrets.token_urlsafe(48))
    events, sqs = client("events"), client("sqs")
    events.create_event_bus(Name=BUS)
    queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    # The rule template.yaml declares for evaluate; locally its target is a queue the local stack
    # drains into evaluate.
    events.put_rule(
        Name="rapport-collected",
        EventBusName=BUS,
        EventPattern=json.dumps(stack_events().rule_pattern("evaluate")),
    )
    events.put_targets(
        Rule="rapport-collected", EventBusName=BUS, Targets=[{"Id": "evaluate", "Arn": queue_arn}]
    )
    return LocalAws(endpoint=endpoint, queue_url=queue_url)


@contextmanager
def partition_queries() -> Iterator[None]:
    """moto answers every query from a sorted copy of the whole table, so each query costs more as the
    table grows (a month of the demo, 1,000 targets in the bench): that sort, not Rapport, was most of
    their time. A base-table query is handed just its partition, and an index query the items
    unsorted: moto filters and sorts the results itself, so what it answers is unchanged."""
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "partition_only", False):  # already in force (nested local stacks)
        yield
        return
    original = Table.query
    signature = inspect.signature(original)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        hash_key = arguments.get("hash_key")
        if not self.range_key_attr:
            return original(self, *args, **kwargs)
        if arguments.get("index_name") or hash_key is None:
            candidates = [item for partition in self.items.values() for item in partition.values()]
        else:
            candidates = list(self.items.get(hash_key, {}).values())
        self.all_items = lambda: candidates  # an instance attribute, for this one call
        try:
            return original(self, *args, **kwargs)
        finally:
            del self.all_items

    query.partition_only = True  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query = original  # type: ignore[method-assign]


# DynamoDB's item operations: their answers are plain JSON documents (items, keys, counts).
ITEM_ACTIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)


@contextmanager
def lighter_moto() -> Iterator[None]:
    """What moto's server redoes on every request although its answer cannot change, done once.

    Measured on the demo (docs/operations.md), per request: it lists its own package folder on disk
    to find the service (a hundred-odd ``isdir`` calls), lists the handler's methods with ``inspect``,
    adds CORS headers no local client reads, writes each DynamoDB answer through a serializer that
    walks the output shape value by value, and compiles the EventBridge rule target's input paths
    with a parser generator. The answers are unchanged: the item operations answer with documents
    that are already JSON, so they are written as they are; anything else (an error, a table
    description, a binary attribute that needs base64) still goes through moto's own serializer.
    """
    import jsonpath_ng.ext as paths
    import moto.dynamodb.models as dynamodb_models
    from moto import backends
    from moto.core import responses
    from moto.dynamodb.responses import DynamoHandler
    from moto.moto_server import werkzeug_app

    modules = tuple(backends.list_of_moto_modules())
    method_names = functools.cache(responses.method_names_from_class)  # type: ignore[attr-defined]
    compiled = functools.lru_cache(maxsize=64)(paths.parse)  # type: ignore[attr-defined]
    with (
        _replaced(backends, "list_of_moto_modules", lambda: modules),
        _replaced(responses, "method_names_from_class", method_names),
        _replaced(werkzeug_app, "DISABLE_GLOBAL_CORS", True),
        _replaced(DynamoHandler, "serialized", _plain_json(DynamoHandler.serialized)),
        _replaced(paths, "parse", compiled),
        _replaced(dynamodb_models, "copy", _TableCopies()),
        _replaced(
            dynamodb_models.DynamoDBBackend,
            "transact_write_items",
            _backing_up_items(dynamodb_models.DynamoDBBackend.transact_write_items),
        ),
    ):
        yield


def _plain_json(serialized: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def plain(self: Any, action_result: Any) -> Any:
        result = action_result.result
        if isinstance(result, dict) and self._get_action() in ITEM_ACTIONS:
            try:
                body = json.dumps(result)
            except TypeError:  # bytes or an object: for the serializer, which knows their shapes
                return serialized(self, action_result)
            return 200, {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}, body
        return serialized(self, action_result)

    return plain


_in_transaction = threading.local()


class _TableCopies:
    """The ``copy`` module as moto's DynamoDB backend sees it: inside a transaction, the backup of a
    whole table is the table itself (``_backing_up_items`` keeps the items instead)."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        from moto.dynamodb.models.table import Table

        if isinstance(value, Table) and getattr(_in_transaction, "items", None) is not None:
            return value
        return copy.deepcopy(value, memo)


def _backing_up_items(transact: Callable[[Any, list[dict[str, Any]]], None]) -> Any:
    """moto deep-copies every table a transaction writes to before applying it, to put the table back
    if any part fails: a copy of the whole table for a transaction of two or three items, growing with
    the table. What a transaction can change is the items it names: those are copied, and put back."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    def backups(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        saved = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = backend.tables[op["TableName"]]
            key = op.get("Item") or op["Key"]
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            saved.append(
                (table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value)))
            )
        return saved

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        try:
            saved = backups(self, transact_items)
        except Exception:
            return transact(self, transact_items)
        _in_transaction.items = saved
        try:
            transact(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(saved):
                if range_value is None:
                    partition, where = table.items, hash_value
                else:
                    partition, where = table.items.setdefault(hash_value, {}), range_value
                if item is None:
                    partition.pop(where, None)
                else:
                    partition[where] = item
            raise
        finally:
            _in_transaction.items = None

    return transact_write_items


_LIGHTER = "_rapport_lighter"  # marks what lighter_moto put in place


@contextmanager
def _replaced(owner: Any, name: str, value: Any) -> Iterator[None]:
    """``owner.name`` is ``value`` inside the block; a nested local AWS keeps the outer one's."""
    original = getattr(owner, name)
    if getattr(original, _LIGHTER, False):
        yield
        return
    try:
        setattr(value, _LIGHTER, True)
    except AttributeError:  # a plain value (a flag): compared, not marked
        if original == value:
            yield
            return
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)
