"""Demo cameras: stable ids, real H.264 streams, JPEG snapshots, motion events."""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

from PIL import Image

from hub.core.models import DeviceKind, EventKind, EventState, StreamRole
from hub.core.sources import SourceContext
from plugins.demo import DemoCamera, DemoSource, DemoSourceConfig


def source(tmp_path: Path, **kw) -> DemoSource:  # noqa: ANN003
    cfg = DemoSourceConfig(name="taman", cameras=[DemoCamera(name="Taman 1"), DemoCamera(name="Taman 2")], **kw)
    return DemoSource(cfg, SourceContext(tmp_path, logging.getLogger("test")))


async def test_probe_gives_an_nvr_with_stable_ids(tmp_path: Path) -> None:
    first = (await source(tmp_path).probe())[0]
    again = (await source(tmp_path).probe())[0]
    assert first.device.kind == DeviceKind.NVR
    assert [c.id for c in first.cameras] == [c.id for c in again.cameras]
    assert [c.id.split(":")[-1] for c in first.cameras] == ["1", "2"]
    assert {s.role for s in first.cameras[0].streams} == {StreamRole.MAIN, StreamRole.SUB}


async def test_snapshot_is_a_jpeg_of_the_main_resolution(tmp_path: Path) -> None:
    src = source(tmp_path, width=320, height=180)
    cam = (await src.probe())[0].cameras[0]
    jpeg = await src.snapshot(cam)
    img = Image.open(io.BytesIO(jpeg))
    assert img.format == "JPEG" and img.size == (320, 180)


async def test_substream_is_h264_at_its_own_resolution(tmp_path: Path) -> None:
    src = source(tmp_path, sub_width=160, sub_height=90)
    cam = (await src.probe())[0].cameras[1]
    media = src.open_media(cam, cam.stream(StreamRole.SUB))

    def read() -> tuple[str, int, int]:
        container = media.open()
        try:
            for frame in container.decode(video=0):
                return container.streams.video[0].codec_context.name, frame.width, frame.height
        finally:
            container.close()
            media.close()
        raise AssertionError("no frame")

    assert await asyncio.to_thread(read) == ("h264", 160, 90)


async def test_motion_events_start_and_stop(tmp_path: Path) -> None:
    src = source(tmp_path, motion_every=0.05)
    ids = {c.id for c in (await src.probe())[0].cameras}
    got = []
    async for event in src.events():
        got.append(event)
        if len(got) == 2:
            break
    assert [e.state for e in got] == [EventState.START, EventState.STOP]
    assert got[0].kind == EventKind.MOTION and got[0].camera_id in ids
