"""One lease item per function: taken with a conditional put, given back with a conditional delete."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from pynamodb.exceptions import PutError, UpdateError

from rapport.adapters.dynamodb.table import LeaseItem, delete_if, is_conditional_failure

LEASE = "LEASE"


def expiry_seconds(now: datetime, ttl: timedelta) -> int:
    """When a lease taken at ``now`` ends, in whole epoch seconds (rounded up: never shorter than asked)."""
    return math.ceil((now + ttl).timestamp())


class DynamoLeaseStore:
    def acquire(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        free_expired_or_ours = (
            LeaseItem.sk.does_not_exist()
            | (LeaseItem.expires_at <= now.timestamp())
            | (LeaseItem.holder == holder)
        )
        try:
            LeaseItem(LEASE, name, holder=holder, expires_at=expiry_seconds(now, ttl)).save(
                condition=free_expired_or_ours
            )
        except PutError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def admit(self, name: str, window_start: datetime, window: timedelta, limit: int) -> bool:
        # One counter item per window, added to under a condition: concurrent requests never pass
        # the limit together, and the item ages out through the table's TTL after its window.
        item = LeaseItem(LEASE, f"{name}#{int(window_start.timestamp())}")
        under_limit = LeaseItem.admitted.does_not_exist() | (LeaseItem.admitted < limit)
        try:
            item.update(
                actions=[
                    LeaseItem.admitted.add(1),
                    LeaseItem.expires_at.set(expiry_seconds(window_start, window)),
                ],
                condition=under_limit,
            )
        except UpdateError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def release(self, name: str, holder: str) -> None:
        delete_if(LeaseItem(LEASE, name), LeaseItem.holder == holder)
