"""Scenario files: what loads, and the errors that say where and what is wrong."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from rapport_local.scenario import (
    FollowEvent,
    PostEvent,
    PostMetrics,
    Reaction,
    RetweetEvent,
    ScenarioError,
    UnfollowEvent,
    load_scenario,
    parse_scenario,
)

EXAMPLE = """\
start: "2026-03-02T08:00:00Z"          # simulated clock start, UTC
days: 14
me: {id: "100", username: "ana_builds", name: "Ana Builds"}
users:
  - {id: "200", username: "person_x", name: "Person X"}
  - {id: "300", username: "friend_y", name: "Friend Y"}
targets: [person_x]
settings: {topics: [serverless, python], timezone: Europe/London, digest_hour: 7}
events:
  - {at: "2026-03-02T09:15:00Z", post: {id: "1001", by: person_x, text: "How we halved cold starts https://example.com/a"}}
  - {at: "2026-03-03T10:00:00Z", retweet: {id: "5001", by: ana_builds, post: "1001"}}
  - {at: "2026-03-03T11:00:00Z", post: {id: "1002", by: person_x, text: "@ana_builds thanks for sharing!"}}
  - {at: "2026-03-04T10:30:00Z", post: {id: "5002", by: ana_builds, text: "@person_x this helped me https://example.com/b", reply_to: "1003"}}
  - {at: "2026-03-05T08:00:00Z", follow: {by: person_x, user: ana_builds}}
  - {at: "2026-03-05T09:00:00Z", unfollow: {by: person_x, user: ana_builds}}
