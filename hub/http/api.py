"""The v1 API: cameras, snapshots, recordings, stream graph, events, plugins."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from hub.cluster.routing import from_every_node, passed_by
from hub.core.errors import AccessDenied, NotFound
from hub.core.models import (
    Action,
    Camera,
    Event,
    GraphNode,
    PrivacyMask,
    PtzCommand,
    PtzPreset,
    Segment,
)
from hub.export import export_range
from hub.http import problems
from hub.http.auth import CurrentPrincipal, require
from hub.http.services import ServedHub, served_hub
from hub.masks import applying, burn_jpeg

router = APIRouter(tags=["v1"], responses=problems.COMMON)


def _hub(request: Request) -> ServedHub:
    return served_hub(request)


async def _recorded_camera(hub: ServedHub, camera_id: str) -> Camera:
    """A camera whose recordings are asked for: from the inventory, else as it was last seen
    (a removed camera keeps its recordings); ``NotFound`` when the hub never knew it."""
    camera = hub.inventory.cameras.get(camera_id) or await hub.store.cameras.known_camera(camera_id)
    if camera is None:
        raise NotFound(f"no camera {camera_id!r}")
    return camera


def check_range(start: datetime | None, end: datetime | None, longest: timedelta | None = None) -> None:
    """A range given in a request, refused (400) without a time zone, ending before it starts,
    or longer than ``longest``: local times are ambiguous, and a wrong hour is wrong evidence."""
    if (start is not None and start.tzinfo is None) or (end is not None and end.tzinfo is None):
        raise HTTPException(400, "start and end need a time zone (e.g. 2026-11-22T10:00:00+07:00)")
    for when in (start, end):
        if when is not None and not EARLIEST <= when <= LATEST:
            raise HTTPException(400, f"{when.isoformat()} is outside the years {EARLIEST.year} to {LATEST.year}")
    if start is not None and end is not None and not start < end:
        raise HTTPException(400, "the range must end after it starts")
    if longest is not None and start is not None and end is not None and end - start > longest:
        raise HTTPException(400, f"the range may be at most {longest} long")


#: Cameras one page of ``GET /api/v1/cameras`` holds at most.
PAGE = 500


@router.get("/cameras", response_model=list[Camera])
async def list_cameras(
    request: Request, response: Response, who: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=PAGE, description=f"Cameras per page (at most {PAGE}).")] = PAGE,
    after: Annotated[str | None, Query(max_length=250, description="The last camera id of the page before; "
                                                                   "the Link header's next page names it.")] = None,
) -> list[Camera]:
    """The cameras the caller may see, a page at a time in the inventory's order.  ``X-Total-Count``
    says how many there are in all; while more follow, ``Link: <...>; rel="next"`` names the next page."""
    hub = _hub(request)
    ids = await hub.visible(who)
    start = 0
    if after is not None:
        start = next((n + 1 for n, cam_id in enumerate(ids) if cam_id == after), len(ids))
    page = ids[start:start + limit]
    response.headers["X-Total-Count"] = str(len(ids))
    if start + limit < len(ids):
        following = request.url.include_query_params(after=page[-1], limit=limit)
        response.headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    cameras = hub.inventory.cameras
    return [cameras[c] for c in page if c in cameras]


@router.get("/cameras/{camera_id}", response_model=Camera)
async def get_camera(camera_id: str, request: Request, who: CurrentPrincipal) -> Camera:
    hub = _hub(request)
    camera = hub.inventory.camera(camera_id)
    await hub.authorize(who, Action.VIEW_INVENTORY, camera)
    return camera  # type: ignore[no-any-return]


class StatusSpan(BaseModel):
    """A stretch of time a camera spent in one status."""

    status: str = Field(description="online, offline, degraded (or unknown).")
    start: datetime
    end: datetime
    reason: str | None = Field(default=None, description="Why, as the health check said when it began.")


@router.get("/cameras/{camera_id}/status-history", response_model=list[StatusSpan])
async def status_history(
    camera_id: str, request: Request, who: CurrentPrincipal,
    start: Annotated[datetime, Query(description="From (ISO 8601, with a time zone).")],
    end: Annotated[datetime, Query(description="Until (ISO 8601, with a time zone).")],
) -> list[StatusSpan]:
    """A camera's statuses over a range (at most 31 days), oldest first: the timeline's offline bands,
    a health chart's history."""
    hub = _hub(request)
    check_range(start, end, timedelta(days=31))
    camera = await _recorded_camera(hub, camera_id)
    await hub.authorize(who, Action.VIEW_INVENTORY, camera)
    return [StatusSpan(status=status, start=since, end=until, reason=reason)
            for status, since, until, reason in await hub.store.status.spans(camera_id, start, end)]


