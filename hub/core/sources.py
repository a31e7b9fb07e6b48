"""Camera sources: what a vendor plugin implements.

A plugin registers a source type as a pair: a config model (a subclass of
``SourceConfig`` with ``type: Literal["<name>"]``) and a ``CameraSource``
subclass.  The hub builds one source object per ``sources:`` entry in
hub.yaml, probes it for a ``DeviceInventory`` and asks it for snapshots,
media and events.  Everything here is vendor-free.
"""

from __future__ import annotations

import hashlib
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import SplitResult, unquote

from pydantic import Field

from hub.core.errors import DeviceUnsupported
from hub.core.models import (
    AreaPath,
    Camera,
    DeviceInventory,
    DiscoveredDevice,
    Event,
    HubModel,
    Location,
    PtzCommand,
    PtzPreset,
    Stream,
    StreamRole,
)

if TYPE_CHECKING:
    import av.container

log = logging.getLogger(__name__)

#: Seconds FFmpeg waits before asking once more for a stream the hub's own client handed it.
FALLBACK_PAUSE = 0.5


class SourceConfig(HubModel):
    """Fields every source entry in hub.yaml has; plugins add their own."""

    type: str = Field(description="Source type, as registered by a plugin.")
    #: Older names of this type that hub.yaml may still use; the hub reads them as ``type``.
    type_aliases: ClassVar[tuple[str, ...]] = ()
    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Unique name of this source in hub.yaml (logs and diagnostics use it).",
    )
    enabled: bool = Field(default=True, description="Set false to keep the entry but not connect.")
    owner: str | None = Field(default=None, description="Owner id given to the device and its cameras.")
    site: str | None = Field(default=None, description="Site id given to the device and its cameras.")
    area: AreaPath | None = Field(default=None, description="Area given to the cameras.")
    tags: list[str] = Field(default_factory=list, description="Tags given to every camera of this source.")
    location: Location | None = Field(default=None, description="Where its cameras stand, for those that report "
                                      "no place of their own.")
    max_sessions: int | None = Field(
        default=None, ge=1, le=1024, description="Stream connections the hub opens to one device of this source "
        "at once, at most (NVRs and cameras allow few); streams beyond it wait for a free one.")
    streams: list[StreamRole] | None = Field(
        default=None, description="Only these streams of each camera are used (recorded, watched, analysed), e.g. "
        "[sub] for a partner whose agreement shares the substream only; a recording rule's 'main' then means the "
        "first one left.  Default: all.")
    max_kbps: int | None = Field(
        default=None, ge=16, description="Streams whose reported bit rate is above this many kbit/s are not used "
        "(a partner's link, say); one that reports none is kept.")
    rtsp_client: Literal["hub", "ffmpeg"] = Field(
        default="hub", description="Who reads this source's RTSP streams over TCP: the hub's own client, which "
        "hands FFmpeg whatever it does not handle by itself, or always FFmpeg's (for a device whose RTSP the "
        "hub's client gets wrong).")


@dataclass
class SourceContext:
    """What the hub lends a source: where to keep files and how to log."""

    data_dir: Path
    log: logging.Logger


class MediaInput(ABC):
    """A way to open one camera stream as a PyAV input container (or an object
    with the part of one the stream graph uses: ``streams.video[0]``, a PyAV
    video stream; ``demux(stream)``, yielding ``av.Packet``; ``close()``).

    ``open`` and ``close`` run in a worker thread, never on the event loop.
    The stream graph opens one ``MediaInput`` per camera stream however many
    consumers it has.
    """

    #: Safe description for logs and errors (never a URL with credentials).
    label: str = "media"

    @abstractmethod
    def open(self) -> av.container.InputContainer:
        """Open the stream; raise ``DeviceNotReady`` when it cannot be reached."""

    def interrupt(self) -> None:
        """Make a blocked read end soon; called from another thread on stop."""

    def close(self) -> None:
        """Release whatever ``open`` started (threads, pipes); called by the
        thread that opened it, after the container is closed."""


