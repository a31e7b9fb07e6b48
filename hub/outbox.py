"""The notifier outbox: every event reaches every notifier, at least once, in order.

Events the bus carries are written to the ``outbox`` table (one row per
event and notifier, unique, so a repeat is ignored), in the same
transaction that keeps them in ``events``.  One delivery loop per notifier
hands them to ``Notifier.deliver_many`` (up to 200 at a time), in the order
of their rows; a notifier that keeps order across batches
(``batches_in_flight`` above 1, as MQTT) gets the next batch before the
previous one has returned.

While all goes well a loop takes each batch from memory as soon as the
writer has it, so that the delivery and the transaction keeping it run side
by side (a device does not send an event twice, so an event that went out
before the hub could keep it is no worse off than one it kept and had not
sent: at least once either way), and records what went out in the store
once both are done, in the background: the store is written once per batch
and never read on the way.  Whenever the store may hold rows memory lacks (at start, after a
failure, after a backlog larger than memory keeps) the loop reads its
pending rows from the store instead, oldest first, until it has caught up.
A failure stops that notifier's queue (so events stay in order) and
retries after an exponential backoff with jitter, capped by
``retry_max_seconds``; a row older than ``dead_after_hours`` that still
fails is dead-lettered and kept for a person to see.  A target that is
down loses nothing, and neither does a restart: pending rows are picked up
when the hub starts again.  A crash between a delivery and its record in
the store repeats that delivery: at least once, with the event id as the
idempotency key.

With several nodes (``hub.cluster``) each node keeps and delivers the
events of the cameras it owns (events of no camera: the assigner's), and
reads from the store only those rows (``mine``).  A node that gains cameras
reads the store again from its first pending row (``reclaim``), so what their
old owner kept and had not delivered goes out, in order, before their new
events: the event id, as ever, is the idempotency key of a delivery the old
owner made and did not record.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from hub.core.bus import Subscription
from hub.core.errors import NotifyError
from hub.core.models import Event, utcnow
from hub.core.notify import Notifier, PartlyDelivered
from hub.core.retry import backoff_delay
from hub.store import Store
from hub.store.events import EventRecords

log = logging.getLogger(__name__)

IDLE_POLL = 1.0  # seconds: how often a quiet queue looks for retries that became due
SAVE_LINGER = 0.02  # seconds the saver waits for more events to come along (delivery does not wait for it)
WRITE_BATCH = 1000  # events kept and queued in one transaction, at most
RECORD_AFTER = 0.1  # seconds before deliveries are recorded on their own (events flowing take them along sooner)
UNSAVED_MAX = 20_000  # events handed over and not yet kept, at most: past this the writer waits for the store
DELIVER_BATCH = 200  # events handed to a notifier at once, at most


#: Rows kept in memory per notifier between queueing and delivery; past this
#: the delivery loop reads them back from the store.
FRESH_MAX = 50_000


#: ``_Entry.row`` of an event the store did not queue: a repeat of one queued
#: before, or the writer's transaction failed.
NOT_KEPT = -1


class _Entry:
    """An event queued for one notifier, and its outbox row once the writer has committed it."""

    __slots__ = ("event", "row", "saved")

    def __init__(self, event: Event, saved: asyncio.Future[None]) -> None:
        self.event = event
        #: The outbox row id; None until ``saved`` is done; ``NOT_KEPT`` when there is none.
        self.row: int | None = None
        #: Done when the writer's transaction for this event has ended, either way.
        self.saved = saved


def _number(entries: list[_Entry], rows: list[tuple[int, Event]]) -> None:
    """Give ``entries`` their outbox rows (``rows``: (row id, event); a repeat made none)."""
    made = {event.id: row_id for row_id, event in rows}
    for entry in entries:
        entry.row = made.pop(entry.event.id, NOT_KEPT)


class _Queue:
    """One notifier's delivery state."""

    def __init__(self) -> None:
        self.wake = asyncio.Event()
        #: Events from the writer, in row order, not yet handed over (their rows may still be on the way).
        self.fresh: deque[_Entry] = deque()
        #: The store may hold pending rows ``fresh`` lacks: deliver from the store.
        self.behind = True
        #: Bumped whenever ``fresh`` loses rows, so a catch-up that raced with it does not count.
        self.losses = 0
        #: The highest row id delivered or set aside; rows at or below it are done.
        self.cursor = 0
        #: Handed over from memory and delivered, waiting for the writer to tell their rows, in order.
        self.sent: deque[_Entry] = deque()
        #: Rows delivered from memory, not yet recorded as delivered in the store.
        self.done: list[int] = []
        self.recorder: asyncio.Task[None] | None = None
        self.recorder_waits = False  # the recorder has not taken any rows yet
        self.failing = False
        #: Batches from ``fresh`` handed to the notifier and not yet settled, oldest first.
        self.in_flight: deque[tuple[list[_Entry], asyncio.Task[tuple[int, str | None]]]] = deque()

    def read_again(self) -> None:
        """Deliver from the store again, from its oldest pending row (a catch-up under way does not count)."""
        self.behind, self.cursor = True, 0
        self.losses += 1
        self.wake.set()

    def warn(self, name: str, reason: str) -> None:
        """The first failure of a run is logged; the next ones are not (the recovery is)."""
        if not self.failing:
            log.warning("notifier cannot deliver; retrying with backoff", extra={"notifier": name, "error": reason})
            self.failing = True

    def account(self, events: EventRecords) -> None:
        """Record what went out from memory as delivered, as far as the writer has told its rows."""
        rows = []
        while self.sent and (row := self.sent[0].row) is not None:
            self.sent.popleft()
            if row > 0:
                rows.append(row)
        if rows:
            self.cursor = max(self.cursor, rows[-1])
            self.done.extend(rows)
            if self.recorder is None or self.recorder.done():
                self.recorder = asyncio.create_task(self.record_soon(events))

    async def all_saved(self, events: EventRecords, entries: Sequence[_Entry] = ()) -> None:
        """Wait until the writer has told the rows of ``self.sent`` and of ``entries``, and account for them."""
        for entry in (*self.sent, *entries):
            if not entry.saved.done():
                await entry.saved
        self.account(events)

    def skip_done(self) -> None:
        """Drop the events at the front of ``fresh`` that went out from the store already.

        An event without a row (``NOT_KEPT``) stays: the store could not have sent it.
        """
        kept: list[_Entry] = []
        while self.fresh and (row := self.fresh[0].row) is not None and row <= self.cursor:
            entry = self.fresh.popleft()
            if row == NOT_KEPT:
                kept.append(entry)
        self.fresh.extendleft(reversed(kept))

    async def record_soon(self, events: EventRecords) -> None:
        """``record_done`` in a moment: while events flow, the writer's next transaction takes them along."""
        self.recorder_waits = True
        try:
            await asyncio.sleep(RECORD_AFTER)
        finally:
            self.recorder_waits = False
        await self.record_done(events)

    async def recorder_finished(self) -> None:
        """Wait for a recording of deliveries under way; one that has not started yet is dropped."""
        if self.recorder is not None and not self.recorder.done():
            if self.recorder_waits:
                self.recorder.cancel()
            await asyncio.gather(self.recorder, return_exceptions=True)

    async def record_done(self, events: EventRecords) -> None:
        """Record the rows delivered from memory as delivered in the store."""
        while self.done:
            ids, self.done = self.done, []
            try:
                await events.outbox_delivered(ids)
            except Exception:
                log.exception("recording deliveries failed; they may be repeated", extra={"rows": len(ids)})
                return


