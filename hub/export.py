"""Playback of a time range: recorded segments joined into one MP4, by remux.

A range rarely falls on segment edges.  The export starts at the keyframe at
or before ``start`` (so the first picture decodes) and ends with the last
packet before ``end``.  Timestamps keep the recording's own timeline, so a
gap in the recording (the camera was down) stays a gap, not a splice that
hides it.  Packets are copied, never re-encoded.  The file is fragmented MP4
and its SHA-256 is returned with it, for evidence handed to the police.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av

from hub.core.errors import NotFound, StorageError
from hub.core.models import Segment
from hub.core.storage import StorageBackend
from hub.core.streams import FMP4_OPTIONS
from hub.store.recordings import Recordings


@dataclass(frozen=True)
class Export:
    path: Path
    size: int
    sha256: str
    start: datetime  # of the first packet (the keyframe at or before the asked start)
    seconds: float
    segments: int


async def export_range(recordings: Recordings, storage: StorageBackend, camera_id: str, start: datetime,
                       end: datetime, work: Path) -> Export:
    """The recording of a camera over [start, end) as one MP4 in ``work``: the segments
    overlapping it, fetched from the backend when they are not local files, joined.
    ``work`` is removed when it fails; the caller removes it once the file is sent."""
    try:
        files = []
        for seg in await recordings.segments(camera_id, start, end, 10_000):
            stored = await recordings.segment(seg.id)
            if stored is None:  # retention removed it meanwhile
                continue
            key = stored[1]
            local = storage.local_path(key)
            if local is None:
                local = work / f"{seg.id}.mp4"
                await asyncio.to_thread(local.parent.mkdir, parents=True, exist_ok=True)
                with local.open("wb") as f:  # noqa: ASYNC230 - small writes, between awaits
                    async for chunk in storage.read(key):
                        f.write(chunk)
            files.append((seg, local))
        return await asyncio.to_thread(join, files, start, end, work)
    except BaseException:
        await asyncio.to_thread(shutil.rmtree, work, True)
        raise


def join(segments: Sequence[tuple[Segment, Path]], start: datetime, end: datetime, out_dir: Path) -> Export:
    """Remux the parts of ``segments`` (oldest first, local files) between ``start`` and ``end``.

    Blocking: run it in a thread.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="export-", suffix=".mp4", dir=out_dir)
    os.close(fd)
    path = Path(name)
    output = av.open(str(path), "w", format="mp4", options=FMP4_OPTIONS)
    ost = None
    origin: datetime | None = None
    tb_out = Fraction(1, 90000)
    last_dts = -1
    first_at: datetime | None = None
    last_at: datetime | None = None
    used = 0
    try:
        for seg, file in segments:
            with av.open(str(file)) as source:
                stream = source.streams.video[0]
                tb_in = stream.time_base or Fraction(1, 90000)
                if ost is None:
                    ost = output.add_stream_from_template(stream)
                    ost.time_base = tb_out
                pending: list[tuple[av.Packet, datetime]] = []
                used_here = False
                for packet in source.demux(stream):
                    if packet.dts is None or packet.size == 0:
                        continue
                    at = seg.start + _seconds(packet.pts if packet.pts is not None else packet.dts, tb_in)
                    if at >= end:
                        break
                    if first_at is None:  # still looking for the keyframe to begin on
                        if packet.is_keyframe:
                            pending = []
                        if not pending and not packet.is_keyframe:
                            continue
                        pending.append((packet, at))
                        if at < start:
                            continue
                        first_at = pending[0][1]
                        origin = first_at
                        to_write, pending = pending, []
                    else:
                        to_write = [(packet, at)]
                    assert origin is not None
                    for pkt, pkt_at in to_write:
                        ticks = _ticks(pkt_at - origin, tb_out)
                        dts_at = seg.start + _seconds(pkt.dts if pkt.dts is not None else 0, tb_in)
                        dts = max(last_dts + 1, _ticks(dts_at - origin, tb_out))
                        pkt.stream = ost
                        pkt.time_base = tb_out
                        pkt.pts, pkt.dts = max(ticks, dts), dts
                        output.mux(pkt)
                        last_dts = dts
                        last_at = pkt_at
                        used_here = True
                used += used_here
        output.close()
    except av.error.FFmpegError as err:
        output.close()
        path.unlink(missing_ok=True)
        raise StorageError(f"export: a recorded segment could not be read ({type(err).__name__})") from None
    except BaseException:
        output.close()
        path.unlink(missing_ok=True)
        raise
    if first_at is None or last_at is None:
        path.unlink(missing_ok=True)
        raise NotFound("no recording in that range")
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return Export(path, path.stat().st_size, digest.hexdigest(), first_at,
                  (last_at - first_at).total_seconds(), used)


def _seconds(ticks: int, time_base: Fraction) -> timedelta:
    return timedelta(seconds=float(ticks * time_base))


def _ticks(delta: timedelta, time_base: Fraction) -> int:
    return round(delta.total_seconds() / time_base)