@router.get("/cameras/{camera_id}/snapshot", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}}, **problems.DEVICE})
async def snapshot(
    camera_id: str, request: Request, who: CurrentPrincipal,
    unmask_reason: Annotated[str | None, Query(min_length=5, max_length=300, description=(
        "Lift the camera's liftable privacy masks, for this reason (needs 'lift_mask'; audited). "
        "Permanent masks stay."))] = None,
) -> Response:
    """A current JPEG picture of the camera, its privacy masks painted in."""
    hub = _hub(request)
    camera = hub.inventory.camera(camera_id)
    await hub.authorize(who, Action.VIEW_LIVE, camera, repeated=True)
    masks = hub.masks.of(camera_id)
    lifted = False
    if unmask_reason is not None and masks:
        await hub.authorize(who, Action.LIFT_MASK, camera, {"reason": unmask_reason})
        await hub.store.audit.record(who, "lift_mask", camera_id, True, unmask_reason, coalesce=True)
        lifted = True
    jpeg = await hub.snapshot(camera_id)
    jpeg = await asyncio.to_thread(burn_jpeg, jpeg, applying(masks, lifted))
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get("/cameras/{camera_id}/masks", response_model=list[PrivacyMask])
async def masks_of(camera_id: str, request: Request, who: CurrentPrincipal) -> list[PrivacyMask]:
    """The camera's privacy masks: hub.yaml's and those set here."""
    hub = _hub(request)
    await hub.authorize(who, Action.VIEW_INVENTORY, hub.inventory.camera(camera_id))
    return hub.masks.of(camera_id)


@router.put("/cameras/{camera_id}/masks", response_model=list[PrivacyMask], responses=problems.BODY)
async def set_masks(camera_id: str, body: list[PrivacyMask], request: Request,
                    who: CurrentPrincipal) -> list[PrivacyMask]:
    """Replace the masks set here for the camera (hub.yaml's stay); takes effect for new pictures and
    new live outputs at once (needs 'manage'; audited)."""
    hub = _hub(request)
    camera = hub.inventory.camera(camera_id)
    await hub.authorize(who, Action.MANAGE, camera, {"masks": len(body)})
    await hub.masks.replace(camera_id, body)
    await hub.store.audit.record(who, "set_masks", camera_id, True, ", ".join(
        f"{m.name} ({m.kind})" for m in body) or "none")
    return hub.masks.of(camera_id)


