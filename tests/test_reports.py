"""`pantau report availability` from the status history the health monitor keeps."""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image

from hub.core.models import Camera, Device
from hub.store import Store, database_url
from tests.conftest import ROOT

DAY = datetime(2026, 11, 21, tzinfo=UTC)


async def seed(data_dir: Path) -> None:
    from sqlalchemy import update

    from hub.store.cameras import CameraRow

    store = Store(database_url(None, data_dir))
    await store.migrate()
    cams = [Camera(id=f"demo:S:{i}", device_id="demo:S", channel=i, name=f"Kamera {i}",
                   area="jawa-tengah/semarang/candisari" if i < 3 else "jawa-tengah/semarang/tembalang",
                   owner="diskominfo") for i in (1, 2, 3)]
    await store.cameras.save_inventory([Device(id="demo:S", source="s", vendor="demo", serial="S")], cams, {"s"})
    await store.status.record_status("demo:S:1", "online", DAY - timedelta(days=3))           # up all day
    await store.status.record_status("demo:S:2", "online", DAY - timedelta(hours=1))
    await store.status.record_status("demo:S:2", "offline", DAY + timedelta(hours=6))         # down 06:00-18:00
    await store.status.record_status("demo:S:2", "online", DAY + timedelta(hours=18))
    # camera 3 has no history: unknown all day
    async with store.db.session.begin() as s:  # the cameras existed long before the day reported on
        await s.execute(update(CameraRow).values(first_seen=DAY - timedelta(days=30)))
    await store.close()


def report(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "hub.yaml").write_text("version: 1\nhub: {data_dir: data}\n")
    return subprocess.run([sys.executable, "-m", "hub", "report", "availability", "--from", "2026-11-21",
                           "--to", "2026-11-22", "-c", str(tmp_path / "hub.yaml"), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_availability_per_camera_area_and_as_html_and_png(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    asyncio.run(seed(tmp_path / "data"))
    per_camera = report(tmp_path)
    assert per_camera.returncode == 0, per_camera.stderr
    lines = {r["camera"]: r for r in csv.DictReader(io.StringIO(per_camera.stdout))}
    assert lines["demo:S:1"]["online_percent"] == "100.00"
    assert (lines["demo:S:2"]["online_percent"], lines["demo:S:2"]["offline_percent"]) == ("50.00", "50.00")
    assert lines["demo:S:3"]["unknown_percent"] == "100.00"
    by_area = {r["area"]: r for r in csv.DictReader(io.StringIO(report(tmp_path, "--by", "area").stdout))}
    assert by_area["jawa-tengah/semarang/candisari"]["online_percent"] == "75.00"
    assert by_area["jawa-tengah/semarang/candisari"]["cameras"] == "2"
    html = report(tmp_path, "--format", "html", "--by", "owner").stdout
    assert "<table>" in html and "diskominfo" in html
    png = report(tmp_path, "--format", "png", "-o", str(tmp_path / "a.png"))
    assert png.returncode == 0
    assert Image.open(tmp_path / "a.png").size[0] == 900
    assert report(tmp_path, "--format", "png").returncode == 2  # png needs a file


def test_a_fresh_hub_reports_its_cameras_online_and_a_day_not_over_ends_now(hub_factory) -> None:  # noqa: ANN001
    import time

    from tests.conftest import demo_hub_yaml

    hub = hub_factory(demo_hub_yaml())
    since = datetime.now(UTC)
    time.sleep(1.5)  # a period that has begun, in which the demo cameras have been up all along
    until = since + timedelta(days=1)  # ends tomorrow: the rest is not "unknown", it has not happened
    result = hub.pantau("report", "availability", "--from", since.isoformat(), "--to", until.isoformat(),
                        "-c", str(hub.config), "--data-dir", str(hub.data_dir))
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 2 and all(float(r["online_percent"]) > 99 for r in rows), rows
    assert "counted up to now" in result.stderr
