"""The multipart event-stream splitter, fed the way networks deliver bytes."""

from __future__ import annotations

import pytest

from hub.core.errors import DeviceError
from hub.devices.multipart import MultipartStream, boundary_of


def part(body: bytes, length: bool = True, boundary: bytes = b"hikboundary") -> bytes:
    head = b"--" + boundary + b"\r\nContent-Type: application/xml\r\n"
    if length:
        head += b"Content-Length: %d\r\n" % len(body)
    return head + b"\r\n" + body + b"\r\n"


def test_boundary_comes_from_the_content_type() -> None:
    assert boundary_of('multipart/mixed; boundary="hikboundary"') == "hikboundary"
    assert boundary_of("multipart/x-mixed-replace; boundary=myboundary") == "myboundary"
    with pytest.raises(DeviceError, match="no multipart boundary"):
        boundary_of("text/plain")


@pytest.mark.parametrize("chunk", [1, 7, 64, 10_000])
def test_parts_with_and_without_content_length_in_any_chunking(chunk: int) -> None:
    data = part(b"<a>1</a>") + part(b"<b>2</b>", length=False) + part(b"<c>3</c>") + b"--hikboundary--\r\n"
    stream = MultipartStream("hikboundary")
    got = []
    for i in range(0, len(data), chunk):
        got += stream.feed(data[i:i + chunk])
    assert [p.body for p in got] == [b"<a>1</a>", b"<b>2</b>", b"<c>3</c>"]
    assert got[0].content_type == "application/xml"


def test_a_truncated_stream_yields_only_whole_parts() -> None:
    data = part(b"<a>1</a>") + part(b"<b>22222222</b>")[:-12]
    assert [p.body for p in MultipartStream("hikboundary").feed(data)] == [b"<a>1</a>"]


def test_a_part_that_never_ends_cannot_exhaust_memory() -> None:
    stream = MultipartStream("hikboundary", max_part=1000)
    stream.feed(b"--hikboundary\r\nContent-Type: text/plain\r\n\r\n")
    with pytest.raises(DeviceError, match="larger than 1000 bytes"):
        for _ in range(10):
            stream.feed(b"x" * 1000)



def test_a_content_length_of_digits_that_are_not_ascii_is_no_length() -> None:
    # '2\xb34' reads as 2, superscript three, 4: str.isdigit() takes it, int() does not (found by fuzzing).
    stream = MultipartStream("boundary")
    parts = stream.feed(b"--boundary\r\nContent-Type: text/plain\r\nContent-Length: 2\xb34\r\n\r\n"
                        b"hello\r\n--boundary\r\n")
    assert [p.body for p in parts] == [b"hello"]
