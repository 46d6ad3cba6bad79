"""What the targets will cost to read this month, from how often they post: pure arithmetic.

collect reads every post a target publishes (from a cursor, at the list price), so a target's
posting rate times the price is what following them costs. The rate is measured on the posts
already stored: the last two weeks, or since the first read when the target is newer than that.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rapport.domain.model import Interaction, InteractionKind, Target
from rapport.domain.money import LIST_PRICE, USD
from rapport.domain.policy import Policy

RATE_WINDOW = timedelta(days=14)
DAYS_PER_MONTH = 30


def posts_per_day(interactions: Iterable[Interaction], observed_since: datetime, now: datetime) -> float:
    """The target's posts read per day, over the last ``RATE_WINDOW`` (or since ``observed_since``)."""
    start = max(now - RATE_WINDOW, observed_since)
    days = max(1.0, (now - start).total_seconds() / 86400)
    posts = sum(
        1
        for i in interactions
        if i.kind is InteractionKind.TARGET_POST and i.post is not None and start <= i.post.created_at <= now
    )
    return posts / days


def monthly_cost(rates: Iterable[float]) -> USD:
    """A month of reading posts at these rates (posts a day), at X's list price per post."""
    return USD(round(sum(rates) * DAYS_PER_MONTH * LIST_PRICE["posts"].micros))


@dataclass(frozen=True, slots=True)
class BudgetForecast:
    """The targets' expected monthly X cost beside the budget, and who posts most."""

    expected: USD
    budget: USD
    rates: Mapping[str, float]  # username -> posts read per day

    @property
    def over(self) -> bool:
        return self.expected > self.budget

    def busiest(self, n: int = 3) -> list[tuple[str, float]]:
        return sorted(self.rates.items(), key=lambda kv: (-kv[1], kv[0].lower()))[:n]

    def warning(self) -> str | None:
        """What the digest and ``rapport setup`` say when the budget is too small; None when it fits."""
        if not self.over:
            return None
        busiest = ", ".join(f"@{name} {rate:.1f}/day" for name, rate in self.busiest() if rate > 0)
        return (
            f"At their posting rates your targets will cost about {self.expected.text()} a month to read, "
            f"over your {self.budget.text()} budget (most posts: {busiest}). Raise x_monthly_budget_usd "
            "or pause a target, or news will arrive late."
        )


def forecast(
    histories: Sequence[tuple[str, Sequence[Interaction], datetime]], budget: USD, now: datetime
) -> BudgetForecast:
    """``histories``: (username, interactions, observed since) per target that is read."""
    rates = {name: posts_per_day(items, since, now) for name, items, since in histories}
    return BudgetForecast(monthly_cost(rates.values()), budget, rates)


def forecast_targets(
    targets: Iterable[Target],
    interactions: Mapping[str, Sequence[Interaction]],
    policy: Policy,
    now: datetime,
) -> BudgetForecast:
    """The forecast for these targets: each observed since its first read (``first_read_days`` before
    it was added), against the policy's monthly budget."""
    first_read = timedelta(days=policy.first_read_days)
    histories = [(t.username, interactions.get(t.id, ()), (t.added_at or now) - first_read) for t in targets]
    return forecast(histories, USD.of(policy.x_monthly_budget_usd), now)
