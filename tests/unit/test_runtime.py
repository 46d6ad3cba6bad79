"""Cold-start configuration and event parsing: a misconfigured function says what is wrong, at once."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from functions.admin.handler import lambda_handler as admin_handler
from functions.collect.handler import lambda_handler as collect_handler
from functions.digest.handler import lambda_handler as digest_handler
from functions.evaluate.handler import lambda_handler as evaluate_handler
from rapport.runtime.services import SecretCache, services
from rapport.runtime.settings import (
    AdminSettings,
    CollectSettings,
    ConfigurationError,
    DigestSettings,
    EvaluateSettings,
    FunctionSettings,
    StackSettings,
)

ROOT = Path(__file__).resolve().parents[2]
# What template.yaml gives every function.
STACK_ENV = {
    "RAPPORT_TABLE_NAME": "rapport-prod",
    "RAPPORT_EVENT_BUS_NAME": "rapport",
    "RAPPORT_X_SECRET_ID": "rapport/x",
    "RAPPORT_SENDER": "rapport@example.com",
    "RAPPORT_RECIPIENT": "ana@example.com",
    "RAPPORT_DEFAULT_TIMEZONE": "Europe/Madrid",
    "RAPPORT_DEFAULT_DIGEST_HOUR": "9",
    "RAPPORT_DEFAULT_X_MONTHLY_BUDGET_USD": "12.5",
    "RAPPORT_TIMEOUT_SECONDS": "300",
    "AWS_REGION": "eu-west-1",
}


def without(*names: str) -> dict[str, str]:
    return {k: v for k, v in STACK_ENV.items() if k not in names}


def test_a_complete_environment_is_read_with_defaults_for_the_rest():
    settings = StackSettings.from_env(without("RAPPORT_DEFAULT_TIMEZONE"))

    assert settings.table_name == "rapport-prod"
    assert settings.region == "eu-west-1"
    assert settings.x_api_url == "https://api.twitter.com"
    assert settings.policy_defaults.timezone == "UTC"
    assert settings.policy_defaults.digest_hour == 9


def test_the_default_x_api_is_the_one_the_reader_calls_by_default():
    from rapport.adapters import x_client
    from rapport.runtime import settings

    assert settings.X_API_URL == x_client.X_API_URL


def test_each_function_asks_only_for_what_it_uses():
    # Given an environment holding nothing but the table and the background runs' timeout
    given = {"RAPPORT_TABLE_NAME": "rapport-prod", "RAPPORT_TIMEOUT_SECONDS": "300"}

    # Then evaluate starts, and every other function names what it misses
    assert EvaluateSettings.from_env(given).lease_ttl == timedelta(minutes=5)
    with pytest.raises(ConfigurationError, match="RAPPORT_X_SECRET_ID"):
        AdminSettings.from_env(given)
    with pytest.raises(ConfigurationError, match="RAPPORT_EVENT_BUS_NAME"):
        CollectSettings.from_env(given)
    with pytest.raises(ConfigurationError, match="RAPPORT_SENDER"):
        DigestSettings.from_env(given)


@pytest.mark.parametrize(
    ("kind", "missing"),
    [
        (CollectSettings, "RAPPORT_TABLE_NAME"),
        (CollectSettings, "RAPPORT_EVENT_BUS_NAME"),
        (CollectSettings, "RAPPORT_X_SECRET_ID"),
        (EvaluateSettings, "RAPPORT_TABLE_NAME"),
        (EvaluateSettings, "RAPPORT_TIMEOUT_SECONDS"),
        (DigestSettings, "RAPPORT_SENDER"),
        (DigestSettings, "RAPPORT_RECIPIENT"),
        (AdminSettings, "RAPPORT_X_SECRET_ID"),
        (AdminSettings, "RAPPORT_SENDER"),
    ],
)
def test_a_missing_variable_is_named_as_required(kind: type[FunctionSettings], missing: str):
    with pytest.raises(ConfigurationError, match=rf"{missing}: Field required"):
        kind.from_env(without(missing))


@pytest.mark.parametrize(
    ("kind", "variable", "value"),
    [
        (CollectSettings, "RAPPORT_X_API_URL", "ftp://x"),
        (CollectSettings, "RAPPORT_X_SECRET_ID", ""),
        (EvaluateSettings, "RAPPORT_TABLE_NAME", "t"),
        (EvaluateSettings, "RAPPORT_DEFAULT_DIGEST_HOUR", "25"),
        (DigestSettings, "RAPPORT_SENDER", "not-an-address"),
        (DigestSettings, "RAPPORT_DEFAULT_TIMEZONE", "Mars/Olympus"),
        (DigestSettings, "RAPPORT_TIMEOUT_SECONDS", "0"),
        (AdminSettings, "RAPPORT_X_API_URL", "api.x.com"),
        (AdminSettings, "RAPPORT_DEFAULT_X_MONTHLY_BUDGET_USD", "-1"),
    ],
)
def test_a_malformed_variable_is_named(kind: type[FunctionSettings], variable: str, value: str):
    with pytest.raises(ConfigurationError, match=rf"invalid environment: {variable}: "):
        kind.from_env(STACK_ENV | {variable: value})


@pytest.mark.parametrize(
    ("handler", "missing"),
    [
        (collect_handler, "RAPPORT_X_SECRET_ID"),
        (evaluate_handler, "RAPPORT_TABLE_NAME"),
        (digest_handler, "RAPPORT_RECIPIENT"),
        (admin_handler, "RAPPORT_X_SECRET_ID"),
    ],
)
def test_the_first_invocation_with_a_bad_environment_fails_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, handler, missing: str
):
    # Given a fresh container whose environment lacks a variable its function needs
    for name in STACK_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in without(missing).items():
        monkeypatch.setenv(name, value)
    services.cache_clear()
    context = SimpleNamespace(
        function_name="rapport", memory_limit_in_mb=256, invoked_function_arn="arn", aws_request_id="1"
    )

    # When it is invoked, Then it fails before doing anything, naming the variable
    try:
        with pytest.raises(ConfigurationError, match=missing):
            handler({"id": "event-1", "time": "2026-03-02T07:00:00Z"}, context)
    finally:
        services.cache_clear()


def test_the_domain_policy_reads_no_environment():
    source = (ROOT / "layers/shared/rapport/domain/policy.py").read_text(encoding="utf-8")
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert "os" not in imported


def test_a_run_is_about_its_events_time():
    from rapport.runtime.services import event_time

    assert event_time({"time": "2026-03-02T07:00:00Z"}) == datetime(2026, 3, 2, 7, tzinfo=UTC)
    assert event_time({"time": "2026-03-02T07:00:00"}).tzinfo is UTC


def test_an_event_with_a_malformed_time_is_refused_clearly():
    from rapport.runtime.services import event_time

    with pytest.raises(ValueError, match="not an ISO 8601"):
        event_time({"time": "yesterday"})


def test_an_event_without_time_is_about_now():
    from rapport.runtime.services import event_time

    before = datetime.now(UTC)
    assert before <= event_time({}) <= datetime.now(UTC)


class _SecretsManager:
    """Secrets Manager as the cache calls it: each read counted, the value replaceable."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.reads = 0

    def get_secret_value(self, SecretId: str) -> dict[str, str]:
        self.reads += 1
        return {"Name": SecretId, "SecretString": self.value}


def test_a_secret_is_read_again_only_once_it_is_older_than_its_max_age():
    # Given a cache over Secrets Manager, on a clock we move
    aws, now = _SecretsManager("key-1"), [100.0]
    cache = SecretCache(aws, clock=lambda: now[0])
    assert cache.get("rapport/x", max_age=300) == "key-1"

    # When the secret is rotated and read again within its max age, then after it
    aws.value = "key-2"
    now[0] += 299
    within = cache.get("rapport/x", max_age=300)
    now[0] += 1
    after = cache.get("rapport/x", max_age=300)

    # Then the warm container used the cached value, and picked up the rotation once it was stale
    assert (within, after, aws.reads) == ("key-1", "key-2", 2)


def test_a_secret_without_text_is_a_configuration_error():
    class Binary(_SecretsManager):
        def get_secret_value(self, SecretId: str) -> dict[str, str]:
            return {"Name": SecretId, "SecretBinary": "AAEC"}

    with pytest.raises(ConfigurationError, match="rapport/x holds no text"):
        SecretCache(Binary("")).get("rapport/x", max_age=300)
