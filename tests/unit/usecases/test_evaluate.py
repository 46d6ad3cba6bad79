"""Evaluate on in-memory stores: replaying a target's evidence stores its transitions and suggestions once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from rapport.domain.model import InteractionKind as K
from rapport.domain.model import Stage, SuggestionKind
from rapport.usecases.evaluate import evaluate
from rapport.usecases.ports import EvidenceStore, Stores
from tests.factories import ME, ME_ID, added, at, evidence, post, target
from tests.fakes import memory_stores, removed_after


def a_target_with_a_useful_post() -> Stores:
    stores = memory_stores()
    stores.settings.put_me(ME_ID, ME)
    stores.targets.put_target(target())
    stores.evidence.add_interaction(added())
    useful = post("How we halved cold starts https://example.com/a", when=at(1), post_id="1001")
    stores.evidence.add_interaction(evidence(K.TARGET_POST, at(1), ev_id="1001", the_post=useful))
    return stores


def test_a_new_target_starts_step_1_with_a_retweet_to_make():
    # Given a target just added, who posted something useful
    stores = a_target_with_a_useful_post()
    # When it is evaluated
    report = evaluate(stores, ["200"], at(2))
    # Then its first transition and a retweet suggestion are stored, waiting for a digest
    assert [(t.from_stage, t.to_stage) for t in stores.evidence.transitions("200")] == [(None, Stage.RETWEET)]
    (pending,) = stores.suggestions.pending_suggestions(until=at(3))
    assert (pending.kind, pending.post_id) == (SuggestionKind.RETWEET, "1001")
    assert (report.evaluated, report.suggestions) == (1, 1)


def test_evaluating_again_stores_nothing_twice():
    stores = a_target_with_a_useful_post()
    evaluate(stores, ["200"], at(2))
    # When the same event is evaluated again (a redelivery)
    again = evaluate(stores, ["200"], at(2))
    # Then nothing new is stored
    assert (again.transitions, again.suggestions) == ([], 0)
    assert len(stores.evidence.transitions("200")) == 1
    assert len(stores.suggestions.pending_suggestions(until=at(3))) == 1


def test_a_thanks_after_our_retweet_moves_the_target_to_step_2():
    # Given we retweeted their post and they thanked us
    stores = a_target_with_a_useful_post()
    stores.evidence.add_interaction(evidence(K.OUR_RETWEET, at(1.5), ev_id="5001", refers_to="1001"))
    stores.evidence.add_interaction(evidence(K.THANKS, at(2), ev_id="1002"))
    # When it is evaluated
    report = evaluate(stores, ["200"], at(3))
    # Then the target is at step 2, and the stored history says why
    assert stores.targets.get_target("200").stage is Stage.ANSWER
    assert stores.evidence.transitions("200")[-1].to_stage is Stage.ANSWER
    assert [t.to_stage for _, t in report.transitions][-1] is Stage.ANSWER


def test_a_target_removed_since_collect_is_reported_missing():
    stores = a_target_with_a_useful_post()
    report = evaluate(stores, ["200", "999"], at(2))
    assert report.missing == ["999"]
    assert report.evaluated == 1


def test_a_target_with_new_evidence_is_evaluated_whatever_the_event_names():
    # Given a thanks stored by a collect whose event never reached evaluate (dropped, or a retried
    # collect that found its evidence already stored and so announced nobody)
    stores = a_target_with_a_useful_post()
    evaluate(stores, ["200"], at(2))
    stores.evidence.add_interaction(evidence(K.OUR_RETWEET, at(2.5), ev_id="5001", refers_to="1001"))
    stores.evidence.add_interaction(evidence(K.THANKS, at(3), ev_id="1002"))
    # When the next run's event names nobody
    report = evaluate(stores, [], at(4))
    # Then the target moves on anyway, and is not evaluated again by the run after
    assert stores.targets.get_target("200").stage is Stage.ANSWER
    assert [t.to_stage for _, t in report.transitions] == [Stage.ANSWER]
    assert evaluate(stores, [], at(5)).evaluated == 0


class _CollectMeanwhile:
    """The evidence store, with collect storing a thanks just after evaluate has read the marks."""

    def __init__(self, store: EvidenceStore) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def marked_for_evaluation(self) -> dict[str, int]:
        marks = self.store.marked_for_evaluation()
        self.store.add_interaction(evidence(K.THANKS, at(3), ev_id="1002"))
        return marks


def test_evidence_stored_while_a_target_is_evaluated_waits_for_the_next_run():
    # Given a marked target, and collect storing a thanks of theirs just after evaluate read the marks
    stores = a_target_with_a_useful_post()
    meanwhile = replace(stores, evidence=cast(EvidenceStore, _CollectMeanwhile(stores.evidence)))
    # When evaluate runs over it
    evaluate(meanwhile, [], at(4))
    # Then the target is still marked, so the thanks is evaluated by the next run
    assert list(stores.evidence.marked_for_evaluation()) == ["200"]


def test_a_removed_target_s_mark_is_cleared():
    stores = a_target_with_a_useful_post()
    stores.targets.remove_target("200")
    assert evaluate(stores, [], at(2)).missing == ["200"]
    assert stores.evidence.marked_for_evaluation() == {}


def test_a_target_removed_while_it_is_evaluated_is_reported_missing_and_gets_no_suggestion():
    # Given a target with a useful post, removed just after evaluate read its history
    stores = a_target_with_a_useful_post()
    racing = removed_after(stores, "evidence", "history", lambda history: [history.target.id])

    # When it is evaluated
    report = evaluate(racing, ["200"], at(2))

    # Then it is reported missing, and nothing of it is written again: no profile, no stage history,
    # no suggestion to reach a digest
    assert report.missing == ["200"]
    assert stores.targets.list_targets() == []
    assert stores.evidence.transitions("200") == []
    assert stores.suggestions.pending_suggestions(until=at(3)) == []
