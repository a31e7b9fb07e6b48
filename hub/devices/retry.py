"""Reconnecting event streams: exponential backoff with full jitter.

A device's event stream is opened again whenever it ends or fails, waiting
``random(0, min(cap, 2**attempt))`` seconds, so a thousand cameras that lost
the same switch do not all come back at the same instant.  A failure is
logged once, and the recovery once; a refused password stops the retries
(retrying will not help, and may lock the account).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from hub.core.errors import DeviceAuthFailed, DeviceError

T = TypeVar("T")


def jittered(attempt: int, cap: float = 60.0) -> float:
    return random.uniform(0, min(cap, 2.0 ** attempt))


async def reconnecting(open_stream: Callable[[], AsyncIterator[T]], log: logging.Logger, where: str,
                       cap: float = 60.0) -> AsyncIterator[T]:
    attempt = 0
    failing = False
    while True:
        try:
            async for item in open_stream():
                if failing:
                    log.info("event stream recovered", extra={"device": where})
                    failing = False
                attempt = 0
                yield item
        except DeviceAuthFailed:
            log.error("event stream refused the credentials; not retrying", extra={"device": where})
            raise
        except DeviceError as err:
            if not failing:
                log.warning("event stream failed; reconnecting with backoff",
                            extra={"device": where, "error": str(err)})
                failing = True
        await asyncio.sleep(jittered(attempt, cap))
        attempt += 1
