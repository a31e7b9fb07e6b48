"""The hub's own RTSP client for H.264 and H.265 over TCP: few wake-ups per stream.

FFmpeg's RTSP demuxer reads an interleaved TCP stream one RTP packet at a
time: a ``poll`` and a ``recv`` for the ``$`` byte, the header and the
payload, about a hundred system calls for each 1080p frame, which is most
of what recording a camera costs.  This client reads the same stream in
batches instead: the socket wakes its thread only when ``BATCH_BYTES`` have
arrived or ``BATCH_SECONDS`` have passed (``SO_RCVLOWAT`` and
``SO_RCVTIMEO``, no poll), and one wake-up parses every RTP packet it
brought.  RTP payloads are put back together into access units (RFC 6184
for H.264, RFC 7798 for H.265) in Annex B form, the form FFmpeg's own
demuxer hands out, so every consumer of a relay works as before.

``RtspClient`` looks like the part of a PyAV input container the stream
graph uses (``streams.video[0]``, ``demux``, ``close``); its video stream is
a real PyAV stream, made by FFmpeg's H.264/H.265 parser from the first
keyframe, so muxers take it as a template.  Whatever it does not handle
raises ``RtspUnsupported`` (another codec, no video, reordered frames), and
``UrlMediaInput`` then reads that stream through FFmpeg: RTSP over UDP, TLS
(``rtsps``) and B-frames stay FFmpeg's.  Requests carry no credentials in
their URLs; Basic and Digest (MD5) authentication answer a 401.  Errors
name the stream's label, never its URL.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import io
import logging
import os
import re
import socket
import struct
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import av

from hub.core.errors import DeviceAuthFailed, DeviceNotReady, DeviceUnsupported

log = logging.getLogger(__name__)

#: A wake-up of the reading thread waits for this many bytes ...
BATCH_BYTES = 256 * 1024
#: ... or this long, whichever comes first.  Each wake-up costs more than the
#: parsing it brings (measured: 209, 115 and 80 us of CPU per 1080p frame at
#: 0.04, 0.1 and 0.2 s); 0.2 s is nothing to a recording or a 2 s HLS segment.
BATCH_SECONDS = 0.2
#: An RTP packet up to this many sequence numbers behind the next one expected
#: is a repeat and is dropped (GStreamer's server repeats the first packets of a
#: shared stream when a second client joins); further back is a new start.
REPEAT_WINDOW = 1024
#: ``open`` reads this many frames past the first keyframe (or for this long) before it returns.
LOOK_AHEAD_UNITS = 8
LOOK_AHEAD_SECONDS = 1.0
RTP_CLOCK = 90_000
TIME_BASE = Fraction(1, RTP_CLOCK)
START_CODE = b"\x00\x00\x00\x01"
USER_AGENT = "Pantau Hub"


class RtspUnsupported(DeviceUnsupported):
    """The stream needs FFmpeg's RTSP client (codec, transport or frame order)."""


class _Streams:
    """``container.streams`` as far as the stream graph reads it."""

    def __init__(self, video: list[Any]) -> None:
        self.video = video


class _Response:
    def __init__(self, status: int, reason: str, headers: dict[str, list[str]], body: bytes) -> None:
        self.status, self.reason, self.headers, self.body = status, reason, headers, body

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


