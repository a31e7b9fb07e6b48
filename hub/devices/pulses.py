"""Repeated pulses into start and stop: for devices that say "still active" instead of "started".

Hikvision's alertStream, for one, repeats an ``active`` alert about once a
second while motion lasts and never says when it ended.  Home Assistant's
motion sensor, recording rules and citizen-report rules want a start and a
stop.  ``spans`` passes a source's events through: the first pulse of a
(camera, kind) that lasts becomes a ``start``, repeats within ``hold``
seconds are absorbed, and ``hold`` seconds after the last repeat a ``stop``
is made.  A device's own ``stop`` ends the span at once, and so does the
end of the stream.  Kinds that are
one-off by nature (a line crossing) and events without a camera pass as
they come.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from hub.core.models import Event, EventKind, EventState, new_id, utcnow

#: Kinds that last: a pulse of these opens a span.
LASTING = frozenset({EventKind.MOTION, EventKind.INTRUSION, EventKind.TAMPER, EventKind.VIDEO_LOSS, EventKind.IO})


class _End:
    def __init__(self, error: BaseException | None) -> None:
        self.error = error


async def spans(events: AsyncIterator[Event], hold: float) -> AsyncIterator[Event]:
    """``events`` with lasting pulses turned into start / stop pairs (see the module)."""
    queue: asyncio.Queue[Event | _End] = asyncio.Queue(10_000)

    async def pump() -> None:
        try:
            async for event in events:
                await queue.put(event)
        except Exception as err:  # handed to the consumer, who raises it
            await queue.put(_End(err))
        else:
            await queue.put(_End(None))

    loop = asyncio.get_running_loop()
    task = asyncio.create_task(pump())
    open_spans: dict[tuple[str, EventKind], tuple[float, Event]] = {}
    try:
        while True:
            wait = min(d for d, _ in open_spans.values()) - loop.time() if open_spans else None
            try:
                item = await asyncio.wait_for(queue.get(), max(0.0, wait)) if wait is not None else await queue.get()
            except TimeoutError:
                item = None
            now = loop.time()
            for key, (deadline, last) in list(open_spans.items()):
                if deadline <= now:
                    del open_spans[key]
                    yield last.model_copy(update={"id": new_id(), "state": EventState.STOP, "at": utcnow()})
            if item is None:
                continue
            if isinstance(item, _End):  # nothing will continue what is open: close it
                for _, last in open_spans.values():
                    yield last.model_copy(update={"id": new_id(), "state": EventState.STOP, "at": utcnow()})
                if item.error is not None:
                    raise item.error
                return
            if item.camera_id is None or item.kind not in LASTING:
                yield item
                continue
            key = (item.camera_id, item.kind)
            if item.state == EventState.STOP:
                if open_spans.pop(key, None) is not None:
                    yield item
                continue  # a stop with nothing open is no news
            if key not in open_spans:
                yield item.model_copy(update={"state": EventState.START})
            open_spans[key] = (now + hold, item)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
