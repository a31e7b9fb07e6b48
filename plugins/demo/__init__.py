"""Demo cameras: a living hub with no hardware (``type: demo``).

Each demo source is one synthetic device (an NVR when it has more than one
camera) whose cameras carry an H.264 main stream and substream painted in
real time (a moving pattern with the camera's name and a clock), give JPEG
snapshots and now and then report a motion event.  It is written exactly as
a third-party vendor plugin would be.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator

import hub
from hub import (
    Camera,
    CameraSource,
    CameraStatus,
    Device,
    DeviceInventory,
    DeviceKind,
    Event,
    EventKind,
    EventState,
    MediaInput,
    RegisterSourceType,
    SourceContext,
    Stream,
    StreamRole,
    camera_id,
    hookimpl,
)
from plugins.demo.config import DemoCamera, DemoSourceConfig
from plugins.demo.synth import Painter, SyntheticStream

__all__ = ["DemoCamera", "DemoSource", "DemoSourceConfig"]

VENDOR = "demo"


class DemoSource(CameraSource):
    config: DemoSourceConfig

    def __init__(self, config: DemoSourceConfig, context: SourceContext) -> None:
        super().__init__(config, context)
        self.serial = config.serial or "DEMO" + hashlib.sha1(config.name.encode()).hexdigest()[:8].upper()
        self._painters: dict[tuple[int, StreamRole], Painter] = {}

    def _painter(self, channel: int, role: StreamRole) -> Painter:
        key = (channel, role)
        if key not in self._painters:
            main = role == StreamRole.MAIN
            cfg = self.config
            self._painters[key] = Painter(cfg.cameras[channel - 1].name, cfg.width if main else cfg.sub_width,
                                          cfg.height if main else cfg.sub_height, hue=channel,
                                          time_code=cfg.time_code)
        return self._painters[key]

    async def probe(self) -> list[DeviceInventory]:
        cfg = self.config
        device = Device(
            id=f"{VENDOR}:{self.serial}", source=cfg.name, vendor="Pantau", model="Demo NVR" if len(cfg.cameras) > 1
            else "Demo Camera", serial=self.serial, firmware=hub.__version__,
            kind=DeviceKind.NVR if len(cfg.cameras) > 1 else DeviceKind.CAMERA, host="synthetic")
        cameras = [
            Camera(id=camera_id(VENDOR, self.serial, ch), device_id=device.id, channel=ch, name=cam.name,
                   status=CameraStatus.ONLINE, tags=cam.tags, location=cam.location, streams=[
                       Stream(role=StreamRole.MAIN, codec="h264", width=cfg.width, height=cfg.height,
                              fps=cfg.fps),
                       Stream(role=StreamRole.SUB, codec="h264", width=cfg.sub_width, height=cfg.sub_height,
                              fps=cfg.fps),
                   ])
            for ch, cam in enumerate(cfg.cameras, start=1)
        ]
        return [DeviceInventory(device=device, cameras=cameras)]

    async def snapshot(self, camera: Camera) -> bytes:
        import time

        return await asyncio.to_thread(self._painter(camera.channel, StreamRole.MAIN).jpeg, time.time())

    def open_media(self, camera: Camera, stream: Stream) -> MediaInput:
        return SyntheticStream(self._painter(camera.channel, stream.role), self.config.fps,
                               self.config.keyframe_seconds, label=f"{camera.id}/{stream.role.value}")

    async def events(self) -> AsyncIterator[Event]:
        if self.config.motion_every <= 0:
            return
        turn: list[int] = []
        while True:
            await asyncio.sleep(random.expovariate(1 / self.config.motion_every))
            if not turn:  # every camera once a round, in a random order
                turn = random.sample(range(1, len(self.config.cameras) + 1), len(self.config.cameras))
            channel = turn.pop()
            cam_id = camera_id(VENDOR, self.serial, channel)
            dev_id = f"{VENDOR}:{self.serial}"
            yield Event(camera_id=cam_id, device_id=dev_id, kind=EventKind.MOTION, state=EventState.START,
                        source="demo", detail="synthetic motion")
            await asyncio.sleep(random.uniform(2, 5))
            yield Event(camera_id=cam_id, device_id=dev_id, kind=EventKind.MOTION, state=EventState.STOP,
                        source="demo", detail="synthetic motion")


@hookimpl
def register_source_types(register: RegisterSourceType) -> None:
    register(DemoSourceConfig, DemoSource)
