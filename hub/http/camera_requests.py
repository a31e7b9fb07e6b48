"""The neighbourhoods' camera requests over HTTP (``hub.store.camera_requests``).

``POST /api/v1/camera-requests`` files one (``request_camera`` on the area:
an RT head asks within their RT); ``GET`` lists the caller's own, or everyone's
for those who answer them (``plan_cameras``); ``POST .../{id}/answer`` answers.
Filing and answering are in the audit log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import Field

from hub.core.errors import InvalidInput
from hub.core.models import Action, HubModel, Principal
from hub.core.policy import Resource
from hub.http import problems
from hub.http.auth import CurrentPrincipal
from hub.http.services import ServedHub, served_hub
from hub.store.camera_requests import CameraRequest, CameraRequestState

router = APIRouter(tags=["camera requests"], responses=problems.COMMON)

AREA_PATH = r"^[a-z0-9][a-z0-9_.-]*(/[a-z0-9][a-z0-9_.-]*)*$"


class NewCameraRequest(HubModel):
    """Where a camera is wanted and why."""

    latitude: float = Field(ge=-90, le=90, description="The spot (WGS 84), as chosen on the map.")
    longitude: float = Field(ge=-180, le=180)
    reason: str = Field(min_length=10, max_length=2000, description="Why a camera is wanted there.")
    area: str | None = Field(default=None, max_length=250, pattern=AREA_PATH, description=(
        "The area the spot is in; by default the caller's own (their one area: scope)."))


class CameraRequestAnswer(HubModel):
    """The operators' answer."""

    state: CameraRequestState = Field(description="planned, declined or installed.")
    note: str | None = Field(default=None, max_length=2000, description="Why declined, when planned; "
                                                                        "the one who asked reads it.")
    camera_id: str | None = Field(default=None, max_length=250, description="The camera installed (installed).")


def own_areas(scopes: list[str]) -> list[str]:
    return [s.removeprefix("area:") for s in scopes if s.startswith("area:")]


async def asking_areas(hub: ServedHub, who: Principal) -> list[str]:
    """The areas of ``who``'s own (their ``area:`` scopes) they may ask for cameras in."""
    return [area for area in own_areas(who.scopes)
            if await hub.may(who, Action.REQUEST_CAMERA, None, {"resource": Resource("area", area)})]


@router.post("/camera-requests", status_code=201, response_model=CameraRequest, responses=problems.BODY)
async def file_request(body: NewCameraRequest, request: Request, who: CurrentPrincipal) -> CameraRequest:
    """Ask for a camera at a spot in one's area."""
    hub = served_hub(request)
    areas = own_areas(who.scopes)
    area = body.area or (areas[0] if len(areas) == 1 else None)
    if area is None:
        raise InvalidInput("say which area the spot is in (area)")
    await hub.authorize(who, Action.REQUEST_CAMERA, None, {"resource": Resource("area", area)})
    filed = await hub.store.camera_requests.file(who, area, body.latitude, body.longitude, body.reason)
    await hub.store.audit.record(who, "request_camera", None, True, f"{filed.id} in {area}")
    return filed


@router.get("/camera-requests", response_model=list[CameraRequest])
async def list_requests(
    request: Request, who: CurrentPrincipal,
    state: Annotated[CameraRequestState | None, Query(description="Only those in this state.")] = None,
    mine: Annotated[bool, Query(description="Only the caller's own (for those who see everyone's).")] = False,
) -> list[CameraRequest]:
    """The caller's requests, newest first; everyone's for those who answer them."""
    hub = served_hub(request)
    everyone = not mine and await hub.may(who, Action.PLAN_CAMERAS)
    return await hub.store.camera_requests.list(asked_by=None if everyone else who.id, state=state)


@router.post("/camera-requests/{request_id}/answer", response_model=CameraRequest, responses=problems.BODY)
async def answer_request(request_id: str, body: CameraRequestAnswer, request: Request,
                         who: CurrentPrincipal) -> CameraRequest:
    """Answer a request: planned, declined (saying why) or installed (naming the camera)."""
    hub = served_hub(request)
    await hub.authorize(who, Action.PLAN_CAMERAS)
    if body.camera_id is not None and body.camera_id not in hub.inventory.cameras:
        raise InvalidInput(f"no camera {body.camera_id[:100]!r} in the inventory")
    answered = await hub.store.camera_requests.answer(request_id, who, body.state, body.note, body.camera_id)
    await hub.store.audit.record(who, "answer_camera_request", body.camera_id, True,
                                 f"{answered.id}: {answered.state.value}")
    return answered
