"""hub.yaml options of a Lensa source (``type: lensa``)."""

from __future__ import annotations

from typing import Literal

from hub.devices.source import HttpDeviceConfig


class LensaConfig(HttpDeviceConfig):
    """A Lensa camera or NVR over its JSON API.

    ``HttpDeviceConfig`` brings the fields every HTTP device has: ``host``,
    ``port``, ``https``, ``verify_tls``, ``rtsp_port``, ``username``,
    ``password`` (a secret), ``timeout``, ``channels`` and ``events``.
    """

    type: Literal["lensa"] = "lensa"
