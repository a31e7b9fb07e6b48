"""ONVIF cameras and encoders (``type: onvif``), with onvif-zeep-async.

Probing reads device information, services and capabilities, the media
profiles (one camera per video source, profiles as main and sub streams by
resolution) with their stream and snapshot URIs, and the device clock for
drift.  Requests are signed with WS-Security (password digest), using the
device's clock when it drifts.  Events come from a PullPoint subscription
the library renews; a lost subscription is made again with backoff and
jitter.  PTZ (continuous move, stop, presets) where the device has it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import SecretStr

from hub import (
    Camera,
    CameraSource,
    CameraStatus,
    Device,
    DeviceError,
    DeviceInventory,
    DeviceKind,
    DeviceUnsupported,
    DiscoveredDevice,
    Event,
    PtzAction,
    PtzCommand,
    PtzPreset,
    RegisterSourceType,
    SourceContext,
    Stream,
    camera_id,
    hookimpl,
    utcnow,
)
from hub.devices import normal
from hub.devices.retry import reconnecting
from plugins.onvif import discovery, parse
from plugins.onvif.config import OnvifConfig

VENDOR = "onvif"


class OnvifSource(CameraSource):
    config: OnvifConfig
    supports_discovery = True

    @classmethod
    async def discover(cls, limit: float) -> list[DiscoveredDevice]:
        """WS-Discovery: a multicast Probe for NetworkVideoTransmitters."""
        return await asyncio.to_thread(discovery.search, limit)

    def __init__(self, config: OnvifConfig, context: SourceContext) -> None:
        super().__init__(config, context)
        # onvif-zeep-async and zeep load with the first ONVIF source, not with every hub and CLI command
        from plugins.onvif.client import OnvifClient

        self.client = OnvifClient(config.host, config.port, config.username, config.password.get_secret_value(),
                                  config.timeout, config.adjust_time)
        self.serial: str | None = None
        self._profiles: dict[int, list[str]] = {}  # channel -> profile tokens, main first
        self._channel_of: dict[str, int] = {}  # video source and configuration tokens -> channel

    def _with_credentials(self, uri: str) -> SecretStr:
        parts = urlsplit(uri)
        if self.config.stream_auth and parts.scheme.startswith("rtsp") and not parts.username:
            user = quote(self.config.username, safe="")
            pw = quote(self.config.password.get_secret_value(), safe="")
            parts = parts._replace(netloc=f"{user}:{pw}@{parts.netloc}")
        return SecretStr(urlunsplit(parts))

    async def probe(self) -> list[DeviceInventory]:
        await self.client.connect()
        info = await self.client.device_information()
        serial = normal.usable_serial(getattr(info, "SerialNumber", None)) or normal.usable_serial(
            await self.client.network_mac())
        if not serial:
            raise DeviceError(f"{self.client.where}: the device reports neither a serial number nor a MAC address")
        self.serial = serial
        clock = parse.device_utc(await self.client.system_date_and_time())
        caps = await self.client.capabilities()
        self.diagnostics = {
            "clock_drift_seconds": round((clock - utcnow()).total_seconds(), 1) if clock else None,
            "services": sorted(self.client.camera.xaddrs),
            "ptz": bool(caps.get("PTZ")), "pullpoint": bool((caps.get("Events") or {}).get("WSPullPointSupport")),
        }
        raw_profiles = await self.client.profiles()
        profiles = [p for raw in raw_profiles if (p := parse.profile_info(raw)) is not None]
        device = Device(id=f"{VENDOR}:{serial}", source=self.name, vendor=str(info.Manufacturer or "ONVIF"),
                        model=info.Model, serial=serial, firmware=info.FirmwareVersion,
                        kind=DeviceKind.CAMERA, host=self.config.host)
        cameras = []
        self._profiles, self._channel_of = {}, {}
        grouped = parse.cameras_from_profiles(profiles)
        if len(grouped) > 1:
            device = device.model_copy(update={"kind": DeviceKind.ENCODER})
        for channel, source, ranked in grouped:
            self._profiles[channel] = [p.token for _, p in ranked]
            for raw in raw_profiles:
                vsc = getattr(raw, "VideoSourceConfiguration", None)
                if vsc is not None and str(vsc.SourceToken) == source:
                    self._channel_of[str(vsc.token)] = channel
            self._channel_of[source] = channel
            streams = []
            for role, p in ranked:
                uri = await self.client.stream_uri(p.token)
                streams.append(Stream(role=role, codec=p.codec, width=p.width, height=p.height, fps=p.fps,
                                      bitrate=p.bitrate, url=self._with_credentials(uri)))
            name = ranked[0][1].name if len(grouped) > 1 and ranked[0][1].name else (info.Model or source)
            cameras.append(Camera(id=camera_id(VENDOR, serial, channel), device_id=device.id, channel=channel,
                                  name=str(name), status=CameraStatus.ONLINE, streams=streams))
        return [DeviceInventory(device=device, cameras=cameras)]

    def _token(self, camera: Camera) -> str:
        tokens = self._profiles.get(camera.channel)
        if not tokens:
            raise DeviceError(f"{self.client.where}: camera {camera.id} has no media profile (probe it first)")
        return tokens[0]

    async def snapshot(self, camera: Camera) -> bytes:
        if not self._profiles:
            await self.probe()
        return await self.client.snapshot(self._token(camera))

    async def events(self) -> AsyncIterator[Event]:
        if not self.config.events:
            return
        if self.serial is None:
            await self.probe()
        assert self.serial is not None
        serial = self.serial
        async for message in reconnecting(self.client.pull, self.context.log, self.client.where):
            note = parse.notification(message)
            found = parse.event_of(note)
            if found is None:
                continue
            channel = self._channel_of.get(found.source or "") or 1
            yield Event(camera_id=camera_id(VENDOR, serial, channel), device_id=f"{VENDOR}:{serial}",
                        kind=found.kind, state=found.state, source=VENDOR, detail=found.detail,
                        data=dict(found.data), at=note.at or utcnow())

    async def ptz(self, camera: Camera, command: PtzCommand) -> None:
        if not self.diagnostics.get("ptz"):
            raise DeviceUnsupported(f"{self.client.where}: camera {camera.id} has no PTZ")
        service = await self.client.ptz_service()
        token = self._token(camera)
        if command.action == PtzAction.MOVE:
            velocity = {"PanTilt": {"x": command.pan, "y": command.tilt}, "Zoom": {"x": command.zoom}}
            await self.client.call("ContinuousMove", lambda: service.ContinuousMove(
                {"ProfileToken": token, "Velocity": velocity}))
        elif command.action == PtzAction.STOP:
            await self.client.call("Stop", lambda: service.Stop({"ProfileToken": token, "PanTilt": True,
                                                                 "Zoom": True}))
        else:
            if not command.preset:
                raise DeviceError(f"{self.client.where}: goto_preset needs a preset")
            await self.client.call("GotoPreset", lambda: service.GotoPreset(
                {"ProfileToken": token, "PresetToken": command.preset}))

    async def ptz_presets(self, camera: Camera) -> list[PtzPreset]:
        if not self.diagnostics.get("ptz"):
            raise DeviceUnsupported(f"{self.client.where}: camera {camera.id} has no PTZ")
        service = await self.client.ptz_service()
        token = self._token(camera)
        presets = await self.client.call("GetPresets", lambda: service.GetPresets({"ProfileToken": token}))
        return [PtzPreset(token=str(p.token), name=getattr(p, "Name", None)) for p in presets or []]

    async def close(self) -> None:
        await self.client.close()


@hookimpl
def register_source_types(register: RegisterSourceType) -> None:
    register(OnvifConfig, OnvifSource)
