"""Dahua CGI and event-stream parsing."""

from __future__ import annotations

import pytest

from hub.core.errors import DeviceError
from hub.core.models import DeviceKind, EventKind, EventState, StreamRole
from plugins.dahua import parse


def test_system_info_with_a_numeric_device_type_takes_the_model_from_update_serial() -> None:
    body = b"deviceType=31\r\nprocessor=ST7108\r\nserialNumber=ND02191100001\r\nupdateSerial=DHI-NVR4108HS-8P-4KS2\r\n"
    info = parse.system_info(body, "x")
    assert (info.model, info.serial) == ("DHI-NVR4108HS-8P-4KS2", "ND02191100001")
    assert parse.device_kind(info.model) == DeviceKind.NVR


def test_encode_table_into_streams() -> None:
    body = (b"table.Encode[1].MainFormat[0].Video.Compression=H.265\r\n"
            b"table.Encode[1].MainFormat[0].Video.Width=3840\r\ntable.Encode[1].MainFormat[0].Video.Height=2160\r\n"
            b"table.Encode[1].MainFormat[0].Video.FPS=12.5\r\ntable.Encode[1].MainFormat[0].Video.BitRate=6144\r\n"
            b"table.Encode[1].ExtraFormat[0].Video.Compression=H.264H\r\n"
            b"table.Encode[1].ExtraFormat[0].VideoEnable=false\r\n")
    main, sub = parse.encode(body, "x")
    assert (main.channel, main.role, main.codec, main.width, main.fps, main.bitrate) == (
        2, StreamRole.MAIN, "hevc", 3840, 12.5, 6_144_000)
    assert (sub.role, sub.codec, sub.enabled) == (StreamRole.SUB, "h264", False)
    assert main.constant_bitrate is None  # the device did not say
    cbr = parse.encode(body + b"table.Encode[1].MainFormat[0].Video.BitRateControl=CBR\r\n", "x")[0]
    assert cbr.constant_bitrate is True


def test_event_part_with_json_tail() -> None:
    body = (b'Code=CrossLineDetection;action=Stop;index=3;data={\r\n   "Direction" : "LeftToRight",\r\n'
            b'   "Object" : { "ObjectType" : "Human" },\r\n   "UTC" : 1763800000\r\n}')
    part = parse.event_part(body, "x")
    assert (part.kind, part.state, part.channel) == (EventKind.LINE_CROSSING, EventState.STOP, 4)
    assert part.data["targets"] == ["human"] and part.at is not None


def test_heartbeat() -> None:
    assert parse.event_part(b"Heartbeat", "x").heartbeat


@pytest.mark.parametrize("body, message", [
    (b"Error\r\nBad Request!\r\n", "expected key=value lines"),
    (b"", "expected key=value lines"),
    (b"\xff\xfe\x00garbage", "not text"),
])
def test_bad_answers_are_device_errors(body: bytes, message: str) -> None:
    with pytest.raises(DeviceError, match=message):
        parse.system_info(body, "10.0.0.9:80: getSystemInfo")


def test_bad_event_parts_are_device_errors() -> None:
    with pytest.raises(DeviceError, match="without Code"):
        parse.event_part(b"action=Start;index=0", "x")
    with pytest.raises(DeviceError, match="not JSON"):
        parse.event_part(b"Code=VideoMotion;action=Start;index=0;data={broken", "x")


def test_an_events_utc_keeps_its_milliseconds_and_a_time_no_clock_shows_is_left_out() -> None:
    from datetime import UTC, datetime

    part = parse.event_part(b'Code=CrossLineDetection;action=Stop;index=0;data={"UTC": 1618245658, "UTCMS": 883}',
                            "x")
    assert part.at == datetime(2021, 4, 12, 16, 40, 58, 883000, tzinfo=UTC)
    bogus = parse.event_part(b'Code=VideoMotion;action=Start;index=0;data={"UTC": 99999999999999, "UTCMS": 5}', "x")
    assert bogus.at is None, "a timestamp no clock shows is left out, not a crash"
