"""Admin commands on in-memory stores and a fake X: add, pause, resume, edit, remove."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.domain.model import InteractionKind as K
from rapport.domain.model import Stage, SuggestionKind, suggestion_ref
from rapport.domain.x import ReadUsage, XUser
from rapport.usecases.admin import AdminError, parse_command, run_command
from rapport.usecases.importing import ImportRejected
from rapport.usecases.ports import Stores
from tests.factories import ME, ME_ID, at, evidence, suggestion
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


def test_a_protected_account_is_stored_as_protected_so_collect_reads_it_from_its_timeline():
    # Given X says the account is protected
    admin = Admin()
    admin.x.users["200"] = XUser("200", "Person_X", "Person X", protected=True)
    # When it is added as a target
    admin("add_target", username="person_x")
    # Then the target is stored as protected
    assert admin.stores.targets.get_target("200").protected


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


def test_the_list_tells_each_targets_last_exchange_either_way_and_its_oldest_waiting_suggestion():
    # Given person_x, added at hour 0, whom we retweeted at hour 5 and who thanked us at hour 9,
    # then posted to everyone at hour 12; and two suggestions, the older one already in a digest
    admin = Admin()
    admin("add_target", username="person_x")
    admin.stores.evidence.add_interaction(evidence(K.OUR_RETWEET, at(5), ev_id="1001"))
    admin.stores.evidence.add_interaction(evidence(K.THANKS, at(9), ev_id="1002"))
    admin.stores.evidence.add_interaction(evidence(K.TARGET_POST, at(12), ev_id="1003"))
    sent = suggestion(post_id="1003", created_at=at(12), reason="their post on layers")
    waiting = suggestion(SuggestionKind.REPLY, post_id="1004", created_at=at(13), reason="they mentioned you")
    later = suggestion(post_id="1005", created_at=at(14), reason="a later post")
    for s in (sent, waiting, later):
        admin.stores.suggestions.add_suggestion(s)
    admin.stores.suggestions.mark_sent([suggestion_ref(sent)], "2026-03-02")
    # When the targets are listed at hour 20
    [listed] = admin("list_targets", 20)["targets"]
    # Then the last contact is their thanks (their post to everyone is not an exchange), the next
    # suggestion the reply, and the stage holds since it was added
    assert listed["last_contact"] == at(9).isoformat()
    assert listed["next_suggestion"] == {
        "kind": "reply",
        "reason": "they mentioned you",
        "created_at": at(13).isoformat(),
    }
    assert listed["since"] == at(0).isoformat()


def test_the_list_does_not_offer_a_suggestion_the_targets_stage_no_longer_calls_for():
    # Given person_x at the ask step (they follow us back), with a retweet suggestion made at step 1
    # still waiting, and a newer question to ask them
    admin = Admin()
    admin("add_target", username="person_x")
    admin.stores.targets.set_stage("200", Stage.ASK, at(5))
    old = suggestion(post_id="1003", created_at=at(2), reason="a useful post")
    ask = suggestion(SuggestionKind.ASK, post_id="1004", created_at=at(6), reason="they follow you")
    for s in (old, ask):
        admin.stores.suggestions.add_suggestion(s)
    # When the targets are listed
    [listed] = admin("list_targets", 8)["targets"]
    # Then the next suggestion is the question, not the retweet of step 1
    assert listed["next_suggestion"]["kind"] == "ask"


def test_a_target_with_no_exchange_and_nothing_waiting_lists_blanks():
    admin = Admin()
    admin("add_target", username="person_x")
    [listed] = admin("list_targets", 1)["targets"]
    assert (listed["last_contact"], listed["next_suggestion"]) == (None, None)


def test_the_people_you_follow_are_read_once_as_an_owned_read_and_counted_in_the_spend():
    # Given we follow person_x (already a target) and two others on X
    admin = Admin()
    admin("add_target", username="person_x")
    admin.x.users |= {"300": XUser("300", "builder_b", "B"), "301": XUser("301", "coder_c", "C")}
    admin.x.following_ids = ["301", "200", "300"]
    admin.x.usage = ReadUsage()  # a new reader, as each request of the admin function builds one
    # When the following list is read
    answer = admin("list_following", 1)
    # Then X was asked once, each person is marked if already a target
    assert admin.x.calls.count("users/:id/following") == 1
    assert admin.x.following_of == [admin.x.me_user.id]  # our own list: the owned price applies
    assert [(f["username"], f["target"]) for f in answer["following"]] == [
        ("coder_c", False),
        ("Person_X", True),
        ("builder_b", False),
    ]
    # And the three users cost $0.001 each, counted in today's X spend
    assert answer["x_cost_usd"] == 0.003
    spent = admin.stores.spend.spend(at(1).date())
    assert (spent.users, spent.requests) == (3, 1)


def test_reading_the_people_you_follow_again_the_same_day_costs_nothing_more():
    admin = Admin()
    admin.x.users |= {"300": XUser("300", "builder_b", "B")}
    admin.x.following_ids = ["300"]
    admin("list_following", 1)
    admin.x.usage = ReadUsage()  # a new reader, as each request of the admin function builds one
    again = admin("list_following", 2)
    assert again["x_cost_usd"] == 0
    assert admin.stores.spend.spend(at(2).date()).users == 1
