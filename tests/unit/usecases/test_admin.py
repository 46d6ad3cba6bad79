"""Admin commands on in-memory stores and a fake X: add, pause, resume, edit, remove."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.domain.model import Stage
from rapport.domain.x import XUser
from rapport.usecases.admin import AdminError, parse_command, run_command
from rapport.usecases.importing import ImportRejected
from rapport.usecases.ports import Stores
from tests.factories import ME, ME_ID, at
from tests.fakes import FakeX, memory_stores


class Admin:
    def __init__(self) -> None:
        self.stores: Stores = memory_stores()
        self.stores.settings.put_me(ME_ID, ME)
        self.x = FakeX(XUser(ME_ID, ME, "Ana"), users={"200": XUser("200", "Person_X", "Person X")})

    def __call__(self, action: str, hours: float = 0, **fields: Any) -> dict[str, Any]:
        command = parse_command({"action": action, **fields})
        return run_command(command, self.stores, lambda: self.x, at(hours))


def test_adding_a_target_looks_it_up_on_x_once_and_starts_step_1():
    admin = Admin()
    # When the same target is added twice
    first = admin("add_target", username="@person_x", topics=["Lambda"])
    second = admin("add_target", username="person_x")
    # Then X was asked once, and the target starts at step 1 with its topics
    assert (first["created"], second["created"]) == (True, False)
    assert admin.x.calls.count("users/by") == 1
    stored = admin.stores.targets.get_target("200")
    assert (stored.username, stored.stage, stored.topics) == ("Person_X", Stage.RETWEET, ("lambda",))


def test_a_username_x_does_not_know_is_refused():
    admin = Admin()
    with pytest.raises(AdminError, match="does not exist on X"):
        admin("add_target", username="nobody_here")
    assert admin.stores.targets.list_targets() == []


def test_pausing_and_resuming_a_target_moves_its_stage_and_keeps_the_history():
    admin = Admin()
    admin("add_target", username="person_x")
    paused = admin("pause_target", 1, username="person_x")
    resumed = admin("resume_target", 2, username="person_x")
    assert (paused["target"]["stage"], resumed["target"]["stage"]) == ("paused", "retweet")
    shown = admin("show_target", 3, username="person_x")
    assert [t["to"] for t in shown["transitions"]] == [Stage.RETWEET, Stage.PAUSED, Stage.RETWEET]


def test_removing_a_target_forgets_it_and_its_history():
    admin = Admin()
    admin("add_target", username="person_x")
    removed = admin("remove_target", username="person_x")
    assert removed["removed"] == "Person_X"
    assert removed["items_deleted"] >= 2  # its profile, the "added" evidence, its history
    assert admin.stores.targets.find_target("person_x") is None
    with pytest.raises(AdminError, match="not a target"):
        admin("pause_target", username="person_x")


def test_settings_are_merged_validated_and_stored():
    admin = Admin()
    admin("update_settings", settings={"daily_actions": 3})
    assert admin.stores.settings.policy().daily_actions == 3
    assert admin("get_settings")["settings"]["daily_actions"] == 3


def test_a_pasted_profile_link_adds_the_target_with_its_note():
    admin = Admin()
    added = admin("add_target", username="https://twitter.com/Person_X?s=20", note="  met at a meetup ")
    assert (added["target"]["username"], added["target"]["note"]) == ("Person_X", "met at a meetup")
    admin("edit_target", username="person_x", note="wrote the layers post")
    assert admin.stores.targets.get_target("200").note == "wrote the layers post"


def test_a_direct_import_with_a_bad_row_reports_it_and_adds_nothing():
    admin = Admin()
    with pytest.raises(ImportRejected) as refused:
        admin("import_targets", csv="username\nperson_x\nnobody_here\n")
    assert [(p.row, p.value) for p in refused.value.problems] == [(3, "nobody_here")]
    assert admin.stores.targets.list_targets() == []
