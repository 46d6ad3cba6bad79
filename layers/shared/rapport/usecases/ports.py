"""What the use cases need from the outside world, by concern: the stores and the X source.

Each store is a small ``Protocol``; DynamoDB implements them all on one table
(the dynamodb adapter package), and the tests have in-memory twins held to the same contract.
Every write a retried run could repeat is idempotent: written once, or keyed by a natural id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from rapport.domain.model import DigestRecord, Interaction, Stage, Suggestion, Target, Transition
from rapport.domain.money import Spend
from rapport.domain.policy import Policy
from rapport.domain.x import NewFollowers, ReadUsage, Timeline, XUser


class NotFoundError(LookupError):
    """A target, digest or setting that the caller named does not exist."""


@dataclass(frozen=True, slots=True)
class TargetHistory:
    """Everything stored about one target, read at once: what evaluate and the digest replay."""

    target: Target
    interactions: list[Interaction]  # by id
    transitions: list[Transition]  # oldest first
    suggestions: list[Suggestion]
    pending: frozenset[str] = frozenset()  # keys of the suggestions not yet in a digest nor expired


@dataclass(frozen=True, slots=True)
class DaySpend:
    """One UTC day of X spend, and the users ("kind:id") X has already billed that day."""

    spend: Spend
    billed: frozenset[str] = frozenset()


class TargetStore(Protocol):
    """The people the user builds relationships with, found by id or by username."""

    def put_target(self, target: Target) -> None: ...
    def add_target(self, target: Target, added: Interaction) -> None:
        """A new target's profile and its first evidence (``added``), both or neither (one transaction)."""
        ...

    def get_target(self, target_id: str) -> Target:
        """The target, or ``NotFoundError``."""
        ...

    def find_target(self, username: str) -> Target | None:
        """By username, whatever its case, with or without @."""
        ...

    def list_targets(self) -> list[Target]:
        """Every target, by username."""
        ...

    def set_stage(self, target_id: str, stage: Stage, since: datetime | None) -> None: ...
    def edit_target(self, target_id: str, topics: Iterable[str] | None, note: str | None) -> None:
        """Replace the topics, the note or both (None: kept), in one write."""
        ...

    def remove_target(self, target_id: str) -> int:
        """Forget a target and everything learned about it. Returns the records deleted."""
        ...


class EvidenceStore(Protocol):
    """What happened with each target (interactions), and its stage history (transitions).

    New evidence marks its target "to evaluate" in the same write, and the mark stays until an
    evaluation stored after it clears it: no stage waits on an event being delivered.
    """

    def add_interaction(self, interaction: Interaction) -> bool:
        """Store one piece of evidence once, and mark its target to evaluate, together.

        False when nothing was stored: it was already there, or its target is gone (removed while
        the run read its posts).
        """
        ...

    def record_follow_change(self, interaction: Interaction, follows_us: bool) -> bool:
        """Store a follow or unfollow, the target's follow flag and its mark together, or none.

        False when this change was already recorded (a retried run).
        """
        ...

    def marked_for_evaluation(self) -> dict[str, int]:
        """Every target marked to evaluate, with its mark (a count that grows with each new
        piece of evidence), in one read."""
        ...

    def clear_mark(self, target_id: str, mark: int) -> None:
        """Clear the target's mark once its evaluation is stored, unless newer evidence raised it past
        ``mark`` meanwhile (that evidence then waits for the next evaluation)."""
        ...

    def interactions(self, target_id: str) -> list[Interaction]:
        """A target's evidence, by id."""
        ...

    def add_transitions(self, target_id: str, transitions: Iterable[Transition]) -> int:
        """Append transitions not stored yet (keyed by time and stage). Returns how many were new."""
        ...

    def transitions(self, target_id: str) -> list[Transition]:
        """A target's stage history, oldest first."""
        ...

    def history(self, target_id: str) -> TargetHistory:
        """The target with its interactions, transitions and suggestions in one read, or ``NotFoundError``."""
        ...


class SuggestionStore(Protocol):
    """Suggestions made once per target and key; unsent ones wait, oldest first, for a digest."""

    def add_suggestion(self, s: Suggestion) -> bool:
        """Store a suggestion once per target and key. False when it was already made."""
        ...

    def pending_suggestions(self, until: datetime) -> list[Suggestion]:
        """Suggestions made up to ``until`` and not yet in a digest nor expired, oldest first."""
        ...

    def suggestions_by_ref(self, refs: Iterable[str]) -> list[Suggestion]:
        """The suggestions named (``suggestion_ref``), in that order; unknown refs are skipped."""
        ...

    def mark_sent(self, refs: Iterable[str], local_date: str) -> None:
        """They belong to that day's digest now: no longer pending. A ref whose suggestion is gone
        (its target removed) is skipped, never stored again."""
        ...

    def expire_suggestions(self, refs: Iterable[str], local_date: str) -> None:
        """Retire suggestions too old to act on; one already in a digest is left as it is."""
        ...


