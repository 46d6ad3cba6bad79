"""`rapport targets` and `rapport settings` end to end: the CLI signs each request to `rapport local`
(a subprocess in a temporary directory), whose admin handler works on moto and the X simulator."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from rapport_local import stack_commands
from rapport_local.demo import default_scenario
from tests.integration.cli import rapport as run
from tests.integration.local_stack import RunningStack, running_local_stack

pytestmark = pytest.mark.integration

# People on the simulated X besides the shipped scenario's: each test adds its own, so the tests
# sharing the stack do not depend on one another's order.
EXTRA_USERS = ("add_a", "add_b", "add_c", "edit_e", "gone_g", "csv_1", "csv_2", "csv_3", "rt_1", "rt_2")
FOLLOWED = ("fol_1", "fol_2", "fol_3", "fol_t")  # people the person follows on X
# A list longer than one part of an import: parts of PART rows here (the command sends 200), so the
# import is three parts without 200 people to look up and write.
PART = 5
BULK = tuple(f"bulk_{n:03}" for n in range(2 * PART + 2))


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    directory = tmp_path_factory.mktemp("cli-targets")
    scenario = yaml.safe_load(default_scenario().read_text(encoding="utf-8"))
    scenario["users"] += [
        {"id": str(900 + i), "username": u, "name": u.upper()} for i, u in enumerate(EXTRA_USERS)
    ]
    me = scenario["me"]["username"]
    scenario["users"] += [
        {"id": str(950 + i), "username": u, "name": u.upper(), "followers": [me]}
        for i, u in enumerate(FOLLOWED)
    ]
    scenario["users"] += [{"id": str(2000 + i), "username": u, "name": u} for i, u in enumerate(BULK)]
    path = directory / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario), encoding="utf-8")
    with running_local_stack(directory, "--scenario", str(path)) as stack:
        yield stack


def rapport(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return run(capsys, "--local", *argv)


def listed(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    code, out, _ = rapport(capsys, "targets", "--json")
    assert code == 0
    return {t["username"]: t for t in json.loads(out)["targets"]}


def settings(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, _ = rapport(capsys, "settings", "--json")
    assert code == 0
    settings: dict[str, Any] = json.loads(out)["settings"]
    return settings


def test_add_takes_a_name_an_at_name_and_a_profile_link_and_the_table_lists_them(
    in_stack_dir: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the person adds three people, written three ways, with topics and a note
    code, out, _ = rapport(
        capsys,
        "targets",
        "add",
        "add_a",
        "@add_b",
        "https://x.com/add_c",
        "--topics",
        "Lambda, python",
        "--note",
        "met at a meetup",
    )

    # Then each was looked up on X and added at step 1
    assert code == 0
    assert "added @add_a (ADD_A), stage retweet" in out
    assert "added @add_c (ADD_C)" in out
    stored = listed(capsys)
    assert stored["add_b"]["topics"] == ["lambda", "python"]
    assert stored["add_c"]["note"] == "met at a meetup"

    # And the table shows them with their stage and since when
    code, out, _ = rapport(capsys, "targets")
    assert code == 0
    row = next(line for line in out.splitlines() if "@add_b" in line)
    assert "retweet" in row
    assert "2026-03-02" in row
    assert "username" in out
    assert "next suggestion" in out

    # And adding one again changes nothing
    code, out, _ = rapport(capsys, "targets", "add", "add_a")
    assert (code, "already a target" in out) == (0, True)


def test_an_unknown_x_user_is_refused_with_exit_1_and_nothing_added(
    in_stack_dir: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    before = listed(capsys)

    code, _, err = rapport(capsys, "targets", "add", "nobody_here")

    assert code == 1
    assert "does not exist on X" in err
    assert listed(capsys) == before

    # and a script gets the API's reason as JSON
    code, out, _ = rapport(capsys, "targets", "add", "nobody_here", "--json")
    assert code == 1
    assert json.loads(out)["error"][0]["field"] == "username"


def test_show_gives_the_stage_history_with_reasons_and_links_to_the_evidence(
    in_stack_dir: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given person_x is a target, and a day and a half passes: they thank the person for a retweet
    rapport(capsys, "targets", "add", "person_x")
    assert rapport(capsys, "run", "--hours", "30")[0] == 0

    # When the person looks at them
    code, out, _ = rapport(capsys, "targets", "show", "@person_x")

    # Then the history says when they were added and why they moved on, with the thanks' link
    assert code == 0
    assert "Person X" in out
    assert "added as a target" in out
    moved = next(line for line in out.splitlines() if "retweet" in line and "answer" in line)
    assert "2026-03-03" in moved
    assert "https://x.com/person_x/status/1002" in moved

    # And the table tells when they last exchanged (the thanks) and what comes next for them
    shown = listed(capsys)["person_x"]
    assert shown["last_contact"] == "2026-03-03T11:00:00+00:00"
    assert shown["next_suggestion"]["kind"] == "retweet"
    code, out, _ = rapport(capsys, "targets")
    row = next(line for line in out.splitlines() if "@person_x" in line)
    cells = [cell.strip() for cell in row.strip()[1:-1].split("│")]
    assert cells[4:] == ["2026-03-03 11:00", f"retweet: {shown['next_suggestion']['reason']}"]

    # And an unknown name is refused
    code, _, err = rapport(capsys, "targets", "show", "nobody_here")
    assert code == 1
    assert "not a target" in err


def test_edit_pause_and_resume_a_target(
    in_stack_dir: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    rapport(capsys, "targets", "add", "edit_e", "--topics", "go", "--note", "first")

    code, _, _ = rapport(capsys, "targets", "edit", "edit_e", "--note", "wrote the layers post")
    assert code == 0
    assert (listed(capsys)["edit_e"]["note"], listed(capsys)["edit_e"]["topics"]) == (
        "wrote the layers post",
        ["go"],
    )

    code, _, _ = rapport(capsys, "targets", "edit", "edit_e", "--topics", "")
    assert (code, listed(capsys)["edit_e"]["topics"]) == (0, [])

    code, out, _ = rapport(capsys, "targets", "pause", "edit_e")
    assert (code, "paused @edit_e: stage paused" in out) == (0, True)
    assert listed(capsys)["edit_e"]["stage"] == "paused"

    code, _, _ = rapport(capsys, "targets", "resume", "edit_e")
    assert (code, listed(capsys)["edit_e"]["stage"]) == (0, "retweet")

    # an edit that changes nothing is a usage mistake, caught before asking the stack
    code, _, err = rapport(capsys, "targets", "edit", "edit_e")
    assert (code, "--topics, --note" in err) == (2, True)


def test_remove_needs_yes_without_a_terminal(
    in_stack_dir: RunningStack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a target, and input that is not a terminal
    rapport(capsys, "targets", "add", "gone_g")
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))

    # When it is removed without --yes, it is refused and kept
    code, _, err = rapport(capsys, "targets", "remove", "gone_g")
    assert code == 1
    assert "--yes" in err
    assert "gone_g" in listed(capsys)

    # With --yes it is forgotten
    code, out, _ = rapport(capsys, "targets", "remove", "gone_g", "--yes")
    assert code == 0
    assert "removed @gone_g" in out
    assert "gone_g" not in listed(capsys)


def test_an_import_with_a_bad_row_adds_nothing_and_shows_every_bad_row(
    in_stack_dir: RunningStack, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given a CSV with two good rows, a malformed name and someone X does not know
    people = tmp_path / "people.csv"
    people.write_text("username,topics,note\ncsv_1,aws;python,hi\nnot a name!,,\n@csv_2,,\nnobody_zz,,\n")
    before = listed(capsys)

    # When it is imported, it is refused: every bad row is shown, and nothing is added
    code, _, err = rapport(capsys, "targets", "import", str(people))
    assert code == 1
    assert "not a name!" in err
    assert "nobody_zz" in err
    assert "does not exist on X" in err
    assert "2 bad row(s)" in err
    assert listed(capsys) == before

    # A dry run skipping the bad rows says what would be added, and adds nothing
    code, out, _ = rapport(capsys, "targets", "import", str(people), "--skip-invalid", "--dry-run")
    assert code == 0
    assert "would add 2: @csv_1, @csv_2" in out
    assert listed(capsys) == before

    # Skipping them for real adds the good rows; importing the file again adds nothing
    code, out, _ = rapport(capsys, "targets", "import", str(people), "--skip-invalid")
    assert (code, "added 2" in out) == (0, True)
    assert listed(capsys)["csv_1"]["topics"] == ["aws", "python"]
    code, out, _ = rapport(capsys, "targets", "import", str(people), "--skip-invalid", "--json")
    assert (code, json.loads(out)["added"]) == (0, [])


@pytest.mark.parametrize("form", ["csv", "json"])
def test_an_export_imports_back_to_the_same_targets(
    form: str, in_stack_dir: RunningStack, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given two targets with topics and a note holding a comma and quotes
    rapport(capsys, "targets", "add", "rt_1", "rt_2", "--topics", "a,b", "--note", 'said "hi", then left')
    before = listed(capsys)

    # When every target is exported to a file
    code, exported, _ = rapport(capsys, "targets", "export", "--format", form)
    assert code == 0
    export = tmp_path / f"export.{form}"
    export.write_text(exported)

    # Then importing it as it is adds nothing: everyone in it is a target already
    code, out, _ = rapport(capsys, "targets", "import", str(export), "--json")
    assert code == 0
    assert json.loads(out)["added"] == []
    assert sorted(json.loads(out)["existing"]) == sorted(before)

    # And once the two are removed, importing it brings them back with their topics and note
    for name in ("rt_1", "rt_2"):
        assert rapport(capsys, "targets", "remove", name, "--yes")[0] == 0
    code, out, _ = rapport(capsys, "targets", "import", str(export))
    assert (code, "added 2: @rt_1, @rt_2" in out) == (0, True)
    after = listed(capsys)
    for name in ("rt_1", "rt_2"):
        assert (after[name]["topics"], after[name]["note"]) == (["a", "b"], 'said "hi", then left')


def test_settings_are_shown_and_set_and_a_malformed_one_changes_nothing(
    in_stack_dir: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = rapport(capsys, "settings")
    assert (code, "digest_hour" in out, "timezone" in out) == (0, True, True)

    # Setting several values, typed as JSON where they parse and topics as a comma-separated list
    code, out, _ = rapport(
        capsys,
        "settings",
        "set",
        "digest_hour=9",
        "topics=aws, typing",
        "send_empty_digest=false",
        "timezone=Europe/Paris",
    )
    assert code == 0
    assert "Europe/Paris" in out
    now = settings(capsys)
    assert (now["digest_hour"], now["topics"], now["send_empty_digest"]) == (9, ["aws", "typing"], False)

    # A value out of range is refused with the setting's name, and nothing changes
    code, _, err = rapport(capsys, "settings", "set", "digest_hour=25", "daily_actions=3")
    assert code == 1
    assert "digest_hour" in err
    assert settings(capsys) == now

    # Something that is not KEY=VALUE is a usage mistake
    code, _, err = rapport(capsys, "settings", "set", "digest_hour")
    assert (code, "KEY=VALUE" in err) == (2, True)
    assert settings(capsys) == now


def test_without_a_local_stack_every_command_exits_2_and_says_how_to_start_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "people.csv").write_text("username\nperson_x\n")

    commands = (
        ["targets"],
        ["targets", "add", "person_x"],
        ["targets", "show", "person_x"],
        ["targets", "import", "people.csv"],
        ["targets", "export"],
        ["targets", "remove", "person_x", "--yes"],
        ["settings"],
        ["settings", "set", "digest_hour=8"],
    )
    for argv in commands:
        code, _, err = rapport(capsys, *argv)
        assert code == 2, argv
        assert "rapport local" in err


def test_the_people_you_follow_are_offered_and_those_picked_imported(
    in_stack_dir: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the person follows fol_1, fol_2, fol_3 and fol_t on X, and fol_t is a target already
    rapport(capsys, "targets", "add", "fol_t")

    # When a script asks for the candidates, it gets those not targets yet, and nothing is added
    code, out, _ = rapport(capsys, "targets", "import", "--from-following", "--json")
    assert code == 0
    candidates = [c["username"] for c in json.loads(out)["candidates"]]
    assert sorted(candidates) == ["fol_1", "fol_2", "fol_3"]
    assert not {"fol_1", "fol_2", "fol_3"} & set(listed(capsys))

    # When the person picks fol_2 by its number and fol_1 by name
    pick = f"{candidates.index('fol_2') + 1},@fol_1"
    code, out, _ = rapport(capsys, "targets", "import", "--from-following", "--pick", pick)

    # Then those two are added, through the same import as a file, and fol_3 is not
    assert code == 0
    assert "you follow 4 people on X" in out
    assert "added 2:" in out
    stored = listed(capsys)
    assert {"fol_1", "fol_2"} <= set(stored)
    assert "fol_3" not in stored

    # And without a terminal to ask on, nor --pick or --all, it says how to choose and adds nothing
    code, _, err = rapport(capsys, "targets", "import", "--from-following")
    assert code == 2
    assert "--pick" in err
    assert "fol_3" not in listed(capsys)


def test_a_long_import_is_checked_whole_then_sent_in_parts_with_a_progress_bar(
    in_stack_dir: RunningStack,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given parts of PART rows, a CSV of more than two parts of people X knows, and the same with one
    # person X does not know at the end
    monkeypatch.setattr(stack_commands, "CHUNK_ROWS", PART)
    good = tmp_path / "many.csv"
    good.write_text("username,topics\n" + "".join(f"{name},bulk\n" for name in BULK))
    bad = tmp_path / "many_bad.csv"
    bad.write_text(good.read_text() + "nobody_zz,\n")
    before = listed(capsys)

    # When the one with a bad row is imported, nothing is added: the whole file was checked first
    code, _, err = rapport(capsys, "targets", "import", str(bad))
    assert code == 1
    assert "nobody_zz" in err
    assert listed(capsys) == before

    # When the good one is imported, all are added, in parts, the bar showing every row done
    code, out, err = rapport(capsys, "targets", "import", str(good))
    assert code == 0
    assert f"added {len(BULK)}:" in out
    assert f"{len(BULK)}/{len(BULK)}" in err
    stored = listed(capsys)
    assert set(BULK) <= set(stored)
    assert stored[BULK[-1]]["topics"] == ["bulk"]


def test_the_link_library_is_listed_added_to_and_removed_from_and_a_bad_link_changes_nothing(
    in_stack_dir: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the library the scenario's settings started with
    before = settings(capsys)["links"]
    url = "https://example.com/cold-starts"
    # When the person adds a resource with its title and topics
    code, out, _ = rapport(
        capsys,
        "settings",
        "links",
        "add",
        url,
        "--title",
        "Measuring  cold starts",
        "--topics",
        "Lambda, cold start",
    )
    # Then the library lists it last, its title tidied and its topics as the answers match them
    assert code == 0
    assert "Measuring cold starts" in out
    added = {"url": url, "title": "Measuring cold starts", "topics": ["lambda", "cold start"]}
    assert settings(capsys)["links"] == [*before, added]
    code, out, _ = rapport(capsys, "settings", "links")
    assert (code, url in out) == (0, True)

    # A link that is not a web address is refused, naming the library, and nothing changes
    code, _, err = rapport(capsys, "settings", "links", "add", "ftp://example.com/x", "--title", "Nope")
    assert code == 1
    assert "links" in err
    assert settings(capsys)["links"] == [*before, added]

    # Removing an unknown link is a usage mistake; removing the one added leaves the library as it was
    code, _, err = rapport(capsys, "settings", "links", "remove", "https://example.com/typo")
    assert (code, "no link" in err) == (2, True)
    code, _, _ = rapport(capsys, "settings", "links", "remove", url)
    assert code == 0
    assert settings(capsys)["links"] == before
