"""Privacy masks: regions of a camera's picture covered, a uniform grey, in what leaves the hub.

Masks come from hub.yaml (``privacy_masks``, by camera id) and from the API
(``PUT /api/v1/cameras/{id}/masks``, kept in the database); both apply.
They are burned into snapshots, the public live stream and redacted
exports; the recordings keep the whole picture (the master copy of
evidence).  A ``permanent`` mask is never lifted; a ``liftable`` one only
for a principal with ``lift_mask`` on the camera who states why (audited).

Burning in needs the picture decoded and encoded again, so it is done only
where a mask applies: a camera without masks is remuxed as before.  It
fails closed: a picture the masks cannot be applied to is not shown at all
(``MaskFailed``; the masked live output stops and removes its files).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw
from sqlalchemy import select

from hub.core.errors import HubError, InvalidInput
from hub.core.models import MaskKind, PrivacyMask, StreamRole
from hub.core.streams import HlsOutput
from hub.store.database import Database
from hub.store.masks import MaskRow

log = logging.getLogger(__name__)

#: The grey a masked region is painted (Y, U and V all mid-scale; RGB 128).
GREY = 128


class MaskFailed(HubError):
    """The privacy masks could not be applied, so the picture is not shown."""

    code = "mask_failed"
    title = "The picture cannot be shown with its privacy masks"
    http_status = 503


class PrivacyMasks:
    """Every camera's masks: hub.yaml's and the API's."""

    def __init__(self, db: Database, configured: dict[str, list[PrivacyMask]]) -> None:
        self.db = db
        self.configured = configured
        self._stored: dict[str, list[PrivacyMask]] = {}

    async def load(self) -> None:
        async with self.db.session() as s:
            rows = (await s.scalars(select(MaskRow))).all()
        self._stored = {r.camera_id: [PrivacyMask.model_validate(m) for m in json.loads(r.masks)] for r in rows}

    def of(self, camera_id: str) -> list[PrivacyMask]:
        return [*self.configured.get(camera_id, []), *self._stored.get(camera_id, [])]

    def stored(self, camera_id: str) -> list[PrivacyMask]:
        return list(self._stored.get(camera_id, []))

    async def replace(self, camera_id: str, masks: list[PrivacyMask]) -> None:
        """The API's masks of a camera (hub.yaml's stay; a name may not be used twice)."""
        names = [m.name for m in [*self.configured.get(camera_id, []), *masks]]
        if len(names) != len(set(names)):
            raise InvalidInput("each mask of a camera has a name of its own (hub.yaml's included)")
        async with self.db.session.begin() as s:
            row = await s.get(MaskRow, camera_id)
            if row is None:
                row = MaskRow(camera_id=camera_id, masks="[]")
                s.add(row)
            row.masks = json.dumps([m.model_dump(mode="json") for m in masks])
        self._stored[camera_id] = list(masks)


def applying(masks: Iterable[PrivacyMask], lifted: bool) -> list[PrivacyMask]:
    """The masks to burn in: all of them, or with ``lifted`` the permanent ones only."""
    return [m for m in masks if not lifted or m.kind == MaskKind.PERMANENT]


def raster(masks: Iterable[PrivacyMask], width: int, height: int) -> NDArray[np.bool_]:
    """Where the masks cover a ``width`` x ``height`` picture (True: covered)."""
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for mask in masks:
        draw.polygon([(x * width, y * height) for x, y in mask.polygon], fill=255)
    return np.asarray(canvas) > 0


def burn_jpeg(jpeg: bytes, masks: list[PrivacyMask], quality: int = 85) -> bytes:
    """A JPEG with ``masks`` painted grey; ``MaskFailed`` when it cannot be done."""
    if not masks:
        return jpeg
    try:
        with Image.open(io.BytesIO(jpeg)) as picture:
            image = picture.convert("RGB")
        pixels = np.array(image)
        pixels[raster(masks, image.width, image.height)] = GREY
        out = io.BytesIO()
        Image.fromarray(pixels).save(out, format="JPEG", quality=quality)
        return out.getvalue()
    except Exception as err:  # Pillow raises many kinds: none lets the raw picture out
        raise MaskFailed(f"the picture could not be masked ({type(err).__name__}); it is not shown") from None


