"""Targets, and what is learned about each: interactions and stage history, under the target's key."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action

from rapport.adapters.dynamodb.suggestions import suggestion_from_item
from rapport.adapters.dynamodb.table import (
    TARGETS,
    InteractionItem,
    Item,
    MarkItem,
    SuggestionItem,
    TargetItem,
    TransitionItem,
    delete_if,
    is_conditional_failure,
    iso,
    query_partition,
    save_once,
    target_pk,
    transaction,
    update_if,
)
from rapport.domain.model import Interaction, InteractionKind, Post, Stage, Target, Transition
from rapport.usecases.ports import NotFoundError, TargetHistory

PROFILE = "PROFILE"
EVALUATE = "EVALUATE"  # the partition of targets marked to evaluate: one query finds them all


class DynamoTargetStore:
    def put_target(self, target: Target) -> None:
        _profile_item(target).save()

    def add_target(self, target: Target, added: Interaction) -> None:
        with transaction() as tx:
            tx.save(_profile_item(target))
            tx.save(_interaction_item(added))

    def get_target(self, target_id: str) -> Target:
        try:
            return _target(TargetItem.get(target_pk(target_id), PROFILE))
        except DoesNotExist as exc:
            raise NotFoundError(f"no target with id {target_id}") from exc

    def find_target(self, username: str) -> Target | None:
        key = username.lstrip("@").lower()
        for item in TargetItem.gsi1.query(TARGETS, TargetItem.gsi1sk == key):
            if isinstance(item, TargetItem):
                return _target(item)
        return None

    def list_targets(self) -> list[Target]:
        return [_target(i) for i in TargetItem.gsi1.query(TARGETS) if isinstance(i, TargetItem)]

    def set_stage(self, target_id: str, stage: Stage, since: datetime | None) -> None:
        since_action = TargetItem.stage_since.set(since) if since else TargetItem.stage_since.remove()
        _update_profile(target_id, [TargetItem.stage.set(stage.value), since_action])

    def edit_target(self, target_id: str, topics: Iterable[str] | None, note: str | None) -> None:
        actions: list[Action] = []
        if topics is not None:
            actions.append(TargetItem.topics.set(list(topics)))
        if note is not None:
            actions.append(TargetItem.note.set(note))
        if actions:
            _update_profile(target_id, actions)

    def remove_target(self, target_id: str) -> int:
        # The profile goes last: it is what finds the target (by username), so a removal cut short
        # (a timeout, a throttled batch) leaves a target that `remove` can be asked for again, never
        # a history, or pending suggestions, that nothing can find to remove.
        deleted, profile = 0, None
        with Item.batch_write() as batch:
            for item in Item.query(target_pk(target_id)):
                if item.sk == PROFILE:
                    profile = item
                    continue
                batch.delete(item)
                deleted += 1
        if profile is not None:
            profile.delete()
            deleted += 1
        return deleted


class DynamoEvidenceStore:
    def add_interaction(self, interaction: Interaction) -> bool:
        """The evidence (if new) of a target that is there; False when nothing was stored."""
        return self._store_new(interaction)

    def record_follow_change(self, interaction: Interaction, follows_us: bool) -> bool:
        """The follow or unfollow (if new) with the profile's flag; nothing if the target is gone."""
        return self._store_new(interaction, [TargetItem.follows_us.set(follows_us)])

    def _store_new(self, interaction: Interaction, profile_actions: list[Action] | None = None) -> bool:
        """The evidence (if new), its target's mark and ``profile_actions`` in one transaction, or
        nothing: also nothing when the target's profile is gone (removed while a run read its posts),
        so a removal leaves no evidence behind that no listing would ever find.

        One write: a crash can never leave stored evidence without its mark, so a retried collect
        that finds its evidence already there still has it evaluated.
        """
        mark = MarkItem(EVALUATE, interaction.target_id)
        profile_key = target_pk(interaction.target_id)
        try:
            with transaction() as tx:
                tx.save(_interaction_item(interaction), condition=InteractionItem.sk.does_not_exist())
                tx.update(mark, actions=[MarkItem.mark.add(1), MarkItem.evidence_at.set(interaction.at)])
                if profile_actions:
                    profile = TargetItem(profile_key, PROFILE)
                    tx.update(profile, actions=profile_actions, condition=TargetItem.sk.exists())
                else:
                    tx.condition_check(TargetItem, profile_key, PROFILE, condition=TargetItem.sk.exists())
        except TransactWriteError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def marked_for_evaluation(self) -> dict[str, int]:
        return {i.sk: int(i.mark) for i in MarkItem.query(EVALUATE)}

    def clear_mark(self, target_id: str, mark: int) -> None:
        delete_if(MarkItem(EVALUATE, target_id), MarkItem.mark == mark)

    def interactions(self, target_id: str) -> list[Interaction]:
        items = InteractionItem.query(target_pk(target_id), InteractionItem.sk.startswith("I#"))
        return [_interaction(target_id, i) for i in items]

    def add_transitions(self, target_id: str, transitions: Iterable[Transition]) -> int:
        new = 0
        for t in transitions:
            item = TransitionItem(
                target_pk(target_id),
                f"T#{iso(t.at)}#{t.to_stage.value}",
                at=t.at,
                from_stage=t.from_stage.value if t.from_stage else None,
                to_stage=t.to_stage.value,
                reason=t.reason,
                evidence=list(t.evidence),
            )
            new += save_once(item)
        return new

    def transitions(self, target_id: str) -> list[Transition]:
        items = TransitionItem.query(target_pk(target_id), TransitionItem.sk.startswith("T#"))
        return [_transition(i) for i in items]

    def history(self, target_id: str) -> TargetHistory:
        # One query of the target's partition instead of one per kind of record (profile, I#, S#, T#).
        target: Target | None = None
        interactions: list[Interaction] = []
        transitions: list[Transition] = []
        suggestions = []
        pending: set[str] = set()
        for raw in query_partition(target_pk(target_id)):
            sk = raw["sk"]["S"]
            if sk == PROFILE:
                target = _target(TargetItem.from_raw_data(raw))
            elif sk.startswith("I#"):
                interactions.append(_interaction(target_id, InteractionItem.from_raw_data(raw)))
            elif sk.startswith("T#"):
                transitions.append(_transition(TransitionItem.from_raw_data(raw)))
            elif sk.startswith("S#"):
                item = SuggestionItem.from_raw_data(raw)
                suggestions.append(suggestion_from_item(item))
                if not item.digest_date and not item.expired_on:  # neither sent nor retired
                    pending.add(suggestions[-1].key)
        if target is None:
            raise NotFoundError(f"no target with id {target_id}")
        return TargetHistory(target, interactions, transitions, suggestions, frozenset(pending))


