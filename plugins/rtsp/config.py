"""hub.yaml options of a plain RTSP camera (``type: rtsp``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from hub import SourceConfig


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
