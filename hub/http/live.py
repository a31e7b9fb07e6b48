"""Live view over HTTP: join, an HLS playlist and its segments, or MP4 fragments over a WebSocket.

``POST /api/v1/cameras/{id}/live`` is the audited ``view_live`` decision and
makes a viewer of the caller's own; ``transport=mse`` asks for the
low-latency path (``hub.media.fmp4``).  Its WebSocket,
``/api/v1/live/{viewer}/ws``, is authenticated like every route (a bearer
token, or the session cookie from a page of this hub: the guard refuses a
WebSocket whose ``Origin`` is another site's) and sends a text message
``{"type": "init", "mime": ...}`` before each init segment, then the
segment and the fragments as binary messages.  It closes with code 4403
when the viewer's access ends (the access watch re-checks every second),
4404 for a viewer that is not the caller's or is gone, 4401 without valid
credentials, and 1001 when the camera's output stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, WebSocket
from pydantic import BaseModel, Field

from hub.core.errors import AccessDenied, NotFound
from hub.core.models import Action, StreamRole
from hub.http import problems
from hub.http.auth import CurrentPrincipal, websocket_principal
from hub.http.services import ServedHub, hub_of, served_hub
from hub.live import MEDIA_TYPES
from hub.masks import applying

router = APIRouter(tags=["v1"], responses=problems.COMMON)

#: WebSocket close codes (4000-4999 are the application's): like the HTTP statuses they stand for.
CLOSE_UNAUTHENTICATED, CLOSE_ACCESS_ENDED, CLOSE_NO_VIEWER, CLOSE_GOING_AWAY = 4401, 4403, 4404, 1001


def _hub(request: Request) -> ServedHub:
    return served_hub(request)


class LiveView(BaseModel):
    """A viewer's live view of a camera: where its HLS playlist (or its WebSocket) is."""

    viewer: str = Field(description="Viewer id; the playlist and segments are under /api/v1/live/<viewer>/.")
    camera_id: str
    stream: StreamRole = Field(description="The camera stream being played.")
    transport: str = Field(description="'hls', or 'mse' (fragmented MP4 over the WebSocket at `websocket`); "
                                       "a camera with privacy masks is always 'hls'.")
    playlist: str | None = Field(description="Path of the HLS playlist (fMP4 segments); send the same bearer token.")
    websocket: str | None = Field(default=None, description="Path of the WebSocket of an 'mse' view.")
    idle_seconds: float = Field(description="Fetching nothing for this long ends the view.")


@router.post("/cameras/{camera_id}/live", status_code=201, response_model=LiveView, responses=problems.BODY)
async def live_join(
    camera_id: str, request: Request, who: CurrentPrincipal,
    stream: Annotated[StreamRole | None, Query(description="Stream to play (default: hub.yaml's live.stream).")] = None,
    unmask_reason: Annotated[str | None, Query(min_length=5, max_length=300, description=(
        "Lift the camera's liftable privacy masks, for this reason (needs 'lift_mask'; audited)."))] = None,
    transport: Annotated[str, Query(pattern="^(hls|mse)$", description=(
        "'mse' for fragmented MP4 over a WebSocket (about a frame's delay), 'hls' for a playlist."))] = "hls",
) -> LiveView:
    """Start watching a camera live: the answer names an HLS playlist of the caller's own.

    The camera's live output starts with its first viewer and shares the hub's
    one upstream connection to the camera with the recorder and other viewers.
    A camera with privacy masks plays with them painted in (decoded and encoded
    again); ``unmask_reason`` lifts the liftable ones for those who may."""
    hub = _hub(request)
    camera = hub.inventory.camera(camera_id)
    await hub.authorize(who, Action.VIEW_LIVE, camera)
    masks = hub.masks.of(camera_id)
    lifted = False
    if unmask_reason is not None and masks:
        await hub.authorize(who, Action.LIFT_MASK, camera, {"reason": unmask_reason})
        await hub.store.audit.record(who, "lift_mask", camera_id, True, unmask_reason)
        lifted = True
    viewer = hub.live.join(camera, who, stream, masks=applying(masks, lifted), transport=transport)
    mse = viewer.transport == "mse"
    return LiveView(viewer=viewer.id, camera_id=camera.id, stream=viewer.role, transport=viewer.transport,
                    playlist=None if mse else str(request.url_for(
                        "live_file", viewer_id=viewer.id, name="index.m3u8").path),
                    websocket=f"/api/v1/live/{viewer.id}/ws" if mse else None,
                    idle_seconds=hub.config.live.idle_seconds)


