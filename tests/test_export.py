"""Playback of a range: segments joined by remux, cut at keyframes, gaps kept."""

from __future__ import annotations

import asyncio
import hashlib
import io
import time
from datetime import timedelta
from pathlib import Path

import av
import pytest

from hub.core.errors import NotFound
from hub.core.models import Segment, StreamRole, utcnow
from hub.core.streams import FinishedSegment, Recorder, Relay
from hub.export import join
from tests.core.test_streams import demo_input


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Segment, Path]]:
    spool = tmp_path_factory.mktemp("spool")
    finished: list[FinishedSegment] = []
    relay = Relay("demo:T:1", StreamRole.MAIN, demo_input)
    relay.add(Recorder("demo:T:1", StreamRole.MAIN, spool, 2, finished.append))
    relay.start()
    time.sleep(9)
    relay.stop()
    return [(Segment(id=i, camera_id=f.camera_id, stream_role=f.role, start=f.start, end=f.end,
                     duration=f.duration, size=f.size, sha256=f.sha256), f.path) for i, f in enumerate(finished)]


def frames_of(path: Path) -> list[tuple[float, bool]]:
    with av.open(str(path)) as c:
        return [(float(f.pts * f.time_base), f.key_frame) for f in c.decode(video=0)]


def test_a_range_across_segments_plays_as_one_file_from_a_keyframe(recorded, tmp_path: Path) -> None:  # noqa: ANN001
    assert len(recorded) >= 3
    t0 = recorded[0][0].start
    start, end = t0 + timedelta(seconds=2.5), t0 + timedelta(seconds=6.5)
    export = join(recorded, start, end, tmp_path)
    frames = frames_of(export.path)
    assert frames[0][1], "the export begins on a keyframe"
    assert start - timedelta(seconds=1.01) <= export.start <= start, "at most one GOP (1 s) before the start"
    times = [t for t, _ in frames]
    assert times == sorted(times) and len(set(times)) == len(times)
    covered = times[-1] - times[0] + 0.1
    asked = (end - export.start).total_seconds()
    assert abs(covered - asked) <= 0.25, (covered, asked)
    assert export.segments >= 2
    assert export.sha256 == hashlib.sha256(export.path.read_bytes()).hexdigest()


def test_a_gap_stays_a_gap(recorded, tmp_path: Path) -> None:  # noqa: ANN001
    kept = [recorded[0], recorded[2]]  # the middle segment is missing (the camera was down)
    export = join(kept, kept[0][0].start, kept[1][0].end, tmp_path)
    times = [t for t, _ in frames_of(export.path)]
    jump = max(b - a for a, b in zip(times, times[1:], strict=False))
    assert jump >= recorded[1][0].duration - 0.2, "the missing time is not spliced away"


def test_a_range_with_nothing_recorded(recorded, tmp_path: Path) -> None:  # noqa: ANN001
    later = recorded[-1][0].end + timedelta(hours=1)
    with pytest.raises(NotFound):
        join(recorded, later, later + timedelta(minutes=1), tmp_path)
    assert not list(tmp_path.glob("*.mp4")), "no partial file is left behind"


def test_export_through_the_api_is_audited_and_checks_its_range(hub_factory) -> None:  # noqa: ANN001
    from datetime import datetime

    from tests.conftest import demo_hub_yaml
    from tests.test_hub import wait_for_recording

    hub = hub_factory(demo_hub_yaml())
    with hub.client() as client:
        cam = client.get("/api/v1/cameras").json()[0]["id"]
        wait_for_recording(client, cam)
        deadline = time.monotonic() + 30
        segments: list = []
        while len(segments) < 3 and time.monotonic() < deadline:
            segments = client.get(f"/api/v1/cameras/{cam}/recordings").json()
            time.sleep(0.5)
        t0 = datetime.fromisoformat(segments[0]["start"])
        start, end = t0 + timedelta(seconds=1.5), t0 + timedelta(seconds=4.5)
        url = f"/api/v1/cameras/{cam}/export"
        got = client.get(url, params={"start": start.isoformat(), "end": end.isoformat()})
        naive = client.get(url, params={"start": "2026-11-22T10:00:00", "end": "2026-11-22T10:01:00"})
        naive_listing = client.get(f"/api/v1/cameras/{cam}/recordings", params={"start": "2026-11-22T10:00:00"})
        backwards = client.get(f"/api/v1/cameras/{cam}/recordings",
                               params={"start": end.isoformat(), "end": start.isoformat()})
        later_end = (start + timedelta(hours=7)).isoformat()
        too_long = client.get(url, params={"start": start.isoformat(), "end": later_end})
        later = end + timedelta(hours=2)
        nothing = client.get(url, params={"start": later.isoformat(),
                                          "end": (later + timedelta(minutes=1)).isoformat()})
        audit = client.get("/api/v1/audit").json()
    hub.stop()
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "video/mp4"
    assert got.headers["x-content-sha256"] == hashlib.sha256(got.content).hexdigest()
    assert float(got.headers["x-recording-seconds"]) >= 2.5
    assert datetime.fromisoformat(got.headers["x-recording-start"]) <= start
    with av.open(io.BytesIO(got.content)) as c:
        frames = list(c.decode(video=0))
    assert frames[0].key_frame and len(frames) >= 25
    assert naive.status_code == 400 and "time zone" in naive.json()["detail"]
    assert naive_listing.status_code == 400 and "time zone" in naive_listing.json()["detail"], naive_listing.text
    assert backwards.status_code == 400 and backwards.json()["code"] == "bad_request"
    assert too_long.status_code == 400
    assert nothing.status_code == 404
    assert any(a["action"] == "export" and a["camera_id"] == cam and a["allowed"] for a in audit)
    assert not list((hub.data_dir / "exports").glob("*/*.mp4")), "exports are removed once sent"


