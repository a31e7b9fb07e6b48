"""hub.yaml options of a Dahua source (``type: dahua``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hub.devices.source import HttpDeviceConfig


class DahuaConfig(HttpDeviceConfig):
    """A Dahua (or Dahua-made: Amcrest, Lorex, ...) camera, DVR or NVR over HTTP CGI."""

    type: Literal["dahua"] = "dahua"
    heartbeat: int = Field(default=5, ge=1, le=60, description="Seconds between heartbeats asked of the stream.")
