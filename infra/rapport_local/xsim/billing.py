"""The bill X would send: pay-per-use reads, per resource returned, once per resource per UTC day.

Prices (README, 2026-02): a post read $0.005, a user read $0.010, a follower read $0.010, and $0.001 for
any of them returned by an *owned* read (``/2/users/{id}/tweets|mentions|followers|following`` where
``{id}`` is the authenticated user). Amounts are kept in integer tenths of a cent so sums are exact.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any, Literal

Resource = Literal["posts", "users", "followers"]
RESOURCES: tuple[Resource, ...] = ("posts", "users", "followers")
PRICE_MILLS: dict[Resource, int] = {"posts": 5, "users": 10, "followers": 10}  # 1 mill = $0.001
OWNED_PRICE_MILLS = 1


class Ledger:
    """Requests and billed resources, by endpoint and by simulated UTC day."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._requests = 0
            self._by_endpoint: Counter[str] = Counter()
            self._charged: set[tuple[Resource, str, date]] = set()
            self._billed: Counter[Resource] = Counter()
            self._returned: Counter[Resource] = Counter()
            self._mills = 0
            self._days: dict[date, _Day] = {}

    def record_request(self, endpoint: str, day: date) -> None:
        with self._lock:
            self._requests += 1
            self._by_endpoint[endpoint] += 1
            self._day(day).requests += 1

    def charge(self, day: date, resources: Iterable[tuple[Resource, str]], *, owned: bool) -> int:
        """Bill what one successful response returned; returns the mills charged."""
        total = 0
        with self._lock:
            bucket = self._day(day)
            for kind, resource_id in resources:
                self._returned[kind] += 1
                key = (kind, resource_id, day)
                if key in self._charged:
                    continue  # the same resource is billed once per UTC day
                self._charged.add(key)
                price = OWNED_PRICE_MILLS if owned else PRICE_MILLS[kind]
                self._billed[kind] += 1
                bucket.resources[kind] += 1
                bucket.mills += price
                total += price
            self._mills += total
        return total

    def usage(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self._requests,
                "requests_by_endpoint": dict(sorted(self._by_endpoint.items())),
                "resources": {kind: self._billed[kind] for kind in RESOURCES},
                "returned": {kind: self._returned[kind] for kind in RESOURCES},
                "cost_usd": _usd(self._mills),
                "by_day": {
                    day.isoformat(): {
                        "requests": bucket.requests,
                        "resources": {kind: bucket.resources[kind] for kind in RESOURCES},
                        "cost_usd": _usd(bucket.mills),
                    }
                    for day, bucket in sorted(self._days.items())
                },
            }

    def _day(self, day: date) -> _Day:
        if day not in self._days:
            self._days[day] = _Day()
        return self._days[day]


class _Day:
    __slots__ = ("mills", "requests", "resources")

    def __init__(self) -> None:
        self.requests = 0
        self.resources: Counter[Resource] = Counter()
        self.mills = 0


def _usd(mills: int) -> float:
    return round(mills / 1000, 3)
