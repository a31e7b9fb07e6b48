"""The plugin's HTTP routes (under ``/api/v1``): partners' device submissions and their approval.

``POST /api/v1/partners/{partner}/submissions`` validates a device and keeps
it (201 whatever the outcome: ``state`` is ``pending_approval``, or
``refused`` with the ``reason``); ``GET`` the same lists them;
``POST /api/v1/partners/submissions/{id}/approve`` adds an approved device's
cameras to the running hub.  All need ``onboard``.

The partner's own accounts (``partner_owner`` scoped ``tag:partner:<id>``)
and operators who onboard read ``GET /api/v1/partners/{id}`` (the partner,
its agreements with every step, its cameras and which are not shared now) and
switch a camera's sharing off or on again with
``POST /api/v1/partners/{id}/cameras/{camera}/sharing`` ("stop sharing now":
live views of it end within a couple of seconds; in the audit log with who
pressed it).  Who watched a camera is ``GET /api/v1/cameras/{id}/viewers``.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, WebSocket
from pydantic import Field, SecretStr

from hub import (
    AccessDenied,
    Action,
    HubModel,
    Location,
    NotFound,
    problem_responses,
    request_context,
    request_principal,
    utcnow,
    websocket_principal,
)
from plugins.tower_partner import edge_city, onboarding
from plugins.tower_partner.models import (
    AgreementState,
    Contact,
    DeviceType,
    RegisteredCamera,
    Submission,
    SubmissionState,
)
from plugins.tower_partner.policy import POLICY, TAG
from plugins.tower_partner.store import PartnerStore

router = APIRouter(tags=["partners"], responses=problem_responses(400, 404))


class DeviceSubmission(HubModel):
    """A device a partner connects: its kind, where it is, how to sign in to it."""

    type: DeviceType = Field(description="hikvision, dahua, onvif or rtsp.")
    host: str = Field(max_length=253, description="Its host name or address, as the partner reaches it.")
    port: int | None = Field(default=None, ge=1, le=65535, description="Its API port (default: 80; rtsp: 554).")
    username: str = Field(default="admin", max_length=100)
    password: SecretStr = Field(max_length=200, description="Kept sealed; never shown again.")
    site: str | None = Field(default=None, max_length=100)
    rtsp_port: int | None = Field(default=None, ge=1, le=65535, description="Its RTSP port when not 554.")
    path: str | None = Field(default=None, max_length=300, pattern=r"^/[^\s@]*$",
                             description="rtsp: the stream's path, e.g. /stream1.")
    sub_path: str | None = Field(default=None, max_length=300, pattern=r"^/[^\s@]*$",
                                 description="rtsp: the substream's path, e.g. /stream2.")
    location: Location | None = Field(default=None, description="Where its cameras stand.")
    area: str | None = Field(default=None, max_length=200, description="The area (path) its cameras watch.")


async def _store(request: Request) -> tuple[Any, Any, PartnerStore]:
    context = request_context(request)
    who = request_principal(request)
    await context.authorize(who, Action.ONBOARD)
    return context, who, PartnerStore(context.database)


@router.post("/partners/{partner_id}/submissions", status_code=201, response_model=Submission)
async def submit(partner_id: str, body: DeviceSubmission, request: Request) -> Submission:
    """Validate a partner's device and keep it: refused with the reason, or waiting for approval (the
    partner's own accounts submit theirs; operators who onboard, anyone's)."""
    context, who, store = await _partner_side(request, partner_id)
    return await onboarding.submit(context, store, who, partner_id, body.type, body.host, body.port,
                                   body.username, body.password.get_secret_value(), body.site,
                                   rtsp_port=body.rtsp_port, path=body.path, sub_path=body.sub_path,
                                   location=body.location, area=body.area)


@router.get("/partners/{partner_id}/submissions", response_model=list[Submission])
async def submissions(partner_id: str, request: Request,
                      state: Annotated[SubmissionState | None, Query()] = None) -> list[Submission]:
    _, _, store = await _partner_side(request, partner_id)
    return await store.submissions(partner_id, state)


class Registration(HubModel):
    """A camera the partner registers without sharing its video, so investigators know whom to ask."""

    name: str = Field(min_length=1, max_length=200)
    location: Location
    direction: float | None = Field(default=None, ge=0, lt=360, description="Degrees from north.")
    area: str | None = Field(default=None, max_length=200)
    contact: Contact | None = None
    note: str | None = Field(default=None, max_length=500, description="E.g. how long the owner keeps footage.")


@router.post("/partners/{partner_id}/registered", status_code=201, response_model=RegisteredCamera)
async def register_camera(partner_id: str, body: Registration, request: Request) -> RegisteredCamera:
    """Register a camera without video: where it is and looks, whom to ask for its footage."""
    context, who, store = await _partner_side(request, partner_id)
    if body.area is not None and body.area not in context.areas:
        raise NotFound(f"no area {body.area[:100]!r}")
    made = await store.register_camera(RegisteredCamera(
        id="-", partner_id=partner_id, registered_at=utcnow(), registered_by=who.id, **body.model_dump()))
    await context.audit(who, "register_camera", None, True, f"{made.id}: {made.name}")
    return made


@router.get("/partners/registered", response_model=list[RegisteredCamera])
async def registered_cameras(request: Request,
                             partner: Annotated[str | None, Query(max_length=64)] = None) -> list[RegisteredCamera]:
    """Cameras registered without video (all partners', or one's): for investigators and operators."""
    context = request_context(request)
    await context.authorize(request_principal(request), Action.VIEW_INVENTORY)
    return await PartnerStore(context.database).registered(partner)


@router.post("/partners/submissions/{submission_id}/approve", response_model=Submission)
async def approve(submission_id: str, request: Request) -> Submission:
    """Add the device's cameras to the running hub (the partner's agreement must be active)."""
    context, who, store = await _store(request)
    return await onboarding.approve(context, store, who, submission_id)


async def _partner_side(request: Request, partner_id: str) -> tuple[Any, Any, PartnerStore]:
    """The partner's own account, or an operator who onboards."""
    context = request_context(request)
    who = request_principal(request)
    if not POLICY.owns(who, partner_id) and not await context.may(who, Action.ONBOARD):
        raise AccessDenied(f"partner {partner_id[:64]}: for its own accounts and those who onboard")
    store = PartnerStore(context.database)
    await store.partner(partner_id)
    return context, who, store


