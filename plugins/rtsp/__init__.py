"""Plain RTSP cameras with no management API (``type: rtsp``).

Codec, resolution, frame rate and bit rate are probed with PyAV; snapshots
decode the first keyframe of the stream.  A plain RTSP camera reports no
serial number, so its identity is the ``device_id`` given in hub.yaml (the
serial or MAC printed on the camera), or else the source's name, and never
its address: moving the camera to a new IP keeps its id and its history.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from pydantic import SecretStr

from hub import (
    Camera,
    CameraSource,
    CameraStatus,
    Device,
    DeviceInventory,
    DeviceKind,
    MediaInput,
    RegisterSourceType,
    SourceContext,
    Stream,
    StreamRole,
    UrlMediaInput,
    camera_id,
    hookimpl,
)
from plugins.rtsp.client import first_keyframe_jpeg, options, probe_stream, where
from plugins.rtsp.config import RtspConfig

__all__ = ["RtspConfig", "RtspSource", "first_keyframe_jpeg", "probe_stream", "where"]

VENDOR = "rtsp"


class RtspSource(CameraSource):
    config: RtspConfig
    probe_opens_streams = True  # probing is opening the streams: nothing else to ask

    def __init__(self, config: RtspConfig, context: SourceContext) -> None:
        super().__init__(config, context)
        self.identity = config.device_id or config.name

    @classmethod
    def config_from_url(cls, url: SplitResult) -> dict[str, Any]:
        return {"url": urlunsplit(url)}

    def _urls(self) -> list[tuple[StreamRole, str]]:
        urls = [(StreamRole.MAIN, self.config.url.get_secret_value())]
        if self.config.sub_url is not None:
            urls.append((StreamRole.SUB, self.config.sub_url.get_secret_value()))
        return urls

    async def probe(self) -> list[DeviceInventory]:
        cfg = self.config
        streams = []
        for role, url in self._urls():
            found = await asyncio.to_thread(probe_stream, url, cfg.transport, cfg.timeout)
            streams.append(Stream(role=role, url=SecretStr(url), **found))
        main_url = urlsplit(cfg.url.get_secret_value())
        device = Device(id=f"{VENDOR}:{self.identity}", source=self.name, vendor="RTSP", model=None,
                        serial=self.identity, kind=DeviceKind.CAMERA, host=main_url.hostname)
        camera = Camera(id=camera_id(VENDOR, self.identity, 1), device_id=device.id, channel=1,
                        name=cfg.camera_name or cfg.name, status=CameraStatus.ONLINE, streams=streams)
        return [DeviceInventory(device=device, cameras=[camera])]

    async def snapshot(self, camera: Camera) -> bytes:
        role, url = self._urls()[-1]  # the substream decodes fastest
        return await asyncio.to_thread(first_keyframe_jpeg, url, self.config.transport, self.config.timeout)

    def open_media(self, camera: Camera, stream: Stream) -> MediaInput:
        assert stream.url is not None
        url = stream.url.get_secret_value()
        return UrlMediaInput(url=url, label=where(url), options=options(self.config.transport),
                             timeout=self.config.timeout, client=self.config.rtsp_client)


@hookimpl
def register_source_types(register: RegisterSourceType) -> None:
    register(RtspConfig, RtspSource)
