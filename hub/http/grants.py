"""Grants over HTTP, for the console's access page (``hub.store.grants``; ``pantau grant`` on the CLI).

``GET /api/v1/grants`` lists the grants in force (``?all=true``: revoked ones
too), ``POST`` gives one, ``DELETE /api/v1/grants/{id}`` revokes it (kept,
marked).  All need ``manage``, and giving and revoking are in the audit log.
The running hub takes a change within a second (the access watch reloads them).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from hub.core.errors import NotFound
from hub.core.models import Action, HubModel
from hub.http import problems
from hub.http.auth import require
from hub.http.services import served_hub
from hub.store.grants import Grant

router = APIRouter(tags=["grants"], responses=problems.COMMON)


class NewGrant(HubModel):
    """What to give, to whom, on which cameras, when."""

    principal: str = Field(max_length=200, description="A username, or 'token:<id>'.")
    actions: list[Action] = Field(min_length=1, description="What they may do.")
    cameras: list[str] = Field(min_length=1, max_length=50, description=(
        "Selectors: camera:ID, area:PATH, site:ID, tag:TAG, or terms joined with &."))
    hours: str | None = Field(default=None, max_length=300, description="Weekly hours; none: always.")
    time_zone: str | None = Field(default=None, max_length=60, description="Zone of the hours (hub.time_zone).")
    until: date | None = Field(default=None, description="Its last day (included).")
    note: str | None = Field(default=None, max_length=500, description="Why: a letter, an agreement.")


@router.get("/grants", response_model=list[Grant])
async def list_grants(request: Request, principal: Annotated[str | None, Query(max_length=200)] = None,
                      all: Annotated[bool, Query(description="Revoked grants too.")] = False,
                      who: Any = require(Action.MANAGE)) -> list[Grant]:
    name = principal if principal is None or principal.startswith(("user:", "token:")) else f"user:{principal}"
    return await served_hub(request).store.grants.list(name, include_revoked=all)


@router.post("/grants", status_code=201, response_model=Grant, responses=problems.BODY)
async def add_grant(body: NewGrant, request: Request, who: Any = require(Action.MANAGE)) -> Grant:
    hub = served_hub(request)
    principal = body.principal if body.principal.startswith(("user:", "token:")) else f"user:{body.principal}"
    if principal.startswith("user:") and not await hub.store.users.existing([principal.removeprefix("user:")]):
        raise NotFound(f"no user {principal.removeprefix('user:')[:70]!r}")
    zone = body.time_zone or hub.config.hub.time_zone
    until = (datetime.combine(body.until + timedelta(days=1), time(), tzinfo=ZoneInfo(zone))
             if body.until else None)
    made = await hub.store.grants.add(principal, body.actions, body.cameras, created_by=who.id, hours=body.hours,
                                      time_zone=zone, valid_until=until, note=body.note)
    await hub.store.audit.record(who, "grant_add", None, True,
                                 f"{made.id} to {principal}: {','.join(made.actions)} on {','.join(made.cameras)}")
    return made


@router.delete("/grants/{grant_id}", status_code=204, response_class=Response)
async def revoke_grant(grant_id: str, request: Request, who: Any = require(Action.MANAGE)) -> Response:
    hub = served_hub(request)
    ended = await hub.store.grants.revoke(grant_id, who.id)
    await hub.store.audit.record(who, "grant_revoke", None, True, f"{ended.id} of {ended.principal}")
    return Response(status_code=204)
