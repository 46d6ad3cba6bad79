"""Every store in memory, held to the DynamoDB stores' contract (tests/contract runs both).

The unit tests run the use cases on them, and `rapport bench` runs Rapport's collector on them: it
measures X reads, and a month of 1,000 targets on moto spends its time serialising DynamoDB answers.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rapport.domain.model import (
    LOOKBACK_SUFFIX,
    DigestRecord,
    Interaction,
    Stage,
    Suggestion,
    Target,
    Transition,
)
from rapport.domain.money import Spend
from rapport.domain.policy import Policy
from rapport.usecases.ports import DaySpend, NotFoundError, Stores, TargetHistory


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(slots=True)
class _Target:
    target: Target
    profile: bool = True  # False while only evidence was written under the target's key
    since: datetime | None = None
    interactions: dict[str, Interaction] = field(default_factory=dict)  # by id
    transitions: dict[str, Transition] = field(default_factory=dict)  # by "time#stage"
    suggestions: dict[str, Suggestion] = field(default_factory=dict)  # by key


@dataclass(slots=True)
class _Made:
    """A suggestion, and what became of it: pending until it is sent or expired."""

    suggestion: Suggestion
    digest_date: str | None = None
    expired_on: str | None = None


@dataclass(slots=True)
class Memory:
    """Everything the fakes hold; target-keyed records live with their target, as in the table."""

    targets: dict[str, _Target] = field(default_factory=dict)
    made: dict[str, _Made] = field(default_factory=dict)  # every suggestion, by ref
    digests: dict[str, DigestRecord] = field(default_factory=dict)
    spend: dict[date, Spend] = field(default_factory=dict)
    billed: dict[date, set[str]] = field(default_factory=dict)
    spent_by: dict[date, set[str]] = field(default_factory=dict)  # the runs each day's spend counts
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    cursors: dict[str, str] = field(default_factory=dict)
    collect: dict[str, Any] = field(default_factory=dict)
    policy: Policy | None = None
    me: dict[str, str] | None = None
    leases: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (holder, expiry epoch s)
    admitted: Counter[str] = field(default_factory=Counter)  # throttle "name#window" -> requests let in
    marks: dict[str, int] = field(default_factory=dict)  # target id -> mark: evidence not yet evaluated

    def profiled(self, target_id: str) -> _Target:
        """A target whose profile is there (not removed, not evidence alone), or NotFoundError."""
        held = self.targets.get(target_id)
        if held is None or not held.profile:
            raise NotFoundError(f"no target with id {target_id}")
        return held


@dataclass(slots=True)
class MemoryTargetStore:
    memory: Memory

    def put_target(self, target: Target) -> None:
        held = self.memory.targets.setdefault(target.id, _Target(target))
        held.target, held.profile = target, True

    def add_target(self, target: Target, added: Interaction) -> None:
        self.put_target(target)
        self.memory.targets[target.id].interactions.setdefault(added.id, added)

    def get_target(self, target_id: str) -> Target:
        return self.memory.profiled(target_id).target

    def find_target(self, username: str) -> Target | None:
        key = username.lstrip("@").lower()
        return next((t for t in self.list_targets() if t.username.lower() == key), None)

    def list_targets(self) -> list[Target]:
        profiles = [h.target for h in self.memory.targets.values() if h.profile]
        return sorted(profiles, key=lambda t: t.username.lower())

    def set_stage(self, target_id: str, stage: Stage, since: datetime | None) -> None:
        # Like the table's conditional update: a target removed meanwhile is not re-created.
        held = self.memory.profiled(target_id)
        held.target, held.since = replace(held.target, stage=stage), since

    def edit_target(self, target_id: str, topics: Iterable[str] | None, note: str | None) -> None:
        if topics is None and note is None:
            return
        held = self.memory.profiled(target_id)
        kept = held.target
        held.target = replace(
            kept,
            topics=kept.topics if topics is None else tuple(topics),
            note=kept.note if note is None else note,
        )

    def remove_target(self, target_id: str) -> int:
        held = self.memory.targets.pop(target_id, None)
        if held is None:
            return 0
        for key in held.suggestions:
            self.memory.made.pop(f"{target_id}|{key}", None)
        return held.profile + len(held.interactions) + len(held.transitions) + len(held.suggestions)


@dataclass(slots=True)
class MemoryEvidenceStore:
    memory: Memory

    def _held(self, target_id: str) -> _Target:
        # Like the table, evidence can be written for a target whose profile is not (yet) there.
        return self.memory.targets.setdefault(target_id, _Target(Target(target_id, ""), profile=False))

    def add_interaction(self, interaction: Interaction) -> bool:
        try:
            stored = self.memory.profiled(interaction.target_id).interactions
        except NotFoundError:  # removed meanwhile: the table's transaction is refused
            return False
        if interaction.id in stored:
            return False
        stored[interaction.id] = interaction
        self.memory.marks[interaction.target_id] = self.memory.marks.get(interaction.target_id, 0) + 1
        return True

    def record_follow_change(self, interaction: Interaction, follows_us: bool) -> bool:
        try:
            held = self.memory.profiled(interaction.target_id)
        except NotFoundError:  # removed meanwhile: the table's transaction is refused
            return False
        if not self.add_interaction(interaction):
            return False
        held.target = replace(held.target, follows_us=follows_us)
        return True

    def marked_for_evaluation(self) -> dict[str, int]:
        return dict(self.memory.marks)

    def clear_mark(self, target_id: str, mark: int) -> None:
        if self.memory.marks.get(target_id) == mark:
            del self.memory.marks[target_id]

    def interactions(self, target_id: str) -> list[Interaction]:
        held = self.memory.targets.get(target_id)
        return [held.interactions[k] for k in sorted(held.interactions)] if held else []

    def add_transitions(self, target_id: str, transitions: Iterable[Transition]) -> int:
        stored = self._held(target_id).transitions
        new = 0
        for t in transitions:
            key = f"{_iso(t.at)}#{t.to_stage.value}"
            if key not in stored:
                stored[key] = t
                new += 1
        return new

    def transitions(self, target_id: str) -> list[Transition]:
        held = self.memory.targets.get(target_id)
        return [held.transitions[k] for k in sorted(held.transitions)] if held else []

    def history(self, target_id: str) -> TargetHistory:
        held = self.memory.profiled(target_id)
        suggestions = [held.suggestions[k] for k in sorted(held.suggestions)]
        made = [self.memory.made.get(f"{target_id}|{s.key}") for s in suggestions]
        waiting = [m for m in made if m and m.digest_date is None and m.expired_on is None]
        pending = frozenset(m.suggestion.key for m in waiting)
        interactions, transitions = self.interactions(target_id), self.transitions(target_id)
        return TargetHistory(replace(held.target), interactions, transitions, suggestions, pending)


@dataclass(slots=True)
class MemorySuggestionStore:
    memory: Memory

    def add_suggestion(self, s: Suggestion) -> bool:
        held = self.memory.targets.setdefault(s.target_id, _Target(Target(s.target_id, ""), profile=False))
        stored = held.suggestions
        if s.key in stored:
            return False
        stored[s.key] = s
        self.memory.made[f"{s.target_id}|{s.key}"] = _Made(s)
        return True

    def pending_suggestions(self, until: datetime) -> list[Suggestion]:
        def order(u: _Made) -> str:
            return f"{_iso(u.suggestion.created_at)}#{u.suggestion.target_id}#{u.suggestion.key}"

        waiting = [
            u
            for u in self.memory.made.values()
            if u.digest_date is None and u.expired_on is None and u.suggestion.created_at <= until
        ]
        return [u.suggestion for u in sorted(waiting, key=order)]

    def suggestions_by_ref(self, refs: Iterable[str]) -> list[Suggestion]:
        found = self.memory.made
        return [found[ref].suggestion for ref in refs if ref in found]

    def mark_sent(self, refs: Iterable[str], local_date: str) -> None:
        for ref in refs:
            if ref in self.memory.made:
                self.memory.made[ref].digest_date = local_date

    def expire_suggestions(self, refs: Iterable[str], local_date: str) -> None:
        for ref in refs:
            held = self.memory.made.get(ref)
            if held is not None and held.digest_date is None:
                held.expired_on = local_date


@dataclass(slots=True)
class MemoryDigestStore:
    memory: Memory

    def digest(self, local_date: str) -> DigestRecord | None:
        return self.memory.digests.get(local_date)

    def claim_digest(self, local_date: str, refs: Iterable[str], at: datetime) -> bool:
        if local_date in self.memory.digests:
            return False
        self.memory.digests[local_date] = DigestRecord(local_date, "sending", at, None, tuple(refs), None)
        return True

    def complete_digest(
        self, local_date: str, subject: str, message_id: str, at: datetime, *, refs: Iterable[str] = ()
    ) -> None:
        # One step, as the table's transaction: the suggestions still there and the day, together.
        MemorySuggestionStore(self.memory).mark_sent(refs, local_date)
        record = self.memory.digests.get(local_date)
        if record is not None:
            self.memory.digests[local_date] = replace(
                record, status="sent", sent_at=at, message_id=message_id
            )

    def note_quiet_day(self, local_date: str, at: datetime) -> None:
        self.memory.digests.setdefault(local_date, DigestRecord(local_date, "quiet", at, None, (), None))

    def last_sent_digest(self, before: str) -> DigestRecord | None:
        sent = [
            r
            for day, r in self.memory.digests.items()
            if day < before and r.status == "sent" and not day.endswith(LOOKBACK_SUFFIX)
        ]
        return max(sent, key=lambda r: r.local_date, default=None)

    def latest_digest(self) -> DigestRecord | None:
        return self.memory.digests[max(self.memory.digests)] if self.memory.digests else None


@dataclass(slots=True)
class MemorySpendStore:
    memory: Memory

    def add_spend(self, day: date, spend: Spend, billed: Iterable[str] = (), run: str | None = None) -> None:
        if run is not None:
            counted = self.memory.spent_by.setdefault(day, set())
            if run in counted:
                return
            counted.add(run)
        self.memory.spend[day] = self.memory.spend.get(day, Spend()) + spend
        self.memory.billed.setdefault(day, set()).update(billed)

    def spend(self, day: date) -> Spend:
        return self.memory.spend.get(day, Spend())

    def days(self, first: date, last: date) -> dict[date, DaySpend]:
        return {
            day: DaySpend(s, frozenset(self.memory.billed.get(day, ())))
            for day, s in sorted(self.memory.spend.items())
            if first <= day <= last
        }

    def add_run(self, at: datetime, record: dict[str, Any]) -> None:
        self.memory.runs[_iso(at)] = copy.deepcopy(record)

    def runs(self, first: datetime, last: datetime) -> list[dict[str, Any]]:
        low, high = _iso(first), _iso(last)
        return [copy.deepcopy(r) for key, r in sorted(self.memory.runs.items()) if low <= key <= high]


@dataclass(slots=True)
class MemoryCollectorStateStore:
    memory: Memory

    def cursors(self) -> dict[str, str]:
        return dict(self.memory.cursors)

    def set_cursors(self, cursors: dict[str, str], at: datetime) -> None:
        self.memory.cursors.update(cursors)

    def collect_states(self) -> dict[str, Any]:
        return copy.deepcopy(self.memory.collect)

    def set_collect_state(self, name: str, value: Any, at: datetime) -> None:
        self.memory.collect[name] = copy.deepcopy(value)


@dataclass(slots=True)
class MemorySettingsStore:
    memory: Memory

    def policy(self) -> Policy:
        return self.memory.policy or Policy()

    def put_policy(self, policy: Policy, at: datetime | None = None) -> None:
        self.memory.policy = policy

    def me(self) -> dict[str, str] | None:
        return dict(self.memory.me) if self.memory.me else None

    def put_me(self, user_id: str, username: str) -> None:
        self.memory.me = {"id": user_id, "username": username}

    def policy_and_me(self) -> tuple[Policy, dict[str, str] | None]:
        return self.policy(), self.me()


@dataclass(slots=True)
class MemoryLeaseStore:
    memory: Memory

    def acquire(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        held = self.memory.leases.get(name)
        if held is not None and held[0] != holder and held[1] > now.timestamp():
            return False
        # Whole seconds rounded up, as the table keeps them (its TTL attribute).
        self.memory.leases[name] = (holder, math.ceil((now + ttl).timestamp()))
        return True

    def release(self, name: str, holder: str) -> None:
        held = self.memory.leases.get(name)
        if held is not None and held[0] == holder:
            del self.memory.leases[name]

    def admit(self, name: str, window_start: datetime, window: timedelta, limit: int) -> bool:
        key = f"{name}#{int(window_start.timestamp())}"
        if self.memory.admitted[key] >= limit:
            return False
        self.memory.admitted[key] += 1
        return True


def memory_stores(memory: Memory | None = None) -> Stores:
    """Every store in memory, sharing one ``Memory`` (removing a target removes its records)."""
    memory = memory or Memory()
    return Stores(
        targets=MemoryTargetStore(memory),
        evidence=MemoryEvidenceStore(memory),
        suggestions=MemorySuggestionStore(memory),
        digests=MemoryDigestStore(memory),
        spend=MemorySpendStore(memory),
        collector=MemoryCollectorStateStore(memory),
        settings=MemorySettingsStore(memory),
        leases=MemoryLeaseStore(memory),
    )