class DigestStore(Protocol):
    """One digest per local day: claimed once with its content, then completed when sent."""

    def digest(self, local_date: str) -> DigestRecord | None: ...
    def claim_digest(self, local_date: str, refs: Iterable[str], at: datetime) -> bool:
        """Reserve the day's digest with its content. False when someone else already holds it."""
        ...

    def complete_digest(
        self, local_date: str, subject: str, message_id: str, at: datetime, *, refs: Iterable[str] = ()
    ) -> None:
        """The day's digest is sent, and the suggestions ``refs`` are in it (as ``mark_sent``), in one
        write: a crash leaves either both or neither. A ref whose suggestion is gone is skipped and
        never blocks the day's record."""
        ...

    def note_quiet_day(self, local_date: str, at: datetime) -> None:
        """Record that the day's digest hour found nothing to send (unless the day is already recorded)."""
        ...

    def last_sent_digest(self, before: str) -> DigestRecord | None:
        """The latest daily digest sent before that local date (a weekly look-back is not one)."""
        ...

    def latest_digest(self) -> DigestRecord | None:
        """The digest of the latest local day claimed, sent or not (one read)."""
        ...


class SpendStore(Protocol):
    """X API spend per UTC day, the users each day has paid for, and each collect run's record."""

    def add_spend(self, day: date, spend: Spend, billed: Iterable[str] = (), run: str | None = None) -> None:
        """Add a run's reads to its UTC day, and remember which users ("kind:id") it paid for.

        With ``run`` (the run's own id), a run's reads are added once: a retried run adds nothing.
        """
        ...

    def spend(self, day: date) -> Spend: ...
    def days(self, first: date, last: date) -> dict[date, DaySpend]:
        """Each UTC day from ``first`` to ``last`` that has spend, in one read."""
        ...

    def add_run(self, at: datetime, record: dict[str, Any]) -> None:
        """What one collect run read and what it cost; a retried run overwrites its own record."""
        ...

    def runs(self, first: datetime, last: datetime) -> list[dict[str, Any]]:
        """The records of the runs from ``first`` to ``last``, both included, oldest first."""
        ...


class CollectorStateStore(Protocol):
    """Where collect left off: a read cursor per source, and its named state (rotation, head...)."""

    def cursors(self) -> dict[str, str]:
        """Every read cursor at once (a run with 1,000 targets must not read them one by one)."""
        ...

    def set_cursors(self, cursors: dict[str, str], at: datetime) -> None:
        """Move many cursors at once, once what they cover is stored."""
        ...

    def collect_states(self) -> dict[str, Any]:
        """All of the collector's named state at once (a run reads it once)."""
        ...

    def set_collect_state(self, name: str, value: Any, at: datetime) -> None: ...


class SettingsStore(Protocol):
    """The user's settings (the policy) and who "me" is on X."""

    def policy(self) -> Policy:
        """The stored policy, or the defaults."""
        ...

    def put_policy(self, policy: Policy, at: datetime | None = None) -> None: ...
    def me(self) -> dict[str, str] | None:
        """``{"id": ..., "username": ...}`` once known."""
        ...

    def put_me(self, user_id: str, username: str) -> None: ...
    def policy_and_me(self) -> tuple[Policy, dict[str, str] | None]:
        """Both in one read: every run needs the two."""
        ...


class LeaseStore(Protocol):
    """One run at a time per name: a lease taken with a conditional write, lasting until its expiry.

    A run killed before it releases its lease (a timeout, the process dying) blocks others only
    until the lease expires.
    """

    def acquire(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Hold ``name`` until ``now + ttl``. True when it was free, had expired, or was already
        ``holder``'s (a retry of the same invocation); False while another holder has it."""
        ...

    def release(self, name: str, holder: str) -> None:
        """Give the lease up; one that another holder took since (ours had expired) is left alone."""
        ...

    def admit(self, name: str, window_start: datetime, window: timedelta, limit: int) -> bool:
        """Count one request in ``name``'s window starting at ``window_start``: True for the first
        ``limit`` of that window, False after (a throttle; the count ages out with the window)."""
        ...


@dataclass(frozen=True, slots=True)
class Stores:
    """One store of each kind: what the use cases receive."""

    targets: TargetStore
    evidence: EvidenceStore
    suggestions: SuggestionStore
    digests: DigestStore
    spend: SpendStore
    collector: CollectorStateStore
    settings: SettingsStore
    leases: LeaseStore


class XSource(Protocol):
    """Reads of X that collect and admin make; ``usage`` counts what they cost."""

    usage: ReadUsage

    def me(self) -> XUser: ...
    def users_by_username(self, usernames: list[str]) -> list[XUser]: ...
    def users_by_id(self, ids: list[str]) -> list[XUser]:
        """Users with whether they follow us, to see follow-backs."""
        ...

    def mentions(self, me_id: str, since_id: str | None, start_time: datetime | None) -> Timeline: ...
    def posts_of(
        self,
        user_id: str,
        since_id: str | None,
        start_time: datetime | None,
        *,
        owned: bool,
        exclude: list[str] | None = None,
        end_time: datetime | None = None,
    ) -> Timeline:
        """A user's posts after ``since_id`` (else from ``start_time``), before ``end_time`` if given."""
        ...

    def search_posts(self, user_ids: list[str], start_time: datetime, *, only: str = "") -> Timeline:
        """These authors' own posts (no retweets, no replies) since ``start_time``, at most 7 days ago,
        in one recent search (``domain.x.search_query``); protected accounts' posts never show. ``only``
        narrows it further (``domain.x.candidate_filter()``)."""
        ...

    def new_followers(
        self, me_id: str, known_head: set[str] | None, page_size: int, *, max_pages: int = 10
    ) -> NewFollowers:
        """Our followers list, newest first, down to the first follower of ``known_head``, in at most
        ``max_pages`` requests (not ``complete`` if the list goes on)."""
        ...

    def following(self, user_id: str, limit: int) -> list[XUser]:
        """Whom ``user_id`` follows (our own list: an owned read), most recent first, at most ``limit``."""
        ...
