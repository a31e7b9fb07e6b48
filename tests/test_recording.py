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