def test_evidence_locks_keep_a_range_from_retention_and_are_audited(hub_factory, monkeypatch) -> None:  # noqa: ANN001
    from datetime import datetime

    from tests.conftest import demo_hub_yaml
    from tests.test_hub import wait_for_recording

    hub = hub_factory(demo_hub_yaml())
    with hub.client() as admin, hub.client("operator") as operator, hub.client("viewer") as viewer:
        cam = admin.get("/api/v1/cameras").json()[0]["id"]
        first = wait_for_recording(admin, cam)[0]
        t0 = datetime.fromisoformat(first["start"])
        lock = {"start": (t0 + timedelta(seconds=0.5)).isoformat(), "end": (t0 + timedelta(seconds=1)).isoformat(),
                "reason": "Polres Kutai Timur request 17/XI"}
        url = f"/api/v1/cameras/{cam}/recordings/lock"
        assert viewer.post(url, json=lock).status_code == 403
        locked = operator.post(url, json=lock)
        assert locked.status_code == 200 and locked.json()["segments"] == [first["id"]]
        listed = {s["id"]: s["locked"] for s in admin.get(f"/api/v1/cameras/{cam}/recordings").json()}
        assert listed[first["id"]] is True and not any(v for k, v in listed.items() if k != first["id"])
        assert operator.post(url, json={**lock, "locked": False}).status_code == 403  # releasing needs manage
        assert operator.post(url, json={**lock, "reason": ""}).status_code == 422
        naive = {**lock, "start": "2026-11-22T10:00:00", "end": "2026-11-22T10:01:00"}
        assert operator.post(url, json=naive).status_code == 400
        later = t0 + timedelta(days=3)
        assert operator.post(url, json={**lock, "start": later.isoformat(),
                                        "end": (later + timedelta(minutes=1)).isoformat()}).status_code == 404
        assert admin.post(url, json={**lock, "locked": False, "reason": "case closed"}).status_code == 200
        listed = {s["id"]: s["locked"] for s in admin.get(f"/api/v1/cameras/{cam}/recordings").json()}
        assert listed[first["id"]] is False
        assert operator.post(url, json={**lock, "reason": "Polda Kaltim request 3/XII"}).status_code == 200
        audit = admin.get("/api/v1/audit").json()
    hub.stop()
    entries = [(a["action"], a["reason"].split(" (")[0]) for a in audit if a["action"] in ("lock", "unlock")]
    assert entries == [("lock", "Polda Kaltim request 3/XII"), ("unlock", "case closed"),
                       ("lock", "Polres Kutai Timur request 17/XI")]

    # Two days on, retention (retain_days: 1) takes every segment but the locked one, which still
    # downloads as it was recorded.
    later = utcnow() + timedelta(days=2)
    monkeypatch.setattr("hub.recording.utcnow", lambda: later)
    kept, gone = asyncio.run(_retention_on(hub.data_dir))
    assert [s.id for s in kept] == [first["id"]] and gone >= 2
    (segment,) = kept
    assert segment.locked and segment.sha256 == first["sha256"]


async def _retention_on(data_dir: Path) -> tuple[list, int]:
    from hub.core.config import RecordingConfig, RecordingRule
    from hub.graph import StreamGraph
    from hub.inventory import Inventory
    from hub.recording import Recording
    from hub.store import Store, database_url
    from plugins.local_storage import LocalStorage, LocalStorageConfig

    store = Store(database_url(None, data_dir))
    try:
        storage = LocalStorage(LocalStorageConfig(), data_dir)
        inventory = Inventory({})
        recording = Recording(RecordingConfig(default=RecordingRule(retain_days=1)), inventory,
                              StreamGraph(inventory), storage, store, data_dir / "spool")
        gone = await recording.apply_retention()
        kept = [s for cam in await store.recordings.recorded_cameras() for s in await store.recordings.segments(cam)]
        for segment in kept:
            found = await store.recordings.segment(segment.id)
            assert found is not None
            digest = hashlib.sha256()
            async for chunk in storage.read(found[1]):
                digest.update(chunk)
            assert digest.hexdigest() == segment.sha256
        return kept, gone
    finally:
        await store.close()