class RtspClient:
    """One RTSP session receiving one H.264 or H.265 video stream as RTP over TCP.

    ``open`` connects, authenticates, sets up and plays, and waits for the
    first keyframe; ``demux`` then yields access units as ``av.Packet``
    (pts and dts on a 90 kHz clock from 0, keyframes flagged) until the
    stream ends or ``interrupt`` is called.  Blocking: run it in a thread.
    """

    def __init__(self, url: str, label: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "rtsp" or not parts.hostname:
            raise RtspUnsupported(f"{label}: not a plain rtsp:// URL")
        self.label = label
        self.timeout = timeout
        self._host, self._port = parts.hostname, parts.port or 554
        netloc = self._host if ":" not in self._host else f"[{self._host}]"
        self._url = urlunsplit(("rtsp", f"{netloc}:{self._port}" if parts.port else netloc,
                                parts.path or "/", parts.query, ""))
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password is not None else ""
        self._sock: socket.socket | None = None
        self._buf = b""
        self._cseq = 0
        self._auth: tuple[str, dict[str, str]] | None = None  # scheme, challenge
        self._nc = 0
        self._reauths = 0  # 401s answered in a row while streaming
        self._session: str | None = None
        self._keepalive = 30.0
        self._keepalive_method = "OPTIONS"
        self._control = self._url
        self._play_cseq = -1
        self._next_keepalive = 0.0
        self._channel = 0
        self._codec = "h264"
        self._parameter_sets: list[bytes] = []
        self._ahead: list[av.Packet] = []  # read by ``open``, handed out first by ``demux``
        self._template: Any = None
        self.streams = _Streams([])
        self._units_under_way: Iterator[av.Packet] | None = None
        self._media = False  # reading media: reads return every BATCH_SECONDS at the latest
        self._stopping = False
        #: Why this stream needs FFmpeg's client, once found out while streaming.
        self.unsupported: str | None = None

    # -- the container surface -------------------------------------------------

    def open(self) -> RtspClient:
        try:
            self._connect()
            self._describe()
            self._setup()
            self._play()
            self._start_media()
        except BaseException:
            self.close()
            raise
        return self

    def demux(self, stream: Any = None) -> Iterator[av.Packet]:
        """Access units until the stream ends; the first is the keyframe ``open`` waited for."""
        ahead, self._ahead = self._ahead, []
        yield from ahead
        if self._units_under_way is not None:
            yield from self._units_under_way

    def interrupt(self) -> None:
        """Make a blocked read return soon (from any thread)."""
        self._stopping = True
        sock = self._sock
        if sock is not None and not self._media:  # a handshake read may wait for `timeout`
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            if self._session is not None and self._media:
                try:  # a courtesy: the camera frees the session now rather than at its timeout
                    sock.settimeout(1.0)
                    sock.sendall(self._request_bytes("TEARDOWN", self._url))
                except OSError:
                    pass
            sock.close()
        self._stopping = True
        self._units_under_way = None
        template, self._template = self._template, None
        if template is not None:
            template.close()

    # -- RTSP requests ---------------------------------------------------------

    def _connect(self) -> None:
        try:
            sock = socket.create_connection((self._host, self._port), timeout=self.timeout)
        except OSError as err:
            raise DeviceNotReady(f"{self.label}: cannot connect ({err.strerror or type(err).__name__})") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock

    def _describe(self) -> None:
        self._options()
        resp = self._request("DESCRIBE", self._url, {"Accept": "application/sdp"})
        base = resp.header("Content-Base") or resp.header("Content-Location") or self._url
        media = parse_sdp(resp.body.decode("utf-8", "replace"))
        if media is None:
            raise RtspUnsupported(f"{self.label}: no H.264 or H.265 video in the stream's description")
        self._codec = media.codec
        self._parameter_sets = media.parameter_sets
        self._control = _control_url(base, media.session_control, media.control)

    def _options(self) -> None:
        resp = self._request("OPTIONS", self._url)
        public = (resp.header("Public") or "").upper()
        if "GET_PARAMETER" in public:
            self._keepalive_method = "GET_PARAMETER"

    def _setup(self) -> None:
        resp = self._request("SETUP", self._control, {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"})
        session = resp.header("Session")
        if not session:
            raise DeviceNotReady(f"{self.label}: SETUP answered without a session")
        sid, _, params = session.partition(";")
        self._session = sid.strip()
        found = re.search(r"timeout=(\d+)", params)
        if found:
            self._keepalive = max(5.0, int(found.group(1)) / 2)
        transport = resp.header("Transport") or ""
        if "TCP" not in transport.upper() and "interleaved" not in transport:
            raise RtspUnsupported(f"{self.label}: the camera refused RTP over TCP")
        found = re.search(r"interleaved=(\d+)", transport)
        if found:
            self._channel = int(found.group(1))

    def _play(self) -> None:
        # The answer may arrive behind the first media packets: _units reads both.
        self._send("PLAY", self._url, {"Range": "npt=0.000-"})
        self._play_cseq = self._cseq

    def _request(self, method: str, url: str, headers: dict[str, str] | None = None) -> _Response:
        for attempt in range(2):
            self._send(method, url, headers)
            resp = self._read_response()
            if resp.status == 401 and attempt == 0 and self._user is not None:
                self._auth = _challenge(resp.headers.get("www-authenticate", []))
                if self._auth is None:
                    break
                continue
            break
        if resp.status == 401:
            raise DeviceAuthFailed(f"{self.label}: the camera refused the credentials")
        if resp.status >= 300:
            raise DeviceNotReady(f"{self.label}: {method} answered {resp.status} {resp.reason}")
        return resp

    def _send(self, method: str, url: str, headers: dict[str, str] | None = None) -> None:
        assert self._sock is not None
        try:
            self._sock.sendall(self._request_bytes(method, url, headers))
        except OSError as err:
            raise DeviceNotReady(f"{self.label}: connection lost ({type(err).__name__})") from None

    def _request_bytes(self, method: str, url: str, headers: dict[str, str] | None = None) -> bytes:
        self._cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self._cseq}", f"User-Agent: {USER_AGENT}"]
        if self._session is not None:
            lines.append(f"Session: {self._session}")
        if self._auth is not None:
            lines.append(f"Authorization: {self._authorization(method, url)}")
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _authorization(self, method: str, uri: str) -> str:
        assert self._auth is not None
        scheme, params = self._auth
        user, password = self._user or "", self._password
        if scheme == "basic":
            return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        realm, nonce = params.get("realm", ""), params.get("nonce", "")
        ha1 = _md5(f"{user}:{realm}:{password}")
        ha2 = _md5(f"{method}:{uri}")
        fields = {"username": user, "realm": realm, "nonce": nonce, "uri": uri}
        qop = params.get("qop")
        if qop is not None and "auth" in [q.strip() for q in qop.split(",")]:
            self._nc += 1
            nc, cnonce = f"{self._nc:08x}", os.urandom(8).hex()
            fields["response"] = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
            quoted = ", ".join(f'{k}="{v}"' for k, v in fields.items())
            extra = f", qop=auth, nc={nc}, cnonce=\"{cnonce}\""
        else:
            fields["response"] = _md5(f"{ha1}:{nonce}:{ha2}")
            quoted, extra = ", ".join(f'{k}="{v}"' for k, v in fields.items()), ""
        if "opaque" in params:
            extra += f", opaque=\"{params['opaque']}\""
        return f"Digest {quoted}{extra}"

    def _read_response(self) -> _Response:
        """The next RTSP response, skipping media packets that come before it."""
        while True:
            while self._buf[:1] == b"$":
                if len(self._buf) < 4:
                    break
                length = int.from_bytes(self._buf[2:4], "big")
                if len(self._buf) < 4 + length:
                    break
                self._buf = self._buf[4 + length:]
            parsed = _parse_response(self._buf)
            if parsed is not None:
                resp, used = parsed
                self._buf = self._buf[used:]
                return resp
            if len(self._buf) > 65536:
                raise DeviceNotReady(f"{self.label}: the camera's answer is not RTSP")
            self._fill(self.timeout)

    def _fill(self, timeout: float) -> None:
        assert self._sock is not None
        self._sock.settimeout(timeout)
        try:
            chunk = self._sock.recv(65536)
        except TimeoutError:
            raise DeviceNotReady(f"{self.label}: no answer for {timeout:g} s") from None
        except OSError as err:
            raise DeviceNotReady(f"{self.label}: connection lost ({type(err).__name__})") from None
        if not chunk:
            raise DeviceNotReady(f"{self.label}: the camera closed the connection")
        self._buf += chunk

    # -- media -------------------------------------------------------------------

    def _start_media(self) -> None:
        """Batched reads from here on; wait for the first keyframe and make the template from it."""
        assert self._sock is not None
        self._sock.settimeout(None)  # blocking: no poll() before each recv; the kernel times reads out
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, BATCH_BYTES)
        seconds = int(BATCH_SECONDS)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                              struct.pack("ll", seconds, int((BATCH_SECONDS - seconds) * 1_000_000)))
        self._media = True
        self._next_keepalive = time.monotonic() + self._keepalive
        deadline = time.monotonic() + self.timeout
        self._units_under_way = units = self._units()
        for packet in units:
            if packet.is_keyframe and not self._ahead:
                self._template = self._make_template(bytes(packet))
                self.streams = _Streams([self._template.streams.video[0]])
                self._ahead.append(packet)
                # Read a few frames on before handing any out: frames out of order (B-frames)
                # show within them, and FFmpeg's client then takes over before a consumer begins.
                deadline = time.monotonic() + LOOK_AHEAD_SECONDS
            elif self._ahead:
                self._ahead.append(packet)
            if time.monotonic() > deadline or len(self._ahead) >= LOOK_AHEAD_UNITS:
                break
        if not self._ahead:
            raise DeviceNotReady(f"{self.label}: no keyframe within {self.timeout:g} s")

    def _make_template(self, keyframe: bytes) -> Any:
        """A PyAV stream describing the video (size, profile, extradata), from FFmpeg's own parser."""
        head = b"".join(START_CODE + ps for ps in self._parameter_sets)
        try:
            container = av.open(io.BytesIO(head + keyframe), format="hevc" if self._codec == "h265" else "h264")
        except av.error.FFmpegError as err:
            raise RtspUnsupported(f"{self.label}: the first keyframe does not parse ({type(err).__name__})") from None
        video = container.streams.video
        if not video or not video[0].codec_context.width:
            container.close()
            raise RtspUnsupported(f"{self.label}: the first keyframe does not tell the picture size")
        video[0].time_base = TIME_BASE
        return container

    def _units(self) -> Iterator[av.Packet]:
        try:
            yield from access_units(self._read_batch, self._codec, self._channel, self.label, self._play_cseq,
                                    self._answered)
        except RtspUnsupported as err:
            self.unsupported = str(err)
            raise

    def _answered(self, resp: _ParsedResponse) -> bool:
        """An answer that came with the media (to a keepalive); True when dealt with here.

        A 401 with a fresh challenge (a camera whose Digest nonce went stale)
        is answered by sending the keepalive again, with the new nonce, on the
        next read: the session goes on instead of reconnecting.  Three such in
        a row without a success between count as refused credentials.
        """
        if 200 <= resp.status < 300:
            self._reauths = 0
            return True
        if resp.status != 401 or resp.cseq == self._play_cseq or self._user is None or self._reauths >= 3:
            return False
        challenge = _challenge(resp.headers.get("www-authenticate", []))
        if challenge is None:
            return False
        self._auth, self._nc = challenge, 0
        self._reauths += 1
        self._next_keepalive = 0.0
        log.info("camera renewed its authentication challenge; answering it", extra={"stream": self.label})
        return True

    def _read_batch(self) -> bytes | None:
        """The next batch of the interleaved stream; None once asked to stop.  Keeps the session alive."""
        sock = self._sock
        if sock is None or self._stopping:
            return None
        if self._buf:  # what came behind the last answer of the handshake
            left, self._buf = self._buf, b""
            return left
        now = time.monotonic()
        if now >= self._next_keepalive:
            self._next_keepalive = now + self._keepalive
            self._send(self._keepalive_method, self._url)
        silent_since = now
        while True:
            try:
                chunk = sock.recv(BATCH_BYTES * 2)
            except (BlockingIOError, TimeoutError):  # SO_RCVTIMEO passed with nothing at all
                if self._stopping:
                    return None
                if time.monotonic() - silent_since > self.timeout:
                    raise DeviceNotReady(f"{self.label}: no data for {self.timeout:g} s") from None
                continue
            except OSError as err:
                if self._stopping:
                    return None
                raise DeviceNotReady(f"{self.label}: connection lost ({type(err).__name__})") from None
            if not chunk:
                if self._stopping:
                    return None
                raise DeviceNotReady(f"{self.label}: the camera closed the connection")
            return chunk