@router.get("/live/{viewer_id}/{name}", name="live_file", response_class=Response,
            responses={200: {"content": {"application/vnd.apple.mpegurl": {}, "video/iso.segment": {}}},
                       **problems.responses(503)})
async def live_file(viewer_id: str, name: str, request: Request, who: CurrentPrincipal) -> Response:
    """The HLS playlist (``index.m3u8``) or a segment of a live view.  The first playlist
    request waits for the first segment; the access policy is asked again on every playlist
    and segment, so a grant revoked or past its hours stops the picture at once."""
    hub = _hub(request)
    viewer = hub.live.viewer(viewer_id, who)
    camera = hub.inventory.camera(viewer.camera_id)
    verdict = await hub.policy.evaluate(who, Action.VIEW_LIVE, camera)
    if not verdict.allowed:  # e.g. a parent's access that ends with the school day, a revoked grant
        await hub.live.end([viewer.id])
        await hub.store.audit.record(who, "live_ended", camera.id, False, verdict.reason)
        raise AccessDenied(f"view_live on {camera.id}: {verdict.reason}", audited=True)
    if name == "index.m3u8":
        path = await hub.live.playlist(viewer)
        if path is None:
            raise HTTPException(503, "the camera has not sent a picture yet", headers={"Retry-After": "2"})
    else:
        path = hub.live.path(viewer, name)
    try:
        body = await asyncio.to_thread(path.read_bytes)
    except FileNotFoundError:
        raise HTTPException(404, f"live file {name} is gone (the player is behind the live edge)") from None
    return Response(body, media_type=MEDIA_TYPES[path.suffix], headers={"Cache-Control": "no-cache"})


@router.delete("/live/{viewer_id}", status_code=204, response_class=Response)
async def live_leave(viewer_id: str, request: Request, who: CurrentPrincipal) -> Response:
    """Stop watching (the live output stops when its last viewer has left)."""
    await _hub(request).live.leave(viewer_id, who)
    return Response(status_code=204)




@router.websocket("/live/{viewer_id}/ws")
async def live_socket(websocket: WebSocket, viewer_id: str) -> None:
    """The fragments of an MSE live view (see the module's note for the messages and close codes)."""
    hub = hub_of(websocket.app)
    who = await websocket_principal(websocket)
    if who is None:
        await websocket.close(CLOSE_UNAUTHENTICATED, "sign in, or send a bearer token")
        return
    try:
        viewer = hub.live.viewer(viewer_id, who)
        output, feed = hub.live.feed(viewer, asyncio.get_running_loop())
    except NotFound as err:
        await websocket.close(CLOSE_NO_VIEWER, str(err)[:120])
        return
    await websocket.accept()
    closed = asyncio.create_task(websocket.receive())  # the client sends nothing: this is its close
    try:
        while not closed.done():
            chunks = await feed.next(within=1.0)
            if viewer.id not in hub.live.viewers:  # the access watch ended it, or the hub stops
                await websocket.close(CLOSE_ACCESS_ENDED, "access to this camera has ended")
                return
            viewer.seen = time.monotonic()  # an open socket is a viewer still watching
            for chunk in chunks:
                if chunk is None:
                    await websocket.close(CLOSE_GOING_AWAY, "the live output stopped")
                    return
                if chunk.mime is not None:
                    await websocket.send_text(json.dumps({"type": "init", "mime": chunk.mime}))
                await websocket.send_bytes(chunk.data)
    except (OSError, RuntimeError):  # the client went away while a message was on its way
        pass
    finally:
        closed.cancel()
        output.unsubscribe(feed)
        with contextlib.suppress(NotFound):
            await hub.live.leave(viewer.id)
