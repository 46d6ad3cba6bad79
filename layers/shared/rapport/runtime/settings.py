"""Each function's environment as one typed model, read and checked once per container.

A model lists exactly what its function needs (template.yaml sets the same variables for every
function). A missing or malformed variable fails the first invocation with a message that names it,
e.g. ``invalid environment: RAPPORT_SENDER: Field required``, instead of failing deep inside a run.
Fields are aliased by their variable's name, so pydantic's own error locations are those names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rapport.domain.policy import DigestHour, MonthlyBudgetUSD, PolicyDefaults, TimeZoneName

# Also the default of rapport.adapters.x_client.make_reader; not imported from there, since that
# module is loaded only by functions that read X.
X_API_URL = "https://api.twitter.com"
EMAIL = r"^[^@\s]+@[^@\s]+$"
_METHOD = PolicyDefaults()


class ConfigurationError(RuntimeError):
    """The function's environment is incomplete or invalid."""


def describe_errors(exc: ValidationError, whole: str = "value") -> str:
    """One line per problem, ``location: message``; ``whole`` names a problem with the value itself."""
    return "; ".join(f"{'.'.join(str(part) for part in e['loc']) or whole}: {e['msg']}" for e in exc.errors())


class FunctionSettings(BaseModel):
    """What every function needs: the table, its region, and the stack's defaults of the policy."""

    # A function validates one of these models; the validators of the others are never built.
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, defer_build=True)

    table_name: str = Field(alias="RAPPORT_TABLE_NAME", min_length=3, max_length=255)
    region: str | None = Field(default=None, alias="AWS_REGION")
    default_timezone: TimeZoneName = Field(default=_METHOD.timezone, alias="RAPPORT_DEFAULT_TIMEZONE")
    default_digest_hour: DigestHour = Field(default=_METHOD.digest_hour, alias="RAPPORT_DEFAULT_DIGEST_HOUR")
    default_x_monthly_budget_usd: MonthlyBudgetUSD = Field(
        default=_METHOD.x_monthly_budget_usd, alias="RAPPORT_DEFAULT_X_MONTHLY_BUDGET_USD"
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        env = os.environ if env is None else env
        given = {
            field.alias: env[field.alias]
            for field in cls.model_fields.values()
            if field.alias is not None and field.alias in env
        }
        if "AWS_REGION" not in given and env.get("AWS_DEFAULT_REGION"):
            given["AWS_REGION"] = env["AWS_DEFAULT_REGION"]
        try:
            return cls.model_validate(given)
        except ValidationError as exc:
            raise ConfigurationError(f"invalid environment: {describe_errors(exc)}") from exc

    @property
    def policy_defaults(self) -> PolicyDefaults:
        return PolicyDefaults(
            timezone=self.default_timezone,
            digest_hour=self.default_digest_hour,
            x_monthly_budget_usd=self.default_x_monthly_budget_usd,
        )


class RunsAloneSettings(FunctionSettings):
    """A function whose runs must not overlap: each run holds a lease for as long as it may last."""

    # template.yaml gives the function's Timeout here, from the one figure both read.
    timeout_seconds: int = Field(alias="RAPPORT_TIMEOUT_SECONDS", ge=1, le=900)

    @property
    def lease_ttl(self) -> timedelta:
        """A run cannot outlive its timeout, so neither need its lease."""
        return timedelta(seconds=self.timeout_seconds)


class EvaluateSettings(RunsAloneSettings):
    """evaluate reads and writes the table only."""


class ReadsXSettings(FunctionSettings):
    """A function that reads X: where the credentials are kept and where the API is."""

    x_secret_id: str = Field(
        alias="RAPPORT_X_SECRET_ID",
        min_length=1,
        description="Secrets Manager name or ARN of the X credentials",
    )
    # Unset means X itself; the local stack points it at its simulator.
    x_api_url: str = Field(default=X_API_URL, alias="RAPPORT_X_API_URL", pattern=r"^https?://")


class CollectSettings(ReadsXSettings, RunsAloneSettings):
    """collect reads X and announces what it stored on the stack's bus."""

    event_bus_name: str = Field(alias="RAPPORT_EVENT_BUS_NAME", min_length=1)


class SendsEmailSettings(FunctionSettings):
    """A function that emails one recipient from one verified sender."""

    sender: str = Field(alias="RAPPORT_SENDER", pattern=EMAIL)
    recipient: str = Field(alias="RAPPORT_RECIPIENT", pattern=EMAIL)


class SignsLinksSettings(FunctionSettings):
    """A function that signs (or checks) the digest's feedback links with the stack's key.

    Both unset: a digest without feedback links (a stack that has no feedback function).
    """

    feedback_secret_id: str | None = Field(
        default=None,
        alias="RAPPORT_FEEDBACK_SECRET_ID",
        min_length=1,
        description="Secrets Manager name or ARN of the key that signs the digest's links",
    )
    feedback_url: str | None = Field(
        default=None,
        alias="RAPPORT_FEEDBACK_URL",
        pattern=r"^https?://",
        description="the feedback Function URL",
    )


class AdminSettings(ReadsXSettings, SendsEmailSettings, SignsLinksSettings):
    """admin reads X to look a new target up, and emails a test digest on request."""


class DigestSettings(SendsEmailSettings, RunsAloneSettings, SignsLinksSettings):
    """digest emails the day's digest."""


class FeedbackSettings(SignsLinksSettings):
    """feedback checks the links' tokens and stores the answers, throttled per minute."""

    feedback_per_minute: int = Field(default=30, alias="RAPPORT_FEEDBACK_PER_MINUTE", ge=1, le=10_000)


class StackSettings(CollectSettings, DigestSettings, FeedbackSettings):
    """Everything the stack sets: local tooling and tests run every function with one set of services."""
