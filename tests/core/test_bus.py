"""The event bus: every subscriber gets every event in order; a slow one
loses its oldest events, never the others'."""

from __future__ import annotations

import asyncio

from hub.core.bus import EventBus
from hub.core.models import Event, EventKind


def ev(i: int) -> Event:
    return Event(camera_id=f"c{i % 3}", kind=EventKind.MOTION, data={"i": i})


async def test_fan_out_in_order() -> None:
    bus = EventBus()
    a, b = bus.subscribe("a"), bus.subscribe("b")
    got: dict[str, list[int]] = {"a": [], "b": []}

    async def drain(name: str, sub) -> None:  # noqa: ANN001
        async for e in sub:
            got[name].append(e.data["i"])

    tasks = [asyncio.create_task(drain("a", a)), asyncio.create_task(drain("b", b))]
    for i in range(100):
        bus.publish(ev(i))
    bus.close()
    await asyncio.gather(*tasks)
    assert got["a"] == got["b"] == list(range(100))


async def test_slow_subscriber_drops_oldest_only_for_itself(caplog) -> None:
    bus = EventBus()
    slow = bus.subscribe("slow", maxsize=10)
    fast = bus.subscribe("fast")
    for i in range(25):
        bus.publish(ev(i))
    assert slow.dropped == 15 and fast.dropped == 0
    first = await slow.queue.get()
    assert first.data["i"] == 15
    assert [e.data["i"] for e in fast.batch(await fast.queue.get(), 100)] == list(range(25))
    assert sum("falling behind" in r.message for r in caplog.records) == 1


def test_a_plugin_defines_an_event_kind_that_validates_serialises_and_round_trips() -> None:
    import pickle

    import pytest

    from hub.core.models import Event, EventKind

    kind = EventKind.define("example_door_forced", "A door was forced.")
    assert EventKind.define("example_door_forced") is kind and EventKind("example_door_forced") is kind
    event = Event(kind="example_door_forced", camera_id="x:1:1")
    assert event.kind is kind and event.kind == "example_door_forced"
    again = Event.model_validate_json(event.model_dump_json())
    assert again.kind is kind and '"kind":"example_door_forced"' in event.model_dump_json()
    assert pickle.loads(pickle.dumps(kind)) is kind
    assert EventKind.MOTION == "motion" and EventKind("motion") is EventKind.MOTION
    with pytest.raises(ValueError, match="'motoin' is not an event kind; known kinds: motion, line_crossing"):
        Event(kind="motoin")
    with pytest.raises(ValueError, match="2-40 lower-case"):
        EventKind.define("Bad Kind")
