"""The pure parts of `rapport targets` and `rapport settings`: what the person types, what is shown."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console
from rich.table import Table

from rapport_local.stack_commands import (
    Trouble,
    describe_problem,
    exit_code,
    history_table,
    parse_settings,
    parse_topics,
    since,
    targets_table,
)


def rendered(table: Table) -> str:
    out = io.StringIO()
    Console(file=out, width=200).print(table)
    return out.getvalue()


def test_setting_values_are_json_when_they_parse_and_text_otherwise() -> None:
    changes = parse_settings(["digest_hour=8", "send_empty_digest=false", "timezone=Europe/Paris", "x=5.5"])

    assert changes == {"digest_hour": 8, "send_empty_digest": False, "timezone": "Europe/Paris", "x": 5.5}


def test_topics_are_a_comma_separated_list_or_a_json_one() -> None:
    assert parse_settings(["topics=aws, python,,"]) == {"topics": ["aws", "python"]}
    assert parse_settings(['topics=["a,b"]']) == {"topics": ["a,b"]}
    assert parse_settings(["topics="]) == {"topics": []}
    assert parse_topics(" Lambda ,go") == ["Lambda", "go"]


def test_a_value_may_hold_an_equals_sign() -> None:
    assert parse_settings(["note=a=b"]) == {"note": "a=b"}


@pytest.mark.parametrize("pair", ["digest_hour", "=8", " =8"])
def test_what_is_not_key_value_is_refused(pair: str) -> None:
    with pytest.raises(Trouble, match="KEY=VALUE"):
        parse_settings([pair])


@pytest.mark.parametrize(
    ("status", "code"), [(200, 0), (201, 0), (400, 1), (403, 1), (404, 1), (500, 2), (502, 2)]
)
def test_exit_codes_follow_the_answer(status: int, code: int) -> None:
    assert exit_code(status) == code


def test_a_bad_row_is_described_by_its_number_value_and_reason() -> None:
    problem = {"row": 3, "field": "username", "value": "not a name!", "message": "an X username is ..."}

    assert describe_problem(problem) == "row 3: username 'not a name!': an X username is ..."
    assert describe_problem({"field": "digest_hour", "message": "too big"}) == "digest_hour: too big"


def test_since_is_the_last_move_into_the_current_stage_else_when_added() -> None:
    target = {"username": "person_x", "stage": "answer", "added_at": "2026-03-02T08:00:00+00:00"}
    moves: list[dict[str, Any]] = [
        {"at": "2026-03-02T08:00:00+00:00", "from": None, "to": "retweet"},
        {"at": "2026-03-03T11:00:00+00:00", "from": "retweet", "to": "answer"},
    ]

    assert since(target, moves) == "2026-03-03 11:00"
    assert since(target, []) == "2026-03-02 08:00"


def test_the_targets_table_has_a_row_a_target_and_leaves_unknown_columns_blank() -> None:
    targets = [
        {
            "username": "person_x",
            "stage": "answer",
            "follows_you": True,
            "added_at": "2026-03-02T08:00:00+00:00",
        },
        {"username": "quiet_q", "stage": "retweet", "follows_you": False, "added_at": None},
    ]

    text = rendered(targets_table(targets, {"person_x": []}))

    assert "2 target(s)" in text
    row = next(line for line in text.splitlines() if "@person_x" in line)
    assert [cell.strip() for cell in row.strip()[1:-1].split("│")] == [
        "@person_x",
        "answer",
        "2026-03-02 08:00",
        "yes",
        "",
        "",
    ]
    assert "no" in next(line for line in text.splitlines() if "@quiet_q" in line)


def test_the_history_shows_each_move_with_its_reason_and_evidence_links() -> None:
    moves: list[dict[str, Any]] = [
        {"at": "2026-03-02T08:00:00+00:00", "from": None, "to": "retweet", "reason": "added as a target"},
        {
            "at": "2026-03-03T11:00:00+00:00",
            "from": "retweet",
            "to": "answer",
            "reason": "thanked you once",
            "evidence_links": ["https://x.com/person_x/status/1002"],
        },
    ]

    lines = rendered(history_table(moves)).splitlines()

    first = next(line for line in lines if "added as a target" in line)
    assert "(new)" in first
    moved = next(line for line in lines if "thanked you once" in line)
    assert "2026-03-03 11:00" in moved
    assert "https://x.com/person_x/status/1002" in moved
