"""`pantau discover` finds an ONVIF camera over a real (namespaced) network link.

The camera announces itself by WS-Discovery in one network namespace; the
hub's discovery runs in another, joined by a veth pair, so multicast crosses
a real link and never touches the machine's own networks.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hub.testing.fixtures import peer_unavailable
from hub.testing.netns import NetnsUnavailable, VethPair
from tests.conftest import ROOT


@pytest.fixture
def link():  # noqa: ANN201
    pair = VethPair()
    try:
        pair.__enter__()
    except NetnsUnavailable as err:
        peer_unavailable(err)
    yield pair
    pair.__exit__()


def test_discover_finds_an_announced_onvif_camera(link: VethPair) -> None:
    publisher = None
    try:
        xaddr = f"http://{link.a_addr}:8899/onvif/device_service"
        publisher = subprocess.Popen(
            link.command(link.a, [sys.executable, "-m", "hub.testing.wsd_publisher", xaddr, "Simpang%20Lima",
                                  "FLEXIDOME"]),
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert publisher.stdout is not None and publisher.stdout.readline().strip() == "published"
        result = subprocess.run(link.command(link.b, [sys.executable, "-m", "hub", "discover", "--json",
                                                      "--timeout", "3"]),
                                cwd=ROOT, capture_output=True, text=True, timeout=60)
    finally:
        if publisher is not None:
            publisher.kill()
            publisher.wait()
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert [(d["source_type"], d["host"], d["port"], d["name"], d["hardware"]) for d in found] == [
        ("onvif", link.a_addr, 8899, "Simpang Lima", "FLEXIDOME")]
    assert found[0]["probe_url"] == f"onvif://USER:PASSWORD@{link.a_addr}:8899"
