"""Recording rules and retention, against a real store and local storage."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from hub.core.config import RecordingConfig, RecordingOverride, RecordingRule
from hub.core.models import Camera, utcnow
from hub.graph import StreamGraph
from hub.inventory import Inventory
from hub.recording import Recording, rule_for
from hub.store import Store, database_url
from hub.testing.waiting import until
from plugins.local_storage import LocalStorage, LocalStorageConfig

CAM = Camera(id="demo:A:1", device_id="demo:A", channel=1, name="Kelas 7A", tags=["classroom:7A"])


def test_the_last_matching_override_wins() -> None:
    cfg = RecordingConfig(rules=[
        RecordingOverride(cameras=["demo:*:1"], retain_days=30),
        RecordingOverride(tags=["classroom:7A"], mode="off"),
        RecordingOverride(cameras=["hikvision:*"], retain_days=90),
    ])
    rule = rule_for(cfg, CAM)
    assert rule.mode == "off" and rule.retain_days == 7
    assert rule_for(RecordingConfig(), CAM) == RecordingRule()


async def test_retention_deletes_old_unlocked_segments_oldest_first(tmp_path: Path) -> None:
    store = Store(database_url(None, tmp_path))
    await store.migrate()
    storage = LocalStorage(LocalStorageConfig(), tmp_path)

    config = RecordingConfig(default=RecordingRule(retain_days=1))

    inventory = Inventory({})
    recording = Recording(config, inventory, StreamGraph(inventory), storage, store, tmp_path / "spool")
    now = utcnow()
    ids = {}
    for name, age_hours in (("old", 50), ("locked", 49), ("fresh", 2)):
        key = f"recordings/demo_A_1/{name}.mp4"
        await storage.put_bytes(key, b"x" * 100)
        start = now - timedelta(hours=age_hours)
        ids[name] = await store.recordings.add_segment("demo:A:1", "main", start, start + timedelta(seconds=10),
                                                       10, 100,
                                            "0" * 64, key)
    await store.recordings.set_locked(ids["locked"], True)
    assert await recording.apply_retention() == 1
    left = {s.id for s in await store.recordings.segments("demo:A:1")}
    assert left == {ids["locked"], ids["fresh"]}
    assert not (storage.root / "recordings/demo_A_1/old.mp4").exists()
    assert (storage.root / "recordings/demo_A_1/locked.mp4").exists()
    await store.close()


def test_a_hub_records_only_around_events_with_pre_and_post_roll(hub_factory) -> None:  # noqa: ANN001
    import time
    from datetime import datetime

    from tests.conftest import demo_hub_yaml

    config = demo_hub_yaml(motion_every=6).replace(
        "{mode: continuous, segment_seconds: 2, retain_days: 1}",
        "{mode: events, segment_seconds: 2, pre_roll_seconds: 3, post_roll_seconds: 3}")
    hub = hub_factory(config)

    def at(text: str) -> float:
        return datetime.fromisoformat(text).timestamp()

    def rolls(events: list[dict], segments: dict[str, list[dict]]) -> tuple[bool, bool]:
        """Whether some recording began well before the event that opened it (pre-roll), and some
        ended well after the stop that closed it (post-roll).  Keyframes come every second, so
        without a pre-roll a recording begins at most a second before its event, and without a
        post-roll it ends at most a second after the stop; with 3 s of each, 3 s or more."""
        pre = post = False
        for cam, segs in segments.items():
            segs = sorted(segs, key=lambda seg: seg["start"])
            starts = [at(e["at"]) for e in events if e["camera_id"] == cam and e["state"] == "start"]
            stops = [at(e["at"]) for e in events if e["camera_id"] == cam and e["state"] == "stop"]
            for i, seg in enumerate(segs):
                begins = i == 0 or at(seg["start"]) - at(segs[i - 1]["end"]) > 0.5
                ends = i < len(segs) - 1 and at(segs[i + 1]["start"]) - at(seg["end"]) > 0.5
                opened = [t for t in starts if at(seg["start"]) <= t <= at(seg["start"]) + 8]
                closed = [t for t in stops if at(seg["end"]) - 8 <= t <= at(seg["end"])]
                pre |= begins and bool(opened) and min(opened) - at(seg["start"]) >= 2.0
                post |= ends and bool(closed) and at(seg["end"]) - max(closed) >= 2.0
        return pre, post

    with hub.client() as client:
        camera_ids = [c["id"] for c in client.get("/api/v1/cameras").json()]

        def look() -> tuple[list[dict], dict[str, list[dict]]]:
            events = [e for e in client.get("/api/v1/events", params={"limit": 1000}).json() if e["kind"] == "motion"]
            return events, {cam: client.get(f"/api/v1/cameras/{cam}/recordings").json() for cam in camera_ids}

        deadline = time.monotonic() + 90
        events, segments = look()
        while rolls(events, segments) != (True, True) and time.monotonic() < deadline:
            time.sleep(0.5)
            events, segments = look()
    assert any(e["state"] == "stop" for e in events), "no synthetic motion in 90 s"
    pre, post = rolls(events, segments)
    assert pre, "no recording began before its event: the pre-roll is missing"
    assert post, "no recording went on after its event stopped: the post-roll is missing"
    for cam, segs in segments.items():
        # Every recorded second lies in an event of its camera, widened by the pre-roll (plus a GOP,
        # and a second for packets that arrive in bursts on a busy machine) and the post-roll (plus
        # the time a segment takes to close).
        spans = []
        starts = {e["id"]: e for e in events if e["camera_id"] == cam and e["state"] == "start"}
        for start in starts.values():
            stop = next((e for e in events if e["camera_id"] == cam and e["state"] == "stop"
                         and e["at"] >= start["at"]), None)
            begin = at(start["at"]) - 3 - 2.5
            end = (at(stop["at"]) if stop else time.time()) + 3 + 1.5
            spans.append((begin, end))
        for seg in segs:
            s, e = at(seg["start"]), at(seg["end"])
            assert any(b <= s and e <= f for b, f in spans), (cam, seg["start"], seg["end"], spans)


def test_rules_match_cameras_by_owner_and_area() -> None:
    cfg = RecordingConfig(rules=[
        RecordingOverride(owners=["tower-co"], retain_days=3),
        RecordingOverride(areas=["jawa-tengah/semarang"], retain_days=30),
    ])
    partner = CAM.model_copy(update={"owner": "tower-co"})
    city = CAM.model_copy(update={"area": "jawa-tengah/semarang/tembalang"})
    elsewhere = CAM.model_copy(update={"area": "jawa-tengah/semarangan"})
    assert rule_for(cfg, partner).retain_days == 3
    assert rule_for(cfg, city).retain_days == 30
    assert rule_for(cfg, elsewhere).retain_days == 7  # a prefix of the name is not the area


class SmallDisk(LocalStorage):
    """Local storage on a volume of 10,000 bytes (a full disk cannot be had in a test)."""

    async def free_space(self) -> tuple[int, int] | None:
        used = sum(p.stat().st_size for p in self.root.rglob("*.mp4"))
        return 10_000 - used, 10_000


async def test_storage_pressure_deletes_the_oldest_unlocked_segments_of_any_camera(tmp_path: Path) -> None:
    store = Store(database_url(None, tmp_path))
    await store.migrate()
    storage = SmallDisk(LocalStorageConfig(), tmp_path)

    config = RecordingConfig(min_free_percent=30, max_storage_gb=None)

    inventory = Inventory({})
    recording = Recording(config, inventory, StreamGraph(inventory), storage, store, tmp_path / "spool")
    now = utcnow()
    ids = {}
    for name, camera, age_minutes in (("a-old", "demo:A:1", 50), ("b-locked", "demo:B:1", 45),
                                      ("b-mid", "demo:B:1", 40), ("a-new", "demo:A:1", 5)):
        key = f"recordings/{camera.replace(':', '_')}/{name}.mp4"
        await storage.put_bytes(key, b"x" * 2_000)
        start = now - timedelta(minutes=age_minutes)
        ids[name] = await store.recordings.add_segment(camera, "main", start, start + timedelta(seconds=10), 10, 2_000,
                                            "0" * 64, key)
    await store.recordings.set_locked(ids["b-locked"], True)
    # 8,000 of 10,000 bytes used: below 30 % free, so up to 31 % free (6,900 used) the oldest go.
    assert await recording.relieve_pressure() == 1
    left = {s.id for cam in ("demo:A:1", "demo:B:1") for s in await store.recordings.segments(cam)}
    assert left == {ids["b-locked"], ids["b-mid"], ids["a-new"]}
    assert await recording.relieve_pressure() == 0  # the floor holds now

    recording.config = RecordingConfig(min_free_percent=0, max_storage_gb=2_500 / 1e9)
    assert await recording.relieve_pressure() == 2  # over the quota: never the locked one
    left = {s.id for cam in ("demo:A:1", "demo:B:1") for s in await store.recordings.segments(cam)}
    assert left == {ids["b-locked"]}
    assert await recording.relieve_pressure() == 0  # only evidence is left: it stays, and says so
    real = await LocalStorage(LocalStorageConfig(), tmp_path).free_space()
    assert real is not None and 0 < real[0] <= real[1]
    await store.close()


class RestartingClock:
    """A demo camera's stream whose timestamps restart at a keyframe after ``after`` seconds,
    as an encoder restart or a shared-media server's new client makes them (one connection)."""

    def __init__(self, media, after: float) -> None:  # noqa: ANN001
        self.media, self.after = media, after

    def open(self):  # noqa: ANN201
        container = self.media.open()
        after = self.after

        class Restarted:
            streams = container.streams

            def demux(self, stream):  # noqa: ANN001, ANN202
                first = shift = None
                began = time.monotonic()
                for packet in container.demux(stream):
                    if packet.dts is not None:
                        first = packet.dts if first is None else first
                        if shift is None and packet.is_keyframe and time.monotonic() - began > after:
                            shift = packet.dts - first  # back to the very first timestamp
                        if shift:
                            packet.dts -= shift
                            packet.pts = None if packet.pts is None else packet.pts - shift
                    yield packet

            def close(self) -> None:
                container.close()

        return Restarted()

    def interrupt(self) -> None:
        self.media.interrupt()

    def close(self) -> None:
        self.media.close()


