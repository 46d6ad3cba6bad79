"""Suggestions, under their target's key; unsent ones also in the sparse PENDING index, by time."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from rapport.adapters.dynamodb.table import (
    PENDING,
    SuggestionItem,
    iso,
    save_once,
    target_pk,
    update_if,
)
from rapport.domain.model import CircleMember, Suggestion, SuggestionKind

# Marking a suggestion sent never re-creates one removed since (its target removed): no stub item.
SENT_IF = SuggestionItem.sk.exists()


class DynamoSuggestionStore:
    def add_suggestion(self, s: Suggestion) -> bool:
        item = SuggestionItem(
            target_pk(s.target_id),
            f"S#{s.key}",
            gsi1pk=PENDING,
            gsi1sk=f"{iso(s.created_at)}#{s.target_id}#{s.key}",
            kind=s.kind.value,
            target_id=s.target_id,
            target_username=s.target_username,
            created_at=s.created_at,
            reason=s.reason,
            post_id=s.post_id,
            post_text=s.post_text,
            post_author_username=s.post_author_username,
            users=list(s.users),
            circle=_circle_json(s.circle),
            draft=s.draft,
            score=s.score,
        )
        return save_once(item)

    def pending_suggestions(self, until: datetime) -> list[Suggestion]:
        items = SuggestionItem.gsi1.query(PENDING, SuggestionItem.gsi1sk <= iso(until) + "~")
        return [suggestion_from_item(i) for i in items if isinstance(i, SuggestionItem)]

    def suggestions_by_ref(self, refs: Iterable[str]) -> list[Suggestion]:
        refs = list(refs)
        keys = [tuple(ref.split("|", 1)) for ref in refs]
        found = {
            f"{i.target_id}|{i.sk[2:]}": suggestion_from_item(i)
            for i in SuggestionItem.batch_get([(target_pk(t), f"S#{k}") for t, k in keys])
        }
        return [found[ref] for ref in refs if ref in found]

    def mark_sent(self, refs: Iterable[str], local_date: str) -> None:
        self._unpend(refs, SuggestionItem.digest_date.set(local_date), SENT_IF)

    def expire_suggestions(self, refs: Iterable[str], local_date: str) -> None:
        condition = SuggestionItem.sk.exists() & SuggestionItem.digest_date.does_not_exist()
        self._unpend(refs, SuggestionItem.expired_on.set(local_date), condition)

    def _unpend(self, refs: Iterable[str], outcome: Action, condition: Condition) -> None:
        """Record what became of each suggestion and drop it from the sparse pending index."""
        for ref in refs:  # refused: removed since, or already settled, so nothing to change
            update_if(suggestion_item(ref), _unpended(outcome), condition)


def suggestion_item(ref: str) -> SuggestionItem:
    """The key of the suggestion ``ref`` ("target_id|key") names, to update."""
    target_id, key = ref.split("|", 1)
    return SuggestionItem(target_pk(target_id), f"S#{key}")


def sent_actions(local_date: str) -> list[Action]:
    """What marking a suggestion sent in that day's digest writes: its day, and out of PENDING."""
    return _unpended(SuggestionItem.digest_date.set(local_date))


def _unpended(outcome: Action) -> list[Action]:
    return [outcome, SuggestionItem.gsi1pk.remove(), SuggestionItem.gsi1sk.remove()]


def suggestion_from_item(i: SuggestionItem) -> Suggestion:
    return Suggestion(
        kind=SuggestionKind(i.kind),
        target_id=i.target_id,
        target_username=i.target_username,
        created_at=i.created_at,
        reason=i.reason,
        post_id=i.post_id,
        post_text=i.post_text,
        post_author_username=i.post_author_username,
        users=tuple(i.users or ()),
        circle=_circle_from_json(i.circle),
        draft=i.draft,
        score=float(i.score or 0),
    )


def _circle_json(members: tuple[CircleMember, ...]) -> str | None:
    return json.dumps([asdict(m) for m in members], ensure_ascii=False) if members else None


def _circle_from_json(raw: str | None) -> tuple[CircleMember, ...]:
    return tuple(CircleMember(**m) for m in json.loads(raw)) if raw else ()