class Outbox:
    def __init__(self, store: Store, notifiers: dict[str, Notifier],
                 mine: Callable[[], tuple[Collection[str], bool]] | None = None) -> None:
        self.store = store
        self.notifiers = notifiers
        #: With several nodes: the cameras whose rows this node delivers, and whether the rows of no camera.
        self.mine = mine
        self._queues = {name: _Queue() for name in notifiers}
        #: Batches handed to the delivery loops and not yet kept, oldest first:
        #: (events, {notifier: entries}, done when kept).
        self._unsaved: deque[tuple[list[Event], dict[str, list[_Entry]], asyncio.Future[None]]] = deque()
        self._unsaved_count = 0
        self._to_save = asyncio.Event()
        self._progress = asyncio.Event()
        #: Done when the batch handed over last has been through the store.
        self._last_saved: asyncio.Future[None] | None = None

    def reclaim(self) -> None:
        """This node now speaks for more cameras: every queue reads the store again, from its oldest
        pending row (their earlier owner's rows come first, in order)."""
        for q in self._queues.values():
            q.read_again()

    def split(self, events: list[Event]) -> dict[str, list[Event]]:
        """Which of ``events`` each notifier wants."""
        return {name: [e for e in events if n.config.wants(e)] for name, n in self.notifiers.items()}

    def queued(self, entries: dict[str, list[_Entry]]) -> None:
        """``entries`` ({notifier: [entry]}, in row order) are on their way to the store: wake the delivery loops."""
        for name, added in entries.items():
            q = self._queues.get(name)
            if q is None or not added:
                continue
            if len(q.fresh) + len(added) > FRESH_MAX:  # a long outage: read them back from the store instead
                # Only what the store has: the events of a transaction under way stay.
                q.fresh = deque(entry for entry in q.fresh if entry.row is None)
                q.losses += 1
                q.behind = True
            q.fresh.extend(added)
            q.wake.set()

    async def write(self, sub: Subscription) -> None:
        """Bus subscriber: keep each event and queue it for every notifier that wants it.

        Each batch goes to the delivery loops at once and to the store beside
        them (``_saver``): sending does not wait for the disk.
        """
        saver = asyncio.create_task(self._saver())
        try:
            async for first in sub:
                batch = sub.batch(first, WRITE_BATCH)  # what has come in: delivery starts now
                while self._unsaved_count >= UNSAVED_MAX:  # the store is far behind: let it catch up
                    self._progress.clear()
                    await self._progress.wait()
                saved = self._last_saved = asyncio.get_running_loop().create_future()
                entries = {name: [_Entry(event, saved) for event in events]
                           for name, events in self.split(batch).items()}
                self._unsaved.append((batch, entries, saved))
                self._unsaved_count += len(batch)
                self._to_save.set()
                self.queued(entries)
        finally:
            try:
                if self._last_saved is not None:  # stopping: what is on its way to the store gets there
                    await asyncio.wait([self._last_saved])
            finally:
                saver.cancel()

    async def _saver(self) -> None:
        """Keep the batches handed over, in order, one transaction at a time; batches
        that came within ``SAVE_LINGER`` of each other, or waited for the transaction
        before, go together (up to ``WRITE_BATCH`` events)."""
        while True:
            await self._to_save.wait()
            if self._unsaved_count < WRITE_BATCH:
                await asyncio.sleep(SAVE_LINGER)  # a transaction per handful of events would cost more
            self._to_save.clear()
            while self._unsaved:
                taken = [self._unsaved.popleft()]
                events = list(taken[0][0])
                while self._unsaved and len(events) + len(self._unsaved[0][0]) <= WRITE_BATCH:
                    taken.append(self._unsaved.popleft())
                    events += taken[-1][0]
                wanted = {name: [entry.event for _, entries, _ in taken for entry in entries.get(name, [])]
                          for name in self._queues}
                delivered = {name: q.done for name, q in self._queues.items() if q.done}
                for q in self._queues.values():
                    q.done = []
                rows: dict[str, list[tuple[int, Event]]] = {}
                try:
                    rows = await self.store.events.record_events(
                        events, wanted, [row for ids in delivered.values() for row in ids])
                except Exception:
                    log.exception("saving events failed; they are delivered but not kept",
                                  extra={"events": len(events)})
                    for name, ids in delivered.items():  # recorded on their own, later
                        self._queues[name].done[:0] = ids
                finally:
                    self._unsaved_count -= len(events)
                    for name in self._queues:
                        _number([entry for _, entries, _ in taken for entry in entries.get(name, [])],
                                rows.get(name, []))
                    for _, _, saved in taken:
                        saved.set_result(None)
                    self._progress.set()
                for q in self._queues.values():
                    if q.sent:
                        q.account(self.store.events)

    async def deliver(self, name: str) -> None:
        """The delivery loop of one notifier; runs until cancelled."""
        q = self._queues[name]
        try:
            while True:
                q.wake.clear()
                if q.behind and q.in_flight:
                    wait = await self._settle(name, q)  # what went out from memory first, then the store
                elif q.behind:
                    wait = await self._from_store(name, q)
                else:
                    wait = await self._from_memory(name, q)
                if wait is None:
                    continue
                try:
                    await asyncio.wait_for(q.wake.wait(), wait)
                except TimeoutError:
                    pass
        finally:
            for _, task in q.in_flight:
                task.cancel()  # not recorded as delivered: they go again after a restart
            q.account(self.store.events)
            await q.recorder_finished()
            await q.record_done(self.store.events)

    # -- the fast path: rows just committed, from memory ---------------------------

    async def _from_memory(self, name: str, q: _Queue) -> float | None:
        """Hand the next batches of fresh rows over and settle the oldest; how long
        to wait for more (None: go on now).

        A notifier whose ``batches_in_flight`` is above 1 is given the next batch
        while the earlier ones are still going out (MQTT keeps them in order on
        its one connection), so the round trip to the target does not bound the rate.
        """
        q.skip_done()
        window = max(1, self.notifiers[name].batches_in_flight)
        if not q.in_flight and not q.fresh:
            return IDLE_POLL
        # No waiting for more here: the writer hands its events over a batch at a time.
        while q.fresh and len(q.in_flight) < window:
            batch = [q.fresh.popleft() for _ in range(min(DELIVER_BATCH, len(q.fresh)))]
            task = asyncio.create_task(self._hand_over(name, q, [entry.event for entry in batch]))
            q.in_flight.append((batch, task))
        if not q.in_flight:
            return IDLE_POLL
        oldest = q.in_flight[0][1]
        if len(q.in_flight) < window and not oldest.done():
            more = asyncio.ensure_future(q.wake.wait())  # rows that can go out beside it
            try:
                await asyncio.wait({oldest, more}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                more.cancel()
            if not oldest.done():
                return None
        batch, task = q.in_flight.popleft()
        return await self._settled(name, q, batch, await task)

    async def _settle(self, name: str, q: _Queue) -> float | None:
        """Wait for every batch in flight and account for them in order."""
        wait: float | None = None
        while q.in_flight:
            batch, task = q.in_flight.popleft()
            wait = await self._settled(name, q, batch, await task)
        return wait

    async def _settled(self, name: str, q: _Queue, batch: list[_Entry],
                       result: tuple[int, str | None]) -> float | None:
        """Account for one batch handed over from memory (recorded once the writer has kept it)."""
        delivered, error = result
        q.sent.extend(batch[:delivered])
        q.account(self.store.events)
        if error is None:
            return None
        # Stop here: the store has this row and the rest; retry them from there, in order.  Batches
        # handed over after this one count for nothing (at least once: what they got out goes again).
        rest = batch[delivered:]
        while q.in_flight:
            later, task = q.in_flight.popleft()
            await asyncio.gather(task, return_exceptions=True)
            rest.extend(later)
        q.fresh.extendleft(reversed(rest))  # kept for the retry, which reads the store
        await q.all_saved(self.store.events, rest)
        await q.record_done(self.store.events)
        retry_at = utcnow() + timedelta(seconds=backoff_delay(0, self.notifiers[name].config.retry_max_seconds))
        first = next((entry.row for entry in rest if entry.row is not None and entry.row > 0), None)
        if first is not None:
            await self.store.events.outbox_failed(first, 1, retry_at, error, dead=False)
        q.warn(name, error)
        q.behind = True
        return max(0.05, (retry_at - utcnow()).total_seconds())

    # -- the slow path: pending rows, from the store --------------------------------

    async def _from_store(self, name: str, q: _Queue) -> float | None:
        """Deliver the next due rows from the store; how long to wait (None: go on now)."""
        await q.all_saved(self.store.events)  # so the cursor covers everything sent from memory
        await q.recorder_finished()
        await q.record_done(self.store.events)
        losses = q.losses
        of = self.mine() if self.mine is not None else None
        rows = [r for r in await self.store.events.outbox_head(name, DELIVER_BATCH, payloads=False, of=of)
                if r.id > q.cursor]
        now = utcnow()
        due = []
        for row in rows:
            if row.next_attempt_at > now:
                break
            due.append(row)
        blocked_until = rows[len(due)].next_attempt_at if len(due) < len(rows) else None
        events, malformed = await self._events(name, q, due)
        if malformed is not None:  # deliver what came before it, then set it aside
            due = due[:len(events)]
        delivered, error = await self._hand_over(name, q, events) if due else (0, None)
        await self.store.events.outbox_delivered([r.id for r in due[:delivered]])
        if delivered:
            q.cursor = max(q.cursor, due[delivered - 1].id)
        if error is not None:
            row = due[delivered]
            retry_at = await self._failed(name, row, error)
            if retry_at is None:
                q.cursor = max(q.cursor, row.id)
                return None  # dead-lettered: go on with the next event
            q.warn(name, error)
            blocked_until = retry_at
        if malformed is not None:
            await self.store.events.outbox_failed(malformed.id, malformed.attempts + 1, utcnow(),
                                           "the stored event is malformed", dead=True)
            q.cursor = max(q.cursor, malformed.id)
            return None
        if error is None and len(due) == len(rows):
            if len(rows) == DELIVER_BATCH:
                return None  # a full batch went out: there may be more
            if q.losses == losses:
                if self._last_saved is not None:  # what the store showed must be skipped in memory: know its rows
                    await asyncio.wait([self._last_saved])
                q.behind = False  # caught up: what comes next is in memory
            return None if q.fresh else IDLE_POLL
        wait = IDLE_POLL
        if blocked_until is not None:
            wait = max(0.05, min(IDLE_POLL * 5, (blocked_until - utcnow()).total_seconds()))
        return wait

    async def _events(self, name: str, q: _Queue, rows: list[Any]) -> tuple[list[Event], Any]:
        """The rows' events, up to the first one that does not read as an event (returned too)."""
        q.skip_done()
        known: dict[int, Event] = {}
        last = rows[-1].id if rows else 0
        for entry in q.fresh:  # in row order: the rows asked for are at its front
            if entry.row is None or entry.row > last:
                break
            known[entry.row] = entry.event
        found = [known.get(row.id) for row in rows]
        missing = [row.id for row, event in zip(rows, found, strict=True) if event is None]
        payloads = await self.store.events.outbox_payloads(missing) if missing else {}
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

    # -- both -------------------------------------------------------------------------

    async def _hand_over(self, name: str, q: _Queue, events: list[Event]) -> tuple[int, str | None]:
        """Give ``events`` to the notifier: (how many went out, why the next did not)."""
        error: Exception | None = None
        try:
            await self.notifiers[name].deliver_many(events)
            delivered = len(events)
        except PartlyDelivered as err:
            delivered, error = min(err.delivered, len(events)), err
        except Exception as err:
            delivered, error = 0, err
        if error is None:
            if q.failing:
                log.info("notifier delivers again", extra={"notifier": name})
                q.failing = False
            return delivered, None
        return delivered, str(error) if isinstance(error, NotifyError) else f"{type(error).__name__}: {error}"

    async def _failed(self, name: str, row: Any, reason: str) -> datetime | None:
        """Record a failed attempt; the time of the next one, or None when the row is now dead."""
        cfg = self.notifiers[name].config
        now = utcnow()
        attempts = row.attempts + 1
        dead = now - row.created_at > timedelta(hours=cfg.dead_after_hours)
        retry_at = now + timedelta(seconds=backoff_delay(attempts - 1, cfg.retry_max_seconds))
        await self.store.events.outbox_failed(row.id, attempts, retry_at, reason, dead)
        if dead:
            log.error("event dead-lettered", extra={"notifier": name, "event": row.event_id, "error": reason})
            return None
        return retry_at