class Rebooting:
    """A demo camera's stream that ends after ``after`` seconds, as a rebooting camera's does;
    the next connection starts its timestamps from the beginning again."""

    def __init__(self, media, after: float) -> None:  # noqa: ANN001
        self.media, self.after = media, after

    def open(self):  # noqa: ANN201
        container = self.media.open()
        threading.Timer(self.after, self.media.interrupt).start()
        return container

    def interrupt(self) -> None:
        self.media.interrupt()

    def close(self) -> None:
        self.media.close()


@pytest.mark.parametrize("camera", ["timestamps restart mid-stream", "reboots"])
async def test_a_camera_whose_timestamps_restart_loses_no_stored_segment(tmp_path: Path, camera: str) -> None:
    from plugins.demo import DemoSource, DemoSourceConfig

    class Camera_(DemoSource):
        def open_media(self, cam, stream):  # noqa: ANN001, ANN202
            media = super().open_media(cam, stream)
            return RestartingClock(media, 5.5) if camera.startswith("timestamps") else Rebooting(media, 5.5)

    source = Camera_(DemoSourceConfig(name="cam", cameras=[{"name": "Gerbang"}], width=160, height=90,
                                      fps=10, keyframe_seconds=1, motion_every=0), None)  # type: ignore[arg-type]
    store = Store(database_url(None, tmp_path))
    await store.migrate()
    storage = LocalStorage(LocalStorageConfig(), tmp_path)

    config = RecordingConfig(default=RecordingRule(segment_seconds=2))

    inventory = Inventory({"cam": source})
    await inventory.probe()
    [cam_id] = inventory.cameras
    recording = Recording(config, inventory, StreamGraph(inventory), storage, store, tmp_path / "spool")
    await recording.sync()
    [relay] = recording.graph.relays.values()
    await until(lambda: relay.stats.reconnects >= (1 if camera == "reboots" else 0)
                and relay.stats.packets >= 150, seconds=40)
    await recording.stop()

    segments = await store.recordings.segments(cam_id)
    assert len(segments) >= 6, segments
    for seg in segments:
        stored, key = await store.recordings.segment(seg.id)  # type: ignore[misc]
        data = b"".join([chunk async for chunk in storage.read(key)])
        assert hashlib.sha256(data).hexdigest() == seg.sha256 == stored.sha256, f"segment {key} was overwritten"
        assert len(data) == seg.size
    starts = [s.start for s in segments]
    assert len(set(starts)) == len(starts), "two segments share a start"
    for earlier, later in zip(segments, segments[1:], strict=False):
        assert earlier.end <= later.start, f"{earlier.start}..{earlier.end} overlaps {later.start}"
    # Told by the clock each was recorded on: a segment closed because the timestamps went back
    # once took the new clock's anchor, and every later one was labelled that far in the future.
    assert segments[-1].end <= utcnow() + timedelta(seconds=1), f"labelled in the future: {segments[-1]}"
    stored_files = [p for p in storage.root.rglob("*.mp4")]
    assert len(stored_files) == len(segments), "every stored file is indexed and every index row has its file"
    await store.close()


