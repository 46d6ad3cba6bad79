"""The deploy-time answers (time zone, digest hour, X budget) and how the stored settings override them."""

from __future__ import annotations

import pytest

from rapport.domain.policy import Policy
from rapport.runtime.services import ConfigurationError, EnvSettings

STACK_ENV = {"RAPPORT_TABLE_NAME": "rapport-test"}


def test_without_deploy_time_answers_the_methods_defaults_apply(monkeypatch):
    for var in (
        "RAPPORT_DEFAULT_TIMEZONE",
        "RAPPORT_DEFAULT_DIGEST_HOUR",
        "RAPPORT_DEFAULT_X_MONTHLY_BUDGET_USD",
    ):
        monkeypatch.delenv(var, raising=False)

    policy = Policy()

    assert (policy.timezone, policy.digest_hour, policy.x_monthly_budget_usd) == ("UTC", 7, 5.0)


def test_the_stacks_answers_are_the_defaults_until_settings_are_saved(monkeypatch):
    # Given a stack deployed with TimeZone=Europe/Madrid, DigestHour=9, XMonthlyBudgetUSD=12.5
    monkeypatch.setenv("RAPPORT_DEFAULT_TIMEZONE", "Europe/Madrid")
    monkeypatch.setenv("RAPPORT_DEFAULT_DIGEST_HOUR", "9")
    monkeypatch.setenv("RAPPORT_DEFAULT_X_MONTHLY_BUDGET_USD", "12.5")

    # When nothing is stored yet, the settings are the stack's answers
    fresh = Policy()
    assert (fresh.timezone, fresh.digest_hour, fresh.x_monthly_budget_usd) == ("Europe/Madrid", 9, 12.5)

    # And once update_settings saved a document, what it says wins, field by field
    saved = Policy.model_validate({"digest_hour": 6, "timezone": "Asia/Kolkata"})
    assert (saved.timezone, saved.digest_hour, saved.x_monthly_budget_usd) == ("Asia/Kolkata", 6, 12.5)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RAPPORT_DEFAULT_TIMEZONE", "Mars/Olympus"),
        ("RAPPORT_DEFAULT_DIGEST_HOUR", "25"),
        ("RAPPORT_DEFAULT_X_MONTHLY_BUDGET_USD", "-1"),
    ],
)
def test_a_bad_deploy_time_answer_fails_at_cold_start_naming_the_variable(variable, value):
    with pytest.raises(ConfigurationError, match=variable):
        EnvSettings.from_env(STACK_ENV | {variable: value})