def access_units(read: Callable[[], bytes | None], codec: str, channel: int = 0, label: str = "stream",
                 play_cseq: int = -1,
                 answered: Callable[[_ParsedResponse], bool] | None = None) -> Iterator[av.Packet]:
    """Access units of one video track from an interleaved RTSP stream (RFC 2326 10.12).

    ``read`` returns the next bytes of the stream (any amount), or None to
    stop.  Yields ``av.Packet`` in Annex B form with pts = dts on the 90 kHz
    RTP clock counted from the first packet (unwrapped past 2**32) and
    keyframes flagged.  A NAL unit torn by a lost RTP packet is left out.
    RTSP answers on the same connection go to ``answered`` first (True:
    dealt with); otherwise one that says the session is gone or refused
    raises ``DeviceNotReady``.  Frames out of order (B-frames) raise
    ``RtspUnsupported``.
    """
    depacketize = _depacketize_h265 if codec == "h265" else _depacketize_h264
    unit = _Unit()
    base: int | None = None  # the first RTP timestamp, unwrapped
    last_ts = 0
    high = 0  # wraps of the 32-bit RTP clock
    order = _Order(label)
    expected_seq: int | None = None
    buf = b""
    pos = 0
    while True:
        size = len(buf)
        while pos < size:
            if buf[pos] != 0x24:  # not '$': an RTSP message (an answer to PLAY or a keepalive)
                parsed = _parse_response(buf, pos)
                if parsed is None:
                    head = buf[pos:pos + 16]
                    if size - pos < 65536 and any(head.startswith(w) or w.startswith(head) for w in _RTSP_STARTS):
                        break  # an RTSP message whose end has not arrived yet
                    skip = buf.find(b"$", pos + 1)  # garbage: on to the next frame
                    pos = size if skip < 0 else skip
                    continue
                resp, pos = parsed
                if answered is not None and answered(resp):
                    continue
                if resp.status in (401, 454) or (resp.status >= 300 and resp.cseq == play_cseq):
                    raise DeviceNotReady(f"{label}: the camera answered {resp.status} {resp.reason}")
                continue
            if pos + 4 > size:
                break
            length = (buf[pos + 2] << 8) | buf[pos + 3]
            end = pos + 4 + length
            if end > size:
                break
            start = pos + 4
            pos = end
            if buf[start - 3] != channel or length < 12:
                continue  # RTCP, or another track's media
            first = buf[start]
            seq = (buf[start + 2] << 8) | buf[start + 3]
            if expected_seq is not None and seq != expected_seq:
                if 0 < (expected_seq - seq) & 0xFFFF < REPEAT_WINDOW:
                    continue  # sent again, or late: what it carried has been handled
                unit.lost = True  # a fragment under way is incomplete: depacketize drops it
            expected_seq = (seq + 1) & 0xFFFF
            ts = int.from_bytes(buf[start + 4:start + 8], "big")
            header = 12 + 4 * (first & 0x0F)
            if first & 0x10 and start + header + 4 <= end:  # header extension
                header += 4 + 4 * ((buf[start + header + 2] << 8) | buf[start + header + 3])
            stop = end - buf[end - 1] if first & 0x20 else end  # padding
            if ts != unit.ts:
                if unit.parts:  # a new timestamp without a marker before it: the last unit is done
                    packet = unit.packet(base or 0)
                    if packet is not None and order.admit(unit.when):
                        yield packet
                # Unwrap the 32-bit clock: a step of more than half its range is a wrap.
                if base is not None and ts < last_ts and last_ts - ts > 0x80000000:
                    high += 1 << 32
                elif base is not None and ts > last_ts and ts - last_ts > 0x80000000:
                    high -= 1 << 32
                last_ts = ts
                unit.ts, unit.when = ts, ts + high
                if base is None:
                    base = unit.when
            if start + header < stop:
                depacketize(unit, buf, start + header, stop)
            if buf[start + 1] & 0x80 and unit.parts:  # marker: the access unit is complete
                packet = unit.packet(base or 0)
                unit.ts = -1
                if packet is not None and order.admit(unit.when):
                    yield packet
        chunk = read()
        if chunk is None:
            return
        buf = buf[pos:] + chunk if pos < size else chunk
        pos = 0


