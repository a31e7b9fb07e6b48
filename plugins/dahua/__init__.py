"""Dahua cameras, DVRs and NVRs over HTTP CGI (``type: dahua``).

Probing reads ``magicBox`` system information, channel titles and encode
settings from ``configManager`` (main stream and extra streams), and NVR
channel states; each camera gets its RTSP URLs
(``/cam/realmonitor?channel=N&subtype=M``).  Snapshots come from
``snapshot.cgi``; events from the ``eventManager`` attach stream,
reconnected with backoff and jitter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from pydantic import SecretStr

from hub import (
    Camera,
    CameraStatus,
    Device,
    DeviceInventory,
    Event,
    RegisterSourceType,
    SourceContext,
    Stream,
    StreamRole,
    camera_id,
    hookimpl,
    utcnow,
)
from hub.devices.retry import reconnecting
from hub.devices.source import HttpDeviceSource
from plugins.dahua import parse
from plugins.dahua.client import DahuaClient
from plugins.dahua.config import DahuaConfig

VENDOR = "dahua"
SUBTYPES = {StreamRole.MAIN: 0, StreamRole.SUB: 1, StreamRole.THIRD: 2}


class DahuaSource(HttpDeviceSource):
    config: DahuaConfig

    def __init__(self, config: DahuaConfig, context: SourceContext) -> None:
        super().__init__(config, context)
        self.client = DahuaClient(self.http)

    def _rtsp(self, channel: int, role: StreamRole) -> SecretStr:
        return self.config.rtsp_url(f"/cam/realmonitor?channel={channel}&subtype={SUBTYPES[role]}")

    async def probe(self) -> list[DeviceInventory]:
        info = await self.client.system_info()
        titles = await self.client.channel_titles()
        encodes = await self.client.encode()
        states = await self.optional(self.client.camera_states())
        self.serial = info.serial
        disks = await self.optional(self.client.storage())
        self.diagnostics = {"storage": disks, "time": await self.optional(self.client.current_time()),
                            "storage_ok": not any(d.error for d in disks) if disks else None}
        kind = parse.device_kind(info.model)
        device = Device(id=f"{VENDOR}:{info.serial}", source=self.name, vendor="Dahua", model=info.model,
                        serial=info.serial, firmware=await self.optional(self.client.software_version()),
                        kind=kind, host=self.config.host)
        wanted = set(self.config.channels) if self.config.channels else None
        cameras = []
        for channel, name in sorted(titles.items()):
            if wanted is not None and channel not in wanted:
                continue
            online = states.get(channel) if states else None
            status = (CameraStatus.ONLINE if online else CameraStatus.OFFLINE) if online is not None \
                else CameraStatus.ONLINE if kind.value == "camera" else CameraStatus.UNKNOWN
            cameras.append(Camera(
                id=camera_id(VENDOR, info.serial, channel), device_id=device.id, channel=channel, name=name,
                status=status,
                streams=[Stream(role=e.role, codec=e.codec, width=e.width, height=e.height, fps=e.fps,
                                bitrate=e.bitrate, constant_bitrate=e.constant_bitrate,
                                url=self._rtsp(channel, e.role))
                         for e in encodes if e.channel == channel and e.enabled],
            ))
        return [DeviceInventory(device=device, cameras=cameras)]

    async def snapshot(self, camera: Camera) -> bytes:
        return await self.client.snapshot(camera.channel)

    async def events(self) -> AsyncIterator[Event]:
        if not self.config.events:
            return
        serial = await self.known_serial()

        def attach() -> AsyncIterator[parse.EventPart]:
            return self.client.events(self.config.heartbeat)

        async for part in reconnecting(attach, self.context.log, self.http.where):
            if part.heartbeat:
                continue
            yield Event(camera_id=camera_id(VENDOR, serial, part.channel) if part.channel else None,
                        device_id=f"{VENDOR}:{serial}", kind=part.kind, state=part.state, source=VENDOR,
                        detail=part.code, data=part.data, at=part.at or utcnow())

@hookimpl
def register_source_types(register: RegisterSourceType) -> None:
    register(DahuaConfig, DahuaSource)
