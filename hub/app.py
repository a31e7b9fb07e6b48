"""The running hub: wires config, plugins, store, sources, recording and HTTP.

``Hub.start`` sets everything up inside an ``AsyncExitStack`` so a start that
fails half-way undoes what it did; ``Hub.stop`` finishes open segments and
returns within the 10 s shutdown budget.  ``Hub.run`` serves until SIGTERM
or Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import uvicorn

from hub.access.grants import GrantPolicy
from hub.access.public import PublicGate
from hub.access.watch import AccessWatch
from hub.cluster import Cluster
from hub.context import RunningHubContext
from hub.core.bus import EventBus, Subscription
from hub.core.config import LoadedConfig
from hub.core.context import HubContext
from hub.core.errors import AccessDenied, ConfigError, HubError
from hub.core.models import Action, Camera, Event, Principal, utcnow
from hub.core.notify import Notifier
from hub.core.plugins import Plugins
from hub.core.policy import PolicyEngine, Verdict
from hub.core.scheduler import Scheduler
from hub.core.storage import StorageBackend
from hub.event_workers import EventWorkers, follow
from hub.evidence.custody import Custody
from hub.evidence.keys import Signer
from hub.first_admin import first_admin
from hub.graph import StreamGraph
from hub.health import HealthMonitor
from hub.inventory import Inventory, build_sources
from hub.links import LinkSigner
from hub.live import LiveViews
from hub.masks import PrivacyMasks
from hub.outbox import Outbox
from hub.recording import Recording
from hub.snapshots import Snapshots
from hub.sources import HubSources
from hub.store import Store, database_url

log = logging.getLogger("pantau")

#: Threads for the blocking work the hub hands off (``asyncio.to_thread``: probing a plain RTSP
#: camera with PyAV, a relay's stop, a keyframe decoded): Python's default is the cores plus 4, so
#: on a 2-core node 60 RTSP cameras probed at start waited in line past their 20-s limit.  Threads
#: are made only as work comes, and each waits on a device rather than a core.
IO_THREADS = 64

#: Actions whose decisions are written to the audit log.
AUDITED = {Action.VIEW_LIVE, Action.PLAY_BACK, Action.EXPORT, Action.CONTROL_PTZ}


def _version() -> str:
    import hub

    return hub.__version__


def build_storage(config: Any, plugins: Plugins, data_dir: Path) -> StorageBackend:
    reg = plugins.storage_types.get(config.storage.type)
    if reg is None:
        raise ConfigError(f"storage: no plugin provides storage type {config.storage.type!r}")
    return reg.implementation(config.storage, data_dir)  # type: ignore[no-any-return]


def private_data_dir(data_dir: Path) -> None:
    """Make the data directory the hub's user's alone (0700) and what the hub writes there
    0600: it holds the database (token hashes, the inventory), the link key and recordings.
    The process's umask is set to match, so files made later are private too."""
    os.umask(0o077)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if data_dir.stat().st_uid == os.getuid():
        data_dir.chmod(0o700)
        for name in ("pantau.db", "pantau.db-wal", "pantau.db-shm", "link-secret"):
            with contextlib.suppress(FileNotFoundError):
                (data_dir / name).chmod(0o600)


async def open_store(config: Any, data_dir: Path, plugins: Plugins) -> Store:
    """The store of hub.yaml's database, migrated: the hub's tables and every plugin's."""
    await asyncio.to_thread(private_data_dir, data_dir)
    url = config.database.url.get_secret_value() if config.database.url else None
    store = Store(database_url(url, data_dir))
    try:
        await store.migrate(plugins.migrations)
    except BaseException:
        await store.close()
        raise
    return store


