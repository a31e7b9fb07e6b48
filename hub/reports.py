"""Availability reports: how much of a period each camera, area or owner was online.

Figures come from the confirmed status history the health monitor keeps
(``camera_status``).  ``rows`` computes them; ``to_csv``, ``to_html`` and
``to_png`` render them (the PNG with Pillow, already a dependency, rather
than a charting library).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Literal

from PIL import Image, ImageDraw, ImageFont

from hub.core.models import Camera

STATES = ("online", "degraded", "offline", "unknown")
COLOURS = {"online": (46, 160, 67), "degraded": (230, 160, 20), "offline": (207, 34, 46),
           "unknown": (170, 170, 170)}
Group = Literal["camera", "area", "owner"]


@dataclass
class Row:
    key: str
    label: str
    cameras: int
    seconds: dict[str, float]

    def share(self, state: str) -> float:
        total = sum(self.seconds.values())
        return 100.0 * self.seconds.get(state, 0.0) / total if total else 0.0


def rows(cameras: list[Camera], spans: dict[str, dict[str, float]], start: datetime, end: datetime,
         by: Group = "camera") -> list[Row]:
    """Per-group seconds in each state; a camera with no history counts as unknown."""
    window = (end - start).total_seconds()
    out: dict[str, Row] = {}
    for cam in cameras:
        if by == "camera":
            key, label = cam.id, cam.name
        elif by == "area":
            key = label = cam.area or "(no area)"
        else:
            key = label = cam.owner or "(no owner)"
        row = out.setdefault(key, Row(key, label, 0, dict.fromkeys(STATES, 0.0)))
        row.cameras += 1
        seen = spans.get(cam.id, {})
        for state, seconds in seen.items():
            row.seconds[state if state in STATES else "unknown"] += seconds
        row.seconds["unknown"] += max(0.0, window - sum(seen.values()))
    return [out[k] for k in sorted(out)]


def to_csv(report: list[Row], by: Group) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([by, "name", "cameras", *(f"{s}_percent" for s in STATES)])
    for r in report:
        writer.writerow([r.key, r.label, r.cameras, *(f"{r.share(s):.2f}" for s in STATES)])
    return buf.getvalue()


def to_html(report: list[Row], by: Group, start: datetime, end: datetime, title: str) -> str:
    def bar(r: Row) -> str:
        return "".join(f'<span style="display:inline-block;height:12px;width:{r.share(s) * 2:.1f}px;'
                       f'background:rgb{COLOURS[s]}" title="{s} {r.share(s):.1f}%"></span>' for s in STATES)

    body = "".join(
        f"<tr><td>{escape(r.label)}</td><td>{r.cameras}</td>"
        + "".join(f"<td>{r.share(s):.2f}%</td>" for s in STATES) + f"<td>{bar(r)}</td></tr>" for r in report)
    head = "".join(f"<th>{s}</th>" for s in STATES)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            "<style>body{font-family:system-ui,sans-serif}td,th{padding:2px 8px;text-align:right}"
            "td:first-child,th:first-child{text-align:left}</style></head><body>"
            f"<h1>{escape(title)}</h1><p>{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC, by {by}</p>"
            f"<table><tr><th>{by}</th><th>cameras</th>{head}<th></th></tr>{body}</table></body></html>")


def to_png(report: list[Row], by: Group, start: datetime, end: datetime, title: str) -> bytes:
    width, row_h, left = 900, 26, 260
    img = Image.new("RGB", (width, 70 + row_h * max(1, len(report))), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=14)
    draw.text((10, 10), f"{title}: {start:%Y-%m-%d} to {end:%Y-%m-%d}, by {by}", fill="black", font=font)
    x = left
    for state in STATES:  # legend
        draw.rectangle((x, 36, x + 12, 48), fill=COLOURS[state])
        draw.text((x + 16, 34), state, fill="black", font=font)
        x += 110
    for i, r in enumerate(report):
        y = 60 + i * row_h
        draw.text((10, y + 4), r.label[:32], fill="black", font=font)
        x0 = float(left)
        for state in STATES:
            w = (width - left - 20) * r.share(state) / 100
            if w > 0:
                draw.rectangle((x0, y + 4, x0 + w, y + row_h - 6), fill=COLOURS[state])
            x0 += w
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
