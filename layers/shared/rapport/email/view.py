"""What one digest shows, already chosen and ordered by the engine: the view the renderers read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from rapport.domain.model import Stage, Suggestion, Transition
from rapport.domain.money import USD

__all__ = [
    "DigestView",
    "LookbackView",
    "LosingTouch",
    "Received",
    "SpendSummary",
    "TargetStatus",
    "TargetWeeks",
]


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """One line of the overview: where a target stands and since when."""

    username: str
    stage: Stage
    since: datetime  # when it entered that stage
    snoozed_until: datetime | None = None  # snoozed from a digest: nothing for them until then


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
    budget_warning: str | None = None  # the targets' expected monthly cost is over the budget


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
    # The user's answers from the email, signed: suggestion ref -> {action: url} (done, skip, snooze-1w,
    # snooze-2w, snooze-4w, drop), and the link that pauses the digest (also its List-Unsubscribe).
    feedback: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    pause_url: str | None = None

    def stage_of(self, username: str) -> Stage | None:
        """Where a target stands today, as the overview shows it; None for one not listed."""
        wanted = username.lower()
        return next((t.stage for t in self.targets if t.username.lower() == wanted), None)


@dataclass(frozen=True, slots=True)
class Received:
    """Something a target did toward us during the week: a thanks, a reply, a follow-back."""

    username: str
    what: str  # in words: "thanked you", "replied to you", "answered your question", "followed you back"
    at: datetime
    post_id: str | None = None


@dataclass(frozen=True, slots=True)
class TargetWeeks:
    """One target's weeks, oldest first: where they stood at each week's end, and how much was said."""

    username: str
    stages: tuple[Stage | None, ...]  # None: not yet a target that week
    exchanges: tuple[int, ...]  # exchanges either way during each week


@dataclass(frozen=True, slots=True)
class LookbackView:
    """The weekly look-back: the week's stage changes, what came back, spend, progress over the weeks."""

    local_date: date  # the day it is sent, the last day of the week looked back on
    first_day: date  # the first day of that week
    me_username: str
    transitions: tuple[tuple[str, Transition], ...]  # (username, transition) during the week
    received: tuple[Received, ...]
    week_ends: tuple[date, ...]  # the last day of each week charted, oldest first
    progress: tuple[TargetWeeks, ...]
    spend_week: USD
    spend: SpendSummary | None = None
