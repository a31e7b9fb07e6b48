"""The normalisation rules every source plugin follows, as functions.

A vendor speaks its own dialect (``H.265+``, ``SMART264``, ``MJPG``, kbit/s,
channel 0 or 1, a serial of zeros); the hub's models speak one.  The rules
(docs/normalisation.md explains each):

- codec names are FFmpeg's: ``h264``, ``hevc`` (never ``h265``), ``mjpeg``,
  ``mpeg4``, ``av1`` (``codec``);
- bit rates are bits per second (``bits_per_second`` from kbit/s);
- channels count from 1, as the device's own UI does;
- ids are built from the device's serial, or its MAC address, never its
  address; a serial that identifies nothing (blank, all zeros, ``unknown``)
  is not used (``usable_serial``), and ``camera_id`` builds the id;
- owner, site, area and tags come from hub.yaml: the hub applies them, a
  source leaves them unset unless the device itself knows better.
"""

from __future__ import annotations

import re

#: FFmpeg's names, by what vendors write once case, dots, spaces, ``+`` and ``SMART`` are gone.
_CODECS = {"H264": "h264", "264": "h264", "AVC": "h264", "H265": "hevc", "265": "hevc", "HEVC": "hevc",
           "MJPEG": "mjpeg", "MJPG": "mjpeg", "JPEG": "mjpeg", "MPEG4": "mpeg4", "AV1": "av1"}
#: Profile letters some vendors append (Dahua's ``H.264H`` high, ``H.264B`` baseline, ``H.264M`` main).
_PROFILE = re.compile(r"^(H26[45])[BHM]$")
_SERIAL_USELESS = re.compile(r"^(0+|f+|x+|-+|unknown|none|null|n/?a|default|serial(number)?|123456789?)$",
                             re.IGNORECASE)


def codec(name: str | None) -> str | None:
    """FFmpeg's name for a vendor's codec name: ``H.265+`` -> ``hevc``, ``MJPG`` -> ``mjpeg``.

    None stays None; a name not known here is kept, lower-cased, so nothing is lost.
    """
    if name is None or not name.strip():
        return None
    key = re.sub(r"[\s.+_-]", "", name.upper()).removeprefix("SMART")
    key = _PROFILE.sub(r"\1", key)
    return _CODECS.get(key, name.strip().lower())


def bits_per_second(kbps: float | int | str | None) -> int | None:
    """A bit rate in kbit/s (what devices configure) as bits per second (what the models hold);
    None for nothing, zero or what is not a number."""
    try:
        value = float(kbps) if kbps is not None else 0.0
    except ValueError:
        return None
    return round(value * 1000) if value > 0 else None


def usable_serial(*candidates: str | None) -> str | None:
    """The first candidate (a serial number, then a MAC address, ...) that identifies a device.

    Blank values and placeholders (all zeros, ``unknown``, ``N/A``, ``123456789``) are
    skipped: two devices sharing one would merge into one set of camera ids.  The value
    is kept as the device writes it (ids already made from it stay the same).
    """
    for raw in candidates:
        value = (raw or "").strip()
        if not value or _SERIAL_USELESS.match(value) or _SERIAL_USELESS.match(re.sub(r"[:.-]", "", value)):
            continue
        return value
    return None
