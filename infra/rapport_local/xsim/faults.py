"""Injected failures: the next N requests to an endpoint answer 429 or 5xx, or time out."""

from __future__ import annotations

import threading
from dataclasses import dataclass

TIMEOUT = 0  # not an HTTP status: the answer comes only after ``Faults.timeout_seconds`` of wall time
FAULT_STATUSES = frozenset({429, 500, 502, 503, 504, TIMEOUT})


@dataclass(slots=True)
class Fault:
    endpoint: str  # a template such as "/2/users/:id/mentions", or "*" for any X endpoint
    status: int
    remaining: int


class Faults:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.timeout_seconds = 2.0  # longer than the read timeout a client under test sets

    def add(self, endpoint: str, status: int, count: int = 1) -> None:
        if status not in FAULT_STATUSES:
            raise ValueError(f"status must be one of {sorted(FAULT_STATUSES)}, got {status}")
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        with self._lock:
            self._faults.append(Fault(endpoint, status, count))

    def take(self, endpoint: str) -> int | None:
        """The status the next request to ``endpoint`` must fail with, if any (first added, first used)."""
        with self._lock:
            for fault in self._faults:
                if fault.endpoint in (endpoint, "*"):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault.status
            return None

    def pending(self) -> list[dict[str, object]]:
        with self._lock:
            return [{"endpoint": f.endpoint, "status": f.status, "count": f.remaining} for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
