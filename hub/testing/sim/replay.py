"""Replay a folder of recorded responses, one file per endpoint.

A request for ``/ISAPI/System/deviceInfo`` is answered with the file
``System.deviceInfo.xml`` (the path after the prefix, ``/`` as ``.``); a
CGI request ``/cgi-bin/magicBox.cgi?action=getSystemInfo`` with
``magicBox_getSystemInfo.txt``.  A missing file is a 404 with a
``ResponseStatus`` body, as devices answer for endpoints they lack; an
endpoint in ``statuses`` (``{"Streaming/channels/103": 400}``) answers with
the status the device recorded there, and the same body.  Any capture from
a real device can be replayed this way.  ``alerts`` are recorded alert bodies
(Hikvision ``EventNotificationAlert`` XML) that an ``alertStream`` request
receives as multipart parts, in order, before the stream goes quiet.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from hub.testing.sim.base import DeviceSimulator


class ReplaySimulator(DeviceSimulator):
    ALERT_STREAM = "/ISAPI/Event/notification/alertStream"

    def __init__(self, folder: Path, statuses: dict[str, int] | None = None, alerts: list[bytes] | None = None,
                 **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.folder = folder
        self.statuses = statuses or {}
        self.alerts = alerts or []

    def routes(self) -> list[web.RouteDef]:
        return [web.get(self.ALERT_STREAM, self.alert_stream), web.get("/{tail:.*}", self.replay)]

    async def alert_stream(self, request: web.Request) -> web.StreamResponse:
        resp = await self.open_stream(request, "multipart/mixed; boundary=boundary")
        try:
            for body in self.alerts:
                await resp.write(b"--boundary\r\nContent-Type: application/xml; charset=\"UTF-8\"\r\n"
                                 b"Content-Length: %d\r\n\r\n%s\r\n" % (len(body), body))
            await asyncio.Event().wait()  # then quiet, as a device with nothing to say, until it is cut
        finally:
            self.close_stream(resp)
        return resp

    def file_for(self, request: web.Request) -> Path | None:
        path = request.path
        if path.startswith("/ISAPI/"):
            stem = path[len("/ISAPI/"):].replace("/", ".")
            candidates = [stem + ".xml", stem]
        elif path.startswith("/cgi-bin/"):
            cgi = path[len("/cgi-bin/"):].removesuffix(".cgi")
            action = request.query.get("action", "")
            name = request.query.get("name")
            stem = f"{cgi}_{action}" + (f"_{name}" if name else "")
            candidates = [stem + ".txt", stem]
        else:
            return None
        for name in candidates:
            found = self.folder / name
            if found.is_file() and found.resolve().parent == self.folder.resolve():
                return found
        return None

    async def replay(self, request: web.Request) -> web.Response:
        found = self.file_for(request)
        recorded = self.statuses.get(request.path.removeprefix("/ISAPI/"))
        if found is None or recorded is not None:
            return web.Response(status=recorded or 404, content_type="application/xml", text=(
                '<?xml version="1.0" encoding="UTF-8"?><ResponseStatus version="2.0" '
                'xmlns="http://www.isapi.org/ver20/XMLSchema"><statusCode>4</statusCode>'
                "<statusString>Invalid Operation</statusString><subStatusCode>notSupport</subStatusCode>"
                "</ResponseStatus>"))
        content_type = "application/xml" if found.suffix == ".xml" else "text/plain"
        return web.Response(body=found.read_bytes(), content_type=content_type)
