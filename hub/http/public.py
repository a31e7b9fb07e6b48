"""The public portal's API (no sign-in) and the operators' side of its gate.

Anyone may call:

- ``GET /api/v1/public/cameras``: the public cameras (``hub.access.public``)
  with name, area, location and the time of their latest checked picture;
- ``GET /api/v1/public/cameras/{id}/snapshot``: that picture (JPEG);
- ``GET /api/v1/public/cameras/{id}/live/index.m3u8`` and its segments: the
  camera's substream as HLS, one output per camera for everyone, the same
  URLs for every viewer, so a CDN in front can cache them.

Never recordings, events or device details.  Each address may make
``public.requests_per_minute`` requests a minute (then 429 with
``Retry-After``); answers say ``Cache-Control: public`` for
``public.cache_seconds``.  Operators approve a camera's scene with ``POST
/api/v1/public/cameras/{id}/approve`` (the current picture becomes the
reference; ``pantau public approve`` calls it), take it off with ``DELETE``,
and read each gate's state at ``GET /api/v1/public/scenes``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from hub.access.public import PUBLIC
from hub.core.errors import NotFound
from hub.core.models import Action, Camera, Location, StreamRole
from hub.http import problems
from hub.http.auth import CurrentPrincipal, FailureLimiter
from hub.http.services import ServedHub, served_hub
from hub.live import MEDIA_TYPES
from hub.masks import burn_jpeg

router = APIRouter(tags=["public"])


class PublicCamera(BaseModel):
    """A camera on the public portal, as anyone may see it."""

    id: str
    name: str
    area: str | None = Field(description="Area path.")
    area_name: str | None = Field(description="The area's name (kelurahan, kecamatan), when hub.yaml names it.")
    location: Location | None
    direction: float | None = Field(description="Viewing direction in degrees from north.")
    picture_at: datetime | None = Field(description="When its latest checked picture was taken (UTC).")
    snapshot: str = Field(description="Path of its latest picture (JPEG).")
    live: str = Field(description="Path of its live HLS playlist.")


def _limited(request: Request) -> ServedHub:
    hub = served_hub(request)
    limiter: FailureLimiter = request.app.state.public_requests
    address = request.client.host if request.client else "?"
    if (wait := limiter.hit(f"address:{address}")) is not None:
        raise HTTPException(429, "too many requests to the public portal from this address; try again later",
                            headers={"Retry-After": str(wait)})
    return hub


def _cache(hub: ServedHub, seconds: int | None = None) -> dict[str, str]:
    return {"Cache-Control": f"public, max-age={hub.config.public.cache_seconds if seconds is None else seconds}"}


def _public_camera(hub: ServedHub, camera_id: str) -> Camera:
    camera = hub.inventory.cameras.get(camera_id)
    if camera is None or not hub.public.is_public(camera):
        raise NotFound(f"no public camera {camera_id[:100]!r}")
    return camera


@router.get("/public/cameras", response_model=list[PublicCamera], responses=problems.responses(429))
async def public_cameras(request: Request, response: Response) -> list[PublicCamera]:
    """The cameras of the public portal (no sign-in)."""
    hub = _limited(request)
    areas = {a.path: a.name for a in hub.config.areas}
    out = []
    for camera in hub.public.cameras():
        taken = hub.public.last_picture_at(camera.id)
        base = f"/api/v1/public/cameras/{camera.id}"
        out.append(PublicCamera(id=camera.id, name=camera.name, area=camera.area,
                                area_name=areas.get(camera.area or ""), location=camera.location,
                                direction=camera.direction,
                                picture_at=datetime.fromtimestamp(taken, UTC) if taken else None,
                                snapshot=f"{base}/snapshot", live=f"{base}/live/index.m3u8"))
    response.headers.update(_cache(hub))
    return out


@router.get("/public/cameras/{camera_id}/snapshot", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}}, **problems.responses(404, 429, 503)})
async def public_snapshot(camera_id: str, request: Request) -> Response:
    """The latest picture of a public camera, checked against its approved scene before it is served."""
    hub = _limited(request)
    camera = _public_camera(hub, camera_id)
    picture = await hub.public.picture(camera)
    if picture is None:
        raise NotFound(f"no public camera {camera_id[:100]!r}")  # it has just left the portal
    stamp = datetime.fromtimestamp(picture.at, UTC)
    jpeg = await asyncio.to_thread(burn_jpeg, picture.jpeg, hub.masks.of(camera.id))  # never lifted here
    return Response(jpeg, media_type="image/jpeg",
                    headers={**_cache(hub), "Last-Modified": stamp.strftime("%a, %d %b %Y %H:%M:%S GMT")})


@router.get("/public/cameras/{camera_id}/live/{name}", response_class=Response,
            responses={200: {"content": {"application/vnd.apple.mpegurl": {}, "video/iso.segment": {}}},
                       **problems.responses(404, 429, 503)})
async def public_live(camera_id: str, name: str, request: Request) -> Response:
    """A public camera's live HLS (its substream): the playlist, or a segment it lists."""
    hub = _limited(request)
    camera = _public_camera(hub, camera_id)
    shared: dict[str, str] = request.app.state.public_viewers
    viewer = hub.live.viewers.get(shared.get(camera.id, ""))
    if viewer is None:
        viewer = hub.live.join(camera, PUBLIC, StreamRole.SUB if camera.stream(StreamRole.SUB) else None,
                               shared=True, masks=hub.masks.of(camera.id))
        shared[camera.id] = viewer.id
    viewer = hub.live.viewer(viewer.id, PUBLIC)  # marked as watched
    if name == "index.m3u8":
        path = await hub.live.playlist(viewer)
        if path is None:
            raise HTTPException(503, "the camera has not sent a picture yet", headers={"Retry-After": "2"})
        cache = _cache(hub, 1)
    else:
        path = hub.live.path(viewer, name)
        cache = _cache(hub, 60)  # a segment's name is never reused
    try:
        body = await asyncio.to_thread(path.read_bytes)
    except FileNotFoundError:
        raise HTTPException(404, f"live file {name[:80]} is gone (behind the live edge)") from None
    return Response(body, media_type=MEDIA_TYPES[path.suffix], headers=cache)