_RTSP_STARTS = (b"RTSP/", b"ANNOUNCE", b"SET_PARAMETER", b"GET_PARAMETER", b"OPTIONS", b"REDIRECT")


class _Order:
    """Keeps access units in time order, and tells B-frames from a stream sent again.

    A unit a little older than the newest one (under a second) with the
    timestamp of a unit already handed out is a repeat (GStreamer's server
    sends the first frames of a shared stream again when another client
    joins) and is dropped; one with a timestamp not seen before was sent out
    of order (B-frames), which only FFmpeg's client puts in decoding order.  A step back of more than a
    second is a new start (a restarted camera) and goes through, as FFmpeg's
    demuxer hands it on; the recorder starts a new segment.
    """

    REPEAT_TICKS = RTP_CLOCK
    RECENT = 64

    def __init__(self, label: str) -> None:
        self.label = label
        self.newest: int | None = None
        self.recent: collections.deque[int] = collections.deque(maxlen=self.RECENT)  # instants handed out
        self.repeating = False

    def admit(self, when: int) -> bool:
        newest = self.newest
        if newest is None or when > newest or newest - when > self.REPEAT_TICKS:
            self.newest, self.repeating = when, False
            self.recent.append(when)
            return True
        if when == newest and not self.repeating:
            return True  # a unit of the same instant (a second field, say): let the muxer judge
        if when in self.recent:
            self.repeating = True
            return False  # sent again
        raise RtspUnsupported(f"{self.label}: frames arrive out of order (B-frames)")


