"""Waiting on a running hub in tests: ``until`` a condition holds (``waited``: the same from a test
that is not async, for a hub in another process), and the events its bus carries (``collect_events``)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from hub.core.models import Event

if TYPE_CHECKING:
    from hub.app import Hub


async def until(predicate: Callable[[], object | Awaitable[object]], seconds: float = 15) -> None:
    """Poll ``predicate`` (plain or async) every 50 ms; AssertionError if it stays false for ``seconds``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() >= deadline:
            raise AssertionError(f"condition not met within {seconds:g} s")
        await asyncio.sleep(0.05)


def waited(check: Callable[[], object], seconds: float, what: str, every: float = 0.3) -> object:
    """Poll ``check`` until it answers something true, and return that; AssertionError saying ``what``
    did not happen within ``seconds``."""
    deadline = time.monotonic() + seconds
    while not (found := check()):
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} (not within {seconds:g} s)")
        time.sleep(every)
    return found


def collect_events(hub: Hub, keep: Callable[[Event], bool] | None = None) -> list[Event]:
    """A list the hub's bus appends every event to (those ``keep`` accepts) while the hub runs."""
    seen: list[Event] = []
    sub = hub.bus.subscribe("test")

    async def collect() -> None:
        async for event in sub:
            if keep is None or keep(event):
                seen.append(event)

    hub._spawn(collect())  # noqa: SLF001 - ended with the hub's own tasks
    return seen
