"""The local stack sends what template.yaml says the functions receive, read from the template itself."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from rapport.runtime.services import EVENT_COLLECTED, EVENT_SOURCE
from rapport_local.template import TEMPLATE, read_template, stack_events

AT = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def inputs_as_written() -> dict[str, dict[str, object]]:
    """Each schedule's Input line of template.yaml, read as plain text (not through the harness)."""
    text = TEMPLATE.read_text(encoding="utf-8")
    found = [json.loads(raw) for raw in re.findall(r"^\s+Input: '(.+)'$", text, flags=re.MULTILINE)]
    return {str(payload["schedule"]): payload for payload in found}


@pytest.mark.parametrize("schedule", ["collect", "digest"])
def test_a_scheduled_payload_is_the_templates_input_with_the_scheduled_time(schedule):
    # Given the schedule's Input as template.yaml writes it
    written = inputs_as_written()[schedule]
    # When the local stack builds that schedule's payload for 07:00 UTC
    payload = stack_events().scheduled(schedule, AT)
    # Then it is that Input, with Scheduler's placeholder replaced by the instant, and nothing more
    assert written["time"] == "<aws.scheduler.scheduled-time>"
    assert payload == written | {"time": "2026-03-02T07:00:00Z"}
    assert "id" not in payload


def test_the_scheduled_time_is_given_in_utc_whatever_the_callers_zone():
    madrid = AT.astimezone(timezone(timedelta(hours=1)))
    assert stack_events().scheduled("collect", madrid)["time"] == "2026-03-02T07:00:00Z"


def test_a_function_without_a_schedule_gets_no_made_up_payload():
    with pytest.raises(ValueError, match="no schedule"):
        stack_events().scheduled("evaluate", AT)


def test_the_evaluate_rule_is_the_templates_and_matches_what_collect_publishes():
    pattern = stack_events().rule_pattern("evaluate")
    assert pattern == {"source": [EVENT_SOURCE], "detail-type": [EVENT_COLLECTED]}


def test_cloudformation_short_tags_read_as_their_long_form():
    resources = read_template()["Resources"]
    environment = read_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert environment["RAPPORT_TABLE_NAME"] == {"Ref": "Table"}
    assert resources["DeadLetterQueuePolicy"]["Properties"]["Queues"] == [{"Ref": "DeadLetterQueue"}]
    dlq = resources["CollectFunction"]["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert dlq["Destination"] == {"Fn::GetAtt": "DeadLetterQueue.Arn"}
