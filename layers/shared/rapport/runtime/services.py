"""Cold-start wiring shared by the handlers: typed settings from the environment, and services.

Settings are validated once per container, so a misconfigured stack fails at the first
invocation with a message that names the variable, not deep inside a run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rapport.adapters.dynamodb.stores import dynamodb_stores
from rapport.adapters.x_client import X_API_URL, XCredentials, XReader, make_reader
from rapport.domain.policy import POLICY_DEFAULTS_ENV, Policy
from rapport.usecases.ports import Stores

EVENT_SOURCE = "rapport.collect"
EVENT_COLLECTED = "InteractionsCollected"
SECRET_MAX_AGE = 300  # seconds a warm container trusts the cached X credentials
# Idempotency records share the table (pk=IDEMPOTENCY) and expire through its TTL attribute. A day
# outlasts every redelivery: Lambda and the schedulers give up on an event after an hour.
IDEMPOTENCY_PK = "IDEMPOTENCY"
IDEMPOTENCY_EXPIRY = timedelta(days=1)


class ConfigurationError(RuntimeError):
    """The function's environment is incomplete or invalid."""


class EnvSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=3, max_length=255)
    event_bus_name: str = Field(default="default", min_length=1)
    x_secret_id: str = Field(default="", description="Secrets Manager name or ARN of the X credentials")
    sender: str = Field(default="", pattern=r"^$|^[^@\s]+@[^@\s]+$")
    recipient: str = Field(default="", pattern=r"^$|^[^@\s]+@[^@\s]+$")
    x_api_url: str = Field(default=X_API_URL, pattern=r"^https?://")
    region: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EnvSettings:
        env = os.environ if env is None else env
        raw = {
            "table_name": env.get("RAPPORT_TABLE_NAME"),
            "event_bus_name": env.get("RAPPORT_EVENT_BUS_NAME"),
            "x_secret_id": env.get("RAPPORT_X_SECRET_ID"),
            "sender": env.get("RAPPORT_SENDER"),
            "recipient": env.get("RAPPORT_RECIPIENT"),
            "x_api_url": env.get("RAPPORT_X_API_URL"),
            "region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
        }
        _check_policy_defaults(env)
        try:
            return cls.model_validate({k: v for k, v in raw.items() if v is not None})
        except ValidationError as exc:
            names = {
                "table_name": "RAPPORT_TABLE_NAME",
                "event_bus_name": "RAPPORT_EVENT_BUS_NAME",
                "x_secret_id": "RAPPORT_X_SECRET_ID",
                "sender": "RAPPORT_SENDER",
                "recipient": "RAPPORT_RECIPIENT",
                "x_api_url": "RAPPORT_X_API_URL",
            }
            problems = "; ".join(
                f"{names.get(str(e['loc'][0]), e['loc'][0])}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigurationError(f"invalid environment: {problems}") from exc


def _check_policy_defaults(env: Mapping[str, str]) -> None:
    """The stack's defaults of the stored settings (time zone, digest hour, budget), checked at cold start."""
    given = {name: env[var] for name, var in POLICY_DEFAULTS_ENV.items() if env.get(var)}
    try:
        Policy.model_validate(given)
    except ValidationError as exc:
        problems = "; ".join(
            f"{POLICY_DEFAULTS_ENV.get(str(e['loc'][0]), e['loc'][0])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigurationError(f"invalid environment: {problems}") from exc


@dataclass(slots=True)
class Services:
    """What the handlers need from the outside world; tests build their own."""

    settings: EnvSettings
    stores: Stores
    _clients: dict[str, Any] = field(default_factory=dict)
    _idempotency: DynamoDBPersistenceLayer | None = None
    _secrets: parameters.SecretsProvider | None = None

    def _client(self, name: str) -> Any:
        if name not in self._clients:
            self._clients[name] = boto3.client(name, region_name=self.settings.region)
        return self._clients[name]

    def reader(self) -> XReader:
        """A fresh reader per run, so its usage counts that run only."""
        if not self.settings.x_secret_id:
            raise ConfigurationError("RAPPORT_X_SECRET_ID is not set: X credentials are needed to read X")
        if self._secrets is None:
            # Our own provider over our own client: Powertools' module-level default would keep
            # the endpoint of whichever AWS the process first talked to.
            self._secrets = parameters.SecretsProvider(boto3_client=self._client("secretsmanager"))
        raw = self._secrets.get(self.settings.x_secret_id, max_age=SECRET_MAX_AGE)
        try:
            credentials = XCredentials.model_validate(json.loads(str(raw)))
        except (ValueError, ValidationError) as exc:
            raise ConfigurationError(
                "the X credentials secret must be JSON with consumer_key, consumer_secret, "
                "access_token and access_token_secret"
            ) from exc
        return make_reader(credentials, self.settings.x_api_url)

    def once(
        self, name: str, event: Mapping[str, Any], context: Any, work: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """Run ``work`` once per delivered event and return its result.

        Lambda and EventBridge deliver at least once, so the same payload can arrive twice; the
        repeat gets the first run's stored result instead of reading X or writing again. A run that
        raised leaves no record, so a retry after a failure runs for real. The payload is the key:
        a schedule's payload is its scheduled time, an EventBridge event carries its id.
        """
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
            # A run killed by its timeout then frees its key when the timeout passes, not a day later.
            config.register_lambda_context(context)

        def run(delivery: dict[str, Any]) -> dict[str, Any]:
            return work()

        once = idempotent_function(
            data_keyword_argument="delivery", persistence_store=self._idempotency, config=config
        )(run)
        result: dict[str, Any] = once(delivery={"handler": name, "event": dict(event)})
        return result

    def publish_collected(self, at: datetime, target_ids: list[str]) -> None:
        self._client("events").put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": EVENT_COLLECTED,
                    "Detail": json.dumps({"at": at.isoformat(), "target_ids": target_ids}),
                    "EventBusName": self.settings.event_bus_name,
                    "Time": at,
                }
            ]
        )

    def send_raw(self, raw: bytes) -> str:
        if not (self.settings.sender and self.settings.recipient):
            raise ConfigurationError("RAPPORT_SENDER and RAPPORT_RECIPIENT must be set to send the digest")
        response = self._client("sesv2").send_email(
            FromEmailAddress=self.settings.sender,
            Destination={"ToAddresses": [self.settings.recipient]},
            Content={"Raw": {"Data": raw}},
        )
        return str(response["MessageId"])


@cache
def services() -> Services:
    settings = EnvSettings.from_env()
    return Services(settings=settings, stores=dynamodb_stores(settings.table_name, settings.region))


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