class Approved(BaseModel):
    camera_id: str
    state: str
    approved_by: str


@router.post("/public/cameras/{camera_id}/approve", response_model=Approved,
             responses={**problems.COMMON, **problems.DEVICE})
async def approve(camera_id: str, request: Request, who: CurrentPrincipal) -> Approved:
    """Approve the camera's scene as it is now for the public portal (needs 'manage')."""
    hub = served_hub(request)
    camera = hub.inventory.camera(camera_id)
    await hub.authorize(who, Action.MANAGE, camera, {"public": "approve"})
    await hub.public.approve(camera, who)
    return Approved(camera_id=camera.id, state="approved", approved_by=who.id)


@router.delete("/public/cameras/{camera_id}/approve", status_code=204, response_class=Response,
               responses=problems.COMMON)
async def withdraw(camera_id: str, request: Request, who: CurrentPrincipal) -> Response:
    """Take the camera off the public portal (a new approval brings it back)."""
    hub = served_hub(request)
    await hub.authorize(who, Action.MANAGE, hub.inventory.camera(camera_id), {"public": "withdraw"})
    await hub.public.withdraw(camera_id, who)
    return Response(status_code=204)


@router.get("/public/scenes", responses=problems.COMMON)
async def scenes(request: Request, who: CurrentPrincipal) -> list[dict[str, Any]]:
    """Every camera's gate: approved, departed (its picture left the scene) or withdrawn, with the
    likeness of its last check (needs 'manage')."""
    hub = served_hub(request)
    await hub.authorize(who, Action.MANAGE)
    return await hub.store.scenes.states()
