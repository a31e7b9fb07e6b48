"""Pulses into spans: start on the first, stop after a quiet hold, a device stop at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hub.core.models import Event, EventKind, EventState
from hub.devices.pulses import spans


async def feed(script: list[tuple[float, Event]]) -> AsyncIterator[Event]:
    for delay, event in script:
        await asyncio.sleep(delay)
        yield event


def pulse(cam: str | None, kind: EventKind = EventKind.MOTION, state: EventState = EventState.PULSE) -> Event:
    return Event(camera_id=cam, kind=kind, state=state)


async def test_spans_per_camera_and_kind() -> None:
    script = [(0, pulse("a")), (0.05, pulse("a")), (0, pulse("b")), (0.05, pulse("a")),
              (0, pulse("a", EventKind.TAMPER)), (0, pulse("b", state=EventState.STOP)),
              (0, pulse(None)), (0, pulse("c", state=EventState.STOP))]
    out = [(e.camera_id, e.kind.value, e.state.value) async for e in spans(feed(script), hold=0.3)]
    assert out == [("a", "motion", "start"), ("b", "motion", "start"), ("a", "tamper", "start"),
                   ("b", "motion", "stop"), (None, "motion", "pulse"),
                   ("a", "motion", "stop"), ("a", "tamper", "stop")]


async def test_a_failing_stream_fails_the_spans() -> None:
    async def broken() -> AsyncIterator[Event]:
        yield pulse("a")
        raise ConnectionResetError("gone")

    seen = []
    with pytest.raises(ConnectionResetError):
        async for event in spans(broken(), hold=5):
            seen.append(event.state.value)
    assert seen == ["start", "stop"], "what was open is closed before the failure is raised"
