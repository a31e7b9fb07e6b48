"""The notifier outbox: every event reaches every notifier, at least once, in order.

Events the bus carries are written to the ``outbox`` table (one row per
event and notifier, unique, so a repeat is ignored) before anything is sent.
One delivery loop per notifier takes its oldest pending rows in order and
hands them to ``Notifier.deliver``.  A failure stops that notifier's queue
(so events stay in order) and retries after an exponential backoff with
jitter, capped by ``retry_max_seconds``; a row older than
``dead_after_hours`` that still fails is dead-lettered and kept for a person
to see.  A target that is down loses nothing, and neither does a restart:
pending rows are picked up when the hub starts again.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta

from hub.core.bus import Subscription
from hub.core.errors import NotifyError
from hub.core.models import Event, utcnow
from hub.core.notify import Notifier
from hub.core.store import Store

log = logging.getLogger(__name__)

IDLE_POLL = 1.0  # seconds: how often a quiet queue looks for retries that became due


def backoff(attempts: int, cap: float) -> float:
    """Seconds before attempt ``attempts + 1``: 1, 2, 4 ... with jitter, at most ``cap``."""
    return min(cap, 2.0 ** max(0, attempts - 1)) * random.uniform(0.5, 1.0)


class Outbox:
    def __init__(self, store: Store, notifiers: dict[str, Notifier]) -> None:
        self.store = store
        self.notifiers = notifiers
        self._wake = {name: asyncio.Event() for name in notifiers}

    async def write(self, sub: Subscription) -> None:
        """Bus subscriber: queue each event for every notifier that wants it."""
        async for first in sub:
            batch = sub.batch(first, 500)
            for name, notifier in self.notifiers.items():
                wanted = [e for e in batch if notifier.config.wants(e)]
                if not wanted:
                    continue
                try:
                    await self.store.enqueue(name, wanted)
                except Exception:
                    log.exception("writing to the outbox failed", extra={"notifier": name, "events": len(wanted)})
                    continue
                self._wake[name].set()

    async def deliver(self, name: str) -> None:
        """The delivery loop of one notifier; runs until cancelled."""
        notifier = self.notifiers[name]
        cfg = notifier.config
        failing = False
        while True:
            wake = self._wake[name]
            wake.clear()
            rows = await self.store.outbox_head(name)
            done: list[int] = []
            blocked_until = None
            for row in rows:
                now = utcnow()
                if row.next_attempt_at > now:
                    blocked_until = row.next_attempt_at
                    break
                try:
                    await notifier.deliver(Event.model_validate(row.payload))
                except Exception as err:  # any failure: keep the event, retry later
                    reason = str(err) if isinstance(err, NotifyError) else f"{type(err).__name__}: {err}"
                    attempts = row.attempts + 1
                    dead = now - row.created_at > timedelta(hours=cfg.dead_after_hours)
                    retry_at = now + timedelta(seconds=backoff(attempts, cfg.retry_max_seconds))
                    await self.store.outbox_delivered(done)
                    done = []
                    await self.store.outbox_failed(row.id, attempts, retry_at, reason, dead)
                    if dead:
                        log.error("event dead-lettered", extra={"notifier": name, "event": row.event_id,
                                                                 "error": reason})
                        continue
                    if not failing:
                        log.warning("notifier cannot deliver; retrying with backoff",
                                    extra={"notifier": name, "error": reason})
                        failing = True
                    blocked_until = retry_at
                    break
                done.append(row.id)
                if failing:
                    log.info("notifier delivers again", extra={"notifier": name})
                    failing = False
            await self.store.outbox_delivered(done)
            if rows and blocked_until is None and len(rows) == len(done):
                continue  # a full batch went out: there may be more
            wait = IDLE_POLL
            if blocked_until is not None:
                wait = max(0.05, min(IDLE_POLL * 5, (blocked_until - utcnow()).total_seconds()))
            try:
                await asyncio.wait_for(wake.wait(), wait)
            except TimeoutError:
                pass
