"""hub.yaml options of a Dahua source (``type: dahua``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from hub.core.sources import SourceConfig


class DahuaConfig(SourceConfig):
    """A Dahua (or Dahua-made: Amcrest, Lorex, ...) camera, DVR or NVR over HTTP CGI."""

    type: Literal["dahua"] = "dahua"
    host: str = Field(description="Address of the device (name or IP).")
    port: int = Field(default=80, ge=1, le=65535, description="HTTP(S) port of the CGI API.")
    https: bool = Field(default=False, description="Use HTTPS.")
    verify_tls: bool = Field(default=True, description="Check the device's TLS certificate.")
    rtsp_port: int = Field(default=554, ge=1, le=65535, description="RTSP port for the streams.")
    username: str = Field(default="admin", description="Device user; a read-only user is enough.")
    password: SecretStr = Field(description="Device password; write ${ENV_VAR} to keep it out of the file.")
    timeout: float = Field(default=10.0, gt=0, le=120, description="Seconds to wait for the device.")
    channels: list[int] | None = Field(default=None, description="Only these channels (1-based); all when unset.")
    events: bool = Field(default=True, description="Subscribe to the device's eventManager stream.")
    heartbeat: int = Field(default=5, ge=1, le=60, description="Seconds between heartbeats asked of the stream.")