async def test_segments_the_index_refuses_for_a_while_are_stored_once_it_answers(tmp_path: Path,
                                                                                 monkeypatch) -> None:  # noqa: ANN001
    """The database restarting under a recording hub: what finished meanwhile waits in the spool and
    is indexed once the database answers, each file stored once (no object left without its row)."""
    import hub.recording
    from plugins.demo import DemoSource, DemoSourceConfig

    monkeypatch.setattr(hub.recording, "RETRY_SECONDS", 0.5)
    source = DemoSource(DemoSourceConfig(name="cam", cameras=[{"name": "Gerbang"}], width=160, height=90,
                                         fps=10, keyframe_seconds=1, motion_every=0), None)  # type: ignore[arg-type]
    store = Store(database_url(None, tmp_path))
    await store.migrate()
    storage = LocalStorage(LocalStorageConfig(), tmp_path)
    inventory = Inventory({"cam": source})
    await inventory.probe()
    [cam_id] = inventory.cameras
    recording = Recording(RecordingConfig(default=RecordingRule(segment_seconds=2)), inventory,
                          StreamGraph(inventory), storage, store, tmp_path / "spool")
    index = store.recordings.add_segment
    refused: list[str] = []

    async def away(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        refused.append(args[7])
        raise ConnectionResetError("the database restarts")

    await recording.sync()
    await until(lambda: recording.written >= 2, seconds=20)
    monkeypatch.setattr(store.recordings, "add_segment", away)
    await until(lambda: len(set(refused)) >= 2, seconds=20)
    monkeypatch.setattr(store.recordings, "add_segment", index)
    await until(lambda: not recording._again, seconds=20)
    await recording.stop()

    segments = await store.recordings.segments(cam_id)
    keys = {(await store.recordings.segment(s.id))[1] for s in segments}  # type: ignore[index]
    assert set(refused) <= keys, "every segment refused while the database was away is indexed since"
    for earlier, later in zip(segments, segments[1:], strict=False):
        assert (later.start - earlier.end).total_seconds() < 0.5, "no segment missing from the index"
    assert len(list(storage.root.rglob("*.mp4"))) == len(segments), "each file stored once, every one indexed"
    await store.close()
