"""The hub's own vendor plugins pass the conformance suite it gives third parties."""

from __future__ import annotations

from hub.core.sources import CameraSource, SourceContext
from hub.testing.conformance import SourceConformance
from hub.testing.sim import DahuaSimulator, HikvisionSimulator, OnvifSimulator
from hub.testing.sim.base import DeviceSimulator
from plugins.dahua import DahuaConfig, DahuaSource
from plugins.hikvision import HikvisionConfig, HikvisionSource
from plugins.onvif import OnvifConfig, OnvifSource


class TestHikvisionNvr(SourceConformance):
    async def start_device(self, password: str) -> DeviceSimulator:
        return await HikvisionSimulator(kind="nvr", channels=8, password=password).start()

    def make_source(self, device: DeviceSimulator, password: str, timeout: float,
                    context: SourceContext) -> CameraSource:
        config = HikvisionConfig(name="conformance", host=device.host, port=device.port, password=password,
                                 timeout=timeout)
        return HikvisionSource(config, context)


class TestHikvisionCamera(TestHikvisionNvr):
    async def start_device(self, password: str) -> DeviceSimulator:
        return await HikvisionSimulator(kind="camera", password=password).start()


class TestDahua(SourceConformance):
    async def start_device(self, password: str) -> DeviceSimulator:
        return await DahuaSimulator(kind="nvr", channels=4, password=password).start()

    def make_source(self, device: DeviceSimulator, password: str, timeout: float,
                    context: SourceContext) -> CameraSource:
        config = DahuaConfig(name="conformance", host=device.host, port=device.port, password=password,
                             timeout=timeout)
        return DahuaSource(config, context)


class TestOnvif(SourceConformance):
    async def start_device(self, password: str) -> DeviceSimulator:
        return await OnvifSimulator(sources=2, password=password).start()

    def make_source(self, device: DeviceSimulator, password: str, timeout: float,
                    context: SourceContext) -> CameraSource:
        config = OnvifConfig(name="conformance", host=device.host, port=device.port, password=password,
                             timeout=timeout)
        return OnvifSource(config, context)
