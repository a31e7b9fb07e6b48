"""The source keeps the hub's contract for camera sources: one import, two methods."""

from __future__ import annotations

from hub import CameraSource, SourceContext
from hub.testing.conformance import SourceConformance
from hub.testing.sim import DeviceSimulator
from pantau_lensa import LensaConfig, LensaSource
from pantau_lensa.simulator import LensaSimulator


class TestLensaCamera(SourceConformance):
    async def start_device(self, password: str) -> DeviceSimulator:
        return await LensaSimulator(password=password).start()

    def make_source(self, device: DeviceSimulator, password: str, timeout: float,
                    context: SourceContext) -> CameraSource:
        config = LensaConfig(name="conformance", host=device.host, port=device.port, password=password,
                             timeout=timeout)
        return LensaSource(config, context)


class TestLensaNvr(TestLensaCamera):
    async def start_device(self, password: str) -> DeviceSimulator:
        return await LensaSimulator(channels=8, password=password).start()
