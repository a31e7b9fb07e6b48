"""Hikvision ISAPI over HTTP: the only module of the plugin that does I/O."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

from hub import DeviceError, DeviceNotReady
from hub.devices.http import DeviceHttp
from hub.devices.multipart import MultipartStream, boundary_of
from plugins.hikvision import parse

#: Statuses with which devices answer an endpoint they do not have (a DVR answers 400 with
#: ``notSupport`` for a third stream it lacks; iDS-7204HUHI-M1, ``Streaming/channels/103``).
ABSENT = {400, 403, 404, 405, 500, 501}


class HikvisionClient:
    def __init__(self, http: DeviceHttp) -> None:
        self.http = http
        self.where = http.where

    async def _get(self, path: str, optional: bool = False) -> bytes | None:
        reply = await self.http.get("/ISAPI/" + path)
        if reply.status == 200:
            return reply.body
        what = f"{self.where}: /ISAPI/{path}"
        if reply.status in ABSENT and optional:
            # A ResponseStatus (or a bare 404) on an optional endpoint: the capability is absent.
            return None
        if reply.status >= 500:
            raise DeviceNotReady(f"{what}: device error (HTTP {reply.status})")
        status = parse.response_status(reply.body, what)
        detail = f", {status[1]}" if status and status[1] else ""
        raise DeviceError(f"{what}: HTTP {reply.status}{detail}")

    async def device_info(self) -> parse.DeviceInfo:
        body = await self._get("System/deviceInfo")
        assert body is not None
        return parse.device_info(body, f"{self.where}: System/deviceInfo")

    async def video_inputs(self) -> list[parse.Channel]:
        body = await self._get("System/Video/inputs/channels", optional=True)
        return parse.video_inputs(body, f"{self.where}: video inputs") if body else []

    async def proxy_channels(self) -> list[parse.Channel]:
        body = await self._get("ContentMgmt/InputProxy/channels", optional=True)
        if not body:
            return []
        channels = parse.proxy_channels(body, f"{self.where}: InputProxy channels")
        status = await self._get("ContentMgmt/InputProxy/channels/status", optional=True)
        if status:
            online = parse.proxy_status(status, f"{self.where}: InputProxy status")
            for ch in channels:
                ch.online = online.get(ch.id)
        return channels

    async def streaming_channels(self, channels: list[int]) -> list[parse.StreamingChannel]:
        """Every stream of ``channels``: from the list endpoint, or one by one where a model lacks it."""
        body = await self._get("Streaming/channels", optional=True)
        if body is not None:
            return parse.streaming_channels(body, f"{self.where}: Streaming/channels")
        ids = [ch * 100 + idx for ch in channels for idx in (1, 2, 3)]
        bodies = []
        for start in range(0, len(ids), 8):  # a few at a time: devices serve requests slowly
            bodies += await asyncio.gather(*(self._get(f"Streaming/channels/{i}", optional=True)
                                             for i in ids[start:start + 8]))
        found = []
        for sid, one in zip(ids, bodies, strict=True):
            if one is not None:
                found += parse.streaming_channels(one, f"{self.where}: Streaming/channels/{sid}")
        return found

    async def storage(self) -> list[parse.Disk] | None:
        body = await self._get("ContentMgmt/Storage", optional=True)
        return parse.storage(body, f"{self.where}: ContentMgmt/Storage") if body else None

    async def device_time(self) -> datetime | None:
        body = await self._get("System/time", optional=True)
        return parse.device_time(body, f"{self.where}: System/time") if body else None

    async def event_triggers(self) -> list[str]:
        body = await self._get("Event/triggers", optional=True)
        return parse.event_triggers(body, f"{self.where}: Event/triggers") if body else []

    async def snapshot(self, channel: int) -> bytes:
        reply = await self.http.get(f"/ISAPI/Streaming/channels/{channel}01/picture")
        if reply.status != 200 or not reply.body.startswith(b"\xff\xd8"):
            status = parse.response_status(reply.body)
            raise DeviceError(f"{self.where}: channel {channel} gave no picture (HTTP {reply.status}"
                              f"{', ' + str(status[1]) if status and status[1] else ''})")
        return reply.body

    async def alerts(self, idle_timeout: float = 90.0) -> AsyncIterator[parse.Alert]:
        """The alertStream once: alerts and heartbeats until it ends or fails."""
        path = "/ISAPI/Event/notification/alertStream"
        async with self.http.stream(path) as resp:
            if resp.status != 200:
                raise DeviceError(f"{self.where}: {path}: HTTP {resp.status}")
            parts = MultipartStream(boundary_of(resp.headers.get("Content-Type")))
            async for chunk in self.http.chunks(resp, path, idle=idle_timeout):
                for part in parts.feed(chunk):
                    if not part.body or "xml" not in (part.content_type or "xml"):
                        continue  # pictures some models attach to alerts
                    yield parse.alert(part.body, f"{self.where}: alertStream")
        raise DeviceNotReady(f"{self.where}: {path}: the stream ended")