def settle_garbage_collector() -> None:
    """Keep the garbage collector's pauses short once the hub runs.

    What starting made (modules, plugins, config, the inventory of thousands
    of cameras) lives as long as the process: ``gc.freeze`` takes it out of
    every later collection.  Events in flight survive a collection or two
    while they are stored and delivered, so the youngest generation is
    collected every 10,000 allocations rather than every 700: at thousands of
    events a second the default made a full collection, about 100 ms with
    every stream and request waiting, several times a minute.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


class Hub:
    """One running Pantau Hub process."""

    def __init__(self, loaded: LoadedConfig, plugins: Plugins, port: int | None = None) -> None:
        self.loaded = loaded
        self.config = loaded.model
        self.data_dir = loaded.data_dir
        self.plugins = plugins
        self.port = self.config.http.port if port is None else port
        self.bus = EventBus()
        self.scheduler = Scheduler()
        self.policy = PolicyEngine(plugins.access_policies)
        self.inventory = Inventory({})
        self.snapshots = Snapshots(lambda: self.inventory, lambda: getattr(self, "graph", None))
        self.notifiers: dict[str, Notifier] = {}
        self._context: RunningHubContext | None = None  # made once its parts exist (``start``)
        self.store: Store
        self.storage: StorageBackend
        self.links: LinkSigner
        self.graph: StreamGraph
        self.recording: Recording
        self.cluster: Cluster | None = None
        self.live: LiveViews
        self.server: uvicorn.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        #: Events this node passed on since it started (``/metrics``).
        self.published = 0
        self._stack = contextlib.AsyncExitStack()

    @property
    def context(self) -> RunningHubContext:
        """What plugins see of the hub."""
        if self._context is None:
            raise HubError("the hub has not started: plugins see it once its store and sources exist")
        return self._context

    # -- lifecycle ------------------------------------------------------------

    async def start(self) -> None:
        stack = self._stack
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(IO_THREADS, thread_name_prefix="pantau-io"))
        try:
            self.store = await open_store(self.config, self.data_dir, self.plugins)
            stack.push_async_callback(self.store.close)
            if self.config.cluster.enabled:  # several nodes: what this one owns, before anything speaks
                self.cluster = Cluster(self.store.cluster, self.config.cluster, lambda: self.inventory.cameras)
                await self.cluster.start()
                stack.push_async_callback(self.cluster.stop)
            self.store.users.idle = timedelta(minutes=self.config.http.session_idle_minutes)
            self.store.users.lifetime = timedelta(hours=self.config.http.session_hours)
            await first_admin(self.store, self.data_dir)
            self.grants = GrantPolicy(self.store.grants)
            await self.grants.refresh()
            self.policy.add(self.grants)
            self.storage = build_storage(self.config, self.plugins, self.data_dir)
            secret = self.config.http.link_secret
            self.links = LinkSigner.from_config(secret.get_secret_value() if secret else None,
                                                self.config.http.public_url, self.data_dir)
            stack.push_async_callback(self.storage.close)
            self.inventory = Inventory(build_sources(self.config, self.plugins, self.data_dir),
                                       keep_status=self.config.health.enabled)
            self.sources = HubSources(self.inventory, self.store, self.plugins, self.data_dir, self.scheduler,
                                      self.publish, lambda: self.context, self.notifiers)
            stack.push_async_callback(self.sources.close)
            self.masks = PrivacyMasks(self.store.db, self.config.privacy_masks)
            await self.masks.load()
            self.custody = Custody(self.store, self.storage, await asyncio.to_thread(Signer.of, self.data_dir),
                                   self.config.hub.name, _version(), self.data_dir / "evidence", self.masks.of)
            self.public = PublicGate(self.store.scenes, self.store.audit, lambda: self.inventory,
                                     {o.id: o for o in self.config.owners}, self.snapshot, self.publish,
                                     self.config.public.cache_seconds)
            await self.public.load()
            self.policy.add(self.public)
            self._context = RunningHubContext(self.config, self.data_dir, self.inventory, self.store, self.storage,
                                             self.links, self.notifiers, self.publish, self.snapshot,
                                             self.authorize, self.may, self.visible, self.masks.of)
            self._context.sources = self.sources
            self._context.cluster = self.cluster
            await self.sources.refresh()
            await self._start_notifiers()
            stack.push_async_callback(self._close_notifiers)
            await self._start_events(stack)
            self.graph = StreamGraph(self.inventory)
            stack.push_async_callback(self.graph.stop)
            await self._start_recording(stack)
            self._spawn(self.recording.follow_events(self.bus.subscribe("recording")))
            self.live = LiveViews(self.config.live, self.graph, self.data_dir / "live")
            if self.cluster is not None:
                self.live.prefix = f"{self.cluster.node}~"
            await self.live.clear_leftovers()
            stack.push_async_callback(self.live.stop)
            self.sources.live = self.live
            self._spawn(self.live.run())
            self.access_watch = AccessWatch(self.policy, self.grants, self.store, self.inventory, self.live,
                                            self.data_dir)
            self._spawn(self.access_watch.run())
            self.public.on_withdrawn = self.access_watch.end_public_views
            self._spawn(self.public.run(self.config.public.check_seconds))
            if self.config.health.enabled:
                self._spawn(self.graph.watch_health(self.publish, self.config.health))
            self._schedule_jobs()
            self.scheduler.start()
            stack.callback(self.scheduler.shutdown)
            await self.plugins.acall("hub_startup", context=self.context)
            await self._start_http()
            settle_garbage_collector()
        except BaseException:
            await self.stop()
            raise
        log.info("hub started", extra={"port": self.port, "cameras": len(self.inventory.cameras),
                                       "data_dir": str(self.data_dir)})

    async def _start_events(self, stack: contextlib.AsyncExitStack) -> None:
        """Plugins' event hooks, and the devices' event streams read (in event workers, or here; with several
        nodes each reads those of the devices it owns, in its process)."""
        if self.plugins.implemented("event_published"):  # no queue to feed when no plugin listens
            self._spawn(self._event_hooks(self.bus.subscribe("hooks")))
        self.event_workers = EventWorkers(self.config.events.workers, self.plugins, self.data_dir,
                                          self.publish, self.config.logging.format)
        if (cluster := self.cluster) is not None:
            self.event_workers.place({})
            self.sources.reading = lambda: cluster.sources_read(self.inventory)
            cluster.listeners.append(self.sources.refollow)
            await self.sources.refollow()
        else:
            for name in self.event_workers.place(self.inventory.sources):
                self._spawn(follow(name, self.inventory.sources[name], self.publish))
        self.event_workers.start()
        stack.push_async_callback(self.event_workers.stop)

    async def _start_recording(self, stack: contextlib.AsyncExitStack) -> None:
        """Recorders for what hub.yaml records (with several nodes: what this node owns), what a crash
        left in the spool stored first."""
        self.recording = Recording(self.config.recording, self.inventory, self.graph, self.storage, self.store,
                                   self.data_dir / "spool")
        stack.push_async_callback(self.recording.stop)
        if self.plugins.implemented("recording_retention"):
            self.recording.retention_caps = lambda camera_id, camera: self.plugins.acall(
                "recording_retention", context=self.context, camera_id=camera_id, camera=camera)
        self.sources.recording = self.recording
        if self.cluster is not None:  # several nodes: this one records what it owns
            self.recording.cluster = self.cluster
            self.cluster.listeners.append(self.recording.sync)
            self.cluster.warm = self.recording.warm
        await self.recording.recover()
        await self.recording.sync()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self._context is not None:
            await self.plugins.acall("hub_shutdown", context=self._context)
        self.bus.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if hasattr(self, "store"):
            with contextlib.suppress(Exception):  # the repeats counted so far are not lost
                await self.store.audit.flush(everything=True)
        await self._stack.aclose()

    async def run(self) -> None:
        """Start, serve until SIGTERM or Ctrl-C, then stop."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        server_task = self._server_task
        waiter = asyncio.create_task(stop.wait())
        await asyncio.wait({waiter, server_task}, return_when=asyncio.FIRST_COMPLETED)
        log.info("hub stopping")
        waiter.cancel()
        try:
            await asyncio.wait_for(self.stop(), timeout=9)
        except TimeoutError:
            log.error("shutdown took longer than 9 s; exiting anyway")
            log.info("hub stopped")
            # Anyway: a thread still blocked in a device's library (a stream's read) would hold the
            # process at its exit, which joins every worker thread; the spool is recovered at the next start.
            logging.shutdown()
            os._exit(0)
        log.info("hub stopped")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _start_http(self) -> None:
        from hub.http.app import create_app

        app = create_app(self)
        config = uvicorn.Config(app, host=self.config.http.host, port=self.port, log_config=None,
                                access_log=False, lifespan="off", timeout_graceful_shutdown=3)
        self.server = server = _Server(config)
        where = f"{self.config.http.host}:{self.port}"

        async def serve() -> None:
            try:
                await server.serve()
            except SystemExit:  # uvicorn exits when it cannot bind
                raise HubError(f"HTTP server could not listen on {where} (is the port in use?)") from None

        self._server_task = asyncio.create_task(serve())
        while not server.started:
            if self._server_task.done():
                self._server_task.result()
                raise HubError(f"HTTP server could not start on {where}")
            await asyncio.sleep(0.05)
        if self.port == 0:
            self.port = self.server.servers[0].sockets[0].getsockname()[1]
        if self.cluster is not None and self.cluster.address is None:  # where the other nodes reach this one
            host = self.config.http.host
            self.cluster.address = f"http://{socket.getfqdn() if host in ('0.0.0.0', '::', '') else host}:{self.port}"
        self._stack.push_async_callback(self._stop_http)

    async def _stop_http(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server_task, timeout=4)

    # -- events ---------------------------------------------------------------

    def publish(self, event: Event) -> None:
        if self.cluster is not None and not self.cluster.speaks_for(event.camera_id):
            return  # another node owns the camera: its event goes out from there, once
        self.published += 1
        self.bus.publish(event)

    async def _event_hooks(self, sub: Subscription) -> None:
        async for event in sub:
            await self.plugins.acall("event_published", context=self.context, event=event)

    async def _start_notifiers(self) -> None:
        for cfg in self.config.notifiers:
            reg = self.plugins.notifier_types[cfg.type]
            notifier = reg.implementation(cfg, logging.getLogger(f"pantau.notifier.{cfg.name}"))
            notifier.context = self.context
            self.notifiers[cfg.name] = notifier
            try:
                await notifier.start()
                await notifier.cameras_changed(list(self.inventory.cameras.values()))
            except Exception:
                # The outbox keeps its events until the target can take them.
                log.exception("notifier failed to start", extra={"notifier": cfg.name})
        self.outbox = Outbox(self.store, self.notifiers, self.cluster.speaks if self.cluster is not None else None)
        if self.cluster is not None:  # cameras gained: their rows the old owner kept go out from here
            self.cluster.listeners.append(self.outbox.reclaim)
        self._spawn(self.outbox.write(self.bus.subscribe("store", maxsize=100_000)))
        for name in self.notifiers:
            self._spawn(self.outbox.deliver(name))

    async def _close_notifiers(self) -> None:
        for notifier in self.notifiers.values():
            with contextlib.suppress(Exception):
                await notifier.close()

    # -- jobs -----------------------------------------------------------------

    def _schedule_jobs(self) -> None:
        if self.config.health.enabled:
            self.health = HealthMonitor(self.inventory, self.store.status, self.publish, self.config.health, self.graph,
                                        self.cluster.owns if self.cluster is not None else None)
            self.health.schedule(self.scheduler)
            self.sources.health = self.health
        # A job of the whole hub, not of one node (retention, storage quota, checkpoints, expiry, outbox
        # housekeeping, plugins' jobs): with several nodes only the assigner runs it.
        once = self.cluster.once if self.cluster is not None else (lambda job: job)
        self.scheduler.add("retention", once(self.recording.apply_retention), "interval", minutes=10)
        self.scheduler.add("storage-pressure", once(self.recording.relieve_pressure), "interval", minutes=1)
        self.scheduler.add("inventory", self._refresh_inventory, "interval", minutes=15, jitter=60)
        self.scheduler.add("audit-checkpoint", once(self.access_watch.audit_checkpoint), "interval", hours=1)
        self.scheduler.add("chain-checkpoints", once(self.custody.checkpoint_all), "interval",
                           minutes=self.config.evidence.checkpoint_minutes)
        self.scheduler.add("evidence-expiry",
                           once(lambda: self.custody.expire(timedelta(days=self.config.evidence.request_days))),
                           "interval", hours=1)
        self.scheduler.add("outbox-tidy", once(lambda: self.store.events.outbox_purge(utcnow() - timedelta(days=1))),
                           "interval", hours=1)

        def plugin_job(name: str, func: Callable[[HubContext], Any], trigger: str, **trigger_args: Any) -> None:
            self.scheduler.add(name, once(lambda: func(self.context)), trigger, **trigger_args)

        self.plugins.call_register("register_jobs", plugin_job)

    async def _refresh_inventory(self) -> None:
        """Probe every source; with several nodes the assigner probes and the others take what it kept."""
        if self.cluster is not None and not self.cluster.assigns:
            await self.sources.adopt()
        else:
            await self.sources.refresh()

    # -- access ---------------------------------------------------------------

    async def authorize(self, principal: Principal, action: Action, camera: Camera | None = None,
                        context: dict[str, Any] | None = None, repeated: bool = False) -> Verdict:
        """Ask the policy engine; audit decisions about video and every refusal; raise
        ``AccessDenied`` on no.  ``repeated``: a fetch a page or player repeats (a snapshot
        refreshed every few seconds, segment after segment of a recording), written once a
        minute with a count rather than once a fetch; refusals are always counted so."""
        verdict = await self.policy.evaluate(principal, action, camera, context)
        if action in AUDITED or not verdict.allowed:
            await self.store.audit.record(principal, action.value, camera.id if camera else None,
                                          verdict.allowed, verdict.reason,
                                          coalesce=repeated or not verdict.allowed)
        if not verdict.allowed:
            raise AccessDenied(f"{action.value} {'on ' + camera.id if camera else ''}: {verdict.reason}",
                               audited=True)
        return verdict

    async def may(self, principal: Principal, action: Action, camera: Camera | None = None,
                  context: dict[str, Any] | None = None) -> bool:
        """Whether the policy engine allows it, with nothing audited (for filtering lists)."""
        return (await self.policy.evaluate(principal, action, camera, context)).allowed

    async def visible(self, principal: Principal, action: Action = Action.VIEW_INVENTORY) -> list[str]:
        """The ids of the cameras ``principal`` may do ``action`` on, in the inventory's order
        (from the cameras' indexes, ``PolicyEngine.visible``)."""
        return await self.policy.visible(principal, action, self.inventory.cameras, self.inventory.index)

    async def snapshot(self, camera_id: str, limit: float = 10.0) -> bytes:
        """A JPEG of the camera: from the latest keyframe of a stream the hub already receives
        when it can, else from the device, one request per camera at a time (``hub.snapshots``)."""
        return await self.snapshots.get(camera_id, limit)


class _Server(uvicorn.Server):
    """Uvicorn inside the hub's loop: the hub, not uvicorn, owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield

    def install_signal_handlers(self) -> None:  # older uvicorn
        return
