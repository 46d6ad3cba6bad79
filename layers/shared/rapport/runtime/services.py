"""Cold-start wiring shared by the handlers: services built on each function's settings.

Settings (rapport.runtime.settings) are validated once per container, so a misconfigured stack
fails at the first invocation with a message that names the variable, not deep inside a run.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

import botocore.session
from pydantic import ValidationError

from rapport.adapters.dynamodb.stores import dynamodb_stores
from rapport.runtime.settings import (
    CollectSettings,
    ConfigurationError,
    FunctionSettings,
    ReadsXSettings,
    RunsAloneSettings,
    SendsEmailSettings,
    SignsLinksSettings,
    StackSettings,
)
from rapport.usecases.ports import Stores

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from rapport.adapters.x_client import XReader
    from rapport.domain.feedback import FeedbackLinks

__all__ = ["ConfigurationError", "RunInProgressError", "Services", "event_time", "services"]

EVENT_SOURCE = "rapport.collect"
EVENT_COLLECTED = "InteractionsCollected"
SECRET_MAX_AGE = 300  # seconds a warm container trusts the cached X credentials
# Idempotency records share the table (pk=IDEMPOTENCY) and expire through its TTL attribute. A day
# outlasts every redelivery: Lambda and the schedulers give up on an event after an hour.
IDEMPOTENCY_PK = "IDEMPOTENCY"
IDEMPOTENCY_EXPIRY = timedelta(days=1)

SettingsT = TypeVar("SettingsT", bound=FunctionSettings)


class RunInProgressError(RuntimeError):
    """Another run of the function holds its lease; this event is to be delivered again later."""


T = TypeVar("T")


def _now() -> datetime:
    return datetime.now(UTC)


@cache
def _aws() -> botocore.session.Session:
    """The process's one botocore session, as boto3's default session is: clients come from botocore
    directly, because ``import boto3`` also loads s3transfer and the resource layer, which no function
    uses (docs/coldstart.md)."""
    return botocore.session.get_session()


class SecretCache:
    """Secrets Manager values read through one client, each kept ``max_age`` seconds.

    What Powertools' SecretsProvider did for us, without its import of boto3; a failed read raises
    the client's own error (the admin answers it 503 as any AWS outage).
    """

    def __init__(self, client: Any, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._clock = clock
        self._values: dict[str, tuple[float, str]] = {}

    def get(self, secret_id: str, max_age: int) -> str:
        now = self._clock()
        cached = self._values.get(secret_id)
        if cached is not None and now - cached[0] < max_age:
            return cached[1]
        value = self._client.get_secret_value(SecretId=secret_id).get("SecretString")
        if not isinstance(value, str):  # binary: none of the stack's secrets is
            raise ConfigurationError(f"the secret {secret_id} holds no text")
        self._values[secret_id] = (now, value)
        return value


@dataclass(slots=True)
class Services:
    """What the handlers need from the outside world; tests build their own."""

    settings: FunctionSettings
    stores: Stores
    # Now, for what carries no time of its own: when a lease expires, when an admin command happens
    # (runs are about their event's time). A local stack passes its simulated clock.
    clock: Callable[[], datetime] = _now
    _clients: dict[str, Any] = field(default_factory=dict)
    _idempotency: DynamoDBPersistenceLayer | None = None
    _secrets: SecretCache | None = None

    def _client(self, name: str) -> Any:
        if name not in self._clients:
            self._clients[name] = _aws().create_client(name, region_name=self.settings.region)
        return self._clients[name]

    def settings_of(self, kind: type[SettingsT]) -> SettingsT:
        """The settings as ``kind``: a function built without what it needs is misconfigured."""
        if not isinstance(self.settings, kind):
            raise ConfigurationError(f"{type(self.settings).__name__} lacks what {kind.__name__} needs")
        return self.settings

    def reader(self) -> XReader:
        """A fresh reader per run, so its usage counts that run only."""
        from rapport.adapters.x_client import XCredentials, make_reader

        settings = self.settings_of(ReadsXSettings)
        raw = self._secret(settings.x_secret_id)
        try:
            credentials = XCredentials.model_validate(json.loads(str(raw)))
        except (ValueError, ValidationError) as exc:
            raise ConfigurationError(
                "the X credentials secret must be JSON with consumer_key, consumer_secret, "
                "access_token and access_token_secret"
            ) from exc
        return make_reader(credentials, settings.x_api_url)

    def _secret(self, secret_id: str) -> str:
        if self._secrets is None:
            # Our own cache over our own client: a shared one would keep the endpoint of whichever
            # AWS the process first talked to.
            self._secrets = SecretCache(self._client("secretsmanager"))
        return self._secrets.get(secret_id, max_age=SECRET_MAX_AGE)

    def feedback_key(self) -> bytes:
        """The key that signs the digest's links (kept in Secrets Manager, cached like the X one)."""
        secret_id = self.settings_of(SignsLinksSettings).feedback_secret_id
        if not secret_id:
            raise ConfigurationError("RAPPORT_FEEDBACK_SECRET_ID is not set: no key to check links with")
        key = self._secret(secret_id).encode("utf-8")
        if len(key) < 32:
            raise ConfigurationError("the feedback key secret must hold at least 32 characters")
        return key

    def feedback_links(self) -> FeedbackLinks | None:
        """The digest's link signer, or None when the stack has no feedback endpoint."""
        from rapport.domain.feedback import FeedbackLinks

        settings = self.settings
        if not isinstance(settings, SignsLinksSettings) or not settings.feedback_url:
            return None
        return FeedbackLinks(settings.feedback_url, self.feedback_key())

    def once(
        self,
        name: str,
        event: Mapping[str, Any],
        context: Any,
        work: Callable[[], dict[str, Any]],
        when_held: Callable[[], dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Run ``work`` once per delivered event, alone (the function's lease), and return its result.

        Lambda and EventBridge deliver at least once, so the same payload can arrive twice; the
        repeat gets the first run's stored result instead of reading X or writing again. A run that
        raised leaves no record, so a retry after a failure runs for real. The payload is the key:
        a schedule's payload is its scheduled time, an EventBridge event carries its id.

        A run that was killed (timeout, out of memory, the host gone) leaves its record in progress.
        The record knows the invocation's remaining time, so it expires when that invocation would
        have ended; and as the lease is taken first, a record still in progress while we hold the
        lease belongs to a run that died (a live one would hold the lease): its retry resumes.
        """
        return self.alone(name, context, lambda: self._once(name, event, context, work), when_held)

    def _once(
        self, name: str, event: Mapping[str, Any], context: Any, work: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        # Imported on first use: Idempotency pulls in jmespath and friends that importing need not pay.
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )
        from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

        if self._idempotency is None:
            self._idempotency = DynamoDBPersistenceLayer(
                table_name=self.settings.table_name,
                key_attr="pk",
                sort_key_attr="sk",
                static_pk_value=IDEMPOTENCY_PK,
                expiry_attr="expires_at",
                boto3_client=self._client("dynamodb"),
            )
        config = IdempotencyConfig(expires_after_seconds=int(IDEMPOTENCY_EXPIRY.total_seconds()))
        if hasattr(context, "get_remaining_time_in_millis"):
            # The in-progress record then expires when this invocation's time is up, not a day later.
            config.register_lambda_context(context)

        def run(delivery: dict[str, Any]) -> dict[str, Any]:
            return work()

        once = idempotent_function(
            data_keyword_argument="delivery", persistence_store=self._idempotency, config=config
        )(run)
        delivery = {"handler": name, "event": dict(event)}
        try:
            result: dict[str, Any] = once(delivery=delivery)
        except IdempotencyAlreadyInProgressError as exc:
            # We hold the lease, so the run that left this record is dead: forget it and run again.
            self._idempotency.delete_record(data=delivery, exception=exc)
            result = once(delivery=delivery)
        return result

    def alone(
        self,
        name: str,
        context: Any,
        work: Callable[[], T],
        when_held: Callable[[], T] | None = None,
    ) -> T:
        """Run ``work`` while holding the function's lease, so two runs of it never overlap.

        The holder is the invocation (Lambda keeps the request id across its retries, so a retry
        after a crash takes its own lease back); the lease lasts the function's timeout and is given
        back when ``work`` ends, also on error. While another run holds it: ``when_held``'s answer,
        or ``RunInProgressError`` so that Lambda's asynchronous retry delivers the event again.
        """
        holder = str(getattr(context, "aws_request_id", "") or uuid.uuid4())
        ttl = self.settings_of(RunsAloneSettings).lease_ttl
        if not self.stores.leases.acquire(name, holder, self.clock(), ttl):
            if when_held is None:
                raise RunInProgressError(f"another {name} run is in progress; this event is retried later")
            return when_held()
        try:
            return work()
        finally:
            self.stores.leases.release(name, holder)

    def publish_collected(self, at: datetime, target_ids: list[str]) -> None:
        self._client("events").put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": EVENT_COLLECTED,
                    "Detail": json.dumps({"at": at.isoformat(), "target_ids": target_ids}),
                    "EventBusName": self.settings_of(CollectSettings).event_bus_name,
                    "Time": at,
                }
            ]
        )

    def send_raw(self, raw: bytes) -> str:
        settings = self.settings_of(SendsEmailSettings)
        response = self._client("sesv2").send_email(
            FromEmailAddress=settings.sender,
            Destination={"ToAddresses": [settings.recipient]},
            Content={"Raw": {"Data": raw}},
        )
        return str(response["MessageId"])


@cache
def services(kind: type[FunctionSettings] = StackSettings) -> Services:
    """The container's services, built at the first invocation from the environment read as ``kind``.

    A missing or malformed variable raises ConfigurationError naming it, so the first run fails.
    """
    settings = kind.from_env()
    stores = dynamodb_stores(settings.table_name, settings.region, settings.policy_defaults)
    return Services(settings=settings, stores=stores)


def event_time(event: Mapping[str, Any]) -> datetime:
    """The instant a run is about: the event's own time (scheduled or emitted), else now."""
    raw = event.get("time") if isinstance(event, Mapping) else None
    if isinstance(raw, str) and raw:
        try:
            at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"event time {raw!r} is not an ISO 8601 timestamp") from exc
        return at if at.tzinfo else at.replace(tzinfo=UTC)
    return datetime.now(UTC)
