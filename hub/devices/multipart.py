"""Incremental parsing of multipart event streams (``multipart/mixed``,
``multipart/x-mixed-replace``), as Hikvision's alertStream and Dahua's
eventManager send them.

``MultipartStream`` is fed bytes as they arrive and returns complete parts.
It uses a part's ``Content-Length`` when present and the next boundary line
otherwise, tolerates a missing or repeated preamble, and bounds how much it
buffers so a device that never sends a boundary cannot exhaust memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub.core.errors import DeviceError

_BOUNDARY = re.compile(r'boundary="?([^";,\s]+)"?', re.I)


def boundary_of(content_type: str | None) -> str:
    """The boundary named in a Content-Type header (never hard-coded: models differ)."""
    match = _BOUNDARY.search(content_type or "")
    if not match:
        raise DeviceError(f"event stream has no multipart boundary (Content-Type {content_type!r})")
    return match.group(1)


@dataclass
class Part:
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class MultipartStream:
    """Feed bytes, get parts."""

    def __init__(self, boundary: str, max_part: int = 1 << 20) -> None:
        b = boundary[2:] if boundary.startswith("--") else boundary
        self.delimiter = b"--" + b.encode()
        self.max_part = max_part
        self._buf = b""

    def feed(self, data: bytes) -> list[Part]:
        self._buf += data
        parts: list[Part] = []
        while True:
            part = self._next()
            if part is None:
                break
            parts.append(part)
        if len(self._buf) > self.max_part + 4096:
            self._buf = b""
            raise DeviceError(f"event stream part larger than {self.max_part} bytes")
        return parts

    def _next(self) -> Part | None:
        start = self._buf.find(self.delimiter)
        if start < 0:
            return None
        after = start + len(self.delimiter)
        if self._buf[after:after + 2] == b"--":  # closing delimiter
            self._buf = self._buf[after + 2:]
            return None
        head_end = self._buf.find(b"\r\n\r\n", after)
        sep = 4
        if head_end < 0:
            head_end = self._buf.find(b"\n\n", after)
            sep = 2
        if head_end < 0:
            return None
        headers = {}
        for line in self._buf[after:head_end].decode("latin-1").splitlines():
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        body_start = head_end + sep
        length = headers.get("content-length")
        if length is not None and length.isascii() and length.isdigit():
            end = body_start + int(length)
            if len(self._buf) < end:
                return None
            body = self._buf[body_start:end]
            self._buf = self._buf[end:]
        else:
            nxt = self._buf.find(self.delimiter, body_start)
            if nxt < 0:
                return None
            body = self._buf[body_start:nxt]
            self._buf = self._buf[nxt:]
        return Part(headers, body.strip(b"\r\n"))
