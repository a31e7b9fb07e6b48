"""Dahua HTTP CGI: the only module of the plugin that does I/O."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from hub import DeviceError, DeviceNotReady
from hub.devices.http import DeviceHttp
from hub.devices.multipart import MultipartStream, boundary_of
from plugins.dahua import parse

#: Statuses with which devices answer a request they do not support.
ABSENT = {400, 403, 404, 405, 501}


class DahuaClient:
    def __init__(self, http: DeviceHttp) -> None:
        self.http = http
        self.where = http.where

    async def _get(self, path: str, optional: bool = False) -> bytes | None:
        reply = await self.http.get(path)
        if reply.status == 200:
            return reply.body
        if reply.status in ABSENT and optional:
            return None
        if reply.status >= 500:
            raise DeviceNotReady(f"{self.where}: {path.split('?')[0]}: device error (HTTP {reply.status})")
        raise DeviceError(f"{self.where}: {path.split('?')[0]}: HTTP {reply.status}")

    async def _required(self, path: str) -> bytes:
        body = await self._get(path)
        assert body is not None
        return body

    async def system_info(self) -> parse.SystemInfo:
        body = await self._required("/cgi-bin/magicBox.cgi?action=getSystemInfo")
        return parse.system_info(body, f"{self.where}: getSystemInfo")

    async def software_version(self) -> str | None:
        body = await self._get("/cgi-bin/magicBox.cgi?action=getSoftwareVersion", optional=True)
        return parse.software_version(body, f"{self.where}: getSoftwareVersion") if body else None

    async def channel_titles(self) -> dict[int, str]:
        body = await self._required("/cgi-bin/configManager.cgi?action=getConfig&name=ChannelTitle")
        return parse.channel_titles(body, f"{self.where}: ChannelTitle")

    async def encode(self) -> list[parse.EncodeStream]:
        body = await self._required("/cgi-bin/configManager.cgi?action=getConfig&name=Encode")
        return parse.encode(body, f"{self.where}: Encode")

    async def camera_states(self) -> dict[int, bool] | None:
        body = await self._get("/cgi-bin/LogicDeviceManager.cgi?action=getCameraState&uniqueChannels[0]=-1",
                               optional=True)
        return parse.camera_states(body, f"{self.where}: getCameraState") if body else None

    async def storage(self) -> list[parse.Disk] | None:
        body = await self._get("/cgi-bin/storageDevice.cgi?action=getDeviceAllInfo", optional=True)
        return parse.storage(body, f"{self.where}: getDeviceAllInfo") if body else None

    async def current_time(self) -> datetime | None:
        body = await self._get("/cgi-bin/global.cgi?action=getCurrentTime", optional=True)
        return parse.current_time(body, f"{self.where}: getCurrentTime") if body else None

    async def snapshot(self, channel: int) -> bytes:
        reply = await self.http.get(f"/cgi-bin/snapshot.cgi?channel={channel}")
        if reply.status != 200 or not reply.body.startswith(b"\xff\xd8"):
            raise DeviceError(f"{self.where}: channel {channel} gave no picture (HTTP {reply.status})")
        return reply.body

    async def events(self, heartbeat: int) -> AsyncIterator[parse.EventPart]:
        """The eventManager stream once: parts until it ends or fails."""
        path = f"/cgi-bin/eventManager.cgi?action=attach&codes=[All]&heartbeat={heartbeat}"
        async with self.http.stream(path) as resp:
            if resp.status != 200:
                raise DeviceError(f"{self.where}: eventManager: HTTP {resp.status}")
            parts = MultipartStream(boundary_of(resp.headers.get("Content-Type")))
            async for chunk in self.http.chunks(resp, "eventManager", idle=heartbeat * 3 + 5):
                for part in parts.feed(chunk):
                    yield parse.event_part(part.body, f"{self.where}: eventManager")
        raise DeviceNotReady(f"{self.where}: eventManager: the stream ended")
