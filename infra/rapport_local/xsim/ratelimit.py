"""X's per-15-minute rate limits, counted on the simulated clock.

A window opens with the first request of a (endpoint, credential) pair and resets 15 minutes later, so a
demo that advances the clock by hours always finds fresh windows, and a test can exhaust one instantly.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=15)

# endpoint template -> (app limit with a bearer token, user limit with user context); None: not allowed.
# From the README. /2/users and /2/users/by/username/:username have /2/users/by's figures, each in a
# window of its own (a window is per endpoint and credential). Recent search: 60 per 15 minutes on
# self-serve access, app or user (README), not the 450/300 of older tiers.
LIMITS: dict[str, tuple[int | None, int]] = {
    "/2/users/me": (None, 75),
    "/2/users/by": (300, 900),
    "/2/users": (300, 900),
    "/2/users/by/username/:username": (300, 900),
    "/2/users/:id/mentions": (450, 300),
    "/2/users/:id/tweets": (10_000, 900),
    "/2/users/:id/followers": (300, 300),
    "/2/users/:id/following": (300, 300),
    "/2/tweets": (3_500, 5_000),
    "/2/tweets/search/recent": (60, 60),
}


@dataclass(frozen=True, slots=True)
class RateStatus:
    limit: int
    remaining: int
    reset: int  # epoch seconds (simulated clock)
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.remaining),
            "x-rate-limit-reset": str(self.reset),
        }


@dataclass(slots=True)
class _Window:
    start: datetime
    used: int


class RateLimiter:
    def __init__(self, limits: dict[str, tuple[int | None, int]] | None = None) -> None:
        self._limits = dict(LIMITS if limits is None else limits)
        self._windows: dict[tuple[str, str], _Window] = {}
        self._lock = threading.Lock()

    def limit_for(self, endpoint: str, user_context: bool) -> int | None:
        app, user = self._limits[endpoint]
        return user if user_context else app

    def hit(self, endpoint: str, credential: str, user_context: bool, now: datetime) -> RateStatus:
        """Count one request; ``allowed`` is False (and nothing is counted) once the window is used up."""
        limit = self.limit_for(endpoint, user_context)
        if limit is None:
            raise ValueError(f"{endpoint} does not accept this authentication")
        with self._lock:
            window = self._window(endpoint, credential, now)
            allowed = window.used < limit
            if allowed:
                window.used += 1
            return RateStatus(limit, max(limit - window.used, 0), _reset(window), allowed)

    def exhaust(self, endpoint: str, credential: str, user_context: bool, now: datetime) -> RateStatus:
        """Use up the window (an injected 429 looks like a real one)."""
        limit = self.limit_for(endpoint, user_context) or 0
        with self._lock:
            window = self._window(endpoint, credential, now)
            window.used = max(window.used, limit)
            return RateStatus(limit, 0, _reset(window), False)

    def peek(self, endpoint: str, credential: str, user_context: bool, now: datetime) -> RateStatus:
        limit = self.limit_for(endpoint, user_context) or 0
        with self._lock:
            window = self._window(endpoint, credential, now)
            return RateStatus(limit, max(limit - window.used, 0), _reset(window), window.used < limit)

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()

    def _window(self, endpoint: str, credential: str, now: datetime) -> _Window:
        key = (endpoint, credential)
        window = self._windows.get(key)
        if window is None or now >= window.start + WINDOW or now < window.start:
            window = _Window(now, 0)
            self._windows[key] = window
        return window


def _reset(window: _Window) -> int:
    return int((window.start + WINDOW).timestamp())
