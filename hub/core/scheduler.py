"""Scheduled jobs: APScheduler 3 on the hub's event loop.

Core and plugin jobs (``register_jobs``) run here.  A job never overlaps
itself, missed runs coalesce into one, and each run gets a little jitter so
that many hubs (or many jobs) do not fire in lockstep.  A failing run is
logged with the job's name; the schedule goes on.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self) -> None:
        self._aps = AsyncIOScheduler(timezone="UTC")
        self.jobs: dict[str, str] = {}

    def add(self, name: str, func: Callable[[], Any], trigger: str, jitter: int = 5, **trigger_args: Any) -> None:
        """Run ``func()`` on ``trigger``; ``func`` may be async."""
        if name in self.jobs:
            raise ValueError(f"a job named {name!r} is already scheduled")

        async def run() -> None:
            try:
                result = func()
                if inspect.isawaitable(result):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduled job failed", extra={"job": name})

        self._aps.add_job(run, trigger, id=name, name=name, max_instances=1, coalesce=True,
                          misfire_grace_time=60, jitter=jitter, **trigger_args)
        self.jobs[name] = f"{trigger} {trigger_args}"

    def remove(self, name: str) -> None:
        """Stop scheduling job ``name`` (nothing when there is none)."""
        if self.jobs.pop(name, None) is not None:
            self._aps.remove_job(name)

    def start(self) -> None:
        self._aps.start()

    def shutdown(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=False)
