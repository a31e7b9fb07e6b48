"""The plugin's HTTP routes (under ``/api/v1``): partners' device submissions and their approval.

``POST /api/v1/partners/{partner}/submissions`` validates a device and keeps
it (201 whatever the outcome: ``state`` is ``pending_approval``, or
``refused`` with the ``reason``); ``GET`` the same lists them;
``POST /api/v1/partners/submissions/{id}/approve`` adds an approved device's
cameras to the running hub.  All need ``onboard``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field, SecretStr

from hub import Action, HubModel, problem_responses, request_context, request_principal
from plugins.tower_partner import onboarding
from plugins.tower_partner.models import DeviceType, Submission, SubmissionState
from plugins.tower_partner.store import PartnerStore

router = APIRouter(tags=["partners"], responses=problem_responses(400, 404))


class DeviceSubmission(HubModel):
    """A device a partner connects: its kind, where it is, how to sign in to it."""

    type: DeviceType = Field(description="hikvision, dahua or onvif.")
    host: str = Field(max_length=253, description="Its host name or address, as the partner reaches it.")
    port: int | None = Field(default=None, ge=1, le=65535, description="Its API port (default: 80).")
    username: str = Field(default="admin", max_length=100)
    password: SecretStr = Field(max_length=200, description="Kept sealed; never shown again.")
    site: str | None = Field(default=None, max_length=100)


async def _store(request: Request) -> tuple[Any, Any, PartnerStore]:
    context = request_context(request)
    who = request_principal(request)
    await context.authorize(who, Action.ONBOARD)
    return context, who, PartnerStore(context.database)


@router.post("/partners/{partner_id}/submissions", status_code=201, response_model=Submission)
async def submit(partner_id: str, body: DeviceSubmission, request: Request) -> Submission:
    """Validate a partner's device and keep it: refused with the reason, or waiting for approval."""
    context, who, store = await _store(request)
    return await onboarding.submit(context, store, who, partner_id, body.type, body.host, body.port,
                                   body.username, body.password.get_secret_value(), body.site)


@router.get("/partners/{partner_id}/submissions", response_model=list[Submission])
async def submissions(partner_id: str, request: Request,
                      state: Annotated[SubmissionState | None, Query()] = None) -> list[Submission]:
    _, _, store = await _store(request)
    await store.partner(partner_id)
    return await store.submissions(partner_id, state)


@router.post("/partners/submissions/{submission_id}/approve", response_model=Submission)
async def approve(submission_id: str, request: Request) -> Submission:
    """Add the device's cameras to the running hub (the partner's agreement must be active)."""
    context, who, store = await _store(request)
    return await onboarding.approve(context, store, who, submission_id)
