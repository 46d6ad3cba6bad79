"""Cold-start configuration and event parsing: a misconfigured stack says what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rapport.runtime.services import ConfigurationError, EnvSettings, event_time

GOOD = {
    "RAPPORT_TABLE_NAME": "rapport-prod",
    "RAPPORT_EVENT_BUS_NAME": "rapport",
    "RAPPORT_X_SECRET_ID": "rapport/x",
    "RAPPORT_SENDER": "rapport@example.com",
    "RAPPORT_RECIPIENT": "ana@example.com",
    "AWS_REGION": "eu-west-1",
}


def test_a_complete_environment_is_read_with_defaults_for_the_rest():
    settings = EnvSettings.from_env(GOOD)
    assert settings.table_name == "rapport-prod"
    assert settings.region == "eu-west-1"
    assert settings.x_api_url == "https://api.twitter.com"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"RAPPORT_TABLE_NAME": None}, "RAPPORT_TABLE_NAME"),
        ({"RAPPORT_SENDER": "not-an-address"}, "RAPPORT_SENDER"),
        ({"RAPPORT_X_API_URL": "ftp://x"}, "RAPPORT_X_API_URL"),
    ],
)
def test_a_bad_environment_fails_naming_the_variable(change, named):
    env = {k: v for k, v in (GOOD | change).items() if v is not None}
    with pytest.raises(ConfigurationError, match=named):
        EnvSettings.from_env(env)


def test_a_run_is_about_its_events_time():
    assert event_time({"time": "2026-03-02T07:00:00Z"}) == datetime(2026, 3, 2, 7, tzinfo=UTC)
    assert event_time({"time": "2026-03-02T07:00:00"}).tzinfo is UTC


def test_an_event_with_a_malformed_time_is_refused_clearly():
    with pytest.raises(ValueError, match="not an ISO 8601"):
        event_time({"time": "yesterday"})


def test_an_event_without_time_is_about_now():
    before = datetime.now(UTC)
    assert before <= event_time({}) <= datetime.now(UTC)
