"""The pure parts of `rapport targets` and `rapport settings`: what the person types, what is shown."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from rich.console import Console
from rich.table import Table

from rapport_local.stack_commands import (
    CHUNK_ROWS,
    Trouble,
    _parts,
    describe_problem,
    exit_code,
    following_table,
    history_table,
    parse_pick,
    parse_settings,
    parse_topics,
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


def test_the_targets_table_shows_since_when_the_last_contact_and_the_next_suggestion() -> None:
    targets = [
        {
            "username": "person_x",
            "stage": "answer",
            "follows_you": True,
            "since": "2026-03-03T11:00:00+00:00",
            "last_contact": "2026-03-04T09:30:00+00:00",
            "next_suggestion": {"kind": "answer", "reason": "a question on layers", "created_at": "x"},
        },
        {"username": "quiet_q", "stage": "retweet", "follows_you": False, "since": None},
    ]

    text = rendered(targets_table(targets))

    assert "2 target(s)" in text
    cells = {
        name: [cell.strip() for cell in row.strip()[1:-1].split("│")]
        for name in ("person_x", "quiet_q")
        for row in text.splitlines()
        if f"@{name}" in row
    }
    assert cells["person_x"] == [
        "@person_x",
        "answer",
        "2026-03-03 11:00",
        "yes",
        "2026-03-04 09:30",
        "answer: a question on layers",
    ]
    assert cells["quiet_q"] == ["@quiet_q", "retweet", "", "no", "", ""]


PEOPLE = [{"username": "zoe_dev", "name": "Zoe"}, {"username": "quiet_q"}, {"username": "Friend_Y"}]


def test_people_are_picked_by_number_or_username_once_each() -> None:
    assert parse_pick("3, 1,@friend_y,,", PEOPLE) == [PEOPLE[2], PEOPLE[0]]
    assert parse_pick(" ALL ", PEOPLE) == PEOPLE
    assert parse_pick("", PEOPLE) == []


@pytest.mark.parametrize(("raw", "words"), [("4", "1-3"), ("0", "1-3"), ("nobody", "@nobody is not among")])
def test_a_pick_outside_the_list_is_refused(raw: str, words: str) -> None:
    with pytest.raises(Trouble, match=words):
        parse_pick(raw, PEOPLE)


def test_the_people_to_pick_from_are_numbered_from_1() -> None:
    text = rendered(following_table(PEOPLE))

    assert "3 to pick from" in text
    row = next(line for line in text.splitlines() if "@zoe_dev" in line)
    assert [cell.strip() for cell in row.strip()[1:-1].split("│")] == ["1", "@zoe_dev", "Zoe"]


def test_a_long_csv_is_cut_into_parts_that_each_repeat_the_header() -> None:
    # Given a CSV of 450 people, one with a note over two lines, and a blank line
    lines = [f'p_{n},"line one\nline two"' if n == 300 else f"p_{n}," for n in range(450)]
    text = "username,note\n" + "\n".join(lines[:10]) + "\n\n" + "\n".join(lines[10:]) + "\n"

    parts = _parts(text, is_json=False)

    assert [count for _, count in parts] == [CHUNK_ROWS, CHUNK_ROWS, 50]
    read = [list(csv.DictReader(io.StringIO(body))) for body, _ in parts]
    assert [row["username"] for part in read for row in part] == [f"p_{n}" for n in range(450)]
    assert read[1][100]["note"] == "line one\nline two"


def test_a_long_json_list_is_cut_into_parts_and_anything_else_is_left_whole() -> None:
    rows = [{"username": f"p_{n}"} for n in range(201)]

    assert [count for _, count in _parts(rows, is_json=True)] == [200, 1]
    assert _parts({"not": "a list"}, is_json=True) == [({"not": "a list"}, 0)]


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
