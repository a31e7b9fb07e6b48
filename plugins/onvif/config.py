"""hub.yaml options of an ONVIF source (``type: onvif``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from hub import SourceConfig


class OnvifConfig(SourceConfig):
    """Any ONVIF Profile S camera or encoder (with Profile T/G extras where offered)."""

    type: Literal["onvif"] = "onvif"
    host: str = Field(description="Address of the device (name or IP).")
    port: int = Field(default=80, ge=1, le=65535, description="Port of the ONVIF device service.")
    username: str = Field(default="admin", description="ONVIF user; an operator-level user is enough.")
    password: SecretStr = Field(description="ONVIF password; write ${ENV_VAR} to keep it out of the file.")
    timeout: float = Field(default=10.0, gt=0, le=120, description="Seconds to wait for the device.")
    stream_auth: bool = Field(
        default=True, description="Put the username and password into the RTSP URLs the device reports.")
    events: bool = Field(default=True, description="Subscribe to events with a PullPoint subscription.")
    adjust_time: bool = Field(
        default=True, description="Sign requests with the device's clock, for cameras whose clock drifts.")