class _Unit:
    """The access unit being put together: its NAL units in Annex B form."""

    __slots__ = ("ts", "when", "parts", "key", "lost", "fragment")

    def __init__(self) -> None:
        self.ts = -1  # its RTP timestamp as sent
        self.when = 0  # unwrapped
        self.parts: list[bytes] = []
        self.key = False
        self.lost = False  # a packet went missing: a fragment under way is dropped
        self.fragment = -1  # index in parts where a fragmented NAL unit under way starts

    def whole(self, buf: bytes, start: int, stop: int, key: bool) -> None:
        """A NAL unit in one payload."""
        self.key = self.key or key
        self.parts += (START_CODE, buf[start:stop])

    def aggregate(self, buf: bytes, pos: int, stop: int, is_key: Callable[[int], bool]) -> None:
        """Small NAL units packed into one payload, each after a 16-bit size."""
        while pos + 2 < stop:
            size = (buf[pos] << 8) | buf[pos + 1]
            pos += 2
            if size == 0 or pos + size > stop:
                break
            self.whole(buf, pos, pos + size, is_key(buf[pos]))
            pos += size

    def fragment_of(self, buf: bytes, start: int, stop: int, fu: int, header: bytes, key: bool) -> None:
        """One fragment (``buf[start:stop]``) of a NAL unit whose header is ``header``
        (given with the first fragment); ``fu`` holds its start (0x80) and end (0x40) bits.  A fragment with no whole
        start before it (a packet lost) drops the NAL unit."""
        parts = self.parts
        if fu & 0x80:  # the first fragment
            if self.fragment >= 0:
                del parts[self.fragment:]
            self.lost = False
            self.fragment = len(parts)
            parts += (START_CODE, header)
        elif self.fragment < 0 or self.lost:
            if self.fragment >= 0:
                del parts[self.fragment:]
                self.fragment = -1
            return
        parts.append(buf[start:stop])
        if fu & 0x40:  # the last fragment: the NAL unit is whole
            self.key = self.key or key
            self.fragment = -1

    def packet(self, base: int) -> av.Packet | None:
        parts, key = self.parts, self.key
        if self.fragment >= 0:  # the unit ended inside a fragmented NAL unit: it is torn
            del parts[self.fragment:]
        self.parts, self.key, self.fragment = [], False, -1
        if not parts:
            return None
        packet = av.Packet(b"".join(parts))
        packet.pts = packet.dts = self.when - base
        packet.time_base = TIME_BASE
        packet.is_keyframe = key
        return packet