@router.get("/cameras/{camera_id}/recordings", response_model=list[Segment])
async def recordings(
    camera_id: str, request: Request, who: CurrentPrincipal,
    start: Annotated[datetime | None, Query(description="Only segments ending after this (ISO 8601).")] = None,
    end: Annotated[datetime | None, Query(description="Only segments starting before this (ISO 8601).")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[Segment]:
    """Recorded segments of a camera over a time range, oldest first."""
    hub = _hub(request)
    check_range(start, end)
    camera = await _recorded_camera(hub, camera_id)
    floor = hub.grants.history_floor(who, camera, hub.policy.clock())
    if floor is not None and (start is None or start < floor):
        start = floor  # a grant's history floor: nothing recorded before it
    await hub.authorize(who, Action.PLAY_BACK, camera, {"recorded_from": start})
    segments = await hub.store.recordings.segments(camera_id, start, end, limit)
    for seg in segments:
        seg.download_url = str(request.url_for("download_recording", segment_id=seg.id).path)
    return segments  # type: ignore[no-any-return]


@router.get("/recordings/{segment_id}/download", name="download_recording",
            responses={200: {"content": {"video/mp4": {}}}, **problems.STORAGE})
async def download(segment_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="The segment's id.")],
                   request: Request, who: CurrentPrincipal) -> Response:
    """One recorded segment as fragmented MP4."""
    hub = _hub(request)
    found = await hub.store.recordings.segment(segment_id)
    if found is None:
        raise NotFound(f"no recording {segment_id}")
    seg, key = found
    try:
        camera = await _recorded_camera(hub, seg.camera_id)
    except NotFound:
        raise AccessDenied("recording of an unknown camera") from None
    await hub.authorize(who, Action.PLAY_BACK, camera, {"segment": segment_id, "recorded_from": seg.start},
                        repeated=True)
    filename = f"{seg.camera_id.replace(':', '_')}-{seg.start:%Y%m%dT%H%M%SZ}.mp4"
    headers = {"X-Content-SHA256": seg.sha256}
    local = hub.storage.local_path(key)
    if local is not None:
        return FileResponse(local, media_type="video/mp4", filename=filename, headers=headers)
    headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return StreamingResponse(hub.storage.read(key), media_type="video/mp4", headers=headers)


#: Times a request may name (a year-9999 time west of UTC is past what a datetime holds once in UTC).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)

#: The longest range one export may cover.
EXPORT_MAX = timedelta(hours=6)


@router.get("/cameras/{camera_id}/export", responses={200: {"content": {"video/mp4": {}}}, **problems.STORAGE})
async def export(
    camera_id: str, request: Request, who: CurrentPrincipal,
    start: Annotated[datetime, Query(description="Start of the range (ISO 8601 with a zone).")],
    end: Annotated[datetime, Query(description="End of the range (ISO 8601 with a zone).")],
) -> Response:
    """The recording of a camera over a range as one MP4 (for evidence): segments joined
    by remux from the keyframe at or before ``start``; gaps stay gaps.  The SHA-256
    of the file is in ``X-Content-SHA256``; the export is in the audit log."""
    hub = _hub(request)
    check_range(start, end, longest=EXPORT_MAX)
    camera = await _recorded_camera(hub, camera_id)
    await hub.authorize(who, Action.EXPORT, camera, {"start": start.isoformat(), "end": end.isoformat(),
                                                     "recorded_from": start})
    work = hub.data_dir / "exports" / uuid.uuid4().hex
    result = await export_range(hub.store.recordings, hub.storage, camera_id, start, end, work)
    filename = f"{camera_id.replace(':', '_')}-{result.start:%Y%m%dT%H%M%SZ}-{int(result.seconds)}s.mp4"
    headers = {"X-Content-SHA256": result.sha256, "X-Recording-Start": result.start.isoformat(),
               "X-Recording-Seconds": f"{result.seconds:.3f}"}
    return FileResponse(result.path, media_type="video/mp4", filename=filename, headers=headers,
                        background=BackgroundTask(shutil.rmtree, work, True))


class EvidenceLock(BaseModel):
    """Keep (or release) a camera's recordings over a range from retention."""

    start: datetime = Field(description="Start of the range (ISO 8601 with a zone).")
    end: datetime = Field(description="End of the range (ISO 8601 with a zone).")
    locked: bool = Field(default=True, description="true locks (evidence); false releases (needs 'manage').")
    reason: str = Field(min_length=3, max_length=500,
                        description="Why, for the audit log: a case or request number, who asked.")


