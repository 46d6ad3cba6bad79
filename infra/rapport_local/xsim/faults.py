"""Injected failures: the next N requests to an endpoint answer 401, 429 or 5xx, time out, or arrive cut."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Final

TIMEOUT: Final = 0  # not an HTTP status: the answer comes only after ``Faults.timeout_seconds`` of wall time
# Not a status either: the endpoint's normal answer, sent with the Content-Length of its whole body, then
# the connection closes halfway through the body (server.py cuts it), as a connection dropped mid-body.
TRUNCATED: Final = "truncated"
# 401: X refuses the credentials (wrong or revoked keys), as a signature check would.
FAULT_STATUSES: frozenset[int | str] = frozenset({401, 429, 500, 502, 503, 504, TIMEOUT, TRUNCATED})
_ALLOWED = f'401, 429, 500, 502, 503, 504, {TIMEOUT} (a time-out) or "{TRUNCATED}"'


@dataclass(slots=True)
class Fault:
    endpoint: str  # a template such as "/2/users/:id/mentions", or "*" for any X endpoint
    status: int | str  # an HTTP status, TIMEOUT or TRUNCATED
    remaining: int


class Faults:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.timeout_seconds = 2.0  # longer than the read timeout a client under test sets

    def add(self, endpoint: str, status: int | str, count: int = 1) -> None:
        # bool is an int: without this, False would pass as TIMEOUT (0)
        if isinstance(status, bool) or status not in FAULT_STATUSES:
            raise ValueError(f"status must be one of {_ALLOWED}, got {status!r}")
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        with self._lock:
            self._faults.append(Fault(endpoint, status, count))

    def take(self, endpoint: str) -> int | str | None:
        """How the next request to ``endpoint`` must fail, if it must (first added, first used)."""
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
