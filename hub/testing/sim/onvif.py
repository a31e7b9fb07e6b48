"""A simulated ONVIF camera (Profile S with PullPoint events and PTZ).

SOAP 1.2 over HTTP on 127.0.0.1, written here from the ONVIF schemas in
the shapes real devices answer (see ``../shared/captures/onvif``).  Every
request but ``GetSystemDateAndTime`` must carry a WS-Security UsernameToken
with a valid password digest; a wrong one gets a ``ter:NotAuthorized``
fault.  The clock can drift (``clock_offset``), events are pushed on
demand, PTZ calls are recorded, and stream URIs can point at a real RTSP
server.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from aiohttp import web
from PIL import Image

from hub.testing.sim.base import DeviceSimulator

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
}
ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
    'xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tev="http://www.onvif.org/ver10/events/wsdl" '
    'xmlns:tptz="http://www.onvif.org/ver20/ptz/wsdl" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" '
    'xmlns:wsa5="http://www.w3.org/2005/08/addressing" xmlns:tns1="http://www.onvif.org/ver10/topics" '
    'xmlns:ter="http://www.onvif.org/ver10/error">'
    "<SOAP-ENV:Header/><SOAP-ENV:Body>{body}</SOAP-ENV:Body></SOAP-ENV:Envelope>"
)
SERVICES = {
    "device": ("http://www.onvif.org/ver10/device/wsdl", "device_service"),
    "media": ("http://www.onvif.org/ver10/media/wsdl", "media_service"),
    "events": ("http://www.onvif.org/ver10/events/wsdl", "event_service"),
    "ptz": ("http://www.onvif.org/ver20/ptz/wsdl", "ptz_service"),
}


def _zulu(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class SimProfile:
    token: str
    name: str
    source: str
    width: int
    height: int
    fps: int
    kbps: int
    stream_uri: str


@dataclass
class Subscription:
    id: int
    expires: datetime
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)


class OnvifSimulator(DeviceSimulator):
    def __init__(self, sources: int = 1, serial: str | None = None, manufacturer: str = "Bosch",
                 model: str = "FLEXIDOME indoor 5100i IR", rtsp_base: str | None = None, ptz: bool = True,
                 **kw: Any) -> None:
        super().__init__(**kw)
        self.serial = serial or f"404{self.port:06d}"
        self.manufacturer, self.model = manufacturer, model
        self.clock_offset = timedelta(0)
        self.has_ptz = ptz
        self.ptz_calls: list[tuple[str, dict[str, str]]] = []
        base = rtsp_base or f"rtsp://127.0.0.1:{self.port + 1}"
        self.profiles: list[SimProfile] = []
        for s in range(1, sources + 1):
            self.profiles += [
                SimProfile(f"Profile_{s}_1", f"Stream {s} main", f"VideoSource_{s}", 1920, 1080, 25, 6000,
                           f"{base}/main"),
                SimProfile(f"Profile_{s}_2", f"Stream {s} sub", f"VideoSource_{s}", 640, 360, 15, 768,
                           f"{base}/sub"),
            ]
        self.subscriptions: dict[int, Subscription] = {}
        self._next_sub = 1

    # -- driving the simulation -------------------------------------------------

    def push_event(self, topic: str = "tns1:RuleEngine/CellMotionDetector/Motion", source: str = "VideoSource_1",
                   data: tuple[str, str] = ("IsMotion", "true"), operation: str = "Changed") -> int:
        """Queue a notification for every live PullPoint subscription (safe from any thread)."""
        now = _zulu(datetime.now(UTC) + self.clock_offset)
        message = (
            f'<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/'
            f'ConcreteSet">{topic}</wsnt:Topic><wsnt:Message><tt:Message UtcTime="{now}" '
            f'PropertyOperation="{operation}"><tt:Source>'
            f'<tt:SimpleItem Name="VideoSourceConfigurationToken" Value="{source}"/>'
            f'<tt:SimpleItem Name="VideoAnalyticsConfigurationToken" Value="VideoAnalyticsToken"/>'
            f'<tt:SimpleItem Name="Rule" Value="MyMotionDetectorRule"/></tt:Source>'
            f'<tt:Data><tt:SimpleItem Name="{data[0]}" Value="{data[1]}"/></tt:Data></tt:Message>'
            f"</wsnt:Message></wsnt:NotificationMessage>")

        def deliver() -> None:
            for sub in self.subscriptions.values():
                sub.queue.put_nowait(message)

        self.on_loop(deliver)
        return len(self.subscriptions)

    # -- HTTP -------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/onvif/{service}", self.soap), web.post("/onvif/subscription/{id}", self.subscription),
                web.get("/onvif/snapshot", self.snapshot)]

    def authorized(self, request: web.Request) -> bool:
        # SOAP requests authenticate inside the envelope (WS-Security); only
        # the snapshot URL uses HTTP digest auth.
        if request.method == "POST":
            return True
        return super().authorized(request)

    def _xaddr(self, service: str) -> str:
        return f"http://127.0.0.1:{self.port}/onvif/{SERVICES[service][1]}"

    def _reply(self, body: str) -> web.Response:
        return web.Response(text=ENVELOPE.format(body=body), content_type="application/soap+xml", charset="utf-8")

    def _fault(self, code: str, subcode: str, reason: str, status: int = 400) -> web.Response:
        body = (f"<SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:{code}</SOAP-ENV:Value>"
                f"<SOAP-ENV:Subcode><SOAP-ENV:Value>{subcode}</SOAP-ENV:Value></SOAP-ENV:Subcode></SOAP-ENV:Code>"
                f'<SOAP-ENV:Reason><SOAP-ENV:Text xml:lang="en">{escape(reason)}</SOAP-ENV:Text></SOAP-ENV:Reason>'
                f"</SOAP-ENV:Fault>")
        return web.Response(status=status, text=ENVELOPE.format(body=body), content_type="application/soap+xml")

    def _ws_security_ok(self, envelope: Any) -> bool:
        token = envelope.find(".//wsse:UsernameToken", NS)
        if token is None:
            return False
        user = token.findtext("wsse:Username", namespaces=NS)
        digest = token.findtext("wsse:Password", namespaces=NS) or ""
        nonce = token.findtext("wsse:Nonce", namespaces=NS) or ""
        created = token.findtext("wsu:Created", namespaces=NS) or ""
        try:
            raw_nonce = base64.b64decode(nonce)
        except ValueError:
            return False
        expected = base64.b64encode(hashlib.sha1(raw_nonce + created.encode() + self.password.encode()).digest())
        return user == self.username and secrets.compare_digest(expected.decode(), digest)

    async def soap(self, request: web.Request) -> web.Response:
        try:
            envelope = SafeET.fromstring(await request.read())
        except SafeET.ParseError:
            return self._fault("Sender", "ter:WellFormed", "not well-formed XML")
        body = envelope.find("s:Body", NS)
        op_elem = body[0] if body is not None and len(body) else None
        if op_elem is None:
            return self._fault("Sender", "ter:InvalidArgVal", "empty body")
        op = op_elem.tag.rsplit("}", 1)[-1]
        if op != "GetSystemDateAndTime" and not self._ws_security_ok(envelope):
            return self._fault("Sender", "ter:NotAuthorized", "Sender not Authorized", status=400)
        handler = getattr(self, f"op_{op}", None)
        if handler is None:
            return self._fault("Receiver", "ter:ActionNotSupported", f"{op} is not supported")
        return self._reply(await handler(op_elem))

    # -- device service -----------------------------------------------------------

    async def op_GetSystemDateAndTime(self, req: Any) -> str:  # noqa: N802 - ONVIF operation names
        t = datetime.now(UTC) + self.clock_offset
        return ("<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>"
                "<tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>WIB-7</tt:TZ></tt:TimeZone>"
                f"<tt:UTCDateTime><tt:Time><tt:Hour>{t.hour}</tt:Hour><tt:Minute>{t.minute}</tt:Minute>"
                f"<tt:Second>{t.second}</tt:Second></tt:Time><tt:Date><tt:Year>{t.year}</tt:Year>"
                f"<tt:Month>{t.month}</tt:Month><tt:Day>{t.day}</tt:Day></tt:Date></tt:UTCDateTime>"
                "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>")

    async def op_GetServices(self, req: Any) -> str:  # noqa: N802
        items = "".join(
            f"<tds:Service><tds:Namespace>{ns}</tds:Namespace><tds:XAddr>{self._xaddr(name)}</tds:XAddr>"
            f"<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>"
            for name, (ns, _) in SERVICES.items() if name != "ptz" or self.has_ptz)
        return f"<tds:GetServicesResponse>{items}</tds:GetServicesResponse>"

    async def op_GetCapabilities(self, req: Any) -> str:  # noqa: N802
        ptz = f"<tt:PTZ><tt:XAddr>{self._xaddr('ptz')}</tt:XAddr></tt:PTZ>" if self.has_ptz else ""
        return (
            "<tds:GetCapabilitiesResponse><tds:Capabilities>"
            f"<tt:Device><tt:XAddr>{self._xaddr('device')}</tt:XAddr></tt:Device>"
            f"<tt:Events><tt:XAddr>{self._xaddr('events')}</tt:XAddr><tt:WSSubscriptionPolicySupport>false"
            "</tt:WSSubscriptionPolicySupport><tt:WSPullPointSupport>true</tt:WSPullPointSupport>"
            "<tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport>"
            f"</tt:Events><tt:Media><tt:XAddr>{self._xaddr('media')}</tt:XAddr><tt:StreamingCapabilities>"
            "<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true"
            f"</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>{ptz}"
            "</tds:Capabilities></tds:GetCapabilitiesResponse>")

    async def op_GetDeviceInformation(self, req: Any) -> str:  # noqa: N802
        return (f"<tds:GetDeviceInformationResponse><tds:Manufacturer>{escape(self.manufacturer)}</tds:Manufacturer>"
                f"<tds:Model>{escape(self.model)}</tds:Model><tds:FirmwareVersion>8.71.0066</tds:FirmwareVersion>"
                f"<tds:SerialNumber>{self.serial}</tds:SerialNumber><tds:HardwareId>F000B543</tds:HardwareId>"
                "</tds:GetDeviceInformationResponse>")

    # -- media service ------------------------------------------------------------

    async def op_GetProfiles(self, req: Any) -> str:  # noqa: N802
        def one(p: SimProfile) -> str:
            return (
                f'<trt:Profiles token="{p.token}" fixed="true"><tt:Name>{p.name}</tt:Name>'
                f'<tt:VideoSourceConfiguration token="{p.source}Config"><tt:Name>{p.source}</tt:Name>'
                f"<tt:UseCount>2</tt:UseCount><tt:SourceToken>{p.source}</tt:SourceToken>"
                f'<tt:Bounds x="0" y="0" width="1920" height="1080"/></tt:VideoSourceConfiguration>'
                f'<tt:VideoEncoderConfiguration token="Encoder_{p.token}"><tt:Name>{p.name}</tt:Name>'
                f"<tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding><tt:Resolution>"
                f"<tt:Width>{p.width}</tt:Width><tt:Height>{p.height}</tt:Height></tt:Resolution>"
                f"<tt:Quality>5</tt:Quality><tt:RateControl><tt:FrameRateLimit>{p.fps}</tt:FrameRateLimit>"
                f"<tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>{p.kbps}</tt:BitrateLimit>"
                f"</tt:RateControl><tt:H264><tt:GovLength>{p.fps * 2}</tt:GovLength>"
                f"<tt:H264Profile>Main</tt:H264Profile></tt:H264><tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type>"
                f"<tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>5</tt:TTL>"
                f"<tt:AutoStart>false</tt:AutoStart></tt:Multicast><tt:SessionTimeout>PT60S</tt:SessionTimeout>"
                f"</tt:VideoEncoderConfiguration></trt:Profiles>")

        return f"<trt:GetProfilesResponse>{''.join(one(p) for p in self.profiles)}</trt:GetProfilesResponse>"

    def _profile(self, req: Any) -> SimProfile | None:
        token = next((e.text for e in req.iter() if e.tag.endswith("ProfileToken")), None)
        return next((p for p in self.profiles if p.token == token), None)

    async def op_GetStreamUri(self, req: Any) -> str:  # noqa: N802
        p = self._profile(req)
        uri = escape(p.stream_uri) if p else ""
        return (f"<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>{uri}</tt:Uri><tt:InvalidAfterConnect>false"
                "</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>"
                "<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>")

    async def op_GetSnapshotUri(self, req: Any) -> str:  # noqa: N802
        p = self._profile(req)
        uri = f"http://127.0.0.1:{self.port}/onvif/snapshot?profile={p.token if p else ''}"
        return (f"<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>{escape(uri)}</tt:Uri><tt:InvalidAfterConnect>"
                "false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>"
                "<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetSnapshotUriResponse>")

    async def snapshot(self, request: web.Request) -> web.Response:
        buf = io.BytesIO()
        Image.new("RGB", (640, 360), (20, 80, 40)).save(buf, "JPEG")
        return web.Response(body=buf.getvalue(), content_type="image/jpeg")

    # -- events (PullPoint) -----------------------------------------------------------

    async def op_CreatePullPointSubscription(self, req: Any) -> str:  # noqa: N802
        now = datetime.now(UTC) + self.clock_offset
        sub = Subscription(self._next_sub, now + timedelta(seconds=60))
        self.subscriptions[sub.id] = sub
        self._next_sub += 1
        return ("<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>"
                f"<wsa5:Address>http://127.0.0.1:{self.port}/onvif/subscription/{sub.id}</wsa5:Address>"
                f"</tev:SubscriptionReference><wsnt:CurrentTime>{_zulu(now)}</wsnt:CurrentTime>"
                f"<wsnt:TerminationTime>{_zulu(sub.expires)}</wsnt:TerminationTime>"
                "</tev:CreatePullPointSubscriptionResponse>")

    async def op_GetEventProperties(self, req: Any) -> str:  # noqa: N802
        return ("<tev:GetEventPropertiesResponse><tev:TopicNamespaceLocation>"
                "http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>"
                "<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet><tev:TopicSet/>"
                "<tev:TopicExpressionDialect>http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
                "</tev:TopicExpressionDialect><tev:MessageContentFilterDialect>"
                "http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter</tev:MessageContentFilterDialect>"
                "<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd"
                "</tev:MessageContentSchemaLocation></tev:GetEventPropertiesResponse>")

    async def subscription(self, request: web.Request) -> web.Response:
        try:
            envelope = SafeET.fromstring(await request.read())
        except SafeET.ParseError:
            return self._fault("Sender", "ter:WellFormed", "not well-formed XML")
        if not self._ws_security_ok(envelope):
            return self._fault("Sender", "ter:NotAuthorized", "Sender not Authorized")
        sid = request.match_info["id"]
        sub = self.subscriptions.get(int(sid) if sid.isascii() and sid.isdigit() else -1)
        now = datetime.now(UTC) + self.clock_offset
        if sub is None or sub.expires < now:
            self.subscriptions.pop(sub.id if sub else -1, None)
            return self._fault("Receiver", "wsrf-rw:ResourceUnknownFault", "subscription unknown or expired")
        op_elem = envelope.find("s:Body", NS)[0]  # type: ignore[index]
        op = op_elem.tag.rsplit("}", 1)[-1]
        if op == "PullMessages":
            wait = 5.0
            timeout = next((e.text for e in op_elem if e.tag.endswith("Timeout")), None)
            if timeout and timeout.startswith("PT") and timeout.endswith("S"):
                try:
                    wait = min(float(timeout[2:-1]), 30.0)
                except ValueError:
                    pass
            messages = []
            try:
                messages.append(await asyncio.wait_for(sub.queue.get(), wait))
                while not sub.queue.empty():
                    messages.append(sub.queue.get_nowait())
            except TimeoutError:
                pass
            now = datetime.now(UTC) + self.clock_offset
            return self._reply(f"<tev:PullMessagesResponse><tev:CurrentTime>{_zulu(now)}</tev:CurrentTime>"
                               f"<tev:TerminationTime>{_zulu(sub.expires)}</tev:TerminationTime>"
                               f"{''.join(messages)}</tev:PullMessagesResponse>")
        if op == "Renew":
            sub.expires = now + timedelta(seconds=60)
            return self._reply(f"<wsnt:RenewResponse><wsnt:TerminationTime>{_zulu(sub.expires)}"
                               f"</wsnt:TerminationTime><wsnt:CurrentTime>{_zulu(now)}</wsnt:CurrentTime>"
                               "</wsnt:RenewResponse>")
        if op == "Unsubscribe":
            self.subscriptions.pop(sub.id, None)
            return self._reply("<wsnt:UnsubscribeResponse/>")
        if op == "SetSynchronizationPoint":
            return self._reply("<tev:SetSynchronizationPointResponse/>")
        return self._fault("Receiver", "ter:ActionNotSupported", f"{op} is not supported")

    async def drop_streams(self) -> None:
        self.subscriptions.clear()  # a reboot forgets every subscription
        await super().drop_streams()

    # -- PTZ ------------------------------------------------------------------------

    def _ptz(self, name: str, req: Any) -> None:
        self.ptz_calls.append((name, {e.tag.rsplit("}", 1)[-1]: (e.text or "") for e in req.iter()
                                      if e is not req and (e.text or "").strip()}
                                   | {f"{e.tag.rsplit('}', 1)[-1]}.{k}": v for e in req.iter()
                                      for k, v in e.attrib.items()}))

    async def op_ContinuousMove(self, req: Any) -> str:  # noqa: N802
        self._ptz("ContinuousMove", req)
        return "<tptz:ContinuousMoveResponse/>"

    async def op_Stop(self, req: Any) -> str:  # noqa: N802
        self._ptz("Stop", req)
        return "<tptz:StopResponse/>"

    async def op_GetPresets(self, req: Any) -> str:  # noqa: N802
        return ('<tptz:GetPresetsResponse><tptz:Preset token="1"><tt:Name>Gerbang</tt:Name></tptz:Preset>'
                '<tptz:Preset token="2"><tt:Name>Parkir</tt:Name></tptz:Preset></tptz:GetPresetsResponse>')

    async def op_GotoPreset(self, req: Any) -> str:  # noqa: N802
        self._ptz("GotoPreset", req)
        return "<tptz:GotoPresetResponse/>"
