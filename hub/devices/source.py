"""Pieces shared by HTTP device sources (Hikvision, Dahua, a third party's).

``HttpDeviceConfig`` holds the connection fields every such device has;
``HttpDeviceSource`` the client and serial every such source keeps;
``rtsp_url`` builds a stream URL with quoted credentials (kept as a secret);
``optional`` runs a call for health details that may fail without failing
the probe.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar
from urllib.parse import quote

from pydantic import Field, SecretStr

from hub.core.errors import DeviceAuthFailed, DeviceError, DeviceNotReady
from hub.core.sources import CameraSource, SourceConfig, SourceContext
from hub.devices.http import Auth, DeviceHttp

T = TypeVar("T")


class HttpDeviceConfig(SourceConfig):
    """Connection fields of a device managed over HTTP(S)."""

    host: str = Field(description="Address of the device (name or IP).")
    port: int = Field(default=80, ge=1, le=65535, description="HTTP(S) port of the device's API.")
    https: bool = Field(default=False, description="Use HTTPS.")
    verify_tls: bool = Field(default=True, description="Check the device's TLS certificate.")
    rtsp_port: int = Field(default=554, ge=1, le=65535, description="RTSP port for the streams.")
    username: str = Field(default="admin", description="Device user; a read-only user is enough.")
    password: SecretStr = Field(description="Device password; write ${ENV_VAR} to keep it out of the file.")
    timeout: float = Field(default=10.0, gt=0, le=120, description="Seconds to wait for the device.")
    channels: list[int] | None = Field(default=None, description="Only these channels; all when unset.")
    events: bool = Field(default=True, description="Subscribe to the device's event stream.")

    def http(self, auth: Auth = "digest") -> DeviceHttp:
        """The device's HTTP client, checking callers the way the device does (``auth``)."""
        return DeviceHttp(self.host, self.port, self.username, self.password.get_secret_value(),
                          https=self.https, timeout=self.timeout, verify_tls=self.verify_tls, auth=auth)

    def rtsp_url(self, path: str) -> SecretStr:
        return rtsp_url(self.username, self.password.get_secret_value(), self.host, self.rtsp_port, path)


class HttpDeviceSource(CameraSource):
    """A source for one device managed over HTTP: its client, serial and clean-up."""

    config: HttpDeviceConfig

    def __init__(self, config: HttpDeviceConfig, context: SourceContext) -> None:
        super().__init__(config, context)
        self.http = config.http(self.device_auth())
        #: The device's serial once probed; camera ids are built from it.
        self.serial: str | None = None

    async def known_serial(self) -> str:
        """The device's serial, from the last probe, or from a probe now when none has run (an
        event stream opened before the hub's first probe came back)."""
        if self.serial is None:
            await self.probe()
        if self.serial is None:
            raise DeviceError(f"{self.http.where}: the probe found no serial")
        return self.serial

    def device_auth(self) -> Auth:
        """How the device checks callers: HTTP Digest (with basic as a fallback) unless a
        source says otherwise: ``"basic"``, ``"none"`` or a ``hub.devices.http.TokenLogin``."""
        return "digest"

    async def optional(self, call: Awaitable[T]) -> T | None:
        """``call``'s result, or None when the endpoint is slow or unusable (see ``optional``)."""
        return await optional(call, self.context.log, self.http.where)

    async def close(self) -> None:
        await self.http.close()


def rtsp_url(username: str, password: str, host: str, port: int, path: str) -> SecretStr:
    """``rtsp://user:pass@host:port/path`` with the credentials quoted, as a secret."""
    return SecretStr(f"rtsp://{quote(username, safe='')}:{quote(password, safe='')}@{host}:{port}{path}")


#: Seconds an optional call (storage, clock, event capabilities) may take: one slow endpoint
#: of a busy NVR is no reason for the whole probe to time out.
OPTIONAL_TIMEOUT = 3.0


async def optional(call: Awaitable[T], log: logging.Logger, where: str,
                   limit: float = OPTIONAL_TIMEOUT) -> T | None:
    """Health details are worth having, not worth failing a probe for.

    A refused password or an unreachable device still fails (they fail the
    whole probe anyway); any other device error, or no answer within
    ``limit`` seconds, is logged and gives None: the capability is absent.
    """
    try:
        async with asyncio.timeout(limit):
            return await call
    except TimeoutError:
        log.info("optional endpoint too slow; taken as absent", extra={"device": where, "seconds": limit})
        return None
    except (DeviceAuthFailed, DeviceNotReady):
        raise
    except DeviceError as err:
        log.info("optional endpoint unusable", extra={"device": where, "error": str(err)})
        return None
