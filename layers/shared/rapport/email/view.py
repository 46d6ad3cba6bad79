"""What one digest shows, already chosen and ordered by the engine: the view the renderers read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from rapport.domain.model import Stage, Suggestion, Transition
from rapport.domain.money import USD

__all__ = ["DigestView", "LosingTouch", "SpendSummary", "TargetStatus"]


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """One line of the overview: where a target stands and since when."""

    username: str
    stage: Stage
    since: datetime  # when it entered that stage


@dataclass(frozen=True, slots=True)
class LosingTouch:
    """A target with no exchange either way for longer than the cadence."""

    username: str
    days: int  # days without an exchange
    last: datetime | None  # the last exchange, None when there never was one


@dataclass(frozen=True, slots=True)
class SpendSummary:
    """X API spend: yesterday (UTC), this month so far, and the monthly budget."""

    yesterday: USD
    month_to_date: USD
    monthly_budget: USD
    deferred_yesterday: int = 0  # reads collect held back yesterday to stay within the budget
    deferred_month: int = 0


@dataclass(frozen=True, slots=True)
class DigestView:
    """Everything one digest shows, already chosen and ordered by the engine."""

    local_date: date  # the recipient's local date
    me_username: str
    suggestions: tuple[Suggestion, ...]
    transitions: tuple[tuple[str, Transition], ...]  # (username, transition) since the last digest
    targets: tuple[TargetStatus, ...]
    generated_at: datetime | None = None  # the instant ages are measured from
    posted_at: Mapping[str, datetime] = field(default_factory=dict)  # post id -> when it was posted
    losing_touch: tuple[LosingTouch, ...] = ()
    spend: SpendSummary | None = None

    def stage_of(self, username: str) -> Stage | None:
        """Where a target stands today, as the overview shows it; None for one not listed."""
        wanted = username.lower()
        return next((t.stage for t in self.targets if t.username.lower() == wanted), None)
