"""What every implementation of the stores promises: what is written once stays written once.

Each test runs on the in-memory fakes and on DynamoDB, so the fakes the use-case tests rely on
cannot drift from the table.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from rapport.domain.model import CircleMember, Stage, SuggestionKind, Transition, lookback_key, suggestion_ref
from rapport.domain.model import InteractionKind as K
from rapport.domain.money import USD, Spend
from rapport.domain.policy import Policy, Resource
from rapport.usecases.ports import DaySpend, NotFoundError, Stores
from tests.factories import at, evidence, post, suggestion, target

# --- targets ------------------------------------------------------------------------------------


def test_targets_are_found_by_username_whatever_the_case_and_removed_with_their_history(stores: Stores):
    # Given a target with evidence, a transition and a pending suggestion
    stores.targets.put_target(target())
    stores.evidence.add_interaction(evidence(K.ADDED, at(0), ev_id="added"))
    stores.evidence.add_transitions("200", [Transition(at(0), None, Stage.RETWEET, "added", ("added",))])
    s = suggestion(created_at=at(1))
    stores.suggestions.add_suggestion(s)
    # Then it is found by any spelling of its username
    assert stores.targets.find_target("@Person_X") is not None
    # When it is removed
    assert stores.targets.remove_target("200") == 4
    # Then nothing of it is left, not even in the pending list
    assert stores.targets.find_target("person_x") is None
    assert stores.evidence.interactions("200") == []
    assert stores.suggestions.pending_suggestions(until=at(2)) == []
    with pytest.raises(NotFoundError):
        stores.targets.get_target("200")


def test_a_target_removed_meanwhile_is_not_brought_back_by_a_stage_an_edit_a_follow_or_a_post(
    stores: Stores,
):
    # Given a target removed while an evaluate, an edit and a collect were working on it
    stores.targets.put_target(target())
    stores.targets.remove_target("200")
    # When they write what they found
    with pytest.raises(NotFoundError):
        stores.targets.set_stage("200", Stage.ANSWER, at(1))
    with pytest.raises(NotFoundError):
        stores.targets.edit_target("200", ["lambda"], "met at a meetup")
    follow = evidence(K.FOLLOW, at(1), ev_id="follow:1")
    assert stores.evidence.record_follow_change(follow, follows_us=True) is False
    assert stores.evidence.add_interaction(evidence(K.TARGET_POST, at(1), ev_id="post:1")) is False
    # Then nothing of it is there again: no profile, no evidence, nothing to evaluate
    with pytest.raises(NotFoundError):
        stores.targets.get_target("200")
    assert stores.targets.list_targets() == []
    assert stores.evidence.interactions("200") == []
    assert stores.evidence.marked_for_evaluation() == {}


def test_targets_are_listed_by_username_with_their_stage_topics_and_follow_flag(stores: Stores):
    stores.targets.put_target(target("zoe_dev", "300"))
    stores.targets.put_target(target("Ana_Ops", "301"))
    stores.targets.set_stage("300", Stage.ANSWER, at(2))
    stores.targets.edit_target("300", ["lambda", "dynamodb"], None)
    assert [t.username for t in stores.targets.list_targets()] == ["Ana_Ops", "zoe_dev"]
    zoe = stores.targets.get_target("300")
    assert (zoe.stage, zoe.topics, zoe.follows_us) == (Stage.ANSWER, ("lambda", "dynamodb"), False)


def test_a_target_keeps_its_note_from_adding_to_editing(stores: Stores):
    # Given a target added with a note
    stores.targets.put_target(target("zoe_dev", "300", note="met at re:Invent"))
    assert stores.targets.get_target("300").note == "met at re:Invent"
    # When the note is changed, then it reads back changed, and the rest is kept
    stores.targets.edit_target("300", None, "wrote the Lambda layers post")
    zoe = stores.targets.get_target("300")
    assert (zoe.note, zoe.username) == ("wrote the Lambda layers post", "zoe_dev")
    assert stores.targets.find_target("zoe_dev") == zoe


def test_an_edit_replaces_what_it_gives_and_keeps_the_rest(stores: Stores):
    # Given a target with topics and a note
    stores.targets.put_target(target("zoe_dev", "300", topics=("lambda",), note="met at re:Invent"))
    # When the note alone, then both, are edited
    stores.targets.edit_target("300", None, "runs the meetup")
    assert (stores.targets.get_target("300").topics, stores.targets.get_target("300").note) == (
        ("lambda",),
        "runs the meetup",
    )
    stores.targets.edit_target("300", ["sam", "python"], "wrote the layers post")
    zoe = stores.targets.get_target("300")
    # Then each edit changed what it gave, and kept the rest
    assert (zoe.topics, zoe.note, zoe.username) == (("sam", "python"), "wrote the layers post", "zoe_dev")


def test_a_new_target_is_stored_with_its_added_evidence(stores: Stores):
    # When a target is added with its "added" evidence
    stores.targets.add_target(
        target("zoe_dev", "300"), evidence(K.ADDED, at(0), target_id="300", ev_id="added:1")
    )
    # Then both read back: the profile, and the evidence its stage is worked out from
    history = stores.evidence.history("300")
    assert history.target.username == "zoe_dev"
    assert [(i.id, i.kind) for i in history.interactions] == [("added:1", K.ADDED)]


def test_a_protected_target_is_listed_as_protected(stores: Stores):
    # Given a protected target (search never finds their posts) beside a public one
    stores.targets.add_target(
        target("zoe_dev", "300", protected=True), evidence(K.ADDED, at(0), target_id="300", ev_id="added:1")
    )
    stores.targets.put_target(target("ana_ops", "301"))
    # Then the list collect reads says which is which
    assert {t.id: t.protected for t in stores.targets.list_targets()} == {"300": True, "301": False}


# --- evidence -----------------------------------------------------------------------------------


def test_an_interaction_is_stored_once_by_post_id(stores: Stores):
    # Given a target and one of their posts
    stores.targets.put_target(target())
    p = post("Anyone know a good profiler?", post_id="1003")
    thing = evidence(K.TARGET_POST, at(1), ev_id="1003", the_post=p, is_question=True)
    # When the same post is stored twice (a retried run)
    first, second = stores.evidence.add_interaction(thing), stores.evidence.add_interaction(thing)
    # Then it is there once, intact
    assert (first, second) == (True, False)
    assert stores.evidence.interactions("200") == [thing]


def test_a_posts_links_keep_both_their_destination_and_their_t_co_form(stores: Stores):
    # Given a post whose link X wrapped in t.co
    stores.targets.put_target(target())
    p = post(
        "Halved cold starts https://t.co/AbC",
        post_id="1004",
        urls=("https://example.com/cold",),
        short_urls=("https://t.co/AbC",),
    )
    stores.evidence.add_interaction(evidence(K.TARGET_POST, at(1), ev_id="1004", the_post=p))
    # Then it reads back whole, and reads with the link's destination
    (stored,) = stores.evidence.interactions("200")
    assert stored.post == p
    assert stored.post.readable_text == "Halved cold starts https://example.com/cold"


def test_an_edited_post_reads_back_with_the_ids_of_its_versions(stores: Stores):
    # Given a post its author edited (X's new id 1006, first posted as 1005)
    stores.targets.put_target(target())
    p = post("Halved cold starts, with numbers", post_id="1006", edit_history=("1005", "1006"))
    stores.evidence.add_interaction(evidence(K.TARGET_POST, at(1), ev_id="1006", the_post=p))
    # Then it reads back whole, its first id with it
    (stored,) = stores.evidence.interactions("200")
    assert stored.post == p and stored.post.first_id == "1005"


def test_the_link_library_round_trips_in_the_settings(stores: Stores):
    library = (
        Resource(url="https://example.com/a", title="Cold starts", topics=("lambda", "cold start")),
        Resource(url="https://example.com/b", title="Typing", topics=()),
    )
    stores.settings.put_policy(Policy(links=library))
    assert stores.settings.policy().links == library
    assert stores.settings.policy_and_me()[0].links == library


def test_a_follow_change_and_the_follow_flag_are_written_together_once(stores: Stores):
    stores.targets.put_target(target())
    follow = evidence(K.FOLLOW, at(3), ev_id="follow:20260302T110000Z")
    assert stores.evidence.record_follow_change(follow, True)
    assert not stores.evidence.record_follow_change(follow, True)
    assert stores.targets.get_target("200").follows_us
    assert [i.kind for i in stores.evidence.interactions("200")] == [K.FOLLOW]


def test_transitions_are_appended_once_and_read_oldest_first(stores: Stores):
    t = Transition(at(1), None, Stage.RETWEET, "added as a target", ("added",))
    u = Transition(at(2), Stage.RETWEET, Stage.ANSWER, "thanked you once", ("1002",))
    assert stores.evidence.add_transitions("200", [u]) == 1
    assert stores.evidence.add_transitions("200", [t, u]) == 1
    assert stores.evidence.transitions("200") == [t, u]


# --- suggestions --------------------------------------------------------------------------------


def test_a_suggestion_waits_for_a_digest_then_leaves_the_pending_list(stores: Stores):
    stores.targets.put_target(target())
    s = suggestion(created_at=at(1))
    assert stores.suggestions.add_suggestion(s)
    assert not stores.suggestions.add_suggestion(s)
    assert stores.suggestions.pending_suggestions(until=at(0)) == []
    assert stores.suggestions.pending_suggestions(until=at(2)) == [s]
    stores.suggestions.mark_sent([suggestion_ref(s)], "2026-03-03")
    assert stores.suggestions.pending_suggestions(until=at(2)) == []
    assert stores.suggestions.suggestions_by_ref([suggestion_ref(s)]) == [s]
    assert stores.evidence.history("200").suggestions == [s]  # still kept under its target


def test_pending_suggestions_come_oldest_first_and_by_ref_in_the_order_asked(stores: Stores):
    late = suggestion(post_id="1002", created_at=at(3))
    early = suggestion(SuggestionKind.ANSWER, post_id="1001", created_at=at(1), target_id="201")
    for s in (late, early):
        stores.suggestions.add_suggestion(s)
    assert stores.suggestions.pending_suggestions(until=at(4)) == [early, late]
    refs = [suggestion_ref(late), "999|retweet#1", suggestion_ref(early)]
    assert stores.suggestions.suggestions_by_ref(refs) == [late, early]


def test_expiring_takes_suggestions_out_of_the_pending_list_and_keeps_them_readable(stores: Stores):
    sent, stale = suggestion(post_id="1001", created_at=at(1)), suggestion(post_id="1002", created_at=at(1))
    stores.suggestions.add_suggestion(sent)
    stores.suggestions.add_suggestion(stale)
    stores.suggestions.mark_sent([suggestion_ref(sent)], "2026-03-02")
    # When both are expired (and one that never existed)
    stores.suggestions.expire_suggestions(
        [suggestion_ref(sent), suggestion_ref(stale), "9|x#1"], "2026-03-03"
    )
    # Then neither is pending, and both can still be read
    assert stores.suggestions.pending_suggestions(until=at(5)) == []
    assert len(stores.suggestions.suggestions_by_ref([suggestion_ref(sent), suggestion_ref(stale)])) == 2


def test_a_circle_suggestion_keeps_each_member_with_why_and_where(stores: Stores):
    # Given a circle suggestion whose members carry a reason and a post
    members = (
        CircleMember("dev_kim", "@person_x replied to them 3 times in 2 days", "501", "9002", "dev_kim"),
        CircleMember("friend_y", "@person_x named them in 1 post in 1 day", None, "p4", "person_x", "Hi 👋"),
    )
    s = suggestion(SuggestionKind.ENGAGE_CIRCLE, post_id=None, users=("dev_kim", "friend_y"), circle=members)
    stores.suggestions.add_suggestion(s)
    # When it is read back for a digest / Then every member is there, in order, as written
    assert stores.suggestions.pending_suggestions(until=at(1)) == [s]
    assert stores.suggestions.suggestions_by_ref([suggestion_ref(s)])[0].circle == members


# --- digests ------------------------------------------------------------------------------------


def test_a_weekly_look_back_is_claimed_once_beside_its_day_and_is_not_the_last_digest(stores: Stores):
    # Given the 2026-03-08 digest sent, then that day's look-back sent
    assert stores.digests.claim_digest("2026-03-08", [], at(1))
    stores.digests.complete_digest("2026-03-08", "daily", "m1", at(1))
    assert stores.digests.claim_digest(lookback_key("2026-03-08"), [], at(2))
    assert not stores.digests.claim_digest(lookback_key("2026-03-08"), [], at(3))
    stores.digests.complete_digest(lookback_key("2026-03-08"), "weekly", "m2", at(2))
    # Then the last digest before the 9th is still the daily one, and the look-back reads as sent
    last = stores.digests.last_sent_digest(before="2026-03-09")
    assert last is not None and last.local_date == "2026-03-08"
    weekly = stores.digests.digest(lookback_key("2026-03-08"))
    assert weekly is not None and weekly.status == "sent"


def given_a_day_claimed_with_two_targets_retweets(stores: Stores) -> list[str]:
    """Two targets, a pending retweet each, both claimed for the 2026-03-03 digest: their refs."""
    made = [suggestion(created_at=at(1)), suggestion(post_id="2001", created_at=at(1), target_id="201")]
    for s, t in zip(made, (target(), target("zoe_dev", "201")), strict=True):
        stores.targets.put_target(t)
        stores.suggestions.add_suggestion(s)
    refs = [suggestion_ref(s) for s in made]
    assert stores.digests.claim_digest("2026-03-03", refs, at(2))
    return refs


def test_completing_a_day_marks_the_suggestions_it_carried_sent(stores: Stores):
    # Given a day claimed with two targets' retweets
    refs = given_a_day_claimed_with_two_targets_retweets(stores)
    # When the day is completed with them
    stores.digests.complete_digest("2026-03-03", "Rapport · 2026-03-03", "m-3", at(3), refs=refs)
    # Then the day reads as sent, and neither retweet waits for a digest any more
    record = stores.digests.digest("2026-03-03")
    assert record is not None
    assert (record.status, record.message_id, record.sent_at) == ("sent", "m-3", at(3))
    assert stores.suggestions.pending_suggestions(until=at(4)) == []
    assert stores.evidence.history("201").pending == frozenset()
    assert len(stores.suggestions.suggestions_by_ref(refs)) == 2  # still kept under their targets


def test_a_target_removed_since_the_claim_neither_blocks_its_day_nor_comes_back(stores: Stores):
    # Given a day claimed with two targets' retweets, and one target removed before it is completed
    refs = given_a_day_claimed_with_two_targets_retweets(stores)
    assert stores.targets.remove_target("201") == 2
    # When the day is completed with both refs
    stores.digests.complete_digest("2026-03-03", "Rapport · 2026-03-03", "m-3", at(3), refs=refs)
    # Then the day reads as sent, the other retweet is marked, and nothing of the removed one is back
    record = stores.digests.digest("2026-03-03")
    assert record is not None and record.status == "sent"
    assert stores.suggestions.pending_suggestions(until=at(4)) == []
    assert stores.suggestions.suggestions_by_ref(refs) == stores.suggestions.suggestions_by_ref(refs[:1])
    assert stores.targets.remove_target("201") == 0


def test_a_day_carrying_more_suggestions_than_one_transaction_holds_marks_them_all(stores: Stores):
    # Given a day claimed with 101 retweets of one target: more than DynamoDB's 100 items a transaction
    stores.targets.put_target(target())
    made = [suggestion(post_id=str(5000 + n), created_at=at(1)) for n in range(101)]
    for s in made:
        stores.suggestions.add_suggestion(s)
    refs = [suggestion_ref(s) for s in made]
    stores.digests.claim_digest("2026-03-03", refs, at(2))
    # When the day is completed with all of them
    stores.digests.complete_digest("2026-03-03", "Rapport · 2026-03-03", "m-3", at(3), refs=refs)
    # Then every one is marked sent, and the day with them
    assert stores.suggestions.pending_suggestions(until=at(4)) == []
    record = stores.digests.digest("2026-03-03")
    assert record is not None and record.status == "sent"


def test_a_day_can_be_claimed_for_a_digest_only_once(stores: Stores):
    assert stores.digests.claim_digest("2026-03-03", ["200|retweet#1"], at(1))
    assert not stores.digests.claim_digest("2026-03-03", [], at(2))
    record = stores.digests.digest("2026-03-03")
    assert record is not None
    assert (record.status, record.suggestion_refs) == ("sending", ("200|retweet#1",))


def test_the_last_sent_digest_is_the_latest_completed_before_the_day(stores: Stores):
    for day in ("2026-03-01", "2026-03-02", "2026-03-03"):
        stores.digests.claim_digest(day, [], at(0))
    stores.digests.complete_digest("2026-03-01", "Rapport · 2026-03-01", "m-1", at(1))
    stores.digests.complete_digest("2026-03-03", "Rapport · 2026-03-03", "m-3", at(2))
    last = stores.digests.last_sent_digest(before="2026-03-03")
    assert last is not None
    assert (last.local_date, last.status, last.message_id, last.sent_at) == (
        "2026-03-01",
        "sent",
        "m-1",
        at(1),
    )
    assert stores.digests.last_sent_digest(before="2026-03-01") is None
    assert stores.digests.digest("2026-03-09") is None


def test_the_latest_digest_is_the_latest_day_claimed_sent_or_not(stores: Stores):
    assert stores.digests.latest_digest() is None
    stores.digests.claim_digest("2026-03-02", [], at(0))
    stores.digests.complete_digest("2026-03-02", "Rapport · 2026-03-02", "m-2", at(1))
    stores.digests.claim_digest("2026-03-03", ["200|retweet#1"], at(2))
    latest = stores.digests.latest_digest()
    assert latest is not None
    assert (latest.local_date, latest.status, latest.claimed_at) == ("2026-03-03", "sending", at(2))


def test_a_quiet_day_is_recorded_once_and_is_not_a_digest_sent(stores: Stores):
    stores.digests.note_quiet_day("2026-03-03", at(0))
    stores.digests.note_quiet_day("2026-03-03", at(1))
    latest = stores.digests.latest_digest()
    assert latest is not None
    assert (latest.local_date, latest.status, latest.claimed_at) == ("2026-03-03", "quiet", at(0))
    assert stores.digests.last_sent_digest("2026-03-04") is None
    assert not stores.digests.claim_digest("2026-03-03", [], at(2))


# --- marks: targets to evaluate -----------------------------------------------------------------


def test_new_evidence_marks_its_target_until_an_evaluation_clears_the_mark_it_read(stores: Stores):
    # Given a thanks and a follow stored for one target, and a post for another
    stores.targets.put_target(target())
    stores.targets.put_target(target("zoe_dev", "300"))
    stores.evidence.add_interaction(evidence(K.THANKS, at(1), ev_id="1002"))
    stores.evidence.record_follow_change(evidence(K.FOLLOW, at(2), ev_id="follow:1"), True)
    stores.evidence.add_interaction(evidence(K.TARGET_POST, at(1), ev_id="3001", target_id="300"))
    marks = stores.evidence.marked_for_evaluation()
    assert marks.keys() == {"200", "300"}
    # When the same evidence is stored again (a retried run), the marks do not move
    assert not stores.evidence.add_interaction(evidence(K.THANKS, at(1), ev_id="1002"))
    assert stores.evidence.marked_for_evaluation() == marks
    # And when new evidence comes for 200 after its marks were read, clearing what was read leaves it
    stores.evidence.add_interaction(evidence(K.MENTION, at(3), ev_id="1003"))
    stores.evidence.clear_mark("200", marks["200"])
    stores.evidence.clear_mark("300", marks["300"])
    assert stores.evidence.marked_for_evaluation().keys() == {"200"}
    # Then clearing the latest mark clears it
    stores.evidence.clear_mark("200", stores.evidence.marked_for_evaluation()["200"])
    assert stores.evidence.marked_for_evaluation() == {}


# --- spend and runs -----------------------------------------------------------------------------


def test_a_run_s_spend_is_added_once_however_often_it_is_retried(stores: Stores):
    day = date(2026, 3, 1)
    stores.spend.add_spend(day, Spend(2, 10, 1, USD.of("0.06")), billed=["users:1"], run="2026-03-01T10:00")
    stores.spend.add_spend(day, Spend(2, 10, 1, USD.of("0.06")), billed=["users:1"], run="2026-03-01T10:00")
    stores.spend.add_spend(day, Spend(1, 0, 0, USD.of("0.001")), run="2026-03-01T11:00")
    assert stores.spend.spend(day) == Spend(3, 10, 1, USD.of("0.061"))


def test_spend_adds_up_per_day_and_over_a_month(stores: Stores):
    day, next_day = date(2026, 3, 1), date(2026, 3, 2)
    stores.spend.add_spend(day, Spend(1, 10, 2, USD.of("0.07")), billed=["users:1"])
    stores.spend.add_spend(day, Spend(1, 0, 1, USD.of("0.01"), followers=3), billed=["users:2"])
    stores.spend.add_spend(next_day, Spend(requests=1, cost=USD.of("0.001"), deferred_for_budget=2))
    assert stores.spend.spend(day) == Spend(2, 10, 3, USD.of("0.08"), followers=3)
    assert stores.spend.spend(date(2026, 3, 9)) == Spend()
    # And one read gives each day with its spend and the users X billed that day
    days = stores.spend.days(date(2026, 2, 28), date(2026, 3, 31))
    assert days == {
        day: DaySpend(Spend(2, 10, 3, USD.of("0.08"), followers=3), frozenset({"users:1", "users:2"})),
        next_day: DaySpend(Spend(requests=1, cost=USD.of("0.001"), deferred_for_budget=2)),
    }
    assert stores.spend.days(date(2026, 3, 2), date(2026, 3, 2)).keys() == {next_day}


def test_a_retried_run_overwrites_its_own_record(stores: Stores):
    stores.spend.add_run(at(0), {"stored": 1})
    stores.spend.add_run(at(0), {"stored": 2})
    stores.spend.add_run(at(2), {"stored": 0})
    assert stores.spend.runs(at(0), at(1)) == [{"stored": 2}]
    assert stores.spend.runs(at(0), at(2)) == [{"stored": 2}, {"stored": 0}]


# --- collector state and settings ---------------------------------------------------------------


def test_cursors_and_collector_state_are_read_back_at_once(stores: Stores):
    stores.collector.set_cursors({"me:posts": "10", "target:200": "11"}, at(0))
    stores.collector.set_cursors({"me:posts": "12"}, at(1))
    stores.collector.set_collect_state("rotation", "200", at(1))
    stores.collector.set_collect_state("followers", {"head": ["7"], "new_per_read": 0.5}, at(1))
    assert stores.collector.cursors() == {"me:posts": "12", "target:200": "11"}
    assert stores.collector.collect_states() == {
        "rotation": "200",
        "followers": {"head": ["7"], "new_per_read": 0.5},
    }


def test_settings_and_me_round_trip(stores: Stores):
    assert stores.settings.policy() == Policy()
    assert stores.settings.me() is None
    stores.settings.put_policy(Policy(thanks_to_advance=2, timezone="Europe/London"))
    stores.settings.put_me("100", "ana_builds")
    assert stores.settings.policy().thanks_to_advance == 2
    assert stores.settings.me() == {"id": "100", "username": "ana_builds"}
    policy, me = stores.settings.policy_and_me()
    assert (policy.thanks_to_advance, me) == (2, {"id": "100", "username": "ana_builds"})


def test_a_target_history_is_read_at_once_with_its_evidence_transitions_and_suggestions(stores: Stores):
    # Given a target with two interactions, a transition and a suggestion, and another target
    stores.targets.put_target(target())
    stores.targets.put_target(target("other", "201"))
    first = evidence(K.ADDED, at(0), ev_id="added")
    p = post("Anyone know a good profiler?", post_id="1003")
    second = evidence(K.TARGET_POST, at(1), ev_id="1003", the_post=p, is_question=True)
    stores.evidence.add_interaction(second)
    stores.evidence.add_interaction(first)
    step = Transition(at(0), None, Stage.RETWEET, "added", ("added",))
    stores.evidence.add_transitions("200", [step])
    s = suggestion(created_at=at(1))
    stores.suggestions.add_suggestion(s)
    # When its history is read
    history = stores.evidence.history("200")
    # Then it holds exactly what the separate reads hold, and nothing of the other target
    assert history.target == stores.targets.get_target("200")
    assert history.interactions == stores.evidence.interactions("200")
    assert history.transitions == [step]
    assert history.suggestions == [s]
    # And a target that does not exist is not found
    with pytest.raises(NotFoundError):
        stores.evidence.history("999")


def test_a_target_history_tells_which_of_its_suggestions_still_wait_for_a_digest(stores: Stores):
    # Given a target with three suggestions: one sent in a digest, one expired, one waiting
    stores.targets.put_target(target())
    sent, old, waiting = (suggestion(post_id=p, created_at=at(i)) for i, p in enumerate(("1", "2", "3")))
    for s in (sent, old, waiting):
        stores.suggestions.add_suggestion(s)
    stores.suggestions.mark_sent([suggestion_ref(sent)], "2026-03-03")
    stores.suggestions.expire_suggestions([suggestion_ref(old)], "2026-03-03")
    # When its history is read
    history = stores.evidence.history("200")
    # Then only the waiting one is pending, and all three are there
    assert history.pending == {waiting.key}
    assert len(history.suggestions) == 3


# --- leases -------------------------------------------------------------------------------------

FIVE_MINUTES = timedelta(seconds=300)


def test_a_lease_is_held_by_one_run_at_a_time_until_it_is_released(stores: Stores):
    # Given a run holding the collect lease
    assert stores.leases.acquire("collect", "run-1", at(0), FIVE_MINUTES)
    # Then another run cannot take it while it is held, nor release it
    assert not stores.leases.acquire("collect", "run-2", at(0) + timedelta(seconds=299), FIVE_MINUTES)
    stores.leases.release("collect", "run-2")
    assert not stores.leases.acquire("collect", "run-2", at(0) + timedelta(seconds=1), FIVE_MINUTES)
    # And another function's lease is its own
    assert stores.leases.acquire("digest", "run-2", at(0), FIVE_MINUTES)
    # When the holder releases it
    stores.leases.release("collect", "run-1")
    # Then the next run takes it at once
    assert stores.leases.acquire("collect", "run-2", at(0) + timedelta(seconds=2), FIVE_MINUTES)


def test_a_retry_of_the_holder_takes_its_own_lease_again(stores: Stores):
    assert stores.leases.acquire("evaluate", "request-1", at(0), FIVE_MINUTES)
    assert stores.leases.acquire("evaluate", "request-1", at(0) + timedelta(seconds=60), FIVE_MINUTES)
    # And its new expiry counts from the retry: another run is still kept out after the first expiry
    assert not stores.leases.acquire("evaluate", "request-2", at(0) + timedelta(seconds=330), FIVE_MINUTES)


def test_a_crashed_runs_lease_expires_after_its_ttl(stores: Stores):
    # Given a run that took the lease and never released it (killed at its timeout)
    assert stores.leases.acquire("digest", "crashed", at(0), FIVE_MINUTES)
    # Then the lease keeps others out until the ttl has passed, and not after
    assert not stores.leases.acquire("digest", "next", at(0) + timedelta(seconds=299), FIVE_MINUTES)
    assert stores.leases.acquire("digest", "next", at(0) + FIVE_MINUTES, FIVE_MINUTES)
    # And the crashed run, were it to release late, no longer frees what the next run holds
    stores.leases.release("digest", "crashed")
    assert not stores.leases.acquire("digest", "third", at(0) + timedelta(seconds=301), FIVE_MINUTES)


def test_a_throttle_lets_in_the_first_requests_of_each_window_only(stores: Stores):
    # Given a limit of two a minute
    minute, window = at(1), timedelta(minutes=1)
    # When four requests come in that minute, then two pass and two are turned away
    assert [stores.leases.admit("feedback", minute, window, 2) for _ in range(4)] == [
        True,
        True,
        False,
        False,
    ]
    # And the next minute starts counting again, whatever else the lease store holds
    assert stores.leases.acquire("digest", "run-1", minute, timedelta(minutes=5))
    assert stores.leases.admit("feedback", minute + window, window, 2)


def test_an_answer_from_the_digest_is_stored_once_with_its_time_and_snooze_end(stores: Stores):
    # Given a snooze answer stored as evidence
    stores.targets.put_target(target())
    snooze = replace(
        evidence(K.SNOOZED, at(2), ev_id="feedback:snooze-2w:retweet#1001", refers_to="retweet#1001"),
        until=at(2, days=14),
    )
    assert stores.evidence.add_interaction(snooze)
    # When the same link is used again (a later click), then nothing new is stored
    assert not stores.evidence.add_interaction(replace(snooze, at=at(5), until=at(5, days=14)))
    # And the first answer reads back whole
    assert stores.evidence.interactions("200") == [snooze]
