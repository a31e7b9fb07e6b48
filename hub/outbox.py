"""The notifier outbox: every event reaches every notifier, at least once, in order.

Events the bus carries are written to the ``outbox`` table (one row per
event and notifier, unique, so a repeat is ignored), in the same
transaction that keeps them in ``events``, before anything is sent.
One delivery loop per notifier takes its oldest pending rows in order and
hands them to ``Notifier.deliver_many`` (up to 200 at a time).  A failure stops that notifier's queue
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
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from hub.core.bus import Subscription
from hub.core.errors import NotifyError
from hub.core.models import Event, utcnow
from hub.core.notify import Notifier, PartlyDelivered
from hub.core.store import Store

log = logging.getLogger(__name__)

IDLE_POLL = 1.0  # seconds: how often a quiet queue looks for retries that became due
LINGER = 0.01  # seconds the writer and the delivery loops wait for more events to come along
WRITE_BATCH = 1000  # events kept and queued in one transaction, at most
DELIVER_BATCH = 200  # events handed to a notifier at once, at most


def backoff(attempts: int, cap: float) -> float:
    """Seconds before attempt ``attempts + 1``: 1, 2, 4 ... with jitter, at most ``cap``."""
    return min(cap, 2.0 ** max(0, attempts - 1)) * random.uniform(0.5, 1.0)


#: Events kept in memory per notifier between queueing and delivery, so the
#: delivery loop need not read them back from the store (it does past this).
FRESH_MAX = 50_000


class Outbox:
    def __init__(self, store: Store, notifiers: dict[str, Notifier]) -> None:
        self.store = store
        self.notifiers = notifiers
        self._wake = {name: asyncio.Event() for name in notifiers}
        self._fresh: dict[str, dict[str, Event]] = {name: {} for name in notifiers}

    def split(self, events: list[Event]) -> dict[str, list[Event]]:
        """Which of ``events`` each notifier wants."""
        return {name: [e for e in events if n.config.wants(e)] for name, n in self.notifiers.items()}

    def queued(self, queue: dict[str, list[Event]]) -> None:
        """``queue`` (from ``split``) is now in the store: wake the delivery loops."""
        for name, events in queue.items():
            if events:
                fresh = self._fresh[name]
                if len(fresh) + len(events) > FRESH_MAX:
                    fresh.clear()  # a long outage: read them back from the store instead
                fresh.update((e.id, e) for e in events)
                self._wake[name].set()

    async def write(self, sub: Subscription) -> None:
        """Bus subscriber: keep each event and queue it for every notifier that wants it."""
        async for first in sub:
            batch = sub.batch(first, WRITE_BATCH)
            if len(batch) < WRITE_BATCH:
                await asyncio.sleep(LINGER)  # a transaction per event would cost more than the wait
                sub.drain(batch, WRITE_BATCH)
            queue = self.split(batch)
            try:
                await self.store.record_events(batch, queue)
            except Exception:
                log.exception("saving events failed", extra={"events": len(batch)})
                continue
            self.queued(queue)

    async def deliver(self, name: str) -> None:
        """The delivery loop of one notifier; runs until cancelled."""
        notifier = self.notifiers[name]
        failing = False
        more = False  # the last batch was full: go on at once
        while True:
            wake = self._wake[name]
            wake.clear()
            if not more:
                await asyncio.sleep(LINGER)
            more = False
            rows = await self.store.outbox_head(name, DELIVER_BATCH, payloads=False)
            now = utcnow()
            due = []
            for row in rows:
                if row.next_attempt_at > now:
                    break
                due.append(row)
            blocked_until = rows[len(due)].next_attempt_at if len(due) < len(rows) else None
            events, malformed = await self._events(name, due)
            if malformed is not None:  # deliver what came before it, then set it aside
                due = due[:len(events)]
            delivered = len(due)
            error: Exception | None = None
            if due:
                try:
                    await notifier.deliver_many(events)
                except PartlyDelivered as err:
                    delivered, error = min(err.delivered, len(due)), err
                except Exception as err:
                    delivered, error = 0, err
            await self.store.outbox_delivered([r.id for r in due[:delivered]])
            if error is not None:
                row = due[delivered]
                reason = str(error) if isinstance(error, NotifyError) else f"{type(error).__name__}: {error}"
                retry_at = await self._failed(name, row, reason)
                if retry_at is None:
                    continue  # dead-lettered: go on with the next event
                if not failing:
                    log.warning("notifier cannot deliver; retrying with backoff",
                                extra={"notifier": name, "error": reason})
                    failing = True
                blocked_until = retry_at
            elif due and failing:
                log.info("notifier delivers again", extra={"notifier": name})
                failing = False
            if malformed is not None:
                await self.store.outbox_failed(malformed.id, malformed.attempts + 1, utcnow(),
                                               "the stored event is malformed", dead=True)
                continue
            if rows and error is None and len(due) == len(rows):
                more = len(rows) == DELIVER_BATCH
                continue  # the batch went out: there may be more
            wait = IDLE_POLL
            if blocked_until is not None:
                wait = max(0.05, min(IDLE_POLL * 5, (blocked_until - utcnow()).total_seconds()))
            try:
                await asyncio.wait_for(wake.wait(), wait)
            except TimeoutError:
                pass

    async def _events(self, name: str, rows: list[Any]) -> tuple[list[Event], Any]:
        """The rows' events, up to the first one that does not read as an event (returned too)."""
        fresh = self._fresh[name]
        found = [fresh.pop(row.event_id, None) for row in rows]
        missing = [row.id for row, event in zip(rows, found, strict=True) if event is None]
        payloads = await self.store.outbox_payloads(missing) if missing else {}
        events: list[Event] = []
        for row, event in zip(rows, found, strict=True):
            if event is None:
                try:
                    event = Event.model_validate(payloads.get(row.id))
                except ValidationError as err:
                    log.error("a queued event is malformed; dead-lettered", extra={
                        "notifier": name, "event": row.event_id, "error": str(err).splitlines()[0]})
                    return events, row
            events.append(event)
        return events, None

    async def _failed(self, name: str, row: Any, reason: str) -> datetime | None:
        """Record a failed attempt; the time of the next one, or None when the row is now dead."""
        cfg = self.notifiers[name].config
        now = utcnow()
        attempts = row.attempts + 1
        dead = now - row.created_at > timedelta(hours=cfg.dead_after_hours)
        retry_at = now + timedelta(seconds=backoff(attempts, cfg.retry_max_seconds))
        await self.store.outbox_failed(row.id, attempts, retry_at, reason, dead)
        if dead:
            log.error("event dead-lettered", extra={"notifier": name, "event": row.event_id, "error": reason})
            return None
        return retry_at
