"""The in-process event bus.

Publishers (vendor event streams, health checks, the recorder) call
``publish`` from the event loop and never wait.  Each subscriber has its own
bounded queue, so a slow subscriber cannot stall the others; when its queue
is full the oldest event is dropped, counted and logged once per burst.
Persistent, at-least-once delivery to outside targets is the notifier
outbox's job, not the bus's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from hub.core.models import Event

log = logging.getLogger(__name__)


class Subscription:
    """One subscriber's queue; iterate it with ``async for``."""

    def __init__(self, bus: EventBus, name: str, maxsize: int) -> None:
        self.bus = bus
        self.name = name
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize)
        self.dropped = 0
        self._warned = False

    def _offer(self, event: Event) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
            if not self._warned:
                self._warned = True
                log.warning("event subscriber is falling behind; dropping oldest events",
                            extra={"subscriber": self.name})
        else:
            self._warned = False
        self.queue.put_nowait(event)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            event = await self.queue.get()
            if event is None:
                return
            yield event

    def batch(self, first: Event, limit: int) -> list[Event]:
        """``first`` plus whatever else is already queued, up to ``limit``."""
        return self.drain([first], limit)

    def drain(self, out: list[Event], limit: int) -> list[Event]:
        """Add to ``out`` whatever is already queued, up to ``limit`` in all."""
        while len(out) < limit and not self.queue.empty():
            nxt = self.queue.get_nowait()
            if nxt is None:
                self.queue.put_nowait(None)
                break
            out.append(nxt)
        return out

    def close(self) -> None:
        self.bus._subs.discard(self)
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class EventBus:
    """Fan-out of normalised events to in-process subscribers."""

    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self.published = 0

    def subscribe(self, name: str, maxsize: int = 10_000) -> Subscription:
        sub = Subscription(self, name, maxsize)
        self._subs.add(sub)
        return sub

    def publish(self, event: Event) -> None:
        self.published += 1
        for sub in list(self._subs):
            sub._offer(event)

    def close(self) -> None:
        for sub in list(self._subs):
            sub.close()