def _depacketize_h264(unit: _Unit, buf: bytes, start: int, stop: int) -> None:
    """One RTP payload of H.264 (RFC 6184, packetization modes 0 and 1) into ``unit``."""
    indicator = buf[start]
    kind = indicator & 0x1F
    if kind == 28:  # FU-A
        if stop - start < 2:
            return
        fu = buf[start + 1]
        header = bytes(((indicator & 0xE0) | (fu & 0x1F),)) if fu & 0x80 else b""
        unit.fragment_of(buf, start + 2, stop, fu, header, fu & 0x1F == 5)
    elif kind == 24:  # STAP-A: several small NAL units
        unit.aggregate(buf, start + 1, stop, _h264_key)
    elif 0 < kind < 24:
        unit.whole(buf, start, stop, kind == 5)
    # STAP-B, MTAP and FU-B (interleaved mode) are not sent over TCP by cameras; dropped.


def _depacketize_h265(unit: _Unit, buf: bytes, start: int, stop: int) -> None:
    """One RTP payload of H.265 (RFC 7798, without DONL fields) into ``unit``."""
    if stop - start < 3:
        return
    kind = (buf[start] >> 1) & 0x3F
    if kind == 49:  # FU
        fu = buf[start + 2]
        nal = fu & 0x3F
        header = bytes(((buf[start] & 0x81) | (nal << 1), buf[start + 1])) if fu & 0x80 else b""
        unit.fragment_of(buf, start + 3, stop, fu, header, 16 <= nal <= 21)
    elif kind == 48:  # aggregation packet
        unit.aggregate(buf, start + 2, stop, _h265_key)
    elif kind < 48:
        unit.whole(buf, start, stop, 16 <= kind <= 21)


