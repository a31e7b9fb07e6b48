"""A simulated Hikvision camera, DVR or NVR speaking ISAPI.

Payloads are written here in the shapes real devices send (see
``../shared/captures/hikvision``), with their quirks: several namespaces,
NVR alerts with ``<dynChannelID>`` and an empty ``<channelID/>``, offsets
without zero padding (``+7:00``), an alert body without XML declaration,
idle ``videoloss`` / ``inactive`` heartbeats, a boundary that varies by
model, and ``ResponseStatus`` bodies for endpoints a model lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from aiohttp import web

from hub.testing.sim.base import DeviceSimulator, picture

NS_ISAPI = "http://www.isapi.org/ver20/XMLSchema"
NS_HIK = "http://www.hikvision.com/ver20/XMLSchema"
WIB = timezone(timedelta(hours=7))

MODELS = {"camera": ("DS-2CD2386G2-IU", "IPCamera"), "dvr": ("iDS-7204HUHI-M1", "DVR"),
          "nvr": ("DS-7732NI-M4", "NVR")}


@dataclass
class SimChannel:
    id: int
    name: str
    online: bool = True


def _status(code: int, sub: str, text: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<ResponseStatus version="2.0" xmlns="{NS_ISAPI}">\n'
            f"<requestURL></requestURL>\n<statusCode>{code}</statusCode>\n<statusString>{text}</statusString>\n"
            f"<subStatusCode>{sub}</subStatusCode>\n</ResponseStatus>\n")


class HikvisionSimulator(DeviceSimulator):
    realm = "DS-2CD2386G2-IU"

    def __init__(self, kind: Literal["camera", "dvr", "nvr"] = "nvr", channels: int = 4,
                 serial: str | None = None, boundary: str = "boundary", heartbeat: float = 10.0,
                 **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        if kind != "camera" and not 4 <= channels <= 64:
            raise ValueError("a simulated DVR or NVR has 4 to 64 channels")
        self.kind = kind
        self.model, self.device_type = MODELS[kind]
        self.serial = serial or f"{self.model}20240101CCRRL{self.port:08d}WCVU"
        count = 1 if kind == "camera" else channels
        self.channels = [SimChannel(i, f"Kamera {i:02d}") for i in range(1, count + 1)]
        self.boundary = boundary
        self.heartbeat = heartbeat
        self.ns = NS_HIK if kind == "camera" else NS_ISAPI
        self.clock_offset = timedelta(0)
        self.disk_status = "ok"

    # -- driving the simulation -------------------------------------------------

    def push_alert(self, channel: int, event_type: str = "VMD", state: str = "active",
                   target: str | None = None) -> int:
        """Send an alert to every connected alertStream (safe from any thread);
        returns how many streams were connected."""
        return self.broadcast(self._alert(channel, event_type, state, target))

    def _now(self) -> str:
        now = datetime.now(WIB) + self.clock_offset
        return now.strftime("%Y-%m-%dT%H:%M:%S") + "+7:00"  # the unpadded offset real devices send

    def _alert(self, channel: int, event_type: str, state: str, target: str | None) -> str:
        chan = (f"<channelID></channelID>\n<dynChannelID>{channel}</dynChannelID>" if self.kind == "nvr"
                else f"<channelID>{channel}</channelID>")
        region = ""
        if target:
            region = ("<DetectionRegionList><DetectionRegionEntry><regionID>1</regionID>"
                      f"<detectionTarget>{target}</detectionTarget></DetectionRegionEntry></DetectionRegionList>")
        io_port = f"<inputIOPortID>{channel}</inputIOPortID>" if event_type == "IO" else ""
        # No XML declaration: some firmware sends none.
        return (f'<EventNotificationAlert version="2.0" xmlns="{self.ns}">\n<ipAddress>127.0.0.1</ipAddress>\n'
                f"<portNo>{self.port}</portNo>\n<protocol>HTTP</protocol>\n"
                f"<macAddress>44:19:b6:00:00:01</macAddress>\n"
                f"{chan}\n<dateTime>{self._now()}</dateTime>\n<activePostCount>1</activePostCount>\n"
                f"<eventType>{event_type}</eventType>\n<eventState>{state}</eventState>\n"
                f"<eventDescription>{event_type} alarm</eventDescription>\n{io_port}{region}\n"
                "</EventNotificationAlert>")

    # -- ISAPI ------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/ISAPI/System/deviceInfo", self.device_info),
            web.get("/ISAPI/System/time", self.time),
            web.get("/ISAPI/System/Video/inputs/channels", self.video_inputs),
            web.get("/ISAPI/ContentMgmt/InputProxy/channels", self.proxy_channels),
            web.get("/ISAPI/ContentMgmt/InputProxy/channels/status", self.proxy_status),
            web.get("/ISAPI/Streaming/channels", self.streaming_channels),
            web.get("/ISAPI/Streaming/channels/{id}/picture", self.picture),
            web.get("/ISAPI/ContentMgmt/Storage", self.storage),
            web.get("/ISAPI/Event/triggers", self.triggers),
            web.get("/ISAPI/Event/notification/alertStream", self.alert_stream),
        ]

    def _xml(self, body: str) -> web.Response:
        return web.Response(text='<?xml version="1.0" encoding="UTF-8"?>\n' + body, content_type="application/xml")

    def _absent(self) -> web.Response:
        return web.Response(status=403, text=_status(4, "notSupport", "Invalid Operation"),
                            content_type="application/xml")

    async def device_info(self, request: web.Request) -> web.Response:
        return self._xml(
            f'<DeviceInfo version="2.0" xmlns="{self.ns}">\n<deviceName>Pos Simpang {self.port}</deviceName>\n'
            f"<deviceID>48443430-3730-0000-0000-{self.port:012d}</deviceID>\n<model>{self.model}</model>\n"
            f"<serialNumber>{self.serial}</serialNumber>\n<macAddress>44:19:b6:00:00:01</macAddress>\n"
            f"<firmwareVersion>V4.62.210</firmwareVersion>\n<firmwareReleasedDate>build 230119</firmwareReleasedDate>\n"
            f"<encoderVersion>V5.0</encoderVersion>\n<deviceType>{self.device_type}</deviceType>\n"
            f"<telecontrolID>255</telecontrolID>\n</DeviceInfo>\n")

    async def time(self, request: web.Request) -> web.Response:
        return self._xml(f'<Time version="2.0" xmlns="{self.ns}">\n<timeMode>NTP</timeMode>\n'
                         f"<localTime>{self._now()}</localTime>\n<timeZone>CST-7:00:00</timeZone>\n</Time>\n")

    async def video_inputs(self, request: web.Request) -> web.Response:
        if self.kind == "nvr":
            return self._xml(f'<VideoInputChannelList version="2.0" xmlns="{self.ns}"/>\n')
        items = "".join(f"<VideoInputChannel><id>{c.id}</id><inputPort>{c.id}</inputPort>"
                        f"<videoInputEnabled>true</videoInputEnabled><name>{c.name}</name>"
                        f"<videoFormat>PAL</videoFormat></VideoInputChannel>\n" for c in self.channels)
        return self._xml(f'<VideoInputChannelList version="2.0" xmlns="{self.ns}">\n{items}</VideoInputChannelList>\n')

    async def proxy_channels(self, request: web.Request) -> web.Response:
        if self.kind != "nvr":
            return self._absent()
        items = "".join(
            f"<InputProxyChannel><id>{c.id}</id><name>{c.name}</name><sourceInputPortDescriptor>"
            f"<proxyProtocol>HIKVISION</proxyProtocol><addressingFormatType>ipaddress</addressingFormatType>"
            f"<ipAddress>10.20.0.{c.id}</ipAddress><managePortNo>8000</managePortNo><srcInputPort>1</srcInputPort>"
            f"<userName>admin</userName><streamType>auto</streamType><model>DS-2CD2046G2-IU</model>"
            f"<serialNumber>DS-2CD2046G2-IU20230101AAWR{c.id:09d}</serialNumber></sourceInputPortDescriptor>"
            f"<enableAnr>false</enableAnr></InputProxyChannel>\n" for c in self.channels)
        return self._xml(f'<InputProxyChannelList version="2.0" xmlns="{self.ns}" size="{len(self.channels)}">\n'
                         f"{items}</InputProxyChannelList>\n")

    async def proxy_status(self, request: web.Request) -> web.Response:
        if self.kind != "nvr":
            return self._absent()
        items = "".join(f"<InputProxyChannelStatus><id>{c.id}</id><online>{str(c.online).lower()}</online>"
                        f"<chanDetectResult>{'connect' if c.online else 'netUnreachable'}</chanDetectResult>"
                        f"</InputProxyChannelStatus>\n" for c in self.channels)
        return self._xml(f'<InputProxyChannelStatusList version="2.0" xmlns="{self.ns}">\n{items}'
                         f"</InputProxyChannelStatusList>\n")

    async def streaming_channels(self, request: web.Request) -> web.Response:
        def one(c: SimChannel, idx: int) -> str:
            main = idx == 1
            return (
                f'<StreamingChannel version="2.0" xmlns="{self.ns}"><id>{c.id}0{idx}</id>'
                f"<channelName>{c.name}</channelName><enabled>true</enabled><Transport><ControlProtocolList>"
                f"<ControlProtocol><streamingTransport>RTSP</streamingTransport></ControlProtocol>"
                f"</ControlProtocolList></Transport><Video><enabled>true</enabled>"
                f"<videoInputChannelID>{c.id}</videoInputChannelID>"
                f"<videoCodecType>{'H.264' if main else 'H.265'}</videoCodecType>"
                f"<videoResolutionWidth>{1920 if main else 640}</videoResolutionWidth>"
                f"<videoResolutionHeight>{1080 if main else 360}</videoResolutionHeight>"
                f"<videoQualityControlType>VBR</videoQualityControlType><constantBitRate>4096</constantBitRate>"
                f"<vbrUpperCap>{4096 if main else 512}</vbrUpperCap>"
                f"<maxFrameRate>{2500 if main else 1500}</maxFrameRate>"
                f"<GovLength>50</GovLength></Video></StreamingChannel>\n")

        items = "".join(one(c, idx) for c in self.channels for idx in (1, 2))
        return self._xml(f'<StreamingChannelList version="2.0" xmlns="{self.ns}">\n{items}</StreamingChannelList>\n')

    async def picture(self, request: web.Request) -> web.Response:
        sid = request.match_info["id"]
        channel = int(sid) // 100 if sid.isascii() and sid.isdigit() else 0
        if not any(c.id == channel for c in self.channels):
            return web.Response(status=404, text=_status(4, "invalidID", "Invalid Operation"),
                                content_type="application/xml")
        return web.Response(body=picture(f"{self.model} ch{channel}"), content_type="image/jpeg")

    async def storage(self, request: web.Request) -> web.Response:
        if self.kind == "camera":
            return web.Response(status=500, text=_status(3, "deviceError", "Device Error"),
                                content_type="application/xml")
        return self._xml(
            f'<storage version="2.0" xmlns="{self.ns}"><hddList><hdd><id>1</id><hddName>hdd1</hddName>'
            f"<hddType>SATA</hddType><status>{self.disk_status}</status><capacity>5723166</capacity><freeSpace>0</freeSpace>"
            f"<property>RW</property></hdd></hddList><nasList></nasList></storage>\n")

    async def triggers(self, request: web.Request) -> web.Response:
        types = ["VMD", "tamperdetection", "videoloss", "linedetection", "fielddetection", "IO", "diskfull"]
        items = "".join(f"<EventTrigger><id>{t}-1</id><eventType>{t}</eventType>"
                        f"<videoInputChannelID>1</videoInputChannelID></EventTrigger>" for t in types)
        return self._xml(f'<EventTriggerList version="2.0" xmlns="{self.ns}">{items}</EventTriggerList>\n')

    async def alert_stream(self, request: web.Request) -> web.StreamResponse:
        return await self.event_stream(request, self.boundary, "multipart/mixed", 'application/xml; charset="UTF-8"',
                                       self.heartbeat, self._alert(1, "videoloss", "inactive", None))
