"""What the Lensa source gives beyond the common contract: its streams, its token, its events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from hub import CameraStatus, DeviceError, EventKind, EventState, SourceContext, StreamRole
from pantau_lensa import LensaConfig, LensaSource
from pantau_lensa.simulator import LensaSimulator


@pytest.fixture
async def nvr() -> AsyncIterator[LensaSimulator]:
    sim = await LensaSimulator(channels=4).start()
    yield sim
    await sim.stop()


def source(sim: LensaSimulator, tmp_path: Path) -> LensaSource:
    config = LensaConfig(name="gate", host=sim.host, port=sim.port, password=SecretStr(sim.password), timeout=2)
    return LensaSource(config, SourceContext(tmp_path, logging.getLogger("test.lensa")))


async def test_an_nvr_gives_its_channels_with_normalised_streams(nvr: LensaSimulator, tmp_path: Path) -> None:
    nvr.channels[2].online = False
    src = source(nvr, tmp_path)
    (inv,) = await src.probe()
    await src.close()
    assert (inv.device.id, inv.device.model) == (f"lensa:{nvr.serial}", "LX-NVR8")
    assert [c.id for c in inv.cameras] == [f"lensa:{nvr.serial}:{n}" for n in range(1, 5)]
    assert inv.cameras[2].status == CameraStatus.OFFLINE
    main = inv.cameras[0].stream(StreamRole.MAIN)
    assert main is not None and main.url is not None
    assert (main.codec, main.width, main.bitrate) == ("hevc", 2560, 3_072_000)
    assert main.url.get_secret_value() == f"rtsp://admin:{nvr.password}@127.0.0.1:554/live/1/main"


async def test_one_login_serves_many_requests_and_an_expired_token_is_renewed(nvr: LensaSimulator,
                                                                             tmp_path: Path) -> None:
    nvr.token_uses = 2  # the device forgets a session after two requests
    src = source(nvr, tmp_path)
    for _ in range(3):
        await src.probe()
    await src.close()
    assert nvr.logins == 2  # one at the start, one when the token ran out; none per request


async def test_events_arrive_as_the_hubs_kinds(nvr: LensaSimulator, tmp_path: Path) -> None:
    src = source(nvr, tmp_path)
    stream = src.events()
    first = asyncio.ensure_future(anext(stream))
    nvr.trigger(3, "line", "start")
    event = await asyncio.wait_for(first, 5)
    first.cancel()
    await src.close()
    assert (event.camera_id, event.kind, event.state) == (f"lensa:{nvr.serial}:3", EventKind.LINE_CROSSING,
                                                          EventState.START)


async def test_an_answer_of_the_wrong_shape_names_the_field(nvr: LensaSimulator, tmp_path: Path) -> None:
    from pantau_lensa import parse

    with pytest.raises(DeviceError, match=r"^dev: unexpected answer at channels.0.channel: "):
        parse.device({"model": "LX-200", "serial": "LX1", "channels": [{"channel": 0}]}, "dev")
