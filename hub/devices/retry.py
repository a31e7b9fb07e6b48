"""Reconnecting event streams, with the hub's one backoff (``hub.core.retry``).

A device's event stream is opened again whenever it ends or fails, waiting
``random(0, min(cap, 2**attempt))`` seconds, so a thousand cameras that lost
the same switch do not all come back at the same instant.  A failure is
logged once, and the recovery once; a refused password stops the retries
(retrying will not help, and may lock the account).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from hub.core.errors import DeviceAuthFailed, DeviceError
from hub.core.retry import Backoff

T = TypeVar("T")


async def reconnecting(open_stream: Callable[[], AsyncIterator[T]], log: logging.Logger, where: str,
                       cap: float = 60.0) -> AsyncIterator[T]:
    retry = Backoff(log, "event stream", cap=cap, extra={"device": where})
    while True:
        try:
            async for item in open_stream():
                retry.succeeded()
                yield item
            wait = retry.failed("the stream ended")
        except DeviceAuthFailed:
            log.error("event stream refused the credentials; not retrying", extra={"device": where})
            raise
        except DeviceError as err:
            wait = retry.failed(str(err))
        await asyncio.sleep(wait)
