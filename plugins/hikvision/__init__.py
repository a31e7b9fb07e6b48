"""Hikvision cameras, DVRs and NVRs over ISAPI (``type: hikvision``).

Probing reads the device information, the channels (a camera's or DVR's
video inputs, an NVR's proxied IP cameras with their online state) and the
streaming channels (101, 102, ... as main, sub, third), giving each camera
its RTSP URLs.  Snapshots come from ``Streaming/channels/<n>01/picture``;
events from the ``alertStream``, reconnected with backoff and jitter.
Optional endpoints a model lacks (403/404/500 with a ``ResponseStatus``)
mean "capability absent", not a broken device.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from hub import (
    Camera,
    CameraStatus,
    Device,
    DeviceInventory,
    DeviceKind,
    Event,
    RegisterSourceType,
    SourceContext,
    Stream,
    StreamRole,
    camera_id,
    hookimpl,
    utcnow,
)
from hub.devices.pulses import spans
from hub.devices.retry import reconnecting
from hub.devices.source import HttpDeviceSource
from plugins.hikvision import parse
from plugins.hikvision.client import HikvisionClient
from plugins.hikvision.config import HikvisionConfig

VENDOR = "hikvision"


class HikvisionSource(HttpDeviceSource):
    config: HikvisionConfig

    def __init__(self, config: HikvisionConfig, context: SourceContext) -> None:
        super().__init__(config, context)
        self.client = HikvisionClient(self.http)
        self.channel_ids: set[int] = set()
        self.ip_channel_ids: list[int] = []

    async def probe(self) -> list[DeviceInventory]:
        info = await self.client.device_info()
        proxied = await self.client.proxy_channels()
        channels = parse.merge_channels(await self.client.video_inputs(), proxied)
        kind = parse.device_kind(info, len(proxied))
        if not channels and kind == DeviceKind.CAMERA:
            channels = [parse.Channel(id=1, name=info.name or info.model)]
        streams = await self.client.streaming_channels([c.id for c in channels])
        self.serial = info.serial
        #: The channels and IP channels the device has, to place its alerts (``parse.alert_channel``).
        self.channel_ids = {c.id for c in channels}
        self.ip_channel_ids = [c.id for c in proxied]
        clock = await self.optional(self.client.device_time())
        disks = await self.optional(self.client.storage())
        self.diagnostics = {"storage": disks, "time": clock,
                            "storage_ok": all(d.status.lower() in ("ok", "normal", "idle") for d in disks)
                            if disks else None,
                            "clock_drift_seconds": round((clock - utcnow()).total_seconds(), 1) if clock else None,
                            "event_types": await self.optional(self.client.event_triggers())}
        device = Device(id=f"{VENDOR}:{info.serial}", source=self.name, vendor="Hikvision", model=info.model,
                        serial=info.serial, firmware=info.firmware, kind=kind, host=self.config.host)
        wanted = set(self.config.channels) if self.config.channels else None
        cameras = []
        for ch in channels:
            if wanted is not None and ch.id not in wanted:
                continue
            status = CameraStatus.UNKNOWN
            if ch.online is not None:
                status = CameraStatus.ONLINE if ch.online else CameraStatus.OFFLINE
            elif kind != DeviceKind.NVR:
                status = CameraStatus.ONLINE
            known = [Stream(role=s.role, codec=s.codec, width=s.width, height=s.height, fps=s.fps,
                            bitrate=s.bitrate, constant_bitrate=s.constant_bitrate,
                            url=self.config.rtsp_url(f"/Streaming/Channels/{s.id}"))
                     for s in streams if s.channel == ch.id and s.enabled]
            if not known:
                # A channel whose camera is away answers 403 for all its streams; ISAPI's RTSP
                # paths are fixed by channel, so it keeps its main and sub stream (what is not
                # known stays unknown) and is recorded again when the camera comes back.
                known = [Stream(role=role, url=self.config.rtsp_url(f"/Streaming/Channels/{ch.id}0{n}"))
                         for n, role in ((1, StreamRole.MAIN), (2, StreamRole.SUB))]
                if status != CameraStatus.ONLINE:
                    status = CameraStatus.OFFLINE
            cameras.append(Camera(
                id=camera_id(VENDOR, info.serial, ch.id), device_id=device.id, channel=ch.id, name=ch.name,
                status=status, streams=known,
            ))
        return [DeviceInventory(device=device, cameras=cameras)]

    async def snapshot(self, camera: Camera) -> bytes:
        return await self.client.snapshot(camera.channel)

    async def events(self) -> AsyncIterator[Event]:
        if not self.config.events:
            return
        serial = await self.known_serial()

        async def alerts() -> AsyncIterator[Event]:
            async for alert in reconnecting(self.client.alerts, self.context.log, self.http.where):
                if alert.heartbeat:
                    continue
                channel = parse.alert_channel(alert.channel, self.channel_ids, self.ip_channel_ids) \
                    if alert.channel else None
                yield Event(
                    camera_id=camera_id(VENDOR, serial, channel) if channel else None,
                    device_id=f"{VENDOR}:{serial}", kind=alert.kind, state=alert.state,
                    source=VENDOR, detail=alert.event_type, data=alert.data, at=alert.at or utcnow(),
                )

        # The alertStream only ever says "active" (again and again) or "inactive".
        async for event in spans(alerts(), self.config.event_hold_seconds):
            yield event

@hookimpl
def register_source_types(register: RegisterSourceType) -> None:
    register(HikvisionConfig, HikvisionSource)

