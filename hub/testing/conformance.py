"""The contract every camera source keeps, as a pytest suite a plugin reuses.

Subclass ``SourceConformance`` in a test module of your plugin, say how to
start your simulator and how to build your source against it, and pytest
runs every check below against your plugin::

    from hub.testing.conformance import SourceConformance

    class TestAcmeConformance(SourceConformance):
        async def start_device(self, password: str) -> DeviceSimulator:
            return await AcmeSimulator(password=password).start()

        def make_source(self, device, password, timeout, context) -> CameraSource:
            config = AcmeConfig(name="conformance", host=device.host, port=device.port,
                                password=password, timeout=timeout)
            return AcmeSource(config, context)

What it checks (the hub's own vendor plugins pass it too):

- a probe gives normalised devices and cameras (``hub.devices.normal``):
  ids built from the serial and stable across re-probes and new source
  objects, channels from 1, a main stream per camera, FFmpeg's codec names,
  bit rates in bit/s, stream URLs kept secret, owner/site/area left to the hub;
- a snapshot is a JPEG (set ``snapshots = False`` for a source without them);
- a wrong password is ``DeviceAuthFailed``; garbage, a truncated answer and
  an HTTP 500 are ``DeviceError``; a device that hangs is ``DeviceNotReady``
  within the timeout; an unreachable one is ``DeviceNotReady``;
- no error message and no log line, at any level, carries the password
  (plain or URL-quoted).

The simulator must be a ``hub.testing.sim.DeviceSimulator`` (its ``faults``
make the misbehaviour).  The tests are ``async`` and marked for pytest-asyncio
(install it beside pytest); no other configuration is needed.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import pytest_asyncio

from hub.core.errors import DeviceAuthFailed, DeviceError, DeviceNotReady, HubError
from hub.core.models import DeviceInventory, StreamRole
from hub.core.sources import CameraSource, SourceContext
from hub.devices import normal
from hub.testing.sim.base import DeviceSimulator

#: The password the suite gives the simulator: every character that needs quoting in a URL,
#: so a source that builds ``rtsp://user:pass@host`` by hand is caught.
PASSWORD = "Rahasia:9/@x%#?&+"
WRONG_PASSWORD = "Salah-Sandi-7c1"
#: Lowest plausible bit rate in bit/s: 16 kbit/s.  A rate given in kbit/s (4096 for 4 Mbit/s)
#: falls below it.
MIN_BITRATE = 16_000
KNOWN_CODECS = {"h264", "hevc", "mjpeg", "mpeg4", "av1"}


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class SourceConformance(ABC):
    """Checks every camera source must pass; subclass it (name the subclass ``Test...``)."""

    #: Seconds of device timeout the suite asks ``make_source`` for.
    timeout: float = 2.0
    #: Whether the source's devices give snapshots.
    snapshots: bool = True

    @abstractmethod
    async def start_device(self, password: str) -> DeviceSimulator:
        """Start a simulator of your device with ``password`` (and user ``admin``) and return it."""

    @abstractmethod
    def make_source(self, device: DeviceSimulator, password: str, timeout: float,
                    context: SourceContext) -> CameraSource:
        """Your source, configured for ``device`` (its ``host`` and ``port``) with ``password``
        and ``timeout`` seconds for device calls."""

    # -- fixtures ---------------------------------------------------------------------

    @pytest_asyncio.fixture
    async def device(self) -> AsyncIterator[DeviceSimulator]:
        sim = await self.start_device(PASSWORD)
        try:
            yield sim
        finally:
            await sim.stop()

    @pytest.fixture(autouse=True)
    def logged(self) -> Iterator[list[logging.LogRecord]]:
        """Every log record of the test, checked for secrets at its end."""
        handler = _Collect()
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            yield handler.records
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
        for record in handler.records:
            text = f"{record.getMessage()} {record.__dict__!r}"
            leaked = [s for s in _secrets() if s in text]
            assert not leaked, f"a log line carries the password: {record.name}: {record.getMessage()[:200]}"

    def source(self, device: DeviceSimulator, tmp_path: Path, password: str = PASSWORD) -> CameraSource:
        context = SourceContext(tmp_path, logging.getLogger(f"conformance.{type(self).__name__}"))
        return self.make_source(device, password, self.timeout, context)

    async def probe(self, device: DeviceSimulator, tmp_path: Path, password: str = PASSWORD
                    ) -> list[DeviceInventory]:
        src = self.source(device, tmp_path, password)
        try:
            return await src.probe()
        finally:
            await src.close()

    async def failure(self, device: DeviceSimulator, tmp_path: Path, password: str = PASSWORD) -> HubError:
        """The error a probe fails with; fails the test when it succeeds or raises anything else."""
        try:
            await self.probe(device, tmp_path, password)
        except HubError as err:
            _assert_secret_free(err)
            return err
        pytest.fail("the probe succeeded against a misbehaving device")

    # -- the contract ------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_a_probe_gives_normalised_devices_and_cameras(self, device: DeviceSimulator,
                                                                tmp_path: Path) -> None:
        src = self.source(device, tmp_path)
        try:
            inventories = await src.probe()
        finally:
            await src.close()
        assert inventories, "a probe of a working device found nothing"
        ids = [cam.id for inv in inventories for cam in inv.cameras]
        assert ids and len(ids) == len(set(ids)), f"camera ids must be unique: {ids}"
        for inv in inventories:
            dev = inv.device
            assert dev.id and dev.serial and dev.vendor, f"device needs id, serial and vendor: {dev!r}"
            assert dev.source == src.name, f"device.source is the hub.yaml source's name ({src.name!r})"
            assert normal.usable_serial(dev.serial) == dev.serial, f"serial identifies nothing: {dev.serial!r}"
            assert dev.host is None or "@" not in dev.host, "device.host carries no credentials"
            for cam in inv.cameras:
                where = f"camera {cam.id}"
                assert cam.device_id == dev.id, f"{where}: device_id is {cam.device_id!r}, not {dev.id!r}"
                assert cam.channel >= 1, f"{where}: channels count from 1"
                assert cam.name, f"{where}: has no name"
                assert (cam.owner, cam.site, cam.area) == (None, None, None), \
                    f"{where}: owner, site and area come from hub.yaml; the hub applies them"
                roles = [s.role for s in cam.streams]
                assert StreamRole.MAIN in roles, f"{where}: no main stream"
                assert len(roles) == len(set(roles)), f"{where}: one stream per role, got {roles}"
                for stream in cam.streams:
                    what = f"{where} {stream.role}"
                    assert stream.codec is None or stream.codec in KNOWN_CODECS, \
                        f"{what}: codec {stream.codec!r} is not FFmpeg's name (hub.devices.normal.codec)"
                    assert stream.bitrate is None or stream.bitrate >= MIN_BITRATE, \
                        f"{what}: bit rate {stream.bitrate} looks like kbit/s; the models hold bit/s"
            dumped = inv.model_dump_json()
            assert not [s for s in _secrets() if s in dumped], "the inventory as served shows the password"

    @pytest.mark.asyncio
    async def test_ids_are_stable_across_re_probes(self, device: DeviceSimulator, tmp_path: Path) -> None:
        src = self.source(device, tmp_path)
        try:
            first = [cam.id for inv in await src.probe() for cam in inv.cameras]
            again = [cam.id for inv in await src.probe() for cam in inv.cameras]
        finally:
            await src.close()
        fresh = [cam.id for inv in await self.probe(device, tmp_path) for cam in inv.cameras]
        assert first == again == fresh

    @pytest.mark.asyncio
    async def test_a_snapshot_is_a_jpeg(self, device: DeviceSimulator, tmp_path: Path) -> None:
        if not self.snapshots:
            pytest.skip("this source's devices give no snapshots (snapshots = False)")
        src = self.source(device, tmp_path)
        try:
            (camera, *_) = [cam for inv in await src.probe() for cam in inv.cameras]
            picture = await src.snapshot(camera)
        finally:
            await src.close()
        assert picture[:3] == b"\xff\xd8\xff", "a snapshot is a JPEG"

    @pytest.mark.asyncio
    async def test_a_wrong_password_is_auth_failed(self, device: DeviceSimulator, tmp_path: Path) -> None:
        err = await self.failure(device, tmp_path, WRONG_PASSWORD)
        assert isinstance(err, DeviceAuthFailed), f"{type(err).__name__}: {err}"

    @pytest.mark.asyncio
    async def test_garbage_is_a_device_error(self, device: DeviceSimulator, tmp_path: Path) -> None:
        device.faults.garbage = True
        err = await self.failure(device, tmp_path)
        assert isinstance(err, DeviceError) and not isinstance(err, DeviceAuthFailed), f"{type(err).__name__}"

    @pytest.mark.asyncio
    async def test_a_truncated_answer_is_a_device_error(self, device: DeviceSimulator, tmp_path: Path) -> None:
        device.faults.truncate = True
        err = await self.failure(device, tmp_path)
        assert isinstance(err, DeviceError) and not isinstance(err, DeviceAuthFailed), f"{type(err).__name__}"

    @pytest.mark.asyncio
    async def test_a_server_error_is_a_device_error(self, device: DeviceSimulator, tmp_path: Path) -> None:
        device.faults.status = 500
        err = await self.failure(device, tmp_path)
        assert isinstance(err, DeviceError) and not isinstance(err, DeviceAuthFailed), f"{type(err).__name__}"

    @pytest.mark.asyncio
    async def test_a_device_that_hangs_is_not_ready_within_the_timeout(self, device: DeviceSimulator,
                                                                       tmp_path: Path) -> None:
        device.faults.hang = True
        began = time.monotonic()
        err = await self.failure(device, tmp_path)
        took = time.monotonic() - began
        assert isinstance(err, DeviceNotReady), f"{type(err).__name__}: {err}"
        assert took < self.timeout * 4 + 2, f"a hung device held the probe {took:.1f} s (timeout {self.timeout} s)"

    @pytest.mark.asyncio
    async def test_an_unreachable_device_is_not_ready(self, device: DeviceSimulator, tmp_path: Path) -> None:
        await device.stop()
        err = await self.failure(device, tmp_path)
        assert isinstance(err, DeviceNotReady), f"{type(err).__name__}: {err}"


def _secrets() -> list[str]:
    return [PASSWORD, quote(PASSWORD, safe=""), WRONG_PASSWORD]


def _assert_secret_free(err: BaseException) -> None:
    text = f"{err} {err.args!r}"
    leaked = [s for s in _secrets() if s in text]
    assert not leaked, f"the error carries the password: {type(err).__name__}"
