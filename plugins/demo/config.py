"""hub.yaml options of the synthetic cameras (``type: demo``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hub import HubModel, Location, SourceConfig


class DemoCamera(HubModel):
    name: str = Field(description="Camera name painted on the picture.")
    tags: list[str] = Field(default_factory=list, description="Tags of this camera.")
    location: Location | None = Field(default=None, description="Where the camera would stand.")


class DemoSourceConfig(SourceConfig):
    """Synthetic cameras for trying the hub without hardware."""

    type: Literal["demo"] = "demo"
    serial: str | None = Field(
        default=None, description="Serial of the synthetic device; derived from the name when unset.")
    cameras: list[DemoCamera] = Field(
        default_factory=lambda: [DemoCamera(name="Demo 1"), DemoCamera(name="Demo 2")],
        min_length=1, max_length=64, description="The synthetic cameras (channels 1, 2, ...).",
    )
    width: int = Field(default=640, ge=64, le=1920, multiple_of=2, description="Main stream width.")
    height: int = Field(default=360, ge=64, le=1080, multiple_of=2, description="Main stream height.")
    sub_width: int = Field(default=320, ge=64, le=1920, multiple_of=2, description="Substream width.")
    sub_height: int = Field(default=180, ge=64, le=1080, multiple_of=2, description="Substream height.")
    fps: int = Field(default=10, ge=1, le=30, description="Frames per second of both streams.")
    keyframe_seconds: float = Field(default=2.0, gt=0, le=10, description="Seconds between keyframes.")
    time_code: bool = Field(
        default=False, description="Paint the time each frame was made along its bottom edge, as blocks a "
        "player can read back (bench/live_latency.py measures the delay to the screen with it).")
    motion_every: float = Field(
        default=30.0, ge=0, description="Mean seconds between synthetic motion events; 0 disables them."
    )
