"""Device event streams, read in the hub process or in worker processes.

Reading a device's event stream (an HTTP multipart stream, an ONVIF pull
point) and normalising what it says is most of what an event costs the hub:
a socket read, multipart framing, the vendor's text, an ``Event``.  At city
scale that is more than the one core the hub's event loop can give it beside
the bus, the store and the notifiers.  With ``events.workers: N`` in hub.yaml
the hub shares its event-capable sources out over N child processes
(``python -m hub.event_workers``), each with its own interpreter and GIL:

- the hub sends a worker, on its stdin, the config of each source it is to
  follow (pickled; secrets never reach a command line or the environment),
  the log level and format, and the data folder;
- the worker loads the same plugins (entry points, ``PANTAU_PLUGINS``),
  builds those sources, follows each with ``follow`` (the same reconnecting
  loop the hub uses in-process) and writes the normalised events to its
  stdout in pickled batches: every event that arrived in one turn of its
  event loop goes in one frame, so a busy worker sends few large frames and
  an idle one sends each event at once;
- the hub publishes what it reads on its bus exactly as if its own sources
  had produced it.

A worker that exits is started again with backoff, and its sources'
streams reconnect (a device's event stream is live: nothing is replayed).
A worker whose hub has gone sees its stdin close and exits; it ignores
SIGINT and SIGTERM, which a terminal's Ctrl-C and systemd send to the whole
process group, so that it ends when the hub says and not before.  Sources of a
plugin the worker could not load the same way (one added with
``Plugins.add``, as tests and embedders do) stay in the hub process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.core.errors import HubError
from hub.core.models import Event
from hub.core.plugins import Plugins
from hub.core.retry import Backoff
from hub.core.sources import CameraSource

log = logging.getLogger("pantau.events")

_HEADER = struct.Struct("!I")
#: Events a worker holds while the hub is not reading, at most; then its sources wait.
MAX_PENDING = 20_000
#: Events in one frame, at most.
MAX_FRAME_EVENTS = 2_000


def emits_events(source: CameraSource) -> bool:
    """Whether ``source`` has an event stream at all (its class overrides ``events``)."""
    return type(source).events is not CameraSource.events


async def follow(name: str, source: CameraSource, emit: Callable[[Event], Any]) -> None:
    """Pass a source's events to ``emit``, restarting its stream on failure.

    ``emit`` may return an awaitable (a worker's, to wait for room); the
    source's own reconnect logic handles a device that drops the stream, this
    loop handles a source whose ``events`` raised.
    """
    retry = Backoff(log, "event stream", extra={"source": name})
    while True:
        try:
            async for event in source.events():
                waiting = emit(event)
                if waiting is not None:
                    await waiting
                retry.succeeded()
            return
        except asyncio.CancelledError:
            raise
        except Exception as err:
            wait = retry.failed(str(err) if isinstance(err, HubError) else type(err).__name__)
        await asyncio.sleep(wait)


# -- the hub's side -------------------------------------------------------------------


@dataclass
class WorkerSpec:
    """What the hub tells a worker (pickled on its stdin)."""

    index: int
    sources: list[Any]  # source configs (pydantic models of the plugins' config classes)
    data_dir: Path
    log_level: str
    log_format: str


@dataclass
class _Worker:
    index: int
    sources: list[str]
    process: asyncio.subprocess.Process | None = None
    starts: int = 0
    events: int = 0
    frames: int = 0
    last_exit: int | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None


class EventWorkers:
    """Worker processes reading the event streams of the hub's sources."""

    def __init__(self, count: int, plugins: Plugins, data_dir: Path, publish: Callable[[Event], None],
                 log_format: str = "json") -> None:
        self.count = count
        self.plugins = plugins
        self.data_dir = data_dir
        self.publish = publish
        self.log_format = log_format
        self.workers: list[_Worker] = []
        self._configs: dict[str, Any] = {}
        #: Source name -> who reads its events: "hub" or "worker N" (sources without events are absent).
        self.read_by: dict[str, str] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def place(self, sources: dict[str, CameraSource]) -> list[str]:
        """Share ``sources`` out over the workers; returns the names that stay in the hub."""
        movable, local = [], []
        for name, source in sorted(sources.items()):
            if not emits_events(source):
                continue
            reg = self.plugins.source_types.get(source.source_type)
            info = self.plugins.info.get(reg.plugin) if reg else None
            if self.count > 0 and info is not None and info.entry_point:
                movable.append(name)
                self._configs[name] = source.config
            else:
                local.append(name)
        count = min(self.count, len(movable))
        self.workers = [_Worker(i, movable[i::count]) for i in range(count)]
        self.read_by = dict.fromkeys(local, "hub")
        for worker in self.workers:
            self.read_by.update(dict.fromkeys(worker.sources, f"worker {worker.index}"))
        return local

    def start(self) -> None:
        for worker in self.workers:
            self._tasks.append(asyncio.create_task(self._supervise(worker), name=f"event-worker-{worker.index}"))

    def status(self) -> list[dict[str, Any]]:
        """Per worker: its pid, sources, starts, events carried and last exit code."""
        return [{"worker": w.index, "pid": w.process.pid if w.process and w.running else None,
                 "running": w.running, "sources": list(w.sources), "starts": w.starts, "events": w.events,
                 "frames": w.frames,
                 "last_exit": w.last_exit} for w in self.workers]

    async def stop(self) -> None:
        """Close every worker's stdin (it exits), give them 2 s, then kill what is left."""
        self._stopping = True
        procs = [w.process for w in self.workers if w.process is not None and w.process.returncode is None]
        for proc in procs:
            if proc.stdin is not None:
                proc.stdin.close()
        if procs:
            _, pending = await asyncio.wait([asyncio.create_task(p.wait()) for p in procs], timeout=2)
            for proc in procs:
                if proc.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
            if pending:
                await asyncio.wait(pending, timeout=2)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _supervise(self, worker: _Worker) -> None:
        retry = Backoff(log, "event worker", steady_after=60, extra={"worker": worker.index})
        while not self._stopping:
            retry.started()
            try:
                await self._run(worker)
            except asyncio.CancelledError:
                raise
            except Exception as err:
                log.error("event worker failed", extra={"worker": worker.index, "error": type(err).__name__})
            if self._stopping:
                return
            wait = retry.failed(f"exit code {worker.last_exit}")
            log.info("event worker exited; starting it again",
                     extra={"worker": worker.index, "exit_code": worker.last_exit, "retry_in_s": round(wait, 1),
                            "sources": len(worker.sources)})
            await asyncio.sleep(wait)

    async def _run(self, worker: _Worker) -> None:
        spec = WorkerSpec(index=worker.index, sources=[self._configs[n] for n in worker.sources],
                          data_dir=self.data_dir, log_level=logging.getLevelName(log.getEffectiveLevel()).lower(),
                          log_format=self.log_format)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hub.event_workers", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, limit=1 << 24)
        worker.process = proc
        worker.starts += 1
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(_frame(pickle.dumps(spec, protocol=pickle.HIGHEST_PROTOCOL)))
            await proc.stdin.drain()
            reader = proc.stdout
            while True:
                try:
                    (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
                    batch = pickle.loads(await reader.readexactly(size))
                except asyncio.IncompleteReadError:
                    break
                worker.events += len(batch)
                worker.frames += 1
                for event in batch:
                    self.publish(event)
        finally:
            if proc.returncode is None and not self._stopping:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
            worker.last_exit = await proc.wait()


def _frame(payload: bytes) -> bytes:
    return _HEADER.pack(len(payload)) + payload


# -- the worker's side ----------------------------------------------------------------


class _Sender:
    """Batches events into frames on stdout: one frame per turn of the event loop."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.pending: list[Event] = []
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()

    def emit(self, event: Event) -> Any:
        self.pending.append(event)
        self._ready.set()
        if len(self.pending) >= MAX_PENDING:
            self._room.clear()
            return self._room.wait()
        return None

    async def run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self.pending:
                batch = self.pending[:MAX_FRAME_EVENTS]
                del self.pending[:MAX_FRAME_EVENTS]
                self.writer.write(_frame(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)))
                await self.writer.drain()
                if len(self.pending) < MAX_PENDING:
                    self._room.set()


async def _worker_main() -> None:
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader(limit=1 << 24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin.buffer)
    (size,) = _HEADER.unpack(await stdin.readexactly(_HEADER.size))
    spec: WorkerSpec = pickle.loads(await stdin.readexactly(size))

    from hub.core.config import secret_values
    from hub.inventory import build_source
    from hub.logs import configure, redactor

    configure(spec.log_level, spec.log_format)
    redactor.add(*(v for cfg in spec.sources for v in secret_values(cfg)))
    for handler in logging.getLogger().handlers:
        handler.addFilter(_WorkerField(spec.index))

    # Frames go to the pipe the hub reads; whatever a library prints goes to stderr instead of into them.
    frames = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, frames)
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    sender = _Sender(writer)
    plugins = Plugins().load()
    sources: dict[str, CameraSource] = {}
    for cfg in spec.sources:
        try:
            sources[cfg.name] = build_source(cfg, plugins, spec.data_dir)
        except Exception as err:  # the hub built it, so this is rare: keep the worker's other sources going
            reason = str(err) if isinstance(err, HubError) else type(err).__name__
            log.error("event worker could not build a source; its events are not read",
                      extra={"source": cfg.name, "error": reason})
    tasks = [asyncio.create_task(follow(name, src, sender.emit)) for name, src in sources.items()]
    tasks.append(asyncio.create_task(sender.run()))
    try:
        await stdin.read()  # until the hub closes our stdin (or goes away)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for source in sources.values():
            with contextlib.suppress(Exception):
                await source.close()


class _WorkerField(logging.Filter):
    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index

    def filter(self, record: logging.LogRecord) -> bool:
        record.event_worker = self.index
        return True


def main() -> None:
    # The hub decides when a worker ends (it closes our stdin, or it is gone and stdin ends).
    # Ctrl-C in a terminal and systemd's SIGTERM reach the whole process group: a worker that
    # died of them first would have the stopping hub start it again.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError, ConnectionResetError):
        asyncio.run(_worker_main())
    sys.stderr.flush()
    os._exit(0)  # the hub reads our stdout: no interpreter teardown writing to it


if __name__ == "__main__":
    main()
