"""The deploy-time answers (time zone, digest hour, X budget) and how the stored settings override them."""

from __future__ import annotations

from rapport.domain.policy import Policy, PolicyDefaults
from rapport.runtime.settings import EvaluateSettings

STACK_ENV = {"RAPPORT_TABLE_NAME": "rapport-test", "RAPPORT_TIMEOUT_SECONDS": "300"}


def test_without_deploy_time_answers_the_methods_defaults_apply():
    policy = EvaluateSettings.from_env(STACK_ENV).policy_defaults.policy()

    assert (policy.timezone, policy.digest_hour, policy.x_monthly_budget_usd) == ("UTC", 7, 5.0)
    assert policy == Policy()


def test_the_stacks_answers_are_the_defaults_until_settings_are_saved():
    # Given a stack deployed with TimeZone=Europe/Madrid, DigestHour=9, XMonthlyBudgetUSD=12.5
    defaults = EvaluateSettings.from_env(
        STACK_ENV
        | {
            "RAPPORT_DEFAULT_TIMEZONE": "Europe/Madrid",
            "RAPPORT_DEFAULT_DIGEST_HOUR": "9",
            "RAPPORT_DEFAULT_X_MONTHLY_BUDGET_USD": "12.5",
        }
    ).policy_defaults
    assert defaults == PolicyDefaults(timezone="Europe/Madrid", digest_hour=9, x_monthly_budget_usd=12.5)

    # When nothing is stored yet, the settings are the stack's answers
    fresh = defaults.policy(None)
    assert (fresh.timezone, fresh.digest_hour, fresh.x_monthly_budget_usd) == ("Europe/Madrid", 9, 12.5)

    # And once update_settings saved a document, what it says wins, field by field
    saved = defaults.policy({"digest_hour": 6, "timezone": "Asia/Kolkata"})
    assert (saved.timezone, saved.digest_hour, saved.x_monthly_budget_usd) == ("Asia/Kolkata", 6, 12.5)
