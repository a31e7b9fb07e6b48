"""Recording rules and retention, against a real store and local storage."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hub.core.config import RecordingConfig, RecordingOverride, RecordingRule
from hub.core.models import Camera, utcnow
from hub.core.store import Store, database_url
from hub.graph import StreamGraph
from hub.inventory import Inventory
from hub.recording import Recording, rule_for
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

    class Config:
        recording = RecordingConfig(default=RecordingRule(retain_days=1))

    inventory = Inventory({})
    recording = Recording(Config(), inventory, StreamGraph(inventory), storage, store, tmp_path / "spool")
    now = utcnow()
    ids = {}
    for name, age_hours in (("old", 50), ("locked", 49), ("fresh", 2)):
        key = f"recordings/demo_A_1/{name}.mp4"
        await storage.put_bytes(key, b"x" * 100)
        start = now - timedelta(hours=age_hours)
        ids[name] = await store.add_segment("demo:A:1", "main", start, start + timedelta(seconds=10), 10, 100,
                                            "0" * 64, key)
    await store.set_locked(ids["locked"], True)
    assert await recording.apply_retention() == 1
    left = {s.id for s in await store.segments("demo:A:1")}
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
        "{mode: events, segment_seconds: 2, pre_roll_seconds: 2, post_roll_seconds: 2}")
    hub = hub_factory(config)
    with hub.client() as client:
        camera_ids = [c["id"] for c in client.get("/api/v1/cameras").json()]

        def motions() -> list[dict]:
            return [e for e in client.get("/api/v1/events", params={"limit": 1000}).json() if e["kind"] == "motion"]

        deadline = time.monotonic() + 60
        while not any(e["state"] == "stop" for e in motions()) and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(5)  # the post-roll, then the segment is stored
        events = motions()
        segments = {cam: client.get(f"/api/v1/cameras/{cam}/recordings").json() for cam in camera_ids}
    assert any(e["state"] == "stop" for e in events), "no synthetic motion in 60 s"
    assert any(segments.values())
    for cam, segs in segments.items():
        # Every recorded second lies in an event of its camera, widened by the pre-roll (plus a GOP)
        # and the post-roll (plus the time a segment takes to close).
        spans = []
        starts = {e["id"]: e for e in events if e["camera_id"] == cam and e["state"] == "start"}
        for start in starts.values():
            stop = next((e for e in events if e["camera_id"] == cam and e["state"] == "stop"
                         and e["at"] >= start["at"]), None)
            begin = datetime.fromisoformat(start["at"]).timestamp() - 2 - 1.5
            end = (datetime.fromisoformat(stop["at"]).timestamp() if stop else time.time()) + 2 + 1.5
            spans.append((begin, end))
        for seg in segs:
            s, e = datetime.fromisoformat(seg["start"]).timestamp(), datetime.fromisoformat(seg["end"]).timestamp()
            assert any(b <= s and e <= f for b, f in spans), (cam, seg["start"], seg["end"], spans)
