"""X API spend: one usage item per UTC day, added to atomically, and one record per collect run."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from rapport.adapters.dynamodb.table import UsageItem, ValueItem, is_conditional_failure, iso, put_value
from rapport.domain.money import USD, Spend
from rapport.usecases.ports import DaySpend

USAGE = "USAGE"
RUN = "RUN"


class DynamoSpendStore:
    def add_spend(self, day: date, spend: Spend, billed: Iterable[str] = (), run: str | None = None) -> None:
        actions: list[Action] = [
            UsageItem.requests.add(spend.requests),
            UsageItem.posts.add(spend.posts),
            UsageItem.users.add(spend.users),
            UsageItem.cost_usd.add(spend.cost.dollars),  # dollars, as the table always held them
            UsageItem.followers.add(spend.followers),
            UsageItem.deferred_for_budget.add(spend.deferred_for_budget),
        ]
        keys = set(billed)
        if keys:  # DynamoDB refuses an empty set
            actions.append(UsageItem.billed.add(keys))
        if run is None:
            UsageItem(USAGE, day.isoformat()).update(actions=actions)
            return
        # The run's id goes in with its counts, on the condition that it is not there yet: one write.
        actions.append(UsageItem.runs.add({run}))
        try:
            UsageItem(USAGE, day.isoformat()).update(actions=actions, condition=~UsageItem.runs.contains(run))
        except UpdateError as exc:
            if not is_conditional_failure(exc):
                raise

    def spend(self, day: date) -> Spend:
        try:
            return _spend(UsageItem.get(USAGE, day.isoformat()))
        except DoesNotExist:
            return Spend()

    def days(self, first: date, last: date) -> dict[date, DaySpend]:
        items = UsageItem.query(USAGE, UsageItem.sk.between(first.isoformat(), last.isoformat()))
        return {date.fromisoformat(i.sk): DaySpend(_spend(i), frozenset(i.billed or ())) for i in items}

    def add_run(self, at: datetime, record: dict[str, Any]) -> None:
        put_value(RUN, iso(at), record, at)

    def runs(self, first: datetime, last: datetime) -> list[dict[str, Any]]:
        items = ValueItem.query(RUN, ValueItem.sk.between(iso(first), iso(last)))
        return [dict(json.loads(i.value)) for i in items]


def _spend(i: UsageItem) -> Spend:
    return Spend(
        int(i.requests),
        int(i.posts),
        int(i.users),
        USD.of(i.cost_usd),
        int(i.followers or 0),
        int(i.deferred_for_budget or 0),
    )