def _h264_key(first: int) -> bool:
    return first & 0x1F == 5  # IDR slice


def _h265_key(first: int) -> bool:
    return 16 <= (first >> 1) & 0x3F <= 21  # IRAP picture


class _ParsedResponse(_Response):
    cseq = -1


def _parse_response(buf: bytes, pos: int = 0) -> tuple[_ParsedResponse, int] | None:
    """An RTSP message at ``pos`` of ``buf`` and where it ends, or None while it is incomplete.

    A request from the server (rare) parses as status 0 and is skipped."""
    head_end = buf.find(b"\r\n\r\n", pos)
    if head_end < 0:
        return None
    lines = buf[pos:head_end].decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.setdefault(name.strip().lower(), []).append(value.strip())
    try:
        length = int(headers.get("content-length", ["0"])[0])
    except ValueError:
        length = 0
    end = head_end + 4 + length
    if end > len(buf):
        return None
    status_line = lines[0].split(" ", 2)
    status, reason = 0, ""
    code = status_line[1] if len(status_line) >= 2 else ""
    if status_line[0].startswith("RTSP/") and code.isascii() and code.isdigit():
        status, reason = int(status_line[1]), status_line[2] if len(status_line) > 2 else ""
    resp = _ParsedResponse(status, reason, headers, buf[head_end + 4:end])
    try:
        resp.cseq = int(headers.get("cseq", ["-1"])[0])
    except ValueError:
        pass
    return resp, end


