"""ONVIF replies into models: profiles, clocks and notification topics."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace as NS

from hub.core.models import EventKind, EventState, StreamRole
from plugins.onvif import parse


def profile(token: str, source: str, width: int, height: int) -> NS:
    return NS(token=token, Name=token, VideoSourceConfiguration=NS(SourceToken=source, token=source + "C"),
              VideoEncoderConfiguration=NS(Encoding="H265", Resolution=NS(Width=width, Height=height),
                                           RateControl=NS(FrameRateLimit=20, BitrateLimit=2048)))


def test_profiles_group_by_video_source_and_rank_by_resolution() -> None:
    raw = [profile("a2", "vs1", 640, 360), profile("a1", "vs1", 2560, 1440), profile("b1", "vs2", 1280, 720),
           NS(token="audio", Name="audio only", VideoSourceConfiguration=None, VideoEncoderConfiguration=None)]
    infos = [p for r in raw if (p := parse.profile_info(r)) is not None]
    grouped = parse.cameras_from_profiles(infos)
    assert [(ch, src, [(role, p.token) for role, p in ranked]) for ch, src, ranked in grouped] == [
        (1, "vs1", [(StreamRole.MAIN, "a1"), (StreamRole.SUB, "a2")]), (2, "vs2", [(StreamRole.MAIN, "b1")])]
    assert (infos[1].codec, infos[1].fps, infos[1].bitrate) == ("hevc", 20.0, 2_048_000)


def test_device_clock() -> None:
    sdt = NS(UTCDateTime=NS(Date=NS(Year=2026, Month=11, Day=22), Time=NS(Hour=4, Minute=5, Second=6)))
    assert parse.device_utc(sdt) == datetime(2026, 11, 22, 4, 5, 6, tzinfo=UTC)
    assert parse.device_utc(NS(UTCDateTime=None)) is None


def note(topic: str, key: str, value: str, operation: str = "Changed") -> parse.Notification:
    return parse.Notification(topic=topic, at=None, operation=operation,
                              source={"VideoSourceConfigurationToken": "vs1C"}, data={key: value})


def test_topics_into_event_kinds_and_states() -> None:
    motion = parse.event_of(note("tns1:RuleEngine/CellMotionDetector/Motion", "IsMotion", "true"))
    assert (motion.kind, motion.state, motion.source) == (EventKind.MOTION, EventState.START, "vs1C")
    stop = parse.event_of(note("tns1:RuleEngine/CellMotionDetector/Motion", "IsMotion", "false"))
    assert stop.state == EventState.STOP
    tamper = parse.event_of(note("tns1:RuleEngine/TamperDetector/Tamper", "IsTamper", "true"))
    assert tamper.kind == EventKind.TAMPER
    crossed = parse.event_of(note("tns1:RuleEngine/LineDetector/Crossed", "ObjectId", "12"))
    assert (crossed.kind, crossed.state) == (EventKind.LINE_CROSSING, EventState.PULSE)
    other = parse.event_of(note("tns1:Monitoring/ProcessorUsage", "Value", "12"))
    assert other.kind == EventKind.OTHER and other.detail == "Monitoring/ProcessorUsage"


def test_an_idle_initial_state_is_not_an_event_but_an_active_one_is() -> None:
    assert parse.event_of(note("tns1:VideoSource/MotionAlarm", "State", "false", "Initialized")) is None
    active = parse.event_of(note("tns1:VideoSource/MotionAlarm", "State", "true", "Initialized"))
    assert active is not None and active.state == EventState.START