@dataclass
class UrlMediaInput(MediaInput):
    """A stream opened from a URL (RTSP, HTTP, a file).

    RTSP over TCP is read by the hub's own client (``hub.core.rtsp``: a
    wake-up per batch of packets rather than several system calls per RTP
    packet); everything else, and any RTSP stream that client does not
    handle (another codec, B-frames), by FFmpeg through PyAV.
    """

    url: str
    label: str = "url"
    options: dict[str, str] = field(default_factory=dict)
    format: str | None = None
    #: Seconds a connect or a read may block before the stream counts as failed.
    timeout: float = 10.0
    #: "hub" reads RTSP over TCP with the hub's own client where it can; "ffmpeg" always with FFmpeg's.
    client: str = "hub"

    #: Streams (by a digest of their URL) found to need FFmpeg's client, so later
    #: connections go there at once.
    _needs_ffmpeg: ClassVar[set[str]] = set()

    def __post_init__(self) -> None:
        if self.client not in ("hub", "ffmpeg"):
            raise ValueError(f"{self.label}: RTSP client must be 'hub' or 'ffmpeg', not {self.client!r}")
        self._rtsp: Any = None

    def open(self) -> av.container.InputContainer:
        import av

        from hub.core.errors import DeviceAuthFailed, DeviceNotReady

        handed_over = False
        if self._own_client():
            from hub.core.rtsp import RtspClient, RtspUnsupported

            client = RtspClient(self.url, self.label, self.timeout)
            try:
                self._rtsp = client.open()
                return self._rtsp  # type: ignore[no-any-return]
            except RtspUnsupported as err:
                self._fall_back(str(err))
                handed_over = True
        options, timeout = dict(self.options), None
        if self.url.startswith(("rtsp://", "rtsps://")):
            # FFmpeg's own socket timeout (microseconds).  PyAV's ``timeout=`` works through
            # an interrupt callback that takes the GIL on every I/O poll: a quarter more CPU
            # per recorded stream, and GIL traffic between the relays.
            options.setdefault("timeout", str(int(self.timeout * 1_000_000)))
        else:
            timeout = (self.timeout, self.timeout)
        for attempt in range(2 if handed_over else 1):
            try:
                return av.open(self.url, format=self.format, options=options, timeout=timeout)
            except av.error.HTTPUnauthorizedError:
                raise DeviceAuthFailed(f"{self.label}: the camera refused the credentials") from None
            except av.error.FFmpegError as err:
                if attempt == 0 and handed_over:
                    # The camera may still be releasing the session the hub's client just
                    # closed (one-session cameras, shared pipelines answer 503 meanwhile).
                    time.sleep(FALLBACK_PAUSE)
                    continue
                # The FFmpeg message may echo the URL: keep only its class and errno.
                raise DeviceNotReady(f"{self.label}: cannot open stream ({type(err).__name__})") from None
        raise AssertionError("unreachable")

    def interrupt(self) -> None:
        if self._rtsp is not None:
            self._rtsp.interrupt()

    def close(self) -> None:
        client, self._rtsp = self._rtsp, None
        if client is not None and client.unsupported is not None:
            self._fall_back(client.unsupported)  # found out while streaming (frames out of order)

    def _own_client(self) -> bool:
        return (self.client == "hub" and self.format is None and self.url.startswith("rtsp://")
                and self.options.get("rtsp_transport", "tcp") == "tcp" and self._key() not in self._needs_ffmpeg)

    def _key(self) -> str:
        return hashlib.sha256(self.url.encode()).hexdigest()

    def _fall_back(self, reason: str) -> None:
        log.info("stream read through FFmpeg from now on", extra={"stream": self.label, "reason": reason})
        self._needs_ffmpeg.add(self._key())


class CameraSource(ABC):
    """One configured device (camera, NVR, DVR) or group of devices.

    Subclasses implement ``probe`` and ``snapshot``; ``open_media``,
    ``events`` and ``close`` have defaults.  Errors are ``DeviceError``
    subclasses: ``DeviceNotReady`` (retry later), ``DeviceAuthFailed`` (do
    not retry) or ``DeviceUnsupported``.
    """

    #: Set by the hub from the registration; the ``type:`` value in hub.yaml.
    source_type: ClassVar[str] = ""
    #: Whether ``discover`` finds devices of this type on the local network.
    supports_discovery: ClassVar[bool] = False
    #: Whether ``probe`` opens the cameras' media streams (an RTSP session each, as a
    #: plain RTSP camera's does).  The health monitor then leaves a source alone while
    #: the hub receives all its cameras' streams: their relays' figures tell their
    #: health, and devices cap sessions (an extra one a minute restarts some).
    probe_opens_streams: ClassVar[bool] = False

    def __init__(self, config: Any, context: SourceContext) -> None:
        self.config = config
        self.context = context
        #: Health details from the last probe, shown to managers by the API;
        #: never a credential.  Keys the health monitor reads: ``storage_ok``
        #: (bool, None when unknown) and ``clock_drift_seconds`` (device - hub).
        self.diagnostics: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return str(self.config.name)

    @classmethod
    def config_from_url(cls, url: SplitResult) -> dict[str, Any]:
        """hub.yaml fields for ``pantau probe <type>://user:pass@host:port``.

        By default ``host``, ``port``, ``username`` and ``password``; a source
        type whose config differs overrides this.
        """
        out: dict[str, Any] = {"host": url.hostname}
        if url.port:
            out["port"] = url.port
        if url.username:
            out["username"] = unquote(url.username)
        if url.password is not None:
            out["password"] = unquote(url.password)
        return out

    @classmethod
    async def discover(cls, limit: float) -> list[DiscoveredDevice]:
        """Devices of this type on the local network, searched for ``limit`` seconds.

        Only called for types with ``supports_discovery``, and only when a user
        asks (``pantau discover``): the hub never scans a network by itself.
        """
        return []

    @abstractmethod
    async def probe(self) -> list[DeviceInventory]:
        """Ask the device(s) what they are and which cameras they carry."""

    @abstractmethod
    async def snapshot(self, camera: Camera) -> bytes:
        """Return a current JPEG picture of ``camera``."""

    def open_media(self, camera: Camera, stream: Stream) -> MediaInput:
        """How to open ``stream`` of ``camera``; by default its device URL."""
        if stream.url is None:
            raise DeviceUnsupported(f"{self.name}: camera {camera.id} has no URL for its {stream.role} stream")
        return UrlMediaInput(
            url=stream.url.get_secret_value(),
            label=f"{camera.id}/{stream.role}",
            options={"rtsp_transport": "tcp"},
            client=getattr(self.config, "rtsp_client", "hub"),
        )

    async def ptz(self, camera: Camera, command: PtzCommand) -> None:
        """Drive pan, tilt and zoom; by default the source has no PTZ."""
        raise DeviceUnsupported(f"{self.name}: camera {camera.id} has no PTZ control")

    async def ptz_presets(self, camera: Camera) -> list[PtzPreset]:
        """The camera's PTZ presets; by default the source has no PTZ."""
        raise DeviceUnsupported(f"{self.name}: camera {camera.id} has no PTZ control")

    async def events(self) -> AsyncIterator[Event]:
        """Yield the device's events as they happen; by default none."""
        return
        yield  # pragma: no cover  (makes this an async generator)

    async def close(self) -> None:
        """Release connections; called once when the hub stops."""
