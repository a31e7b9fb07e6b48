"""Whether a camera still shows the scene an operator approved: its layout, not its pixels.

The public portal's gate (``hub.access.public``) keeps the *layout* of the
approved picture and compares each new picture with it.  A layout is where
a picture's edges are and which way they run: the picture in grey, its grey
levels equalised (so day, dusk and an infrared night look alike) and
blurred a little (noise, rain), cut into 16 x 12 cells, each holding the
strength of its edges in 8 directions.  Two measures come from it, and the
likeness is their product:

- *direction*: over 8 x 6 cells, how alike the edge directions are (cells
  without edges, sky or a dark corner, match cells without edges);
- *place*: over the 16 x 12 cells, whether the cells with strong edges are
  the same ones (by rank, so contrast does not count).

Each is the mean of its best 70 % of cells, so people, cars or a bus passing
in front cost a few cells, not the verdict.  The kerb, the poles and the
buildings' corners stay where they are; a camera turned to a wall, covered,
or taken into a house shows other edges in other places.  Measured on drawn
street scenes (``tests/test_public.py``): night, rain and traffic keep 0.71
or more; a room, a camera turned aside, black or noise fall to 0.46 or less.
"""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter, ImageOps

COLUMNS, ROWS, BINS = 16, 12, 8
#: The picture is compared at this size (grey).
WIDTH, HEIGHT = 128, 96
#: A coarse cell is flat (no edges to speak of) under this share of the median cell's strength.
FLAT = 0.2
#: Share of the cells, the best matching, that each measure is the mean of.
KEPT = 0.7
#: Under this likeness a picture has departed from its approved scene.
DEPARTED = 0.6

#: ``ROWS x COLUMNS x BINS`` edge strengths.
Layout = NDArray[np.float32]


def layout(picture: bytes) -> Layout:
    """The layout of a picture (a JPEG, or any format Pillow reads)."""
    with Image.open(io.BytesIO(picture)) as image:
        grey = ImageOps.equalize(image.convert("L").resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR))
    pixels = np.asarray(grey.filter(ImageFilter.GaussianBlur(1.5)), dtype=np.float32)
    gy, gx = np.gradient(pixels)
    strength = np.hypot(gx, gy)
    direction = np.mod(np.arctan2(gy, gx), np.pi)  # an edge's direction, not which side is bright
    bins = np.minimum((direction / np.pi * BINS).astype(np.int64), BINS - 1)
    ch, cw = HEIGHT // ROWS, WIDTH // COLUMNS
    cell = (np.arange(HEIGHT)[:, None] // ch) * COLUMNS + np.arange(WIDTH)[None, :] // cw
    flat = np.bincount((cell * BINS + bins).ravel(), weights=strength.ravel(), minlength=ROWS * COLUMNS * BINS)
    return flat.reshape(ROWS, COLUMNS, BINS).astype(np.float32)


def _trimmed(cells: NDArray[np.float64]) -> float:
    best = np.sort(cells)[::-1][:max(1, round(KEPT * len(cells)))]
    return float(np.mean(best))


def _unit(hists: NDArray[np.float64]) -> NDArray[np.float64]:
    norm = np.linalg.norm(hists, axis=1, keepdims=True)
    return np.divide(hists, norm, out=np.zeros_like(hists), where=norm > 0)


def direction(reference: Layout, picture: Layout) -> float:
    """How alike the edge directions are over 8 x 6 cells (1: the same)."""
    def coarse(value: Layout) -> NDArray[np.float64]:
        return value.astype(np.float64).reshape(ROWS // 2, 2, COLUMNS // 2, 2, BINS).sum(axis=(1, 3)).reshape(-1, BINS)

    a, b = coarse(reference), coarse(picture)
    ea, eb = a.sum(axis=1), b.sum(axis=1)
    flat_a = ea < FLAT * np.median(ea) if np.median(ea) > 0 else np.ones(len(ea), bool)
    flat_b = eb < FLAT * np.median(eb) if np.median(eb) > 0 else np.ones(len(eb), bool)
    cosine = np.sum(_unit(a) * _unit(b), axis=1)
    return _trimmed(np.where(flat_a & flat_b, 1.0, np.where(flat_a | flat_b, 0.0, cosine)))


def place(reference: Layout, picture: Layout) -> float:
    """Whether the strong edges are in the same cells, by rank over 16 x 12 cells (1: the same)."""
    a, b = reference.reshape(-1, BINS).astype(np.float64), picture.reshape(-1, BINS).astype(np.float64)

    def rank(energy: NDArray[np.float64]) -> NDArray[np.float64]:
        ranks = np.empty(len(energy))
        ranks[np.argsort(energy, kind="stable")] = np.arange(len(energy))
        return ranks

    agree = 1 - np.abs(rank(a.sum(axis=1)) - rank(b.sum(axis=1))) / len(a)
    cosine = np.sum(_unit(a) * _unit(b), axis=1)
    return _trimmed(agree * (0.5 + 0.5 * cosine))


def likeness(reference: Layout, picture: Layout) -> float:
    """How much ``picture`` keeps the layout of ``reference``: 1 the same, near 0 nothing alike."""
    return direction(reference, picture) * place(reference, picture)


def to_bytes(value: Layout) -> bytes:
    return np.asarray(value, dtype=np.float32).tobytes()


def from_bytes(data: bytes) -> Layout:
    return np.frombuffer(data, dtype=np.float32).reshape(ROWS, COLUMNS, BINS).copy()
