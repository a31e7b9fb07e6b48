"""The notifier outbox: a target that is down, a restart, a dead letter."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Literal

import httpx

from hub import hookimpl
from hub.app import Hub
from hub.core.config import load_config
from hub.core.errors import NotifyError
from hub.core.models import Event, EventKind, Role
from hub.core.notify import Notifier, NotifierConfig
from hub.core.plugins import Plugins
from hub.testing.waiting import until
from tests.conftest import ROOT, demo_hub_yaml


class Target:
    """A report endpoint that can be down."""

    def __init__(self) -> None:
        self.up = False
        self.received: list[Event] = []
        self.refused = 0  # deliveries tried while down


TARGET = Target()


class TargetConfig(NotifierConfig):
    type: Literal["target"] = "target"


class TargetNotifier(Notifier):
    async def deliver(self, event: Event) -> None:
        if not TARGET.up:
            TARGET.refused += 1
            raise NotifyError("target: 127.0.0.1:9: connection refused")
        TARGET.received.append(event)


class TargetPlugin:
    @hookimpl
    def register_notifiers(self, register):  # noqa: ANN001
        register(TargetConfig, TargetNotifier)


def make_hub(tmp_path: Path, dead_after_hours: float = 24) -> Hub:
    cfg = tmp_path / "hub.yaml"
    extra = (f"http: {{port: 0}}\nnotifiers:\n  - {{type: target, name: jaki, retry_max_seconds: 0.3,"
             f" dead_after_hours: {dead_after_hours}}}\n")
    cfg.write_text(demo_hub_yaml(extra=extra).replace("mode: continuous", 'mode: "off"'))
    plugins = Plugins()
    plugins.add(TargetPlugin(), "target")
    plugins.load()
    return Hub(load_config(cfg, plugins), plugins)


def events(n: int) -> list[Event]:
    return [Event(camera_id=f"demo:X:{i % 3}", kind=EventKind.OFFLINE, data={"seq": i}) for i in range(n)]


async def test_a_target_that_is_down_loses_nothing_and_gets_each_event_once_in_order(tmp_path: Path) -> None:
    TARGET.__init__()
    hub = make_hub(tmp_path)
    await hub.start()
    try:
        sent = events(30)
        for e in sent:
            hub.publish(e)
        await until(lambda: TARGET.refused >= 2)  # tried, refused, and tried again after a backoff
        assert TARGET.received == []
        token = await hub.store.tokens.create_token(Role.ADMIN)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{hub.port}",
                                     headers={"Authorization": f"Bearer {token}"}) as client:

            async def outbox() -> dict:
                return (await client.get("/api/v1/outbox")).json()

            async def all_waiting() -> bool:  # every event waits, none is dropped
                return (await outbox())["notifiers"]["jaki"]["pending"] == 30

            await until(all_waiting)
            seen = await outbox()
            assert "connection refused" in seen["items"][-1]["last_error"]
            TARGET.up = True

            async def delivered() -> bool:  # every row acknowledged: nothing is left to send twice
                return (await outbox())["notifiers"]["jaki"]["pending"] == 0

            await until(delivered)
    finally:
        await hub.stop()
    assert sorted(e.id for e in TARGET.received) == sorted(e.id for e in sent), "each event exactly once"
    for cam in {e.camera_id for e in sent}:
        got = [e.data["seq"] for e in TARGET.received if e.camera_id == cam]
        assert got == sorted(got), f"in order for {cam}"


async def test_a_restart_loses_nothing(tmp_path: Path) -> None:
    TARGET.__init__()
    first = make_hub(tmp_path)
    await first.start()
    sent = events(10)
    for e in sent:
        first.publish(e)
    for _ in range(100):
        if (await first.store.events.outbox_summary()).get("jaki", {}).get("pending") == 10:
            break
        await asyncio.sleep(0.05)
    await first.stop()
    TARGET.up = True
    second = make_hub(tmp_path)
    await second.start()
    try:
        await until(lambda: len(TARGET.received) >= 10)
    finally:
        await second.stop()
    assert [e.data["seq"] for e in TARGET.received] == list(range(10))


async def test_an_event_that_never_goes_through_is_dead_lettered_and_shown(tmp_path: Path) -> None:
    TARGET.__init__()
    hub = make_hub(tmp_path, dead_after_hours=0.0003)  # about a second
    await hub.start()
    try:
        hub.publish(events(1)[0])
        for _ in range(100):
            summary = await hub.store.events.outbox_summary()
            if summary.get("jaki", {}).get("dead"):
                break
            await asyncio.sleep(0.1)
    finally:
        await hub.stop()
    assert summary["jaki"] == {"pending": 0, "delivered": 0, "dead": 1}
    # `pantau outbox` reads the same store (a config without the test plugin's notifier).
    (tmp_path / "cli.yaml").write_text("version: 1\n")
    shown = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "hub", "outbox", "--json", "-c", str(tmp_path / "cli.yaml")],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    listed = json.loads(shown.stdout)
    assert listed["notifiers"]["jaki"]["dead"] == 1
    assert listed["items"][0]["state"] == "dead" and "connection refused" in listed["items"][0]["last_error"]
    human = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "hub", "outbox", "-c", str(tmp_path / "cli.yaml")],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "jaki" in human.stdout and "dead" in human.stderr


async def test_queueing_is_idempotent(tmp_path: Path) -> None:
    from hub.store import Store, database_url

    store = Store(database_url(None, tmp_path))
    await store.migrate()
    batch = events(3)
    assert await store.events.enqueue("jaki", batch) == 3
    assert await store.events.enqueue("jaki", batch) == 0
    assert await store.events.enqueue("mqtt", batch[:1]) == 1
    assert await store.events.outbox_summary() == {"jaki": {"pending": 3, "delivered": 0, "dead": 0},
                                           "mqtt": {"pending": 1, "delivered": 0, "dead": 0}}
    await store.close()


async def test_a_malformed_queued_event_is_set_aside_and_the_rest_still_go_out(tmp_path: Path, caplog) -> None:  # noqa: ANN001
    TARGET.__init__()
    TARGET.up = True
    # Queued by a hub that is not running (an older version, a hand edit): one row no longer reads as an event.
    first = make_hub(tmp_path)
    await first.start()
    await first.stop()
    from hub.app import open_store
    from hub.store.events import OutboxRow

    store = await open_store(first.config, first.data_dir, first.plugins)
    sent = events(5)
    await store.events.enqueue("jaki", sent)
    from sqlalchemy import update

    async with store.db.session.begin() as s:
        await s.execute(update(OutboxRow).where(OutboxRow.event_id == sent[2].id)
                        .values(payload={"kind": "no-such-kind", "camera_id": 7}))
    await store.close()
    hub = make_hub(tmp_path)
    await hub.start()
    try:
        await until(lambda: len(TARGET.received) >= 4)
        await asyncio.sleep(0.5)
        summary = await hub.store.events.outbox_summary()
        dead = await hub.store.events.outbox_items("dead")
    finally:
        await hub.stop()
    assert [e.id for e in TARGET.received] == [e.id for e in sent if e is not sent[2]], "the others, in order"
    assert summary["jaki"]["dead"] == 1 and dead[0]["event_id"] == sent[2].id
    assert dead[0]["last_error"] == "the stored event is malformed"
    assert any(r.getMessage() == "a queued event is malformed; dead-lettered"
               and getattr(r, "event", None) == sent[2].id for r in caplog.records)


class PipeConfig(NotifierConfig):
    type: Literal["pipe"] = "pipe"


class PipeNotifier(Notifier):
    """A target with a round trip that takes batches before the earlier ones returned, over one
    connection that breaks once (and then takes nothing until the hub comes back to it)."""

    batches_in_flight = 4
    received: list[Event] = []
    overlapping = 0
    fail_at: int | None = None
    down_until = 0.0

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.busy = 0

    async def deliver(self, event: Event) -> None:
        raise AssertionError("deliver_many is used")

    async def deliver_many(self, events: list[Event]) -> None:
        from hub.core.notify import PartlyDelivered

        cls = type(self)
        self.busy += 1
        cls.overlapping = max(cls.overlapping, self.busy)
        try:
            for i, event in enumerate(events):  # on the wire in order, as MQTT puts them
                if cls.fail_at is not None and event.data["seq"] == cls.fail_at:
                    cls.fail_at = None
                    cls.down_until = asyncio.get_running_loop().time() + 0.1
                if asyncio.get_running_loop().time() < cls.down_until:
                    raise PartlyDelivered(i, NotifyError("pipe: connection reset"))
                cls.received.append(event)
            await asyncio.sleep(0.05)  # the acknowledgements' round trip
        finally:
            self.busy -= 1


class PipePlugin:
    @hookimpl
    def register_notifiers(self, register):  # noqa: ANN001
        register(PipeConfig, PipeNotifier)


async def test_a_pipelined_notifier_gets_batches_back_to_back_and_a_failure_loses_nothing(tmp_path: Path) -> None:
    PipeNotifier.received, PipeNotifier.overlapping, PipeNotifier.fail_at = [], 0, 1500
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(demo_hub_yaml(extra="http: {port: 0}\nnotifiers:\n  - {type: pipe, name: pipe, "
                                       "retry_max_seconds: 0.2}\n").replace("mode: continuous", 'mode: "off"'))
    plugins = Plugins()
    plugins.add(PipePlugin(), "pipe")
    plugins.load()
    hub = Hub(load_config(cfg, plugins), plugins)
    await hub.start()
    sent = events(3000)
    try:
        for i in range(0, len(sent), 500):  # bursts, as a busy city sends them
            for e in sent[i:i + 500]:
                hub.publish(e)
            await asyncio.sleep(0.05)
        await until(lambda: {e.id for e in PipeNotifier.received} >= {e.id for e in sent}, 30)
        await asyncio.sleep(0.3)
        summary = await hub.store.events.outbox_summary()
    finally:
        await hub.stop()
    assert PipeNotifier.overlapping > 1, "later batches went out while earlier ones waited"
    assert summary["pipe"]["pending"] == 0 and summary["pipe"]["delivered"] == 3000
    firsts = list(dict.fromkeys(e.data["seq"] for e in PipeNotifier.received))
    assert firsts == list(range(3000)), "every event, first seen in order"
    repeats = len(PipeNotifier.received) - 3000
    assert repeats <= 3 * 200, "only what was in flight behind the failure goes again"


async def test_a_slow_disk_does_not_hold_alerts_back_and_a_failed_write_still_delivers(tmp_path: Path,
                                                                                     caplog) -> None:  # noqa: ANN001
    """Delivery runs beside the transaction that keeps the events, not after it."""
    TARGET.__init__()
    TARGET.up = True
    hub = make_hub(tmp_path)
    await hub.start()
    keep = hub.store.events.record_events
    stalled = asyncio.Event()

    async def slow_disk(*args):  # noqa: ANN002, ANN202
        await stalled.wait()  # the disk takes its time (a stalled fsync, a busy SD card)
        return await keep(*args)

    try:
        hub.store.events.record_events = slow_disk  # type: ignore[method-assign]
        sent = events(20)
        for e in sent:
            hub.publish(e)
        await until(lambda: len(TARGET.received) >= 20, 5)
        assert (await hub.store.events.outbox_summary()).get("jaki") is None, "delivered while the write still waits"
        stalled.set()

        async def recorded() -> bool:
            return (await hub.store.events.outbox_summary()).get("jaki", {}).get("delivered") == 20

        await until(recorded, 10)

        async def broken_disk(*args):  # noqa: ANN002, ANN202
            raise OSError(28, "No space left on device")

        hub.store.events.record_events = broken_disk  # type: ignore[method-assign]
        more = events(5)
        for e in more:
            hub.publish(e)
        await until(lambda: len(TARGET.received) >= 25, 5)
        await asyncio.sleep(0.5)  # deliveries recorded on their own now that the writer fails
        summary = await hub.store.events.outbox_summary()
    finally:
        hub.store.events.record_events = keep  # type: ignore[method-assign]
        await hub.stop()
    assert [e.id for e in TARGET.received] == [e.id for e in sent + more], "each once, in order"
    assert summary["jaki"] == {"pending": 0, "delivered": 20, "dead": 0}, "what could not be kept is not invented"
    assert any(r.getMessage() == "saving events failed; they are delivered but not kept" for r in caplog.records)
