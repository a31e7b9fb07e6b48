"""The hub's own RTSP client against GStreamer's RTSP server, and its RTP parsing on crafted bytes."""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import time
from collections.abc import Iterator
from fractions import Fraction

import av
import pytest

from hub.core.errors import DeviceAuthFailed, DeviceNotReady
from hub.core.models import StreamRole
from hub.core.rtsp import RtspClient, RtspUnsupported, access_units, parse_sdp
from hub.core.sources import UrlMediaInput
from hub.core.streams import FinishedSegment, Recorder, Relay
from hub.testing.fixtures import running
from hub.testing.rtsp import RtspServer, RtspUnavailable


@pytest.fixture
def camera(request: pytest.FixtureRequest) -> Iterator[RtspServer]:
    """A camera made to order: ``@pytest.mark.parametrize("camera", [{...}], indirect=True)``."""
    yield from running(lambda: RtspServer(**getattr(request, "param", {})), RtspUnavailable)


def read(container, seconds: float) -> list[av.Packet]:  # noqa: ANN001
    packets, until = [], time.monotonic() + seconds
    for packet in container.demux(container.streams.video[0]):
        if packet.dts is None or not packet.size:
            continue
        packets.append(packet)
        if time.monotonic() > until:
            break
    return packets


def decodes(container, packets: list[av.Packet]) -> int:  # noqa: ANN001
    """Frames decoded from ``packets`` muxed into a fragmented MP4, as the recorder writes them."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4", options={"movflags": "frag_keyframe+empty_moov"}) as out:
        stream = out.add_stream_from_template(container.streams.video[0])
        first = packets[0].dts
        for packet in packets:
            packet.stream = stream
            packet.dts -= first
            packet.pts -= first
            out.mux(packet)
    with av.open(io.BytesIO(buf.getvalue())) as back:
        return sum(1 for _ in back.decode(video=0))


def test_the_hubs_client_reads_the_very_frames_ffmpeg_reads(rtsp_server: RtspServer) -> None:
    url = rtsp_server.url("main")
    ours = UrlMediaInput(url, label="cam/main").open()
    theirs = UrlMediaInput(url, label="cam/main", client="ffmpeg").open()
    try:
        assert isinstance(ours, RtspClient) and not isinstance(theirs, RtspClient)
        video = ours.streams.video[0]
        assert (video.codec_context.name, video.codec_context.width, video.codec_context.height) == ("h264", 640, 360)
        assert video.time_base == Fraction(1, 90000)
        packets = read(ours, 3.0)
        reference = read(theirs, 3.0)
        assert decodes(ours, packets) == len(packets)
    finally:
        ours.close()
        theirs.close()

    assert packets[0].is_keyframe and packets[0].pts == 0
    steps = {b.pts - a.pts for a, b in zip(packets, packets[1:], strict=False)}
    assert steps == {90000 // rtsp_server.fps}  # one frame apart, every one of them
    keys = [i for i, p in enumerate(packets) if p.is_keyframe]
    assert keys == list(range(0, len(packets), rtsp_server.keyint))
    # Both clients watch the same camera: the same frames, byte for byte, in the same order.
    ffmpeg_frames = [hashlib.sha256(bytes(p)).digest() for p in reference]
    ours_frames = [hashlib.sha256(bytes(p)).digest() for p in packets]
    common = [f for f in ours_frames if f in set(ffmpeg_frames)]
    assert len(common) >= len(ours_frames) // 2
    assert common == [f for f in ffmpeg_frames if f in set(common)]
    assert [p.is_keyframe for p in packets if hashlib.sha256(bytes(p)).digest() in set(common)] == \
        [p.is_keyframe for p in reference if hashlib.sha256(bytes(p)).digest() in set(common)]


@pytest.mark.parametrize("camera", [{"credentials": ("admin", "Kunci-Digest-7"), "auth": "digest"}], indirect=True)
def test_digest_authentication_as_hikvision_and_dahua_ask_and_a_wrong_password_is_refused(
        camera: RtspServer) -> None:
    client = RtspClient(camera.url("sub"), "cam/sub", timeout=5).open()
    try:
        assert len(read(client, 1.0)) >= camera.fps // 2
    finally:
        client.close()

    wrong = f"rtsp://admin:not-the-password@127.0.0.1:{camera.port}/sub"
    with pytest.raises(DeviceAuthFailed) as refused:
        RtspClient(wrong, "cam/sub", timeout=5).open()
    assert "not-the-password" not in str(refused.value) and "rtsp://" not in str(refused.value)
    assert "cam/sub" in str(refused.value)


@pytest.mark.parametrize("camera", [{"codec": "h265", "kbits": 512}], indirect=True)
def test_h265_is_read_and_recorded(camera: RtspServer) -> None:
    client = UrlMediaInput(camera.url("main"), label="cam/main").open()
    try:
        assert isinstance(client, RtspClient)
        assert client.streams.video[0].codec_context.name == "hevc"
        packets = read(client, 2.5)
        assert decodes(client, packets) == len(packets)
    finally:
        client.close()
    assert packets[0].is_keyframe and sum(p.is_keyframe for p in packets) >= 2


@pytest.mark.parametrize("camera", [{"codec": "jpeg"}], indirect=True)
def test_a_codec_the_client_does_not_know_is_read_by_ffmpeg(camera: RtspServer) -> None:
    media = UrlMediaInput(camera.url("main"), label="cam/main")
    container = media.open()
    try:
        assert not isinstance(container, RtspClient)
        assert container.streams.video[0].codec_context.name == "mjpeg"
        assert len(read(container, 1.0)) >= 5
    finally:
        container.close()
        media.close()


@pytest.mark.parametrize("camera", [{"bframes": 2, "keyint": 15}], indirect=True)
def test_a_stream_with_b_frames_moves_to_ffmpeg_and_is_recorded_all_the_same(camera, tmp_path) -> None:  # noqa: ANN001
    url = camera.url("main")
    segments: list[FinishedSegment] = []
    relay = Relay("rtsp:b:1", StreamRole.MAIN, lambda: UrlMediaInput(url, label="cam/main"), backoff_max=1.0)
    relay.add(Recorder("rtsp:b:1", StreamRole.MAIN, tmp_path, 2, segments.append))
    relay.start()
    deadline = time.monotonic() + 30
    while len(segments) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    relay.stop()

    assert relay.stats.reconnects == 0 and relay.stats.errors == 0  # found out while opening
    assert len(segments) >= 2
    for i, segment in enumerate(segments):
        with av.open(str(segment.path)) as back:
            frames = [f.pts for f in back.decode(video=0)]
        assert frames and frames == sorted(frames), "every frame decodes, in order"
        if i < 2:  # the two that ended on their own; stopping may close a third early
            assert len(frames) >= 15
    # A new connection to the same stream goes to FFmpeg at once.
    container = UrlMediaInput(url, label="cam/main").open()
    assert not isinstance(container, RtspClient)
    container.close()


def test_stopping_a_relay_ends_the_session_promptly(rtsp_server: RtspServer) -> None:
    relay = Relay("rtsp:s:1", StreamRole.SUB, lambda: UrlMediaInput(rtsp_server.url("sub"), label="cam/sub"))
    relay.start()
    deadline = time.monotonic() + 10
    while relay.stats.packets < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert relay.stats.packets >= 5
    started = time.monotonic()
    relay.stop()
    assert time.monotonic() - started < 1.5
    assert not relay._thread.is_alive()


# RTP on crafted bytes: what a lossy or odd camera sends, without a camera.

def rtp(seq: int, ts: int, payload: bytes, marker: bool = False, channel: int = 0) -> bytes:
    header = bytes([0x80, (0x80 if marker else 0) | 96]) + seq.to_bytes(2, "big") + ts.to_bytes(4, "big") + b"\0" * 4
    body = header + payload
    return b"$" + bytes([channel]) + len(body).to_bytes(2, "big") + body


def fu_a(nal: bytes, size: int) -> list[bytes]:
    """``nal`` cut into FU-A fragments of ``size`` bytes (RFC 6184 5.8)."""
    head, body = nal[0], nal[1:]
    chunks = [body[i:i + size] for i in range(0, len(body), size)]
    out = []
    for i, chunk in enumerate(chunks):
        fu = (0x80 if i == 0 else 0) | (0x40 if i == len(chunks) - 1 else 0) | (head & 0x1F)
        out.append(bytes([(head & 0xE0) | 28, fu]) + chunk)
    return out


def units(stream: bytes, batch: int = 7) -> list[av.Packet]:
    """Access units from ``stream`` handed over in odd-sized reads, as TCP does."""
    pieces = iter([stream[i:i + batch] for i in range(0, len(stream), batch)])
    return list(access_units(lambda: next(pieces, None), "h264"))


SPS, PPS = bytes([0x67, 0x42, 0xC0, 0x1E]) + b"\x11" * 8, bytes([0x68, 0xCE, 0x3C, 0x80])
IDR = bytes([0x65]) + bytes(range(256)) * 12
SLICE = bytes([0x41]) + b"\x22" * 900


def test_fragments_and_aggregates_become_annex_b_access_units() -> None:
    stap = bytes([24]) + len(SPS).to_bytes(2, "big") + SPS + len(PPS).to_bytes(2, "big") + PPS
    wire = rtp(1, 1000, stap)
    for i, frag in enumerate(fu_a(IDR, 1000)):
        wire += rtp(2 + i, 1000, frag, marker=i == 3)  # IDR is 3,073 bytes: four fragments
    wire += rtp(6, 4600, SLICE, marker=True)
    wire += b"RTSP/1.0 200 OK\r\nCSeq: 7\r\nContent-Length: 0\r\n\r\n"  # a keepalive's answer in between
    wire += rtp(7, 8200, SLICE)  # no marker: the next timestamp ends it
    wire += rtp(8, 11800, SLICE, marker=True)

    got = units(wire)
    start = b"\0\0\0\1"
    assert [bytes(p) for p in got] == [start + SPS + start + PPS + start + IDR, start + SLICE, start + SLICE,
                                       start + SLICE]
    assert [p.pts for p in got] == [0, 3600, 7200, 10800]
    assert [p.is_keyframe for p in got] == [True, False, False, False]


def test_a_lost_fragment_drops_only_its_nal_unit_and_the_clock_runs_on_across_its_wrap() -> None:
    near_wrap = 2**32 - 3600
    frags = fu_a(IDR, 1000)
    wire = rtp(65533, near_wrap - 3600, SLICE, marker=True)
    wire += rtp(65534, near_wrap, SPS)
    wire += rtp(65535, near_wrap, frags[0])
    wire += rtp(1, near_wrap, frags[2])  # seq 0 (frags[1]) never came
    wire += rtp(2, near_wrap, frags[3], marker=True)
    wire += rtp(3, 0, SLICE, marker=True)  # the 32-bit clock wrapped: one frame later
    wire += rtp(4, 3600, SLICE, marker=True)

    got = units(wire, batch=1500)
    start = b"\0\0\0\1"
    # The torn IDR is gone, and with it the unit's claim to be a keyframe; nothing else is lost.
    assert [bytes(p) for p in got] == [start + SLICE, start + SPS, start + SLICE, start + SLICE]
    assert [p.pts for p in got] == [0, 3600, 7200, 10800]
    assert not any(p.is_keyframe for p in got)


def test_frames_sent_again_are_dropped_b_frames_and_a_lost_session_are_reported() -> None:
    again = [0, 3600, 7200, 0, 3600, 10800, 14400]  # GStreamer repeats a shared stream's first frames
    wire = b"".join(rtp(i, ts, SLICE, marker=True) for i, ts in enumerate(again))
    assert [p.pts for p in units(wire)] == [0, 3600, 7200, 10800, 14400]
    restart = [0, 3600, 7200, 900_000, 903_600, 3600, 7200]  # a step back of seconds: a new start
    wire = b"".join(rtp(i, ts, SLICE, marker=True) for i, ts in enumerate(restart))
    assert [p.pts for p in units(wire)] == restart

    ibbp = [0, 10800, 3600, 7200, 21600, 14400, 18000]  # decoding order
    wire = b"".join(rtp(i, ts, SLICE, marker=True) for i, ts in enumerate(ibbp))
    with pytest.raises(RtspUnsupported, match="out of order"):
        units(wire)
    gone = rtp(1, 0, SLICE, marker=True) + b"RTSP/1.0 454 Session Not Found\r\nCSeq: 9\r\n\r\n"
    with pytest.raises(DeviceNotReady, match="454"):
        units(gone)
    # A status of digits that are not ASCII ('\xb200' reads as superscript two, 0, 0): found by
    # `make fuzz`; int() refused it, and the relay's thread died of a ValueError.
    odd = b"RTSP/1.0 \xb200 OK\r\nCSeq: 5\r\n\r\n" + rtp(1, 0, SLICE, marker=True)
    assert [p.pts for p in units(odd)] == [0]


def test_session_descriptions_as_cameras_write_them() -> None:
    hikvision = (
        "v=0\r\no=- 1109162014219182 1109162014219192 IN IP4 x.y.z.w\r\ns=Media Presentation\r\n"
        "c=IN IP4 0.0.0.0\r\nt=0 0\r\na=control:*\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
        "a=fmtp:96 profile-level-id=420029; packetization-mode=1; "
        "sprop-parameter-sets=Z00AKpWoHgCJ+WEAAAcIAAFfkAQ=,aO48gA==\r\n"
        "a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=1?transportmode=unicast\r\n"
        "m=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:trackID=2\r\n")
    video = parse_sdp(hikvision)
    assert video is not None and video.codec == "h264"
    assert video.parameter_sets[1] == bytes([0x68, 0xEE, 0x3C, 0x80])
    assert video.control is not None and video.control.endswith("trackID=1?transportmode=unicast")

    h265 = ("v=0\r\nm=video 0 RTP/AVP 98\r\na=rtpmap:98 H265/90000\r\n"
            "a=fmtp:98 sprop-vps=QAEMAf//AWAAAAMAAAMAAAMAAAMAlqwJ; "
            "sprop-sps=QgEBAWAAAAMAAAMAAAMAAAMAlqABQCAFIWWWmkoNwQ==; sprop-pps=RAHA8vA8kAA=\r\na=control:trackID=1\r\n")
    video = parse_sdp(h265)
    assert video is not None and video.codec == "h265" and len(video.parameter_sets) == 3
    mjpeg = "v=0\r\nm=video 0 RTP/AVP 26\r\na=rtpmap:26 JPEG/90000\r\n"
    assert parse_sdp(mjpeg) is None


@pytest.mark.parametrize("client", ["hub", "ffmpeg"])
async def test_a_source_can_be_told_to_leave_rtsp_to_ffmpeg(rtsp_server: RtspServer, client: str,
                                                              tmp_path) -> None:  # noqa: ANN001
    from hub.core.config import load_config
    from hub.core.plugins import Plugins
    from hub.inventory import build_source

    config = tmp_path / "hub.yaml"
    config.write_text(f"version: 1\nsources:\n  - {{type: rtsp, name: toko, url: '{rtsp_server.url('main')}', "
                      f"rtsp_client: {client}}}\n")
    plugins = Plugins().load()
    source = build_source(load_config(config, plugins).model.sources[0], plugins, tmp_path)
    [found] = await source.probe()
    camera = found.cameras[0]
    media = source.open_media(camera, camera.streams[0])
    container = media.open()
    try:
        assert isinstance(container, RtspClient) == (client == "hub")
        assert len(read(container, 1.0)) >= 5, "frames either way"
    finally:
        container.close()
        media.close()
        await source.close()


def test_a_wrong_rtsp_client_is_a_clear_config_error(tmp_path) -> None:  # noqa: ANN001
    from hub.core.config import load_config
    from hub.core.errors import ConfigError
    from hub.core.plugins import Plugins

    config = tmp_path / "hub.yaml"
    config.write_text("version: 1\nsources:\n  - {type: rtsp, name: toko, url: 'rtsp://10.0.0.7/s', "
                      "rtsp_client: gstreamer}\n")
    with pytest.raises(ConfigError, match="rtsp_client"):
        load_config(config, Plugins().load())


def h264_frames(count: int) -> tuple[list[bytes], list[list[bytes]]]:
    """Parameter sets and, per frame, its NAL units: a small real H.264 stream (no B-frames)."""
    import numpy as np

    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt, codec.time_base = 64, 64, "yuv420p", Fraction(1, 25)
    codec.options = {"profile": "baseline", "g": "10", "bframes": "0", "repeat-headers": "0"}
    codec.open()
    annex_b = []
    for i in range(count):
        picture = np.full((64, 64, 3), (i * 9) % 255, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        annex_b += [bytes(p) for p in codec.encode(frame)]
    annex_b += [bytes(p) for p in codec.encode(None)]
    sets, frames = [], []
    for unit in annex_b:
        nals = [n.lstrip(b"\0") for n in unit.split(b"\0\0\1") if n.strip(b"\0")]
        sets += [n for n in nals if n[0] & 0x1F in (7, 8) and n not in sets]
        frames.append([n for n in nals if n[0] & 0x1F not in (6, 7, 8)])
    return sets, frames


class NonceRenewingCamera:
    """An RTSP camera (Digest) that declares its nonce stale on the first keepalive, as some do after a while."""

    def __init__(self) -> None:
        import socket
        import threading

        self.sets, self.frames = h264_frames(50)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.nonce, self.connections, self.log = "first", 0, []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _answer(self, conn, request: str) -> None:  # noqa: ANN001
        import base64

        method, cseq = request.split(" ", 1)[0], re.search(r"CSeq: (\d+)", request).group(1)  # type: ignore[union-attr]
        given = re.search(r'nonce="([^"]*)"', request)
        keepalive = method in ("OPTIONS", "GET_PARAMETER") and ("PLAY", "first", 200) in self.log
        if keepalive and self.nonce == "first":
            self.nonce = "second"  # the first one has gone stale
        ok = given is not None and given.group(1) == self.nonce
        status = 200 if ok else 401
        self.log.append((method, given.group(1) if given else None, status))
        head = f"RTSP/1.0 {status} {'OK' if ok else 'Unauthorized'}\r\nCSeq: {cseq}\r\n"
        body = b""
        if not ok:
            stale = ", stale=TRUE" if given else ""
            head += f'WWW-Authenticate: Digest realm="cam", nonce="{self.nonce}"{stale}\r\n'
        elif method == "DESCRIBE":
            sprop = ",".join(base64.b64encode(s).decode() for s in self.sets)
            body = (f"v=0\r\ns=cam\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                    f"a=fmtp:96 packetization-mode=1;sprop-parameter-sets={sprop}\r\na=control:track1\r\n").encode()
            head += f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n"
        elif method == "SETUP":
            head += "Session: 4242;timeout=10\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"
        elif method == "OPTIONS":
            head += "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n"
        conn.sendall(head.encode() + b"\r\n" + body)

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.settimeout(0.04)
            buf, seq, frame, playing = b"", 0, 0, False
            with conn:
                while not self.stop.is_set():
                    try:
                        data = conn.recv(65536)
                        if not data:
                            break
                        buf += data
                    except TimeoutError:
                        pass
                    except OSError:
                        break
                    while b"\r\n\r\n" in buf:
                        request, buf = buf.split(b"\r\n\r\n", 1)
                        try:
                            self._answer(conn, request.decode())
                        except OSError:  # the client has gone (after its TEARDOWN)
                            playing = False
                            break
                        playing = playing or self.log[-1][:3:2] == ("PLAY", 200)
                    if playing:  # one frame per 40 ms, round and round
                        nals = self.frames[frame % len(self.frames)]
                        ts = frame * 3600
                        packets = []
                        for k, nal in enumerate(nals):
                            last = k == len(nals) - 1
                            if len(nal) <= 1400:
                                packets.append(rtp(seq, ts, nal, marker=last))
                                seq += 1
                            else:
                                parts = fu_a(nal, 1400)
                                for j, part in enumerate(parts):
                                    packets.append(rtp(seq, ts, part, marker=last and j == len(parts) - 1))
                                    seq += 1
                        with contextlib.suppress(OSError):
                            conn.sendall(b"".join(packets))
                        frame += 1

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.listener.close()


def test_a_camera_that_renews_its_digest_nonce_mid_session_keeps_streaming() -> None:
    camera = NonceRenewingCamera()
    client = RtspClient(f"rtsp://pantau:rahasia@127.0.0.1:{camera.port}/live", "cam/live", timeout=5)
    try:
        container = client.open()
        got, until = 0, time.monotonic() + 8  # the first keepalive goes out after 5 s
        for packet in container.demux(container.streams.video[0]):
            got += 1 if packet.size else 0
            if time.monotonic() > until:
                break
    finally:
        client.close()
        camera.close()
    keepalives = [(nonce, status) for method, nonce, status in camera.log[4:] if method == "OPTIONS"]
    assert keepalives[:2] == [("first", 401), ("second", 200)], "the stale nonce was answered with the new one"
    assert camera.connections == 1, "no reconnect"
    assert got >= 150, "frames all along"