@router.get("/partners/{partner_id}")
async def partner(partner_id: str, request: Request) -> dict[str, Any]:
    """The partner, its agreements and each step they took, its cameras and which are not shared now."""
    context, _, store = await _partner_side(request, partner_id)
    found = await store.partner(partner_id)
    paused = await store.paused(partner_id)
    cameras = [{"id": c.id, "name": c.name, "status": c.status.value, "sharing": c.id not in paused,
                "stopped": paused.get(c.id)} for c in context.cameras.values() if f"{TAG}{partner_id}" in c.tags]
    link = edge_city.link_state(partner_id)
    return {**found.model_dump(mode="json"), "cameras": cameras, "edge": dataclasses.asdict(link) if link else None,
            "agreements": [
        {**a.model_dump(mode="json"), "history": [h.model_dump(mode="json") for h in await store.history(a.id)]}
        for a in await store.agreements(partner_id)]}


@router.websocket("/partners/{partner_id}/edge")
async def edge_link(websocket: WebSocket, partner_id: str) -> None:
    """The partner's edge dials in here (``pantau edge``) with the partner's own token, while its
    agreement is in force; its cameras join the hub over this link (``edge_city``)."""
    who = await websocket_principal(websocket)
    if who is None:
        await websocket.close(4401, "send the partner's bearer token")
        return
    context = request_context(websocket)
    refusal = None
    if not POLICY.owns(who, partner_id):
        refusal = f"an edge links with the token of an account of partner {partner_id[:64]}"
    elif (agreement := POLICY.agreements.get(partner_id)) is None or agreement.state == AgreementState.SUSPENDED:
        refusal = f"the partnership agreement of {partner_id[:64]} is suspended or over"
    await context.audit(who, "edge_link", None, refusal is None, refusal or f"the edge of {partner_id} linked")
    if refusal is not None:
        await websocket.close(4403, refusal[:120])
        return
    await websocket.accept()
    store = PartnerStore(context.database)

    async def hello(link: edge_city.EdgeLink) -> None:
        await onboarding.edge_linked(store, who, partner_id, link.devices or [], link.edge or "edge")
        if onboarding.running is not None:
            await onboarding.running.sync()

    await edge_city.serve(partner_id, websocket, hello)


class Sharing(HubModel):
    sharing: bool = Field(description="false: stop sharing the camera now; true: share it again.")
    note: str | None = Field(default=None, max_length=500, description="Why (kept with the switch).")


@router.post("/partners/{partner_id}/cameras/{camera_id}/sharing", status_code=204, response_class=Response)
async def switch_sharing(partner_id: str, camera_id: str, body: Sharing, request: Request) -> Response:
    """Stop sharing a camera now (its live views end within a couple of seconds), or share it again."""
    context, who, store = await _partner_side(request, partner_id)
    camera = context.cameras.get(camera_id)
    if camera is None or f"{TAG}{partner_id}" not in camera.tags:
        raise NotFound(f"partner {partner_id[:64]} has no camera {camera_id[:100]!r}")
    await store.set_sharing(partner_id, camera_id, body.sharing, who.id, body.note)
    await context.audit(who, "share_camera" if body.sharing else "stop_sharing", camera_id, True,
                        body.note or ("shared again" if body.sharing else "stopped sharing"))
    if onboarding.running is not None:
        await onboarding.running.sync()
    return Response(status_code=204)
