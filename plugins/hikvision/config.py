"""hub.yaml options of a Hikvision source (``type: hikvision``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hub.devices.source import HttpDeviceConfig


class HikvisionConfig(HttpDeviceConfig):
    """A Hikvision camera, DVR or NVR reached over ISAPI (events from its alertStream)."""

    type: Literal["hikvision"] = "hikvision"
    event_hold_seconds: float = Field(
        default=5.0, ge=0.5, le=300,
        description="The alertStream repeats 'active' while motion (tamper, ...) lasts: the first repeat is a "
        "start, and a stop follows this long after the last one.")