class EvidenceLockResult(BaseModel):
    camera_id: str
    locked: bool
    segments: list[int] = Field(description="Ids of the segments overlapping the range, now (un)locked.")


@router.post("/cameras/{camera_id}/recordings/lock", response_model=EvidenceLockResult, responses=problems.BODY)
async def lock_recordings(camera_id: str, body: EvidenceLock, request: Request,
                          who: CurrentPrincipal) -> EvidenceLockResult:
    """Lock the segments of a range so retention never deletes them (evidence a police
    request asks for), or release them.  Locking needs 'export'; releasing needs 'manage';
    both are in the audit log with their reason."""
    hub = _hub(request)
    check_range(body.start, body.end)
    camera = await _recorded_camera(hub, camera_id)
    action = Action.EXPORT if body.locked else Action.MANAGE
    await hub.authorize(who, action, camera, {"lock": body.locked})
    ids = await hub.store.recordings.lock_range(camera_id, body.start, body.end, body.locked)
    if not ids:
        raise HTTPException(404, "no recording of this camera overlaps the range")
    what = "lock" if body.locked else "unlock"
    await hub.store.audit.record(who, what, camera_id, True,
                                 f"{body.reason} ({body.start.isoformat()} to {body.end.isoformat()}, "
                                 f"{len(ids)} segments)")
    return EvidenceLockResult(camera_id=camera_id, locked=body.locked, segments=ids)


@router.post("/cameras/{camera_id}/ptz", status_code=204, response_class=Response,
             responses={**problems.BODY, **problems.DEVICE})
async def ptz(camera_id: str, command: PtzCommand, request: Request, who: CurrentPrincipal) -> Response:
    """Move, stop or send a PTZ camera to a preset (501 for cameras without PTZ)."""
    hub = _hub(request)
    camera = hub.inventory.camera(camera_id)
    await hub.authorize(who, Action.CONTROL_PTZ, camera, {"ptz": command.action.value})
    await hub.inventory.source_of(camera_id).ptz(camera, command)
    return Response(status_code=204)


@router.get("/cameras/{camera_id}/ptz/presets", response_model=list[PtzPreset], responses=problems.DEVICE)
async def ptz_presets(camera_id: str, request: Request, who: CurrentPrincipal) -> list[PtzPreset]:
    hub = _hub(request)
    camera = hub.inventory.camera(camera_id)
    await hub.authorize(who, Action.CONTROL_PTZ, camera)
    return await hub.inventory.source_of(camera_id).ptz_presets(camera)  # type: ignore[no-any-return]


@router.get("/streams", response_model=list[GraphNode])
async def streams(request: Request, response: Response, who: CurrentPrincipal) -> list[GraphNode]:
    """Stream-graph nodes of the cameras the caller may see, with their figures
    (fps, bitrate, last packet, reconnects, errors).  With several hub nodes, every living
    node's, each naming its ``hub_node``; a node that did not answer within 5 s is named in
    the ``Pantau-Unanswered-Nodes`` header."""
    hub = _hub(request)
    visible = set(await hub.visible(who))
    mine = [n for n in hub.graph.nodes() if n.camera_id in visible]
    if hub.cluster is None:
        return mine
    mine = [n.model_copy(update={"hub_node": hub.cluster.node}) for n in mine]
    if passed_by(request.scope) is not None:
        return mine  # asked by the node gathering every node's part
    theirs, silent = await from_every_node(hub.cluster, request.scope, "/api/v1/streams")
    if silent:
        response.headers["Pantau-Unanswered-Nodes"] = ", ".join(silent)
    return mine + [GraphNode.model_validate({**n, "hub_node": node}) for node, part in theirs.items() for n in part]


