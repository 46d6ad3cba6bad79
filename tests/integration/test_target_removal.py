"""Removing a target on DynamoDB: a removal cut short can be asked for again, and leaves nothing behind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rapport.domain.model import InteractionKind as K
from rapport.domain.model import Stage, Transition
from rapport.usecases.ports import Stores
from rapport_local.stack import intercepting
from tests.factories import at, evidence, suggestion, target


class Killed(Exception):
    """The function's process ending mid-call (a timeout), as the next call would see it."""


class KilledAtTheSecond:
    """Sees each botocore call (``intercepting``): the second ``operation`` never happens."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.seen = 0

    def call(self, original: Callable[..., Any], client: Any, operation: str, params: Any) -> Any:
        if operation == self.operation:
            self.seen += 1
            if self.seen == 2:
                raise Killed(operation)
        return original(client, operation, params)


def test_a_removal_cut_short_leaves_the_target_to_remove_again_and_then_nothing(stores: Stores):
    # Given a target with a retweet of ours, a long stage history (thirty pauses and resumes) and a
    # pending suggestion: more items than one batch of deletes (25), most stored after the profile
    stores.targets.put_target(target())
    stores.evidence.add_interaction(evidence(K.OUR_RETWEET, at(0), ev_id="rt"))
    stages = [Stage.RETWEET, Stage.PAUSED] * 15
    history = [Transition(at(hours=n), None, stage, "by hand", ()) for n, stage in enumerate(stages)]
    stores.evidence.add_transitions("200", history)
    stores.suggestions.add_suggestion(suggestion(created_at=at(31)))

    # When its removal is cut short after the first batch of deletes
    with intercepting(KilledAtTheSecond("BatchWriteItem")), pytest.raises(Killed):
        stores.targets.remove_target("200")

    # Then it is still a target, so the person can ask again
    assert stores.targets.find_target("person_x") is not None
    # And asked again, everything left of it goes, its pending suggestion too
    assert stores.targets.remove_target("200") > 0
    assert stores.targets.find_target("person_x") is None
    assert stores.evidence.interactions("200") == []
    assert stores.suggestions.pending_suggestions(until=at(48)) == []