class FrameMasker:
    """Paints masks into decoded frames (YUV 4:2:0), the covered pixels precomputed per picture size."""

    def __init__(self, masks: list[PrivacyMask]) -> None:
        self.masks = masks
        self._size: tuple[int, int] | None = None
        self._luma: NDArray[np.bool_] | None = None
        self._chroma: NDArray[np.bool_] | None = None

    def frame(self, frame: av.VideoFrame) -> av.VideoFrame:
        width, height = frame.width - frame.width % 2, frame.height - frame.height % 2
        planes = frame.to_ndarray(format="yuv420p", width=width, height=height)
        if self._size != (width, height):
            self._size = (width, height)
            self._luma = raster(self.masks, width, height)
            self._chroma = self._luma[::2, ::2]
        assert self._luma is not None and self._chroma is not None
        luma = planes[:height]
        chroma = planes[height:].reshape(2, height // 2, width // 2)
        luma[self._luma] = GREY
        chroma[:, self._chroma] = GREY
        return av.VideoFrame.from_ndarray(planes, format="yuv420p")


def redact(source: Path, target: Path, masks: list[PrivacyMask]) -> None:
    """``source`` (an MP4) encoded again into ``target`` with ``masks`` painted in (blocking);
    ``MaskFailed`` when it cannot be done (and no ``target`` is left)."""
    masker = FrameMasker(masks)
    try:
        with av.open(str(source)) as inp, av.open(str(target), "w", format="mp4",
                                                   options={"movflags": "+faststart"}) as out:
            video = inp.streams.video[0]
            rate = video.average_rate or video.guessed_rate or 10
            ost: Any = out.add_stream("libx264", rate=rate)
            ost.width, ost.height = video.codec_context.width // 2 * 2, video.codec_context.height // 2 * 2
            ost.pix_fmt = "yuv420p"
            ost.codec_context.options = {"preset": "veryfast", "crf": "23"}
            count = 0
            for frame in inp.decode(video):
                masked = masker.frame(frame)
                masked.pts = frame.pts
                masked.time_base = frame.time_base
                for packet in ost.encode(masked):
                    out.mux(packet)
                count += 1
            for packet in ost.encode(None):
                out.mux(packet)
        if not count:
            raise ValueError("no frame")
    except Exception as err:
        target.unlink(missing_ok=True)
        raise MaskFailed(f"the redacted copy could not be made ({type(err).__name__})") from None


class MaskedHlsOutput(HlsOutput):
    """Live HLS with privacy masks burned in: each packet decoded, the masks painted, encoded again
    (H.264, libx264 ``ultrafast``/``zerolatency``, a keyframe per segment).  Used only for a camera
    with masks.  Fails closed: when decoding or encoding fails the files are removed and nothing is
    served until the stream starts anew."""

    def __init__(self, camera_id: str, role: StreamRole, directory: Any, masks: list[PrivacyMask],
                 segment_seconds: float = 2.0, playlist_segments: int = 6) -> None:
        super().__init__(camera_id, role, directory, segment_seconds, playlist_segments)
        self.node_id = f"live-masked:{camera_id}:{role.value}"
        self.masker = FrameMasker(masks)
        self._decoder: Any = None
        self._rate = 10
        self._frames = 0
        self._size = (0, 0)
        self._failed = False

    def begin(self, stream: Any) -> None:
        super().begin(stream)
        ctx = stream.codec_context
        self._decoder = av.CodecContext.create(ctx.name, "r")
        if ctx.extradata:
            self._decoder.extradata = ctx.extradata
        rate = stream.average_rate or stream.guessed_rate or 10
        self._rate = max(1, min(60, round(float(rate))))
        self._failed = False

    def packet(self, packet: av.Packet, arrived: float) -> None:
        if self._template is None or self._decoder is None or self._failed:
            return
        try:
            for frame in self._decoder.decode(packet):
                self._write(self.masker.frame(frame))
        except Exception as err:  # FFmpeg's and NumPy's: the raw picture never goes out instead
            self._fail(err)
            return
        self.stats.count(packet.size, arrived)

    def _write(self, frame: av.VideoFrame) -> None:
        if self._out is None:
            self._size = (frame.width, frame.height)
            self._start()
        frame.pts = self._frames
        frame.time_base = Fraction(1, self._rate)
        self._frames += 1
        for encoded in self._ost.encode(frame):
            self._out.mux(encoded)

    def _add_stream(self, out: Any) -> Any:
        """An H.264 encoder at the stream's picture size: a keyframe at each segment's start."""
        stream = out.add_stream("libx264", rate=self._rate)
        stream.width, stream.height = self._size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = max(1, round(self._rate * self.segment_seconds))
        stream.codec_context.options = {"preset": "ultrafast", "tune": "zerolatency", "crf": "28"}
        self._frames = 0
        return stream

    def _fail(self, err: BaseException) -> None:
        self._failed = True
        self.stats.errors += 1
        self.stats.last_error = f"masking failed ({type(err).__name__}): the picture is not shown"
        log.warning("privacy masks could not be applied; the live output stops", extra={
            "camera": self.camera_id, "error": type(err).__name__})
        self._close_muxer()
        for path in list(self.directory.glob("*")) if self.directory.exists() else []:
            path.unlink(missing_ok=True)
