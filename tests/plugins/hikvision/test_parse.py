"""Hikvision payload parsing: real shapes and hostile input."""

from __future__ import annotations

import pytest

from hub.core.errors import DeviceError
from hub.core.models import DeviceKind, EventKind, EventState, StreamRole
from plugins.hikvision import parse

INFO = b"""<DeviceInfo version="2.0" xmlns="http://www.std-cgi.com/ver10/XMLSchema">
<deviceName>Gerbang</deviceName><model>DS-7608NXI-I2</model><serialNumber>DS-7608NXI-I20820220101CCRR</serialNumber>
<firmwareVersion>V4.62.210</firmwareVersion><firmwareReleasedDate>build 230119</firmwareReleasedDate>
<deviceType>NVR</deviceType></DeviceInfo>"""


def test_device_info_in_any_namespace() -> None:
    info = parse.device_info(INFO, "x")
    assert (info.model, info.serial, info.firmware) == (
        "DS-7608NXI-I2", "DS-7608NXI-I20820220101CCRR", "V4.62.210 build 230119")
    assert parse.device_kind(info, 0) == DeviceKind.NVR


def test_streaming_channel_ids_map_to_channel_and_role() -> None:
    body = b"""<StreamingChannelList xmlns="urn:psialliance-org"><StreamingChannel><id>1203</id><enabled>false</enabled>
    <Video><videoCodecType>H.265</videoCodecType><videoResolutionWidth>704</videoResolutionWidth>
    <videoResolutionHeight>576</videoResolutionHeight><maxFrameRate>1250</maxFrameRate>
    <videoQualityControlType>CBR</videoQualityControlType><constantBitRate>768</constantBitRate></Video>
    </StreamingChannel></StreamingChannelList>"""
    (s,) = parse.streaming_channels(body, "x")
    assert (s.channel, s.role, s.enabled, s.codec, s.fps, s.bitrate) == (12, StreamRole.THIRD, False, "hevc", 12.5,
                                                                           768_000)
    assert s.constant_bitrate is True  # CBR: the stream-health check may hold the camera to it
    cap = b"</constantBitRate><vbrUpperCap>2048</vbrUpperCap>"
    vbr = body.replace(b"CBR", b"VBR").replace(b"</constantBitRate>", cap)
    (v,) = parse.streaming_channels(vbr, "x")
    assert (v.bitrate, v.constant_bitrate) == (2_048_000, False)  # VBR: the figure is a ceiling


def test_nvr_alert_with_empty_channel_id_and_unpadded_offset() -> None:
    body = b"""<EventNotificationAlert version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">
    <channelID></channelID><dynChannelID>7</dynChannelID><dateTime>2026-11-22T08:00:00+7:00</dateTime>
    <eventType>linedetection</eventType><eventState>active</eventState>
    <DetectionRegionList><DetectionRegionEntry><detectionTarget>vehicle</detectionTarget></DetectionRegionEntry>
    </DetectionRegionList></EventNotificationAlert>"""
    a = parse.alert(body, "x")
    assert (a.heartbeat, a.kind, a.state, a.channel) == (False, EventKind.LINE_CROSSING, EventState.PULSE, 7)
    assert a.at is not None and a.at.utcoffset().total_seconds() == 7 * 3600
    assert a.data["targets"] == ["vehicle"]


def test_idle_videoloss_is_a_heartbeat_but_active_videoloss_is_an_event() -> None:
    idle = (b"<EventNotificationAlert><eventType>videoloss</eventType><eventState>inactive</eventState>"
            b"</EventNotificationAlert>")
    lost = idle.replace(b"inactive", b"active")
    assert parse.alert(idle, "x").heartbeat
    lost_alert = parse.alert(lost, "x")
    assert not lost_alert.heartbeat and lost_alert.kind == EventKind.VIDEO_LOSS


@pytest.mark.parametrize("body, message", [
    (b"<DeviceInfo><model>x</model>", "invalid XML"),
    (b"not xml at all", "invalid XML"),
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
     b"<DeviceInfo>&lol2;</DeviceInfo>", "refused unsafe XML"),
    (b"<ResponseStatus><statusCode>4</statusCode></ResponseStatus>", "expected <DeviceInfo>"),
    (b"<DeviceInfo><model>DS-2CD</model></DeviceInfo>", "lacks a model, or a serialNumber or macAddress"),
])
def test_bad_device_input_is_a_clear_device_error(body: bytes, message: str) -> None:
    with pytest.raises(DeviceError, match=message) as info:
        parse.device_info(body, "10.0.0.5:80: System/deviceInfo")
    assert str(info.value).startswith("10.0.0.5:80: System/deviceInfo: ")


def test_response_status() -> None:
    body = b"<ResponseStatus xmlns='http://www.isapi.org/ver20/XMLSchema'><statusCode>4</statusCode>" \
           b"<subStatusCode>notSupport</subStatusCode></ResponseStatus>"
    assert parse.response_status(body) == (4, "notSupport")
    assert parse.response_status(b"<DeviceInfo/>") is None
    assert parse.response_status(b"garbage") is None


@pytest.mark.parametrize(("channel", "known", "ip", "camera"), [
    (34, {1, 2, 3, 4}, [1, 2, 3, 4], 2),         # DS-7608NXI-I2: its second IP camera
    (33, {1, 2, 3, 4, 5, 6}, [5, 6], 5),         # a hybrid DVR: analog 1-4, the first IP channel is 5
    (40, set(range(1, 65)), list(range(1, 65)), 40),  # a 64-channel NVR's own channel 40
    (3, {1, 2, 3}, [], 3),
    (37, {1, 2}, [1, 2], 5),                     # past every IP channel: the offset alone
])
def test_an_alert_channel_past_32_is_placed_on_its_ip_camera(channel, known, ip, camera) -> None:  # noqa: ANN001
    assert parse.alert_channel(channel, known, ip) == camera
