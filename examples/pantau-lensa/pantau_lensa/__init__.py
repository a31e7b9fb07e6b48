"""pantau-lensa: Lensa cameras and NVRs as a Pantau Hub camera source (``type: lensa``).

An example of a third-party camera source, walked through line by line in
the hub's docs/writing-a-camera-source.md.  The rooms are the same as in
the hub's own vendor plugins:

- ``__init__.py``: the hook implementation and the ``CameraSource``;
- ``config.py``: the hub.yaml options, a pydantic model;
- ``client.py``: every request to the device (the only I/O);
- ``parse.py``: the device's answers, checked and normalised (pure);
- ``simulator.py``: a simulated device for the tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from hub import (
    Camera,
    CameraStatus,
    Device,
    DeviceInventory,
    Event,
    EventKind,
    RegisterSourceType,
    SourceContext,
    Stream,
    camera_id,
    hookimpl,
)
from hub.devices.http import Auth
from hub.devices.retry import reconnecting
from hub.devices.source import HttpDeviceSource
from pantau_lensa import parse
from pantau_lensa.client import LensaClient, LensaLogin
from pantau_lensa.config import LensaConfig

__all__ = ["LensaConfig", "LensaSource"]

VENDOR = "lensa"


class LensaSource(HttpDeviceSource):
    """One Lensa device (camera or NVR) from one ``sources:`` entry."""

    config: LensaConfig

    def __init__(self, config: LensaConfig, context: SourceContext) -> None:
        super().__init__(config, context)
        self.client = LensaClient(self.http)

    def device_auth(self) -> Auth:
        return LensaLogin()

    async def probe(self) -> list[DeviceInventory]:
        info = await self.client.device()
        self.serial = info.serial
        device = Device(id=f"{VENDOR}:{info.serial}", source=self.name, vendor="Lensa", model=info.model,
                        serial=info.serial, firmware=info.firmware, kind=parse.kind(info), host=self.config.host)
        wanted = set(self.config.channels) if self.config.channels else None
        cameras = [
            Camera(
                id=camera_id(VENDOR, info.serial, ch.channel), device_id=device.id, channel=ch.channel,
                name=ch.name or f"Channel {ch.channel}",
                status=CameraStatus.ONLINE if ch.online else CameraStatus.OFFLINE,
                streams=[Stream(role=parse.ROLES[s.role], codec=s.codec, width=s.width, height=s.height,
                                fps=s.fps, bitrate=parse.bitrate(s), url=self.config.rtsp_url(s.rtsp_path))
                         for s in ch.streams],
            )
            for ch in info.channels if wanted is None or ch.channel in wanted
        ]
        return [DeviceInventory(device=device, cameras=cameras)]

    async def snapshot(self, camera: Camera) -> bytes:
        return await self.client.snapshot(camera.channel)

    async def events(self) -> AsyncIterator[Event]:
        if not self.config.events:
            return
        serial = await self.known_serial()
        cursor = 0

        async def poll() -> AsyncIterator[parse.LensaEvent]:
            nonlocal cursor
            while True:  # a long poll: the device answers when something happens, or after `wait`
                batch = await self.client.events(cursor, wait=self.config.timeout / 2)
                cursor = batch.next
                for item in batch.events:
                    yield item

        async for item in reconnecting(poll, self.context.log, self.http.where):
            yield Event(camera_id=camera_id(VENDOR, serial, item.channel), device_id=f"{VENDOR}:{serial}",
                        kind=parse.KINDS.get(item.type, EventKind.OTHER), state=parse.STATES[item.state],
                        at=item.at, source=VENDOR, detail=item.type)


@hookimpl
def register_source_types(register: RegisterSourceType) -> None:
    register(LensaConfig, LensaSource)
