"""Backoff for everything that reconnects or retries: one formula, one way to log.

Every loop that talks to something which may go away (a camera's stream or
event channel, a broker, a report endpoint, an event worker process) waits
``random(0, min(cap, base * 2**attempt))`` seconds between attempts: "full
jitter", so a thousand cameras behind one switch that failed do not all come
back in the same instant.  ``Backoff`` also logs the way Home Assistant's
update coordinator does: the first failure once (a warning), the recovery
once (info), and nothing in between, however long the outage.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any


def backoff_delay(attempt: int, cap: float, base: float = 1.0) -> float:
    """Seconds to wait before retry number ``attempt + 1`` (``attempt`` counts from 0)."""
    return random.uniform(0, min(cap, base * 2.0 ** min(attempt, 62)))


class Backoff:
    """The retry state of one reconnecting loop.

    ``failed(reason)`` counts a failure, logs the first of a run, and returns
    how long to wait; ``succeeded()`` ends a run (the recovery is logged once)
    and starts the next run's backoff from the beginning.  With
    ``steady_after`` a connection that lasted that long counts as a success
    when it ends: a stream that ran for an hour and then broke starts again at
    the shortest wait.
    """

    def __init__(self, log: logging.Logger, what: str, *, cap: float = 60.0, base: float = 1.0,
                 steady_after: float | None = None, extra: dict[str, Any] | None = None) -> None:
        self.log = log
        self.what = what
        self.cap = cap
        self.base = base
        self.steady_after = steady_after
        self.extra = extra or {}
        self.attempt = 0
        self.failing = False
        self._started: float | None = None

    def started(self) -> None:
        """A connection was made (for ``steady_after``)."""
        self._started = time.monotonic()

    def succeeded(self) -> None:
        """The thing works (again): the recovery is logged once.  The backoff starts afresh,
        except with ``steady_after``: there the next failure tells whether it lasted."""
        if self.failing:
            self.log.info(f"{self.what} recovered", extra=self.extra)
        self.failing = False
        if self.steady_after is None:
            self.attempt = 0

    def failed(self, reason: str | None = None) -> float:
        """One more failure; returns the seconds to wait before the next attempt."""
        if self.steady_after is not None and self._started is not None \
                and time.monotonic() - self._started >= self.steady_after:
            self.attempt = 0  # it ran for a while: this is a new outage, not the same one
        self._started = None
        if not self.failing:
            self.log.warning(f"{self.what} failed; retrying with backoff",
                             extra={**self.extra, **({"error": reason} if reason else {})})
            self.failing = True
        delay = backoff_delay(self.attempt, self.cap, self.base)
        self.attempt += 1
        return delay
