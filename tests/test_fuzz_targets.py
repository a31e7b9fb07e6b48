"""The fuzz targets (``make fuzz``) run here on their seed corpus and on simple mutations of it,
without the fuzzer: a target that rots, or a parser that lets a plain exception out on a
truncated or flipped input, fails here first."""

from __future__ import annotations

import random

import pytest

from fuzz.targets import TARGETS
from tests.conftest import ROOT

CORPUS = ROOT / "fuzz" / "corpus"


def mutations(seed: bytes, count: int = 60) -> list[bytes]:
    rng = random.Random(seed)
    out = [seed[:cut] for cut in range(0, len(seed), max(1, len(seed) // 20))]  # cut short anywhere
    for _ in range(count):
        data = bytearray(seed)
        for _ in range(rng.randint(1, 4)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3 and data:
            at = rng.randrange(len(data))
            data[at:at] = data[at:at + rng.randint(1, 64)] * rng.randint(2, 50)  # repeated
        out.append(bytes(data))
    return out


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_target_has_seeds_and_takes_them_and_their_mutations(name: str) -> None:
    seeds = sorted((CORPUS / name).glob("*"))
    assert seeds, f"fuzz/corpus/{name}/ has no seed"
    for seed in seeds:
        for data in [seed.read_bytes(), *mutations(seed.read_bytes())]:
            TARGETS[name](data)  # raises only for a crash: a parser letting anything but a HubError out


def test_the_seeds_are_inputs_the_parsers_accept() -> None:
    from plugins.hikvision import parse as hikvision

    info = hikvision.device_info((CORPUS / "hikvision_isapi" / "device_info").read_bytes()[1:], "seed")
    assert info.serial.startswith("DS-2CD2143G2")
    from plugins.dahua import parse as dahua

    part = dahua.event_part((CORPUS / "dahua_event_stream" / "start").read_bytes().split(b"\r\n\r\n", 1)[1], "seed")
    assert part.code == "VideoMotion" and part.channel == 1
