"""The method as a state machine: a pure fold over a target's evidence.

The whole history of a target is replayed from its stored interactions every time it is
evaluated. That keeps the engine free of stored mutable state: the stage, the counters and every
transition are derived, so a late-arriving post, a retried run or a policy change can never leave
a target in a state its evidence does not support. Replay is cheap (a target has tens to
hundreds of interactions) and, because events are totally ordered, the history of a prefix of
the evidence is always a prefix of the full history: storing new transitions is append-only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from rapport.domain.model import Interaction, InteractionKind, Stage, Transition, one_version_each
from rapport.domain.policy import Policy

# Kinds that show the target responded to us: they end a run of unanswered retweets.
RESPONSES = frozenset(
    {
        InteractionKind.THANKS,
        InteractionKind.MENTION,
        InteractionKind.REPLY_TO_QUESTION,
        InteractionKind.FOLLOW,
    }
)

# When two pieces of evidence share a timestamp, apply the user's own actions first and our
# actions before the target's reactions to them, so that order never depends on storage order.
_TIE_ORDER = {
    InteractionKind.ADDED: 0,
    InteractionKind.PAUSE: 1,
    InteractionKind.RESUME: 1,
    InteractionKind.DROPPED: 1,
    InteractionKind.OUR_RETWEET: 2,
    InteractionKind.OUR_ANSWER: 2,
    InteractionKind.OUR_QUESTION: 2,
    InteractionKind.OUR_REPLY: 2,
}


def evidence_order(interaction: Interaction) -> tuple[datetime, int, str]:
    return (interaction.at, _TIE_ORDER.get(interaction.kind, 3), interaction.id)


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a target stands, and how it got there."""

    stage: Stage
    since: datetime | None
    transitions: tuple[Transition, ...]
    thanks: int
    retweets_without_response: int
    follows_us: bool
    question_answered: bool

    @property
    def started(self) -> bool:
        return bool(self.transitions)


