"""The assigner: one node at a time places the cameras and moves them (see ``hub.cluster``).

Whoever holds a PostgreSQL session advisory lock (``AdvisoryLock.ASSIGNER``,
on a connection of its own, named ``APPLICATION`` and its node) assigns; once
a second it places every device's cameras together by weighted rendezvous
hashing with a bound on load (``place``) and moves what is not where the
placement says, by the conditional updates of ``ClusterRecords``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text

from hub.core.config.sections import ClusterConfig
from hub.core.models import Camera
from hub.store.cluster import ClusterRecords
from hub.store.database import AdvisoryLock

log = logging.getLogger("pantau.cluster")

#: The assigner's lock connection is named this and its node (``application_name``).
APPLICATION = "pantau-assigner:"
#: No node gets more than this times its share of the cameras.
BOUND = 1.25


def _unit(node: str, key: str) -> float:
    """A stable number in (0, 1) for a node and a device."""
    digest = hashlib.blake2b(f"{node}\x00{key}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") + 1) / (2**64 + 2)


def place(devices: dict[str, int], nodes: dict[str, float]) -> dict[str, str]:
    """Each device's node: weighted rendezvous hashing (the highest ``-capacity / ln(u)``), bounded so no
    node takes more than ``BOUND`` times its capacity's share of the cameras; a device (all its cameras) goes
    whole.  ``devices``: device -> cameras; ``nodes``: node -> capacity."""
    if not nodes:
        return {}
    total = sum(devices.values())
    weight = sum(nodes.values())
    room = {n: math.ceil(BOUND * total * c / weight) for n, c in nodes.items()}
    taken = dict.fromkeys(nodes, 0)
    out = {}
    for device in sorted(devices, key=lambda d: (-devices[d], d)):  # big NVRs first, while there is room
        ranked = sorted(nodes, key=lambda n: -nodes[n] / math.log(_unit(n, device)), reverse=True)
        chosen = next((n for n in ranked if taken[n] + devices[device] <= room[n]), ranked[0])
        out[device] = chosen
        taken[chosen] += devices[device]
    return out


class Assigner:
    """This node's part as the assigner: the lock, and the rounds of placing while it holds it."""

    def __init__(self, records: ClusterRecords, settings: ClusterConfig, node: str,
                 cameras: Callable[[], dict[str, Camera]], lease_age: Callable[[], float],
                 seated: Callable[[], Awaitable[None]]) -> None:
        self.records, self.settings, self.node = records, settings, node
        self.cameras = cameras
        self.lease_age = lease_age  # seconds since this node renewed its lease
        self.seated = seated  # told when this node becomes the assigner
        self.leader_since: float | None = None
        self._lock_conn: Any = None
        self._unseated: float | None = None  # when this node ended a lapsed assigner's lock connection

    @property
    def assigns(self) -> bool:
        return self.leader_since is not None

    async def run(self) -> None:
        """Once a second: hold the lock (or try for it) and, while held, place and move the cameras."""
        while True:
            try:
                if self.lease_age() > self.settings.lease_seconds:
                    await self.drop_lock()  # paused or cut off: another node may assign by now
                elif await self._hold_lock():
                    await self.assign_round()
            except Exception as err:
                log.warning("assigning cameras failed", extra={"node": self.node, "error": type(err).__name__})
                await self.drop_lock()
            await asyncio.sleep(1.0)

    async def _hold_lock(self) -> bool:
        if self._lock_conn is not None:
            await self._lock_conn.execute(text("SELECT 1"))  # still connected, so still held
            return True
        conn = await self.records.db.engine.connect()
        got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": int(AdvisoryLock.ASSIGNER)})).scalar()
        if got:  # other nodes tell the lock's holder by its connection's name
            await conn.execute(text("SELECT set_config('application_name', :n, false)"),
                               {"n": f"{APPLICATION}{self.node}"})
        await conn.commit()
        if not got:
            await conn.close()
            await self._unseat_a_lapsed_assigner()
            return False
        self._lock_conn, self.leader_since = conn, time.monotonic()
        if self._unseated is not None and time.monotonic() - self._unseated < 3 * self.settings.lease_seconds:
            # This node took the lock from an assigner whose lease was over while the database answered
            # everyone else: no database restart to wait out, the leases tell the truth now.
            self.leader_since -= self.settings.lease_seconds
        self._unseated = None
        log.info("this node assigns the cameras", extra={"node": self.node})
        await self.seated()  # the assigner speaks for what no camera owns (its outbox rows too)
        return True

    async def _unseat_a_lapsed_assigner(self) -> None:
        """The assigner's lock is held by a node whose lease is over (a process stopped, not dead: its
        connection, and so the lock, lives on): end that connection, so that a living node assigns."""
        holder = await self.records.lock_holder(int(AdvisoryLock.ASSIGNER), APPLICATION)
        if holder is None or holder[1] == self.node:
            return
        pid, node = holder
        peer = {n["name"]: n for n in await self.records.nodes()}.get(node)
        if peer is not None and not peer["alive"] and peer["lease_left"] < -self.settings.lease_seconds / 3:
            log.warning("the assigner's lease is over but it holds the lock; its connection is ended",
                        extra={"node": self.node, "assigner": node})
            await self.records.end_backend(pid)
            self._unseated = time.monotonic()

    async def close(self) -> None:
        if self._lock_conn is not None:
            with contextlib.suppress(Exception):
                await self._lock_conn.close()

    async def drop_lock(self) -> None:
        if self._lock_conn is not None:
            with contextlib.suppress(Exception):
                await self._lock_conn.invalidate()
            self._lock_conn, self.leader_since = None, None

    async def assign_round(self) -> int:
        """One round of placing and moving; how many cameras changed node."""
        nodes = await self.records.nodes()
        alive = {n["name"]: float(n["capacity"]) for n in nodes if n["alive"] and not n["draining"]}
        if not alive:
            return 0
        young = self.leader_since is not None and time.monotonic() - self.leader_since < self.settings.lease_seconds
        living = {n["name"] for n in nodes if n["alive"]}
        cameras = self.cameras()
        devices: dict[str, list[str]] = {}
        for camera in cameras.values():
            devices.setdefault(camera.device_id, []).append(camera.id)
        target = place({d: len(c) for d, c in devices.items()}, alive)
        owners = await self.records.owners()
        handing = await self.records.handovers()
        moved = 0
        for device, ids in sorted(devices.items()):
            for camera_id in sorted(ids):
                current = owners.get(camera_id)
                if current is None:
                    if await self.records.claim(camera_id, device, target[device], None, "new") is not None:
                        moved += 1
                    continue
                node, epoch, _ = current
                if node == target[device]:
                    continue
                if node not in living and young:
                    continue  # a new assigner waits a lease before calling a node dead
                if moved >= self.settings.moves_per_round and node in living:
                    continue  # rebalancing waits for the next round; the dead are never kept waiting
                reason = "dead" if node not in living else "drain" if node not in alive else "rebalance"
                if node in living:  # make before break: the new owner opens the streams, then takes it
                    to, since = handing.get(camera_id, (None, 0.0))
                    if to != target[device]:
                        moved += await self.records.announce(camera_id, target[device], epoch)
                        continue
                    if since < 2 * self.settings.lease_seconds or reason == "rebalance":
                        continue  # still opening its streams (a rebalance waits for ever: the owner records)
                    reason += ": the new owner could not open its streams"
                if await self.records.claim(camera_id, device, target[device], epoch, reason) is not None:
                    moved += 1
        if moved:
            log.info("cameras assigned", extra={"node": self.node, "moved": moved})
        return moved