class SdpVideo:
    """What the client needs of a session description's video: codec, control, parameter sets."""

    def __init__(self, codec: str, control: str | None, session_control: str | None,
                 parameter_sets: list[bytes]) -> None:
        self.codec, self.control, self.session_control = codec, control, session_control
        self.parameter_sets = parameter_sets


def parse_sdp(text: str) -> SdpVideo | None:
    """The first H.264 or H.265 video of an SDP (RFC 8866), or None when it has none."""
    session_control: str | None = None
    media: list[dict[str, Any]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            fields = line[2:].split()
            media.append({"kind": fields[0] if fields else "", "formats": fields[3:], "attrs": []})
        elif line.startswith("a="):
            if media:
                media[-1]["attrs"].append(line[2:])
            elif line.startswith("a=control:"):
                session_control = line[len("a=control:"):].strip()
    for m in media:
        if m["kind"] != "video":
            continue
        rtpmap: dict[str, str] = {}
        fmtp: dict[str, str] = {}
        control = None
        for attr in m["attrs"]:
            name, _, value = attr.partition(":")
            if name == "rtpmap":
                fmt, _, encoding = value.partition(" ")
                rtpmap[fmt] = encoding.split("/")[0].upper()
            elif name == "fmtp":
                fmt, _, params = value.partition(" ")
                fmtp[fmt] = params
            elif name == "control":
                control = value.strip()
        for fmt in m["formats"]:
            encoding = rtpmap.get(fmt)
            if encoding not in ("H264", "H265", "HEVC"):
                continue
            codec = "h264" if encoding == "H264" else "h265"
            params = dict(p.strip().partition("=")[::2] for p in fmtp.get(fmt, "").split(";") if p.strip())
            if codec == "h264":
                if params.get("packetization-mode", "0") not in ("0", "1"):
                    return None  # interleaved mode: FFmpeg's client
                sets = params.get("sprop-parameter-sets", "").split(",")
            else:
                if params.get("sprop-max-don-diff", "0") != "0":
                    return None  # DONL fields: FFmpeg's client
                sets = [params.get(k, "") for k in ("sprop-vps", "sprop-sps", "sprop-pps")]
            decoded = []
            for item in sets:
                try:
                    decoded.append(base64.b64decode(item.strip() + "=" * (-len(item.strip()) % 4)))
                except ValueError:
                    continue
            return SdpVideo(codec, control, session_control, [d for d in decoded if d])
    return None


def _control_url(base: str, session_control: str | None, control: str | None) -> str:
    """The URL to SETUP the video at (RFC 7826 C.1.1): absolute as given, else relative to the base."""
    if not control or control == "*":
        return base
    if control.startswith(("rtsp://", "rtsps://")):
        parts = urlsplit(control)
        host = parts.hostname or ""
        netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))  # no credentials on the wire
    return base + ("" if base.endswith("/") else "/") + control


def _challenge(values: list[str]) -> tuple[str, dict[str, str]] | None:
    """The strongest challenge of a 401 we can answer: Digest (MD5), else Basic."""
    basic = None
    for value in values:
        scheme, _, rest = value.strip().partition(" ")
        params = {k.lower(): v for k, v in re.findall(r'(\w+)\s*=\s*"?([^",]*)"?', rest)}
        if scheme.lower() == "digest" and params.get("algorithm", "MD5").upper() == "MD5":
            return "digest", params
        if scheme.lower() == "basic":
            basic = ("basic", params)
    return basic


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