@router.get("/events", response_model=list[Event])
async def events(request: Request, who: CurrentPrincipal, camera_id: str | None = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[Event]:
    """Recent events, newest first: those of the cameras the caller may see (a caller who may
    see every camera also sees the events of devices and of cameras no longer in the inventory)."""
    hub = _hub(request)
    if camera_id is not None and (camera := hub.inventory.cameras.get(camera_id)) is not None:
        await hub.authorize(who, Action.VIEW_INVENTORY, camera)
    visible = await hub.visible(who)
    if not visible:
        return []
    limited = None if len(visible) == len(hub.inventory.cameras) else visible
    if limited is not None and camera_id is not None and camera_id not in limited:
        return []  # a camera no longer in the inventory: only those who see everything see its past
    return await hub.store.events.events(camera_id, limit, limited)  # type: ignore[no-any-return]


def _source_view(hub: Any, name: str, source: Any, details: bool) -> dict[str, Any]:
    view = {"name": name, "type": source.source_type, "error": hub.inventory.errors.get(name),
            "cameras": len(hub.inventory.cameras_of(name)), "events_read_by": hub.event_workers.read_by.get(name)}
    if details:
        view["diagnostics"] = jsonable_encoder(source.diagnostics)
    return view


@router.get("/sources")
async def sources(request: Request, who: Any = require(Action.MANAGE)) -> list[dict[str, Any]]:
    """Configured sources and whether their last probe worked."""
    hub = _hub(request)
    return [_source_view(hub, n, s, False) for n, s in hub.inventory.sources.items()]


@router.get("/sources/{name}")
async def source_detail(name: str, request: Request, who: Any = require(Action.MANAGE)) -> dict[str, Any]:
    """One source with its diagnostics: storage, clock drift, capabilities (never credentials)."""
    hub = _hub(request)
    source = hub.inventory.sources.get(name)
    if source is None:
        from hub.core.errors import NotFound

        raise NotFound(f"no source {name!r}")
    return _source_view(hub, name, source, True)


@router.get("/outbox")
async def outbox(request: Request, state: Annotated[str | None, Query(pattern="^(pending|delivered|dead)$")] = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                 who: Any = require(Action.MANAGE)) -> dict[str, Any]:
    """The notifier outbox: counts per notifier and state, and the latest entries."""
    store = _hub(request).store
    return {"notifiers": await store.events.outbox_summary(), "items": await store.events.outbox_items(state, limit)}


@router.get("/audit")
async def audit(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                principal: Annotated[str | None, Query(max_length=200, description="Only this principal, "
                                                       "e.g. user:rt03.krapyak or token:<id>.")] = None,
                camera_id: Annotated[str | None, Query(max_length=250, description="Only this camera.")] = None,
                action: Annotated[str | None, Query(max_length=40, description="Only this action, "
                                                    "e.g. view_live, play_back, export, sign_in.")] = None,
                allowed: Annotated[bool | None, Query(description="Only what was allowed (true) or refused.")] = None,
                start: datetime | None = None, end: datetime | None = None,
                before: Annotated[int | None, Query(ge=1, description="Only entries older than this entry id "
                                                    "(the last id of a page: the next page).")] = None,
                who: Any = require(Action.READ_AUDIT)) -> list[dict[str, Any]]:
    """Access decisions (live, playback, export, PTZ, refusals of every kind with the caller's
    address) and sign-ins, newest first, filtered by principal, camera, action, outcome and time
    (``start``/``end`` with a zone).  Admins and operators read it all; anyone else who may read
    the audit (a school admin, a partner owner) reads the entries about the cameras they manage."""
    check_range(start, end)
    hub = _hub(request)
    mine = await hub.visible(who, Action.READ_AUDIT)
    cameras = None if not who.scopes and len(mine) == len(hub.inventory.cameras) else mine
    return await hub.store.audit.entries(  # type: ignore[no-any-return]
        limit, principal=principal, camera_id=camera_id, action=action, allowed=allowed, start=start, end=end,
        cameras=cameras, before=before)