@dataclass(slots=True)
class _Fold:
    """Mutable accumulator used only inside ``replay``."""

    policy: Policy
    started: bool = False
    paused: bool = False
    underlying: Stage = Stage.RETWEET
    thanks_ids: list[str] = field(default_factory=list)
    unanswered_retweet_ids: list[str] = field(default_factory=list)
    follows_us: bool = False
    follow_id: str | None = None
    question_answered: bool = False
    transitions: list[Transition] = field(default_factory=list)

    @property
    def visible(self) -> Stage:
        return Stage.PAUSED if self.paused else self.underlying

    def supported_stage(self) -> Stage:
        """The stage the evidence alone supports, used when a target is added, resumed or recovers."""
        if self.question_answered:
            return Stage.CIRCLE
        if self.follows_us:
            return Stage.ASK
        if len(self.thanks_ids) >= self.policy.thanks_to_advance:
            return Stage.ANSWER
        if len(self.unanswered_retweet_ids) >= self.policy.retweets_before_giving_up:
            return Stage.UNRESPONSIVE
        return Stage.RETWEET

    def support(self, stage: Stage) -> list[str]:
        """The stored evidence that puts a target in ``stage``, so a fallback or resume can cite it."""
        if stage is Stage.UNRESPONSIVE:
            return list(self.unanswered_retweet_ids)
        if stage is Stage.ANSWER:
            return list(self.thanks_ids)
        if stage is Stage.ASK and self.follow_id:
            return [self.follow_id]
        return []

    def record(self, at: datetime, reason: str, evidence: Iterable[str]) -> None:
        previous = self.transitions[-1].to_stage if self.transitions else None
        if previous is self.visible:
            return
        self.transitions.append(Transition(at, previous, self.visible, reason, tuple(evidence)))

    def apply(self, ev: Interaction) -> None:
        kind = ev.kind
        if kind in RESPONSES:
            self.unanswered_retweet_ids.clear()
        if kind is InteractionKind.THANKS:
            self.thanks_ids.append(ev.id)
        elif kind is InteractionKind.FOLLOW:
            self.follows_us, self.follow_id = True, ev.id
        elif kind is InteractionKind.UNFOLLOW:
            self.follows_us, self.follow_id = False, None
        elif kind is InteractionKind.OUR_RETWEET:
            self.unanswered_retweet_ids.append(ev.id)
        elif kind is InteractionKind.REPLY_TO_QUESTION and self.started and self.underlying is Stage.ASK:
            # Only an answer to a question asked in step 3 completes it (rule 4).
            self.question_answered = True

        if kind is InteractionKind.ADDED:
            if not self.started:
                self.started = True
                self.underlying = self.supported_stage()
                self.record(ev.at, "added as a target", [ev.id, *self.support(self.underlying)])
            return
        if not self.started:
            return
        if kind in (InteractionKind.PAUSE, InteractionKind.DROPPED):
            # Dropping from the digest ("not for me") leaves the method like a pause: resume undoes it.
            self.paused = True
            how = "dropped by you" if kind is InteractionKind.DROPPED else "paused by you"
            self.record(ev.at, how, [ev.id])
            return
        if kind is InteractionKind.RESUME:
            self.paused = False
            self.underlying = self.supported_stage()
            reason = f"resumed by you; the evidence supports {self.underlying.value}"
            self.record(ev.at, reason, [ev.id, *self.support(self.underlying)])
            return
        self._advance(ev)

    def _advance(self, ev: Interaction) -> None:
        stage = self.underlying
        policy = self.policy
        if stage in (Stage.RETWEET, Stage.ANSWER, Stage.UNRESPONSIVE) and self.follows_us:
            self._move(Stage.ASK, ev.at, "followed you back", [self.follow_id or ev.id])
        elif stage is Stage.RETWEET and len(self.thanks_ids) >= policy.thanks_to_advance:
            count = len(self.thanks_ids)
            self._move(Stage.ANSWER, ev.at, f"thanked you {_times(count)}", self.thanks_ids)
        elif stage is Stage.RETWEET and len(self.unanswered_retweet_ids) >= policy.retweets_before_giving_up:
            count = len(self.unanswered_retweet_ids)
            reason = f"{count} of your retweets with no thanks, reply or follow"
            self._move(Stage.UNRESPONSIVE, ev.at, reason, self.unanswered_retweet_ids)
        elif stage is Stage.UNRESPONSIVE and ev.kind in RESPONSES:
            self._move(self.supported_stage(), ev.at, f"responded again ({ev.kind.value})", [ev.id])
        elif stage is Stage.ASK and self.question_answered:
            self._move(Stage.CIRCLE, ev.at, "answered your question", [ev.id])
        elif stage is Stage.ASK and not self.follows_us:
            # Step 3 presumes they follow us; if they stop before answering, fall back.
            fallback = self.supported_stage()
            self._move(fallback, ev.at, "stopped following you", [ev.id, *self.support(fallback)])

    def _move(self, to: Stage, at: datetime, reason: str, evidence: Iterable[str]) -> None:
        self.underlying = to
        if not self.paused:
            self.record(at, reason, evidence)


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def replay(interactions: Iterable[Interaction], policy: Policy, *, until: datetime | None = None) -> Progress:
    """Fold a target's evidence, in time order, into its current stage and full stage history.

    ``until`` ignores evidence after that instant (the engine has no clock of its own).
    """
    fold = _Fold(policy)
    # An edited post counts once, at the time of its first version: an edit is not a second thanks.
    for ev in sorted(one_version_each(interactions, latest=False), key=evidence_order):
        if until is not None and ev.at > until:
            break
        fold.apply(ev)
    last = fold.transitions[-1] if fold.transitions else None
    return Progress(
        stage=fold.visible,
        since=last.at if last else None,
        transitions=tuple(fold.transitions),
        thanks=len(fold.thanks_ids),
        retweets_without_response=len(fold.unanswered_retweet_ids),
        follows_us=fold.follows_us,
        question_answered=fold.question_answered,
    )
