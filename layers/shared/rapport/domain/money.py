"""Money spent on X: one exact dollar type, X's list prices, and a day's spend.

Amounts are whole micro-dollars, so sums of many $0.001 reads stay exact and compare equal however
they were added up; floats appear only at the edges (stored ``cost_usd`` numbers, JSON reports).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

MICROS_PER_DOLLAR = 1_000_000


@dataclass(frozen=True, slots=True, order=True)
class USD:
    """An amount of US dollars, exact to the micro-dollar."""

    micros: int = 0

    @classmethod
    def of(cls, dollars: float | int | str | Decimal) -> USD:
        """The amount nearest to ``dollars`` (a float is read by its shortest decimal form)."""
        exact = Decimal(str(dollars)) * MICROS_PER_DOLLAR
        return cls(int(exact.to_integral_value(rounding=ROUND_HALF_EVEN)))

    @property
    def dollars(self) -> float:
        return self.micros / MICROS_PER_DOLLAR

    def __add__(self, other: USD) -> USD:
        return USD(self.micros + other.micros)

    def __sub__(self, other: USD) -> USD:
        return USD(self.micros - other.micros)

    def __mul__(self, count: int) -> USD:
        return USD(self.micros * count)

    __rmul__ = __mul__

    def share_of(self, budget: USD) -> float:
        """This amount as a fraction of ``budget``; infinite when there is no budget at all."""
        if budget.micros <= 0:
            return float("inf")
        return self.micros / budget.micros

    def text(self) -> str:
        """As the digest shows it: ``$1,234.56``."""
        return f"${self.dollars:,.2f}"


ZERO = USD()

# X pay-per-use list prices, per resource returned (shared/x-api/README.md, 2026). An owned read is
# one of our own timelines or follow lists; looking up our own profile is not one.
Resource = Literal["posts", "users", "followers"]
LIST_PRICE: dict[Resource, USD] = {
    "posts": USD.of("0.005"),
    "users": USD.of("0.010"),
    "followers": USD.of("0.010"),
}
OWNED_PRICE = USD.of("0.001")


def read_price(resource: Resource, *, owned: bool) -> USD:
    """What X bills for one resource of this kind returned by a read."""
    return OWNED_PRICE if owned else LIST_PRICE[resource]


@dataclass(frozen=True, slots=True)
class Spend:
    """X API reads of a day (or a run), and what they cost at list price."""

    requests: int = 0
    posts: int = 0
    users: int = 0
    cost: USD = ZERO
    followers: int = 0  # users read from our own followers list
    deferred_for_budget: int = 0  # reads left undone because the month's spend neared the budget

    def __add__(self, other: Spend) -> Spend:
        return Spend(
            self.requests + other.requests,
            self.posts + other.posts,
            self.users + other.users,
            self.cost + other.cost,
            self.followers + other.followers,
            self.deferred_for_budget + other.deferred_for_budget,
        )
