"""Relay and recorder on a real encoded stream (the demo device)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import av

from hub.core.errors import DeviceNotReady
from hub.core.models import StreamRole
from hub.core.sources import MediaInput
from hub.core.streams import EventRecorder, Figures, FinishedSegment, HlsOutput, Recorder, Relay
from plugins.demo.synth import Painter, SyntheticStream


def demo_input() -> SyntheticStream:
    return SyntheticStream(Painter("Test", 320, 180, hue=1), fps=10, keyframe_seconds=1, label="test")


def decode(path_or_bytes, tolerate: int = 0) -> tuple[int, float, bool]:  # noqa: ANN001
    """Frames decoded, seconds covered, and whether the first frame is a keyframe.

    ``tolerate`` packets may fail to decode, as a player skips the torn end of a file.
    """
    src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else str(path_or_bytes)
    frames, broken = [], 0
    with av.open(src) as c:
        for packet in c.demux(video=0):
            try:
                frames.extend(packet.decode())
            except av.error.InvalidDataError:
                broken += 1
    assert broken <= tolerate, f"{broken} packets did not decode"
    span = float((frames[-1].pts - frames[0].pts) * frames[0].time_base) + 0.1 if frames else 0.0
    return len(frames), span, bool(frames and frames[0].key_frame)


def record(tmp_path: Path, seconds: float, segment_seconds: float = 2) -> tuple[Relay, list[FinishedSegment]]:
    segments: list[FinishedSegment] = []
    relay = Relay("demo:T:1", StreamRole.MAIN, demo_input)
    relay.add(Recorder("demo:T:1", StreamRole.MAIN, tmp_path, segment_seconds, segments.append))
    relay.start()
    time.sleep(seconds)
    relay.stop()
    return relay, segments


def test_segments_start_on_keyframes_are_contiguous_and_decode(tmp_path: Path) -> None:
    relay, segments = record(tmp_path, 7.5)
    assert len(segments) >= 3
    for seg in segments:
        frames, span, keyframe_first = decode(seg.path)
        assert keyframe_first, "a segment must start on a keyframe"
        assert frames >= (15 if seg is not segments[-1] else 1)
        assert abs(span - seg.duration) < 0.15, (span, seg.duration)
    for earlier, later in zip(segments, segments[1:], strict=False):
        assert abs((later.start - earlier.end).total_seconds()) < 0.01
    total = sum(s.duration for s in segments)
    assert 5.0 <= total <= 7.6  # all that was received, less the wait for the first keyframe
    assert all(2.0 <= s.duration <= 3.1 for s in segments[:-1])
    assert relay.stats.packets >= 60 and relay.stats.errors == 0


def test_a_segment_cut_short_plays_up_to_its_last_fragment(tmp_path: Path) -> None:
    _, segments = record(tmp_path, 4.5, segment_seconds=4)
    data = segments[0].path.read_bytes()
    cut = data[: int(len(data) * 0.7)]  # a power cut in the middle of a fragment
    frames, span, _ = decode(cut, tolerate=1)
    assert frames >= 10 and span >= 1.0


class FlakyInput(MediaInput):
    """Fails the first two opens, like a camera still booting."""

    attempts = 0

    def __init__(self) -> None:
        self.inner = demo_input()
        self.label = "flaky"

    def open(self):  # noqa: ANN201
        FlakyInput.attempts += 1
        if FlakyInput.attempts <= 2:
            raise DeviceNotReady("127.0.0.1:554: connection refused")
        return self.inner.open()

    def close(self) -> None:
        self.inner.close()


def test_relay_reconnects_with_backoff_and_then_records(tmp_path: Path) -> None:
    segments: list[FinishedSegment] = []
    relay = Relay("demo:T:1", StreamRole.MAIN, FlakyInput, backoff_max=0.5)
    relay.add(Recorder("demo:T:1", StreamRole.MAIN, tmp_path, 2, segments.append))
    relay.start()
    deadline = time.monotonic() + 15
    while not segments and time.monotonic() < deadline:
        time.sleep(0.2)
    relay.stop()
    assert relay.stats.reconnects >= 2 and relay.stats.errors >= 2
    assert relay.stats.last_error == "127.0.0.1:554: connection refused"  # the device's words, kept
    assert segments, "recording should start once the camera answers"


def test_a_failing_consumer_does_not_stop_the_others(tmp_path: Path) -> None:
    class Broken:
        node_id = "broken"

        def __init__(self) -> None:
            from hub.core.models import NodeStats

            self.stats = NodeStats()

        def begin(self, stream) -> None:  # noqa: ANN001
            pass

        def packet(self, packet, arrived) -> None:  # noqa: ANN001
            raise ValueError("bad consumer")

        def end(self) -> None:
            pass

    segments: list[FinishedSegment] = []
    relay = Relay("demo:T:1", StreamRole.MAIN, demo_input)
    broken = Broken()
    relay.add(broken)
    relay.add(Recorder("demo:T:1", StreamRole.MAIN, tmp_path, 2, segments.append))
    relay.start()
    deadline = time.monotonic() + 15
    while not (segments and broken.stats.errors > 10) and time.monotonic() < deadline:
        time.sleep(0.1)
    relay.stop()
    assert broken.stats.errors > 10
    assert segments and relay.stats.reconnects == 0


class LateKeyframe(MediaInput):
    """A stream joined between keyframes: its first keyframe comes seconds after the first packet."""

    def __init__(self) -> None:
        self.inner = SyntheticStream(Painter("Late", 320, 180, hue=2), fps=10, keyframe_seconds=5, label="late")
        self.label = "late"

    def open(self):  # noqa: ANN201
        container = self.inner.open()

        class Joined:  # what the stream graph uses of a container
            streams = container.streams

            @staticmethod
            def demux(stream):  # noqa: ANN001, ANN205
                first = True
                for packet in container.demux(stream):
                    if first and packet.is_keyframe:
                        first = False
                        continue  # the keyframe before we joined
                    first = False
                    yield packet

            @staticmethod
            def close() -> None:
                container.close()

        return Joined()

    def close(self) -> None:
        self.inner.close()


def test_stopping_before_the_first_keyframe_leaves_nothing_behind(tmp_path: Path) -> None:
    segments: list[FinishedSegment] = []
    relay = Relay("demo:T:1", StreamRole.MAIN, LateKeyframe)
    relay.add(Recorder("demo:T:1", StreamRole.MAIN, tmp_path, 2, segments.append))
    relay.start()
    until_packets = time.monotonic() + 10
    while relay.stats.packets < 5 and time.monotonic() < until_packets:
        time.sleep(0.05)
    relay.stop()
    assert relay.stats.packets >= 5, "the stream delivered nothing"
    assert segments == [] and list(tmp_path.iterdir()) == [], "no segment and no partial file without a keyframe"


def test_snapshots_come_from_the_latest_keyframe_and_are_cached_briefly(tmp_path: Path) -> None:
    from PIL import Image

    from hub.core.streams import KeyframeSnapshots

    relay = Relay("demo:T:1", StreamRole.MAIN, demo_input)
    snaps = KeyframeSnapshots("demo:T:1", StreamRole.MAIN, cache_seconds=5)
    relay.add(snaps)
    assert snaps.jpeg() is None, "nothing received yet"
    relay.start()
    try:
        deadline = time.monotonic() + 10
        while snaps.stats.packets < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        first = snaps.jpeg()
        assert first is not None
        assert Image.open(io.BytesIO(first)).size == (320, 180)
        time.sleep(1.2)  # a newer keyframe arrived: still the cached picture within cache_seconds
        assert snaps.jpeg() is first
        keyframes = snaps.stats.packets
        assert keyframes >= 3 and relay.stats.packets >= keyframes * 5, "only keyframes are kept"
    finally:
        relay.stop()
    assert snaps.jpeg() is None, "a stopped stream gives no current picture"


def test_a_device_session_cap_makes_the_extra_stream_wait_its_turn(tmp_path: Path) -> None:
    import threading

    slots = threading.BoundedSemaphore(2)
    relays = [Relay(f"demo:T:{i}", StreamRole.MAIN, demo_input, sessions=slots) for i in range(3)]
    for relay in relays:
        relay.start()
    try:
        time.sleep(3)
        receiving = [r for r in relays if r.stats.packets > 0]
        waiting = [r for r in relays if r.waiting]
        assert len(receiving) == 2 and len(waiting) == 1, "two sessions at most"
        assert waiting[0].stats.packets == 0 and "waiting" in (waiting[0].stats.last_error or "")
        receiving[0].stop()  # a stream is no longer wanted: its session goes to the waiting one
        deadline = time.monotonic() + 10
        while waiting[0].stats.packets == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert waiting[0].stats.packets > 0 and not waiting[0].waiting
    finally:
        for relay in relays:
            relay.stop()


class Witness:
    """A consumer that notes the timestamps it is handed."""

    def __init__(self) -> None:
        self.node_id = "witness"
        self.stats = Figures()
        self.seen: list[tuple[int | None, int | None]] = []

    def begin(self, stream: object) -> None:
        pass

    def packet(self, packet: av.Packet, arrived: float) -> None:
        self.seen.append((packet.dts, packet.pts))

    def end(self) -> None:
        pass


def test_consumers_of_one_relay_never_see_each_others_rewritten_timestamps(tmp_path: Path) -> None:
    first, middle, last = Witness(), Witness(), Witness()
    relay = Relay("demo:T:1", StreamRole.MAIN, demo_input)
    relay.add(first)
    relay.add(Recorder("demo:T:1", StreamRole.MAIN, tmp_path / "rec", 2, lambda seg: None))
    relay.add(middle)
    live = HlsOutput("demo:T:1", StreamRole.MAIN, tmp_path / "live", segment_seconds=1)
    relay.add(live)
    relay.add(last)
    relay.start()
    time.sleep(4.5)
    relay.stop()
    # The recorder and the live output each rewrite timestamps for their own files, and put them back.
    assert len(first.seen) >= 30 and first.seen == middle.seen == last.seen
    playlist = live.playlist.read_text()
    assert playlist.count("#EXTINF") >= 2 and "#EXT-X-DISCONTINUITY" not in playlist
    live.close()
    assert not live.directory.exists()


def test_an_event_recorder_keeps_the_pre_roll_and_stops_after_the_post_roll(tmp_path: Path) -> None:
    segments: list[FinishedSegment] = []
    recorder = EventRecorder("demo:T:1", StreamRole.MAIN, tmp_path, 10, segments.append, pre_roll=2)
    relay = Relay("demo:T:1", StreamRole.MAIN, demo_input)  # a keyframe every second
    relay.add(recorder)
    relay.start()
    time.sleep(4)
    assert not segments and not list(tmp_path.glob("*.mp4"))  # nothing is written before an event
    event = time.time()
    recorder.trigger(event + 1.5)  # a pulse with 1.5 s of post-roll
    time.sleep(3.5)
    relay.stop()
    assert len(segments) == 1
    seg = segments[0]
    start, end = seg.start.timestamp(), seg.end.timestamp()
    assert event - 3.2 <= start <= event - 1.8  # the keyframe at or before the pre-roll's first second
    assert abs(end - (event + 1.5)) < 0.4  # the post-roll, then it stopped
    frames, span, keyframe_first = decode(seg.path)
    assert keyframe_first and abs(span - seg.duration) < 0.15
