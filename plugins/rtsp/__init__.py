"""Plain RTSP cameras with no management API (``type: rtsp``).

Codec, resolution, frame rate and bit rate are probed with PyAV; snapshots
decode the first keyframe of the stream.  A plain RTSP camera reports no
serial number, so its identity is the ``device_id`` given in hub.yaml (the
serial or MAC printed on the camera), or else the source's name, and never
its address: moving the camera to a new IP keeps its id and its history.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any, Literal
from urllib.parse import SplitResult, urlsplit, urlunsplit

import av
from pydantic import Field, SecretStr

from hub import (
    Camera,
    CameraSource,
    CameraStatus,
    Device,
    DeviceAuthFailed,
    DeviceError,
    DeviceInventory,
    DeviceKind,
    DeviceNotReady,
    MediaInput,
    RegisterSourceType,
    SourceConfig,
    SourceContext,
    Stream,
    StreamRole,
    UrlMediaInput,
    camera_id,
    hookimpl,
)

VENDOR = "rtsp"


class RtspConfig(SourceConfig):
    """A camera reached only by its RTSP URL."""

    type: Literal["rtsp"] = "rtsp"
    url: SecretStr = Field(description="Main stream URL, e.g. rtsp://user:${CAM_PASSWORD}@10.0.0.7:554/stream1.")
    sub_url: SecretStr | None = Field(default=None, description="Substream URL, when the camera has one.")
    camera_name: str | None = Field(default=None, description="Name shown for the camera; default: the source name.")
    device_id: str | None = Field(
        default=None, description="Stable identity (serial or MAC on the camera's label); default: the source name.")
    transport: Literal["tcp", "udp"] = Field(default="tcp", description="RTSP transport.")
    timeout: float = Field(default=10.0, gt=0, le=60, description="Seconds to wait for the stream.")


def where(url: str) -> str:
    """``host:port/path`` of an RTSP URL, without credentials: safe for messages."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 554}{parts.path}"


def _options(transport: str) -> dict[str, str]:
    return {"rtsp_transport": transport}


def _open(url: str, transport: str, timeout: float) -> av.container.InputContainer:
    label = where(url)
    try:
        return av.open(url, options=_options(transport), timeout=(timeout, timeout))
    except av.error.HTTPUnauthorizedError:
        raise DeviceAuthFailed(f"{label}: the camera refused the credentials") from None
    except av.error.FFmpegError as err:
        # FFmpeg's message may repeat the URL with its password: keep only the class.
        raise DeviceNotReady(f"{label}: cannot open the stream ({type(err).__name__})") from None


def probe_stream(url: str, transport: str, timeout: float) -> dict[str, Any]:
    """Codec, size, frame rate and bit rate of a stream (blocking: run in a thread)."""
    label = where(url)
    container = _open(url, transport, timeout)
    try:
        if not container.streams.video:
            raise DeviceError(f"{label}: the stream has no video")
        video = container.streams.video[0]
        ctx = video.codec_context
        rate = video.average_rate or video.guessed_rate
        return {"codec": ctx.name, "width": ctx.width or None, "height": ctx.height or None,
                "fps": float(rate) if rate else None, "bitrate": (video.bit_rate or container.bit_rate or None)}
    finally:
        container.close()


def first_keyframe_jpeg(url: str, transport: str, timeout: float) -> bytes:
    """Decode the first keyframe of a stream into a JPEG (blocking)."""
    label = where(url)
    container = _open(url, transport, timeout)
    try:
        video = container.streams.video[0]
        video.codec_context.skip_frame = "NONKEY"
        for frame in container.decode(video):
            buf = io.BytesIO()
            frame.to_image().save(buf, format="JPEG", quality=85)
            return buf.getvalue()
        raise DeviceNotReady(f"{label}: no picture before the stream ended")
    except av.error.FFmpegError as err:
        raise DeviceNotReady(f"{label}: stream failed ({type(err).__name__})") from None
    finally:
        container.close()


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
        return UrlMediaInput(url=url, label=where(url), options=_options(self.config.transport),
                             timeout=self.config.timeout, client=self.config.rtsp_client)


@hookimpl
def register_source_types(register: RegisterSourceType) -> None:
    register(RtspConfig, RtspSource)
