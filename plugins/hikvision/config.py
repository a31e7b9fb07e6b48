"""hub.yaml options of a Hikvision source (``type: hikvision``)."""

from __future__ import annotations

from typing import Literal

from hub.devices.source import HttpDeviceConfig


class HikvisionConfig(HttpDeviceConfig):
    """A Hikvision camera, DVR or NVR reached over ISAPI (events from its alertStream)."""

    type: Literal["hikvision"] = "hikvision"
