"""The normalisation rules as a plugin author calls them: what vendors write, what the models hold."""

from __future__ import annotations

import pytest

from hub.devices import normal


@pytest.mark.parametrize(("raw", "name"), [
    ("H.264", "h264"), ("H.264H", "h264"), ("H.264B", "h264"), ("H.264+", "h264"), ("SMART264", "h264"),
    ("H264", "h264"), ("H.265", "hevc"), ("H.265+", "hevc"), ("Smart265", "hevc"), ("H265", "hevc"),
    ("HEVC", "hevc"), ("MJPG", "mjpeg"), ("MJPEG", "mjpeg"), ("JPEG", "mjpeg"), ("MPEG4", "mpeg4"),
    ("VP9", "vp9"), ("", None), (None, None),
])
def test_codec_names_are_ffmpegs(raw: str | None, name: str | None) -> None:
    assert normal.codec(raw) == name


@pytest.mark.parametrize(("kbps", "bits"), [(4096, 4_096_000), ("512", 512_000), (0, None), (None, None),
                                            ("n/a", None), (1.5, 1500)])
def test_bit_rates_are_bits_per_second(kbps, bits) -> None:  # noqa: ANN001
    assert normal.bits_per_second(kbps) == bits


@pytest.mark.parametrize(("candidates", "serial"), [
    (("DS-2CD2143G2-I20210101AAWRG12345678",), "DS-2CD2143G2-I20210101AAWRG12345678"),
    (("000000000000", "44:19:b6:aa:bb:cc"), "44:19:b6:aa:bb:cc"),
    (("  ", None, "unknown", "N/A", "00:00:00:00:00:00"), None),
    (("123456789", "ABC"), "ABC"),
    ((" 5J0A1B2PAZ \n",), "5J0A1B2PAZ"),
])
def test_a_serial_that_identifies_nothing_is_passed_over(candidates, serial) -> None:  # noqa: ANN001
    assert normal.usable_serial(*candidates) == serial