def post_to_json(post: Post) -> str:
    data = asdict(post)
    data["created_at"] = iso(post.created_at)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def post_from_json(raw: str) -> Post:
    data = json.loads(raw)
    data["created_at"] = datetime.fromisoformat(data["created_at"])
    for name in ("mention_ids", "mention_usernames", "urls", "short_urls", "edit_history"):
        data[name] = tuple(data.get(name, ()))
    return Post(**data)


def _target(i: TargetItem) -> Target:
    return Target(
        id=i.target_id,
        username=i.username,
        name=i.name or "",
        added_at=i.added_at,
        stage=Stage(i.stage),
        topics=tuple(i.topics or ()),
        follows_us=bool(i.follows_us),
        note=i.note or "",
        protected=bool(i.protected),
    )


def _transition(i: TransitionItem) -> Transition:
    return Transition(
        at=i.at,
        from_stage=Stage(i.from_stage) if i.from_stage else None,
        to_stage=Stage(i.to_stage),
        reason=i.reason,
        evidence=tuple(i.evidence or ()),
    )


def _update_profile(target_id: str, actions: list[Action]) -> None:
    """Change a target's profile, never re-create it: an update of a target removed meanwhile would
    leave a profile without a username (listed nowhere) for the history beside it."""
    if not update_if(TargetItem(target_pk(target_id), PROFILE), actions, TargetItem.sk.exists()):
        raise NotFoundError(f"no target with id {target_id}")


def _profile_item(target: Target) -> TargetItem:
    return TargetItem(
        target_pk(target.id),
        PROFILE,
        gsi1pk=TARGETS,
        gsi1sk=target.username.lower(),
        target_id=target.id,
        username=target.username,
        name=target.name,
        added_at=target.added_at,
        stage=target.stage.value,
        topics=list(target.topics),
        follows_us=target.follows_us,
        note=target.note,
        protected=target.protected,
    )


def _interaction_item(interaction: Interaction) -> InteractionItem:
    return InteractionItem(
        target_pk(interaction.target_id),
        f"I#{interaction.id}",
        interaction_id=interaction.id,
        kind=interaction.kind.value,
        at=interaction.at,
        is_question=interaction.is_question,
        refers_to=interaction.refers_to,
        until=interaction.until,
        post=post_to_json(interaction.post) if interaction.post else None,
    )


def _interaction(target_id: str, i: InteractionItem) -> Interaction:
    return Interaction(
        id=i.interaction_id,
        target_id=target_id,
        kind=InteractionKind(i.kind),
        at=i.at,
        post=post_from_json(i.post) if i.post else None,
        is_question=bool(i.is_question),
        refers_to=i.refers_to,
        until=i.until,
    )
