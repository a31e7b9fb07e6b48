"""The stream itself, read with PyAV: the only module of the plugin that does I/O.

Every function blocks; the source runs them in a worker thread.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlsplit

import av

from hub import DeviceAuthFailed, DeviceError, DeviceNotReady


def where(url: str) -> str:
    """``host:port/path`` of an RTSP URL, without credentials: safe for messages."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 554}{parts.path}"


def options(transport: str) -> dict[str, str]:
    return {"rtsp_transport": transport}


def _open(url: str, transport: str, timeout: float) -> av.container.InputContainer:
    label = where(url)
    try:
        return av.open(url, options=options(transport), timeout=(timeout, timeout))
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
