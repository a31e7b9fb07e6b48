"""ONVIF over onvif-zeep-async: the only module of the plugin that does I/O.

Library errors are translated here, in one place: a ``NotAuthorized`` fault
(or HTTP 401) is ``DeviceAuthFailed``; connection failures and time-outs are
``DeviceNotReady``; ``ActionNotSupported`` is ``DeviceUnsupported``; SOAP
that does not parse is ``DeviceError``.  Messages name ``host:port`` only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from onvif import ONVIFCamera
from onvif.exceptions import ONVIFError
from zeep.exceptions import Fault, TransportError, XMLParseError, XMLSyntaxError

from hub import DeviceAuthFailed, DeviceError, DeviceNotReady, DeviceUnsupported

T = TypeVar("T")

STREAM_SETUP = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}


#: zeep logs a traceback at ERROR for every value of a device's answer it cannot read (a date that
#: is not one) and goes on without it; the plugin judges the answer itself, so those are noise.
logging.getLogger("zeep.xsd").setLevel(logging.CRITICAL)


def harden_xml() -> Any:
    """The settings onvif-zeep-async parses every device answer with, made strict: no DTDs, no
    entities, and lxml's limits on huge trees kept (the library turns them off by default, so a
    device could answer with a document that takes the hub's memory).  Returns the settings."""
    from onvif.settings import DEFAULT_SETTINGS

    DEFAULT_SETTINGS.forbid_dtd = True
    DEFAULT_SETTINGS.forbid_entities = True
    DEFAULT_SETTINGS.xml_huge_tree = False
    return DEFAULT_SETTINGS


def translated(err: BaseException, where: str, what: str) -> DeviceError | None:
    """The hub's error for what onvif-zeep-async, zeep or lxml raised on a device's answer
    (None: not a device's doing; a bug of ours or theirs, raised as it is)."""
    if isinstance(err, Fault):
        text = f"{err.message or ''} {err.subcodes or ''} {err.code or ''}"
        if "NotAuthorized" in text or "not authorized" in text.lower():
            return DeviceAuthFailed(f"{where}: the device refused the credentials")
        if "ActionNotSupported" in text:
            return DeviceUnsupported(f"{where}: {what} is not supported")
        return DeviceError(f"{where}: {what}: the device answered with a fault")
    if isinstance(err, TransportError):
        if err.status_code == 401:
            return DeviceAuthFailed(f"{where}: the device refused the credentials")
        return DeviceNotReady(f"{where}: {what}: HTTP {err.status_code}")
    if isinstance(err, XMLParseError | XMLSyntaxError):
        return DeviceError(f"{where}: {what}: the answer is not valid SOAP")
    if isinstance(err, aiohttp.ClientError | OSError):
        return DeviceNotReady(f"{where}: {what}: cannot connect ({type(err).__name__})")
    if isinstance(err, AttributeError | TypeError | ValueError | LookupError):
        # zeep and the library fail in odd ways on garbage (an empty document,
        # a reply of the wrong shape): that is the device's bad input, not ours.
        return DeviceError(f"{where}: {what}: unexpected answer ({type(err).__name__})")
    if isinstance(err, ONVIFError):
        # The library wraps transport failures; its text may hold a URL but never credentials.
        reason = str(err.reason if hasattr(err, "reason") else err)
        if "401" in reason or "NotAuthorized" in reason:
            return DeviceAuthFailed(f"{where}: the device refused the credentials")
        return DeviceNotReady(f"{where}: {what}: {type(err).__name__}")
    return None


class OnvifClient:
    def __init__(self, host: str, port: int, username: str, password: str, timeout: float,
                 adjust_time: bool) -> None:
        harden_xml()
        self.where = f"{host}:{port}"
        self.timeout = timeout
        self.camera = ONVIFCamera(host, port, username, password, adjust_time=adjust_time)
        self._ready = False
        self.pullpoint: Any = None

    async def call(self, what: str, fn: Callable[[], Awaitable[T]]) -> T:
        """Run one ONVIF exchange with a time limit, translating the library's errors."""
        try:
            async with asyncio.timeout(self.timeout):
                return await fn()
        except TimeoutError:
            raise DeviceNotReady(f"{self.where}: {what}: timed out after {self.timeout:g} s") from None
        except Exception as err:  # noqa: BLE001 - translated, or raised as it was
            hub_error = translated(err, self.where, what)
            if hub_error is None:
                raise
            raise hub_error from None

    async def connect(self) -> None:
        if not self._ready:
            await self.call("GetServices", self.camera.update_xaddrs)
            self._ready = True

    async def device_information(self) -> Any:
        dm = await self.camera.create_devicemgmt_service()
        return await self.call("GetDeviceInformation", dm.GetDeviceInformation)

    async def system_date_and_time(self) -> Any:
        dm = await self.camera.create_devicemgmt_service()
        return await self.call("GetSystemDateAndTime", dm.GetSystemDateAndTime)

    async def network_mac(self) -> str | None:
        dm = await self.camera.create_devicemgmt_service()
        try:
            interfaces = await self.call("GetNetworkInterfaces", dm.GetNetworkInterfaces)
        except (DeviceUnsupported, DeviceError):
            return None
        for iface in interfaces or []:
            mac = getattr(getattr(iface, "Info", None), "HwAddress", None)
            if mac:
                return str(mac)
        return None

    async def capabilities(self) -> dict[str, Any]:
        caps = await self.call("GetCapabilities", self.camera.get_capabilities)
        return caps or {}

    async def profiles(self) -> list[Any]:
        media = await self.camera.create_media_service()
        return list(await self.call("GetProfiles", media.GetProfiles) or [])

    async def stream_uri(self, token: str) -> str:
        media = await self.camera.create_media_service()
        reply = await self.call("GetStreamUri", lambda: media.GetStreamUri(
            {"StreamSetup": STREAM_SETUP, "ProfileToken": token}))
        return str(reply.Uri)

    async def snapshot(self, token: str) -> bytes:
        data = await self.call("GetSnapshot", lambda: self.camera.get_snapshot(token))
        if not data or not data.startswith(b"\xff\xd8"):
            raise DeviceError(f"{self.where}: profile {token} gave no picture")
        return bytes(data)

    async def pull(self, interval: dt.timedelta = dt.timedelta(seconds=60)) -> AsyncIterator[Any]:
        """A PullPoint subscription, renewed by the library; yields notification messages."""
        lost = asyncio.Event()
        manager = await self.call("CreatePullPointSubscription",
                                  lambda: self.camera.create_pullpoint_manager(interval, lost.set))
        self.pullpoint = manager
        try:
            service = manager.get_service()
            while not lost.is_set():
                reply = await self.call("PullMessages", lambda: service.PullMessages(
                    {"MessageLimit": 100, "Timeout": dt.timedelta(seconds=min(10.0, self.timeout))}))
                for message in getattr(reply, "NotificationMessage", None) or []:
                    yield message
            raise DeviceNotReady(f"{self.where}: the event subscription was lost")
        finally:
            self.pullpoint = None
            try:
                await manager.shutdown()
            except Exception:  # noqa: BLE001 - best effort on a subscription that may be gone
                pass

    async def ptz_service(self) -> Any:
        return await self.call("PTZ", self.camera.create_ptz_service)

    async def close(self) -> None:
        await self.camera.close()
