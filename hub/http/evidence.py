"""Evidence requests over HTTP (``hub.evidence.custody``).

| route | who |
| --- | --- |
| ``POST /api/v1/evidence`` | ``request_evidence`` (investigators; operators for them) |
| ``GET /api/v1/evidence``, ``GET /api/v1/evidence/{id}`` | approvers see all; others their own |
| ``POST /api/v1/evidence/{id}/approve``, ``.../refuse`` | ``approve_evidence``, never the requester |
| ``GET /api/v1/evidence/{id}/bundle`` | approvers, and the requester once approved (then it is delivered) |
| ``GET /api/v1/evidence/key`` | anyone signed in: the hub's public key and its fingerprint |
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, field_validator
from starlette.background import BackgroundTask

from hub.core.errors import NotFound
from hub.core.models import Action, Principal
from hub.http import problems
from hub.http.auth import CurrentPrincipal
from hub.http.services import ServedHub, served_hub
from hub.store.evidence import EvidenceRequest, EvidenceState

router = APIRouter(tags=["evidence"], responses=problems.COMMON)


class EvidenceFiling(BaseModel):
    """A request for recordings as evidence, as the police letter states it."""

    camera_ids: list[str] = Field(default_factory=list, max_length=16, description="The cameras asked for.")
    ask_owners: list[str] = Field(default_factory=list, max_length=16, description=(
        "Cameras registered by their owners without video (e.g. a partner's 'partner:toko-sinar:1'): the request "
        "keeps whom to ask for their footage."))
    start: datetime = Field(description="Start of the range, with its zone (2026-11-30T21:00:00+08:00).")
    end: datetime = Field(description="End of the range, with its zone.")
    institution: str = Field(min_length=2, max_length=300, description="E.g. 'Polres Kutai Timur'.")
    officer: str = Field(min_length=2, max_length=300, description="The officer: name, rank, NRP.")
    letter_number: str = Field(min_length=1, max_length=200, description="Number of the request letter.")
    letter_date: date = Field(description="Date of the letter.")
    case_reference: str = Field(min_length=1, max_length=300, description="Report or case number.")
    legal_basis: str = Field(min_length=2, max_length=500, description="E.g. 'KUHAP Pasal 7; UU ITE Pasal 5'.")
    reason: str = Field(min_length=3, max_length=2000, description="Why the recording is needed.")

    @field_validator("start", "end")
    @classmethod
    def _zoned(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give the time with its zone, e.g. 2026-11-30T21:00:00+08:00")
        return value


class Filed(BaseModel):
    id: str
    state: EvidenceState


class Decision(BaseModel):
    note: str | None = Field(default=None, max_length=2000, description="A note; a refusal needs one.")


async def _may_approve(hub: ServedHub, who: Principal) -> bool:
    return await hub.may(who, Action.APPROVE_EVIDENCE)


async def _readable(hub: ServedHub, who: Principal, request_id: str) -> EvidenceRequest:
    found = await hub.custody.get(request_id)
    if found.requested_by != who.id and not await _may_approve(hub, who):
        raise NotFound(f"no evidence request {request_id[:40]!r}")
    return found


@router.post("/evidence", status_code=201, response_model=Filed, responses=problems.BODY)
async def file_request(body: EvidenceFiling, request: Request, who: CurrentPrincipal) -> Filed:
    """File a request; the range is locked from retention at once, and waits for a second person."""
    hub = served_hub(request)
    await hub.authorize(who, Action.REQUEST_EVIDENCE)
    owners = []
    for camera_id in dict.fromkeys(body.ask_owners):
        found = await hub.plugins.acall("registered_camera", context=hub.context, camera_id=camera_id)
        if not found or not isinstance(found[0], dict):
            raise NotFound(f"no camera registered without video as {camera_id[:100]!r}")
        owners.append({"id": camera_id, **found[0]})
    made = await hub.custody.request(
        who, body.camera_ids, body.start, body.end, ask_owners=owners, institution=body.institution,
        officer=body.officer,
        letter_number=body.letter_number, letter_date=body.letter_date.isoformat(),
        case_reference=body.case_reference, legal_basis=body.legal_basis, reason=body.reason)
    return Filed(id=made.id, state=made.state)


@router.get("/evidence", response_model=list[EvidenceRequest])
async def list_requests(request: Request, who: CurrentPrincipal,
                        state: Annotated[EvidenceState | None, Query()] = None) -> list[EvidenceRequest]:
    """Evidence requests, newest change first: all for approvers, one's own for the rest."""
    hub = served_hub(request)
    mine = None if await _may_approve(hub, who) else who.id
    return await hub.store.evidence.requests(state, mine)


@router.get("/evidence/key")
async def signing_key(request: Request, who: CurrentPrincipal) -> dict[str, str]:
    """The public key bundles are signed with (base64 of its 32 bytes) and its fingerprint."""
    signer = served_hub(request).custody.signer
    return {"public_key": signer.public_key, "fingerprint": signer.fingerprint, "algorithm": "Ed25519"}


@router.get("/evidence/{request_id}", response_model=EvidenceRequest)
async def get_request(request_id: str, request: Request, who: CurrentPrincipal) -> EvidenceRequest:
    return await _readable(served_hub(request), who, request_id)


@router.post("/evidence/{request_id}/approve", response_model=EvidenceRequest, responses=problems.BODY)
async def approve(request_id: str, request: Request, who: CurrentPrincipal,
                  body: Decision | None = None) -> EvidenceRequest:
    """Approve a request (a second person with approve_evidence; never the requester)."""
    hub = served_hub(request)
    await hub.authorize(who, Action.APPROVE_EVIDENCE)
    return await hub.custody.approve(who, request_id, body.note if body else None)


@router.post("/evidence/{request_id}/refuse", response_model=EvidenceRequest, responses=problems.BODY)
async def refuse(request_id: str, body: Decision, request: Request, who: CurrentPrincipal) -> EvidenceRequest:
    """Refuse a request, saying why; what it held goes back to retention."""
    hub = served_hub(request)
    await hub.authorize(who, Action.APPROVE_EVIDENCE)
    return await hub.custody.refuse(who, request_id, body.note or "")


@router.get("/evidence/{request_id}/bundle", response_class=FileResponse,
            responses={200: {"content": {"application/zip": {}}}, **problems.responses(400, 404, 410)})
async def bundle(request_id: str, request: Request, who: CurrentPrincipal) -> Any:
    """The signed bundle (ZIP) of an approved request, made now; the requester fetching it is its delivery."""
    hub = served_hub(request)
    found = await _readable(hub, who, request_id)
    made = await hub.custody.bundle(who, found.id)
    if found.requested_by == who.id:
        await hub.custody.delivered(who, found.id)
    return FileResponse(made.path, media_type="application/zip", filename=made.path.name,
                        headers={"X-Content-SHA256": made.sha256},
                        background=BackgroundTask(made.path.unlink, True))  # each fetch makes it anew
