"""Evaluate: replay each target's evidence, store its new transitions and new suggestions.

Which targets: those the event names, and every target marked to evaluate (new evidence since
its last evaluation), whatever the event says. An event that was dropped, or a retried collect that
found its evidence already stored and so announced nothing, then costs an hour at most.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from rapport.domain.engine import replay
from rapport.domain.model import Stage, Transition
from rapport.domain.policy import Policy
from rapport.domain.suggestions import Context, suggest
from rapport.usecases.ports import NotFoundError, Stores, TargetHistory


@dataclass(slots=True)
class EvaluateReport:
    at: datetime
    evaluated: int = 0
    transitions: list[tuple[str, Transition]] = field(default_factory=list)
    suggestions: int = 0
    missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "evaluated": self.evaluated,
            "transitions": [
                {"target": name, "from": t.from_stage, "to": t.to_stage, "reason": t.reason}
                for name, t in self.transitions
            ],
            "suggestions": self.suggestions,
            "missing": self.missing,
        }


def has_news(stores: Stores, target_ids: Collection[str]) -> bool:
    """Whether a run has anything to evaluate: targets its event names, or targets still marked.

    Most hours bring no news: answering them from one read of the marks leaves nothing to write, so
    such a run needs neither the lease nor a record of its delivery.
    """
    return bool(target_ids) or bool(stores.evidence.marked_for_evaluation())


def evaluate(stores: Stores, target_ids: Iterable[str], at: datetime) -> EvaluateReport:
    """Apply the engine at instant ``at`` to the named targets and to every marked one."""
    report = EvaluateReport(at=at)
    policy, me = stores.settings.policy_and_me()
    me_username = (me or {}).get("username", "")
    # Read before the histories: evidence stored after this read raises the mark, so clearing the
    # mark read here leaves that evidence marked for the next run.
    marked = stores.evidence.marked_for_evaluation()
    for target_id in sorted(set(target_ids) | set(marked)):
        try:
            history = stores.evidence.history(target_id)
            evaluate_target(stores, history, policy=policy, me_username=me_username, at=at, report=report)
        except NotFoundError:
            report.missing.append(target_id)  # removed between collect and evaluate, or during it
        if target_id in marked:
            stores.evidence.clear_mark(target_id, marked[target_id])
    return report


def evaluate_target(
    stores: Stores,
    history: TargetHistory,
    *,
    policy: Policy,
    me_username: str,
    at: datetime,
    report: EvaluateReport,
) -> Stage:
    target = history.target
    progress = replay(history.interactions, policy, until=at)
    # Replay yields the whole history; only what is not stored yet is written (no write per old step).
    stored = {(t.at, t.to_stage) for t in history.transitions}
    fresh = [t for t in progress.transitions if (t.at, t.to_stage) not in stored]
    if progress.stage is not target.stage or fresh:
        # The stage first: refused (NotFoundError) for a target removed meanwhile, before anything is
        # written beside it. A crash after it leaves the transitions to the next run's replay.
        stores.targets.set_stage(target.id, progress.stage, progress.since)
    new = stores.evidence.add_transitions(target.id, fresh) if fresh else 0
    if new:
        report.transitions.extend((target.username, t) for t in fresh[-new:])
    ctx = Context(
        target=target,
        me_username=me_username,
        progress=progress,
        interactions=history.interactions,
        previous=history.suggestions,
        policy=policy,
        now=at,
    )
    for suggestion in suggest(ctx):
        if stores.suggestions.add_suggestion(suggestion):
            report.suggestions += 1
    report.evaluated += 1
    return progress.stage
