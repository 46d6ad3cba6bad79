"""One lease item per function: taken with a conditional put, given back with a conditional delete."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from pynamodb.exceptions import DeleteError, PutError

from rapport.adapters.dynamodb.table import LeaseItem, is_conditional_failure

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

    def release(self, name: str, holder: str) -> None:
        try:
            LeaseItem(LEASE, name).delete(condition=LeaseItem.holder == holder)
        except DeleteError as exc:
            if not is_conditional_failure(exc):
                raise
