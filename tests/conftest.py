from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["hub.testing.fixtures"]

ROOT = Path(__file__).resolve().parent.parent

# A small, quick demo hub: 2 s segments, a keyframe every second.
DEMO_HUB = """\
version: 1
hub: {{name: Test Hub}}
logging: {{level: info, format: json}}
recording:
  default: {{mode: continuous, segment_seconds: 2, retain_days: 1}}
{extra}
sources:
  - type: demo
    name: demo
    cameras: [{{name: Gate A, tags: [public]}}, {{name: Kelas 7A, tags: ["classroom:7A"]}}]
    width: 320
    height: 180
    sub_width: 160
    sub_height: 90
    fps: 10
    keyframe_seconds: 1
    motion_every: {motion_every}
"""


def demo_hub_yaml(extra: str = "", motion_every: float = 0) -> str:
    return DEMO_HUB.format(extra=extra, motion_every=motion_every)


@pytest.fixture(scope="session")
def plugins():
    from hub.core.plugins import Plugins

    return Plugins().load()