"""  # noqa: E501


# How pydantic words its own errors; a scenario error says the problem in the file's terms instead.
PYDANTIC_WORDS = re.compile(r"Input should|Field required|Extra inputs|Value error|validation error")


def write(tmp_path: Path, data: Any, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    text = (
        data
        if isinstance(data, str)
        else (json.dumps(data) if name.endswith(".json") else yaml.safe_dump(data))
    )
    path.write_text(text, encoding="utf-8")
    return path


def minimal(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "start": "2026-03-02T08:00:00Z",
        "days": 3,
        "me": {"id": "100", "username": "ana_builds", "name": "Ana"},
        "users": [{"id": "200", "username": "person_x", "name": "Person X"}],
        "targets": ["person_x"],
        "events": [],
    }
    data.update(changes)
    return data


def test_the_documented_example_loads_into_frozen_dataclasses(tmp_path):
    # Given the example of the format, as a YAML file
    path = write(tmp_path, EXAMPLE)
    # When it is loaded
    scenario = load_scenario(path)
    # Then every part is typed, times are aware UTC and settings stay a plain dict
    assert scenario.start == datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert scenario.days == 14
    assert scenario.end == datetime(2026, 3, 16, 8, tzinfo=UTC)
    assert scenario.me.username == "ana_builds"
    assert [u.username for u in scenario.users] == ["person_x", "friend_y"]
    assert scenario.targets == ("person_x",)
    assert scenario.settings == {
        "topics": ["serverless", "python"],
        "timezone": "Europe/London",
        "digest_hour": 7,
    }
    assert [type(e) for e in scenario.events] == [
        PostEvent,
        RetweetEvent,
        PostEvent,
        PostEvent,
        FollowEvent,
        UnfollowEvent,
    ]
    reply = scenario.events[3]
    assert isinstance(reply, PostEvent)
    assert reply.reply_to == "1003"  # a post from outside the scenario is allowed (X: not found)
    assert scenario.events[1] == RetweetEvent(
        datetime(2026, 3, 3, 10, tzinfo=UTC), "5001", "ana_builds", "1001"
    )
    with pytest.raises(AttributeError):
        scenario.days = 2  # type: ignore[misc]
    assert scenario.user("PERSON_X").id == "200"  # handles are case-insensitive


def test_json_works_too_with_optional_user_and_post_fields(tmp_path):
    data = minimal(
        users=[
            {
                "id": "200",
                "username": "person_x",
                "name": "Person X",
                "protected": True,
                "followers": ["ana_builds"],
                "metrics": {"followers_count": 1200, "tweet_count": 5000},
            },
            {"id": "300", "username": "gone", "suspended": True},
        ],
        events=[
            {
                "at": "2026-03-02T09:00:00+01:00",
                "post": {"id": "1", "by": "person_x", "text": "hi", "metrics": {"like_count": 4}},
            }
        ],
    )
    scenario = load_scenario(write(tmp_path, data, "scenario.json"))
    person = scenario.users[0]
    assert person.protected
    assert person.followers == ("ana_builds",)
    assert person.metrics.followers_count == 1200
    assert scenario.users[1].suspended
    assert scenario.users[1].name == "gone"
    post = scenario.events[0]
    assert isinstance(post, PostEvent)
    assert post.at == datetime(2026, 3, 2, 8, tzinfo=UTC)  # converted to UTC
    assert post.metrics == PostMetrics(like_count=4)


def test_unquoted_yaml_timestamps_are_accepted(tmp_path):
    text = EXAMPLE.replace('start: "2026-03-02T08:00:00Z"', "start: 2026-03-02T08:00:00Z")
    assert load_scenario(write(tmp_path, text)).start == datetime(2026, 3, 2, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("events", "index", "message"),
    [
        (
            [{"at": "2026-03-02T09:00:00Z", "post": {"id": 1001, "by": "person_x", "text": "x"}}],
            0,
            'quote it: "1001"',
        ),
        (
            [{"at": "2026-03-02T09:00:00Z", "post": {"id": "10a", "by": "person_x", "text": "x"}}],
            0,
            "strings of 1 to 19 digits",
        ),
        (
            [{"at": "2026-03-02T09:00:00Z", "post": {"id": "1", "by": "nobody", "text": "x"}}],
            0,
            "unknown user 'nobody'",
        ),
        (
            [
                {"at": "2026-03-02T10:00:00Z", "post": {"id": "1", "by": "person_x", "text": "x"}},
                {"at": "2026-03-02T09:00:00Z", "post": {"id": "2", "by": "person_x", "text": "y"}},
            ],
            1,
            "events must be in time order",
        ),
        (
            [{"at": "2026-03-02T09:00:00Z", "retweet": {"id": "5", "by": "ana_builds", "post": "9"}}],
            0,
            "unknown post '9'",
        ),
        (
            [
                {
                    "at": "2026-03-02T09:00:00Z",
                    "post": {"id": "1", "by": "ana_builds", "text": "x", "reply_to": "2"},
                },
                {"at": "2026-03-02T10:00:00Z", "post": {"id": "2", "by": "person_x", "text": "y"}},
            ],
            0,
            "published later",
        ),
        (
            [
                {"at": "2026-03-02T09:00:00Z", "post": {"id": "1", "by": "person_x", "text": "x"}},
                {"at": "2026-03-02T10:00:00Z", "post": {"id": "1", "by": "person_x", "text": "y"}},
            ],
            1,
            "used twice",
        ),
        (
            [{"at": "2026-03-02T09:00:00Z", "unfollow": {"by": "person_x", "user": "ana_builds"}}],
            0,
            "does not follow",
        ),
        (
            [
                {"at": "2026-03-02T09:00:00Z", "follow": {"by": "person_x", "user": "ana_builds"}},
                {"at": "2026-03-02T10:00:00Z", "follow": {"by": "person_x", "user": "ana_builds"}},
            ],
            1,
            "already follows",
        ),
        (
            [{"at": "2026-03-02T09:00:00", "post": {"id": "1", "by": "person_x", "text": "x"}}],
            0,
            "no time zone",
        ),
        (
            [{"at": "2026-03-09T09:00:00Z", "post": {"id": "1", "by": "person_x", "text": "x"}}],
            0,
            "after the end",
        ),
        ([{"at": "2026-03-02T09:00:00Z", "like": {"id": "1"}}], 0, "unknown key(s) ['like']"),
        (
            [{"at": "2026-03-02T09:00:00Z", "post": {"id": "1", "by": "person_x", "txt": "x"}}],
            0,
            "unknown key(s) ['txt']",
        ),
        ([{"post": {"id": "1", "by": "person_x", "text": "x"}}], 0, "missing 'at'"),
        (
            [{"at": "2026-03-02T09:00:00Z", "edit": {"id": "2", "post": "1", "text": "y"}}],
            0,
            "edit.post: unknown post '1'",
        ),
        (
            [
                {"at": "2026-03-02T09:00:00Z", "post": {"id": "1", "by": "person_x", "text": "x"}},
                {"at": "2026-03-02T09:31:00Z", "edit": {"id": "2", "post": "1", "text": "y"}},
            ],
            1,
            "edits within 30 minutes of posting; '1' was posted at 2026-03-02T09:00:00Z",
        ),
        (
            [
                {"at": "2026-03-02T09:00:00Z", "post": {"id": "1", "by": "person_x", "text": "x"}},
                {"at": "2026-03-02T09:10:00Z", "edit": {"id": "2", "post": "1", "text": "y"}},
                {"at": "2026-03-02T09:20:00Z", "edit": {"id": "3", "post": "1", "text": "z"}},
            ],
            2,
            "edit.post: '1' was edited into '2'; edit that one",
        ),
        (
            [
                {"at": "2026-03-02T09:00:00Z", "post": {"id": "1", "by": "person_x", "text": "x"}},
                {"at": "2026-03-02T09:10:00Z", "retweet": {"id": "2", "by": "ana_builds", "post": "1"}},
                {"at": "2026-03-02T09:20:00Z", "edit": {"id": "3", "post": "2", "text": "z"}},
            ],
            2,
            "'2' is a retweet; only a post can be edited",
        ),
        (
            [
                {"at": "2026-03-02T09:00:00Z", "post": {"id": "1", "by": "person_x", "text": "x"}},
                *(
                    {"at": f"2026-03-02T09:0{n}:00Z", "edit": {"id": str(n + 1), "post": str(n), "text": "y"}}
                    for n in range(1, 7)
                ),
            ],
            6,
            "X allows 5 edits of a post; '1' has had them",
        ),
        (
            [{"at": "2026-03-02T09:00:00Z", "edit": {"id": "2", "post": "1"}}],
            0,
            "edit: missing 'text'",
        ),
        ([{"at": "2026-03-02T09:00:00Z", "follow": {"by": "person_x"}}], 0, "follow: missing 'user'"),
        (
            [
                {
                    "at": "2026-03-02T09:00:00Z",
                    "post": {"id": "1", "by": "person_x", "text": "x", "metrics": {"likes": 1}},
                }
            ],
            0,
            "post.metrics: unknown key(s) ['likes']",
        ),
    ],
)
def test_event_errors_name_the_file_the_event_and_the_problem(tmp_path, events, index, message):
    # Given a scenario file with one bad event
    path = write(tmp_path, minimal(events=events))
    # When it is loaded
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    # Then the error says which file, which event and what is wrong
    error = caught.value
    assert error.event_index == index
    assert str(error).startswith(f"{path}: events[{index}]: ")
    assert message in str(error)
    assert not PYDANTIC_WORDS.search(str(error))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"me": {"id": 100, "username": "ana_builds"}}, "ids must be strings of digits"),
        ({"users": [{"id": "100", "username": "person_x"}]}, "user id '100' is used twice"),
        ({"users": [{"id": "200", "username": "Ana_Builds"}]}, "username 'Ana_Builds' is used twice"),
        ({"users": [{"id": "200", "username": "not a handle"}]}, "is not an X handle"),
        ({"users": [{"id": "200", "username": "person_x", "followers": ["ghost"]}]}, "unknown user 'ghost'"),
        ({"targets": ["ghost"]}, "targets: unknown user 'ghost'"),
        ({"targets": ["ana_builds"]}, "me cannot be a target"),
        ({"days": 0}, "days: must be a whole number"),
        ({"start": "next monday"}, "is not an ISO 8601 time"),
        ({"settings": ["a"]}, "settings: must be a mapping"),
        ({"colour": "blue"}, "unknown key(s) ['colour']"),
        ({"users": [{"id": "200", "username": "person_x", "metrics": {"followers_count": -1}}]}, ">= 0"),
        ({"seed": "seven"}, "seed: expected a whole number"),
        (
            {"users": [{"id": "200", "username": "person_x", "metrics": 3}]},
            "users[0].metrics: expected a mapping",
        ),
        ({"behaviours": {"ghost": {}}}, "behaviours.ghost: unknown user 'ghost'"),
        ({"behaviours": {"ana_builds": {}}}, "give it me_acts instead"),
        ({"behaviours": {"person_x": {"mood": "sunny"}}}, "unknown key(s) ['mood']"),
        ({"behaviours": {"person_x": {"questions": 0.7, "links": 0.5}}}, "together at most 1"),
        ({"behaviours": {"person_x": {"posts_per_day": -1}}}, "posts_per_day: expected a number from 0"),
        ({"behaviours": {"person_x": {"talks_with": ["ghost"]}}}, "talks_with: unknown user 'ghost'"),
        ({"behaviours": {"person_x": {"thanks": {"after": 2}}}}, "thanks: missing 'probability'"),
        ({"behaviours": {"person_x": {"thanks": {"probability": 1.5}}}}, "probability: expected a number"),
        ({"behaviours": {"person_x": {"thanks": {"probability": 1, "after": 0}}}}, "after: expected"),
        ({"behaviours": {"person_x": {"thanks": {"probability": 1, "hours": [5, 1]}}}}, "hours: expected"),
        ({"me_acts": {"probability": 0.5, "when": "soon"}}, "me_acts: unknown key(s) ['when']"),
        ({"me_acts": {"probability": 0.5, "after": 2}}, "me_acts: unknown key(s) ['after']"),
        (
            {"behaviours": {"person_x": {"replies_to_questions": {"probability": 1, "after": 2}}}},
            "replies_to_questions: unknown key(s) ['after']",
        ),
    ],
)
def test_top_level_errors_name_the_file_and_the_problem(tmp_path, changes, message):
    path = write(tmp_path, minimal(**changes))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.event_index is None
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert not PYDANTIC_WORDS.search(str(caught.value))


def test_unreadable_or_malformed_files_are_scenario_errors(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.yaml")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(write(tmp_path, "start: [unclosed"))
    with pytest.raises(ScenarioError, match="not valid JSON"):
        load_scenario(write(tmp_path, "{", "bad.json"))
    with pytest.raises(ScenarioError, match="must be a mapping"):
        parse_scenario(["not", "a", "mapping"])


def test_behaviours_and_the_simulated_me_load_with_their_defaults(tmp_path):
    # Given a scenario where person_x posts on their own and reacts, and the simulated me acts
    data = minimal(
        seed=7,
        users=[
            {"id": "200", "username": "person_x", "name": "Person X"},
            {"id": "300", "username": "friend_y"},
        ],
        behaviours={
            "Person_X": {
                "posts_per_day": 1.5,
                "questions": 0.25,
                "links": 0.5,
                "talks_with": ["friend_y"],
                "thanks": {"after": 2, "probability": 0.8, "hours": [1, 6]},
                "replies_to_questions": {"probability": 1},
            }
        },
        me_acts={"probability": 0.9},
    )
    # When it is loaded
    scenario = load_scenario(write(tmp_path, data))
    # Then names are resolved as X does (case-insensitively) and what is left out takes its default
    behaviour = scenario.behaviours["person_x"]
    assert (scenario.seed, behaviour.posts_per_day, behaviour.talks_with) == (7, 1.5, ("friend_y",))
    assert behaviour.thanks == Reaction(probability=0.8, hours=(1.0, 6.0), after=2)
    assert behaviour.replies_to_questions == Reaction(probability=1.0)
    assert behaviour.follows_back is None
    assert scenario.me_acts == Reaction(probability=0.9)


@pytest.mark.parametrize("name", ["default.yaml", "month.yaml"])
def test_the_shipped_scenarios_load(name):
    path = Path(__file__).resolve().parents[2] / "infra" / "rapport_local" / "scenarios" / name
    assert load_scenario(path).targets
