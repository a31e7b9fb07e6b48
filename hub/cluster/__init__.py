"""Several hub nodes on one PostgreSQL database: the cameras shared out, each recorded by its owner.

Every node renews a lease in ``cluster_nodes`` on the database's clock, a
third of the lease at a time.  One node at a time is the assigner (``hub.cluster.assigner``): whoever
holds a PostgreSQL session advisory lock (``pg_try_advisory_lock``, held by
a connection of its own; a node that dies or loses the database loses it).
Once a second it places every device's cameras together on a node (an
NVR's session cap is per device) by weighted rendezvous hashing with a bound
on load (no node above ``BOUND`` times its share), and moves those whose
owner is dead, draining, or not the placement's (a recovered node gets its
cameras back), ``moves_per_round`` at most, each by a conditional update of
the camera's epoch (``ClusterRecords.claim``: an epoch only goes up, and only
the change from the epoch read wins).  A new assigner waits one lease length
before it moves a camera away from a node whose lease looks over: that node
may only be slow to renew after a database restart.  An assigner whose own
lease is over stops assigning; one that is stopped (not dead: its connection
and lock live on) is unseated by the others, which end its lock's connection
once its lease has been over for a third of a lease (``pg_terminate_backend``).

A move between two living nodes (a drain, a recovered node's cameras going
back) is made before it is broken: the assigner announces it
(``next_node``); the new owner opens the camera's streams and, once they
bring packets, takes the camera itself (the same conditional update); the
old owner records until it sees that, and its last segment, which began
before the move, is kept (``fence_check``): the two overlap by a moment
rather than leave a gap.  A draining node's camera whose new owner cannot
open its streams within two leases (the camera is offline) is given to it
anyway; a rebalance waits, its old owner recording meanwhile.

Each node records only what it owns (``owns``), passes on only the events of the
cameras it owns (``speaks_for``; events of no camera: the assigner), so each event
reaches the outbox, and every notifier, from one node; and indexes a segment only as
its owner at the epoch it started recording under (``fence``: the index
refuses anything else in the same transaction, ``Fenced``); a node whose write
is refused stops that camera at once.  A node that could not renew its lease
for a whole lease length (paused, cut off) gives up every camera before it
writes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any

from hub.cluster.assigner import APPLICATION, BOUND, Assigner, place
from hub.core.config.sections import ClusterConfig
from hub.core.models import Camera
from hub.store.cluster import ClusterRecords

if TYPE_CHECKING:
    from hub.inventory import Inventory

log = logging.getLogger("pantau.cluster")

__all__ = ["APPLICATION", "BOUND", "Cluster", "place"]


class Cluster:
    """This node's part in the cluster: its lease, what it owns, and, while it holds the lock, assigning."""

    def __init__(self, records: ClusterRecords, settings: ClusterConfig,
                 cameras: Callable[[], dict[str, Camera]]) -> None:
        self.records = records
        self.settings = settings
        self.node = settings.node or socket.gethostname().split(".")[0].lower()[:63]
        self.cameras = cameras
        #: Told whenever what this node owns (or its part as the assigner) changes: the parts of the hub
        #: that follow it add themselves as they start (recorders, the outbox, the event readers).
        self.listeners: list[Callable[[], Awaitable[None] | None]] = []
        #: Opens the streams of cameras being handed to this node; says which bring packets already.
        self.warm: Callable[[Collection[str]], Awaitable[set[str]]] | None = None
        #: What this node owns now: camera id -> epoch.
        self.owned: dict[str, int] = {}
        #: The URL the other nodes reach this node's HTTP at (hub.yaml's, else set once it listens).
        self.address = settings.address
        #: Proves a request this node passes to another is its own (kept in its node row for this run).
        self.peer_key = secrets.token_urlsafe(32)
        #: Every camera's owner, and every node's row, as of the last read (a lease's third ago at most).
        self.directory: dict[str, str] = {}
        self.peers: dict[str, dict[str, Any]] = {}
        self._http: Any = None  # an aiohttp session, for requests passed to another node
        self._peers_read = 0.0
        self._unplaced: dict[str, float] = {}  # cameras of this node's inventory without a living owner, since
        self._renewed = time.monotonic()
        self._tasks: list[asyncio.Task[None]] = []
        self.assigner = Assigner(records, settings, self.node, cameras, self.lease_age, self.changed)

    def owns(self, camera_id: str) -> bool:
        return camera_id in self.owned

    @property
    def assigns(self) -> bool:
        """Whether this node is the assigner now."""
        return self.assigner.assigns

    async def changed(self) -> None:
        for listener in self.listeners:
            done = listener()
            if done is not None:
                await done

    def speaks(self) -> tuple[Collection[str], bool]:
        """The cameras whose events and outbox rows this node passes on, and whether those of no camera."""
        return self.owned.keys(), self.assigns

    def sources_read(self, inventory: Inventory) -> set[str]:
        """The sources whose events this node reads: those of the cameras it owns (the assigner also
        those without cameras)."""
        names = {inventory.source_name(c) for c in self.owned if c in inventory.cameras}
        if self.assigns:
            names |= {n for n in inventory.sources if not inventory.cameras_of(n)}
        return names

    def once(self, job: Callable[[], Any]) -> Callable[[], Any]:
        """A job of the whole hub, not of one node: only the assigner runs it."""
        def run() -> Any:
            return job() if self.assigns else None

        return run

    def speaks_for(self, camera_id: str | None) -> bool:
        """Whether this node publishes an event of the camera (its owner does; of no camera, the
        assigner): every node reads the devices' events, one passes each on."""
        return camera_id in self.owned if camera_id is not None else self.assigns

    def fence(self, camera_id: str) -> tuple[str, int] | None:
        epoch = self.owned.get(camera_id)
        return (self.node, epoch) if epoch is not None else None

    async def start(self) -> None:
        await self._renew()
        await self.records.start(self.node)
        self._renewed = time.monotonic()
        await self.refresh()
        self._tasks = [asyncio.create_task(self._keep_lease()), asyncio.create_task(self.assigner.run())]
        log.info("node joined the cluster", extra={"node": self.node, "owned": len(self.owned)})

    def lease_age(self) -> float:
        """Seconds since this node last renewed its lease."""
        return time.monotonic() - self._renewed

    def client(self, make: Callable[[], Any]) -> Any:
        """The HTTP client for requests passed to other nodes (one per node, made on first use)."""
        if self._http is None or self._http.closed:
            self._http = make()
        return self._http

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._http is not None:
            await self._http.close()
        await self.assigner.close()

    async def _keep_lease(self) -> None:
        every = self.settings.lease_seconds / 3
        while True:
            await asyncio.sleep(every)
            overdue = time.monotonic() - self._renewed > self.settings.lease_seconds
            if overdue and self.owned:  # paused or cut off for a whole lease: another node may own them now
                log.warning("lease lapsed; giving up every camera until the cluster says again",
                            extra={"node": self.node, "cameras": len(self.owned)})
                self.owned = {}
                await self.changed()
            try:
                await self._renew()
                self._renewed = time.monotonic()
                await self.refresh()
            except Exception as err:  # the database is away: keep trying, the lease says how long
                log.warning("cannot renew the lease", extra={"node": self.node, "error": type(err).__name__})

    async def _renew(self) -> None:
        await self.records.renew(self.node, self.address, self.settings.capacity, self.settings.lease_seconds,
                                 self.peer_key)

    def owner_address(self, camera_id: str) -> str | None:
        """Where to pass a request about a camera another node owns (None: answer it here: this node
        owns it, no one does yet, or its owner is not reachable)."""
        node = self.directory.get(camera_id)
        return self.node_address(node) if node is not None and camera_id not in self.owned else None

    def node_address(self, node: str) -> str | None:
        """Another living node's address (None: this node, or one unknown, dead or without an address)."""
        peer = self.peers.get(node)
        if node == self.node or peer is None or not peer["alive"]:
            return None
        return peer["address"] or None

    async def reload_peers(self) -> None:
        """Read the nodes' rows again now (at most once a second): a node that restarted has a new key."""
        if time.monotonic() - self._peers_read < 1.0:
            return
        self._peers_read = time.monotonic()
        self.peers = {n["name"]: n for n in await self.records.nodes()}

    def is_peer(self, node: str, key: str) -> bool:
        """Whether a request passed on by ``node`` carries that node's key of this run."""
        peer = self.peers.get(node)
        known = peer.get("peer_key") if peer is not None else None
        return bool(known) and secrets.compare_digest(str(known), key)

    async def refresh(self) -> None:
        """Read what this node owns, and every camera's owner; on a change of this node's, the
        recorders follow (``changed``)."""
        owners = await self.records.owners()
        self.directory = {camera: node for camera, (node, _, _) in owners.items()}
        self.peers = {n["name"]: n for n in await self.records.nodes()}
        owned = {camera: epoch for camera, (node, epoch, _) in owners.items() if node == self.node}
        owned |= await self._take_handovers()
        owned |= await self._claim_the_unplaced(owners)
        if owned != self.owned:
            self.owned = owned
            await self.changed()

    async def _claim_the_unplaced(self, owners: dict[str, tuple[str, int, str]]) -> dict[str, int]:
        """Cameras only this node has (a source of its own: an edge's link that reached this node) are
        never placed by an assigner that lacks them: once one has had no living owner for two leases,
        this node takes it itself (the same conditional update; the assigner moves only what it has)."""
        if self.assigns:
            return {}  # the assigner places what it has
        now = time.monotonic()
        living = {n for n, peer in self.peers.items() if peer["alive"]}
        cameras = self.cameras()
        unplaced = {c for c in cameras if c not in owners or owners[c][0] not in living}
        self._unplaced = {c: self._unplaced.get(c, now) for c in unplaced}
        taken = {}
        for camera_id, since in sorted(self._unplaced.items()):
            if now - since < 2 * self.settings.lease_seconds:
                continue
            current = owners.get(camera_id)
            epoch = await self.records.claim(camera_id, cameras[camera_id].device_id, self.node,
                                             current[1] if current else None, "unplaced: only this node has it")
            if epoch is not None:
                taken[camera_id] = epoch
                self._unplaced.pop(camera_id)
        return taken

    async def _take_handovers(self) -> dict[str, int]:
        """Make before break: the cameras being handed to this node have their streams opened here
        (``warm``); each that brings packets is taken (its epoch goes up), while its old owner still
        records, so the recording goes on without a gap.  What this node took: camera id -> epoch."""
        announced = await self.records.announced(self.node)
        if self.warm is None:
            return {}  # nothing can open a stream here yet (the node is starting)
        ready = await self.warm(announced)
        taken = {}
        for camera_id in sorted(ready & announced.keys()):
            epoch, device = announced[camera_id]
            new = await self.records.claim(camera_id, device, self.node, epoch, "handover")
            if new is not None:
                taken[camera_id] = new
                self.directory[camera_id] = self.node
        return taken

    async def lost(self, camera_id: str) -> None:
        """A write for the camera was fenced: stop it now, and read again what is ours."""
        if self.owned.pop(camera_id, None) is not None:
            await self.changed()
