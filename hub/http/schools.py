"""Parents' way in, and the school's view of them.

- ``GET /invite/{token}`` is the page an invited parent opens: it says which
  classroom and asks for a password (``POST`` the form); the link works once
  and for 7 days.  ``POST /api/v1/invites/{token}`` does the same for an app.
- ``GET|POST /api/v1/sites/{site}/parents`` lists and invites the parents of
  a school, ``DELETE /api/v1/parents/{username}`` revokes one: for school
  admins of that site (``manage_parents``), operators and admins.
- ``GET /api/v1/cameras/{id}/viewers`` says who watched a camera and when
  (from the audit log), for anyone who may see the camera: a parent sees who
  at the school watched the classroom (other parents as "a parent", not by
  name).
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import jinja2
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from hub.access import parents
from hub.core.errors import Gone, InvalidInput, NotFound
from hub.core.models import Action, HubModel, Principal, Role
from hub.core.policy import Resource
from hub.http import problems
from hub.http.auth import CurrentPrincipal
from hub.http.services import served_hub
from hub.store.audit import WATCHING
from hub.store.schools import Classroom
from hub.store.users import MIN_PASSWORD

pages = APIRouter(include_in_schema=False)
router = APIRouter(tags=["parents"], responses=problems.COMMON)

#: The page's only sources are itself: no script at all, styles inline.
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"


@functools.cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined)


def _page(request: Request, values: dict[str, Any], status: int = 200) -> HTMLResponse:
    base = {"hub_name": served_hub(request).config.hub.name, "gone": False, "username_done": None,
            "problem": None, "min_length": MIN_PASSWORD, "name": "", "classroom": "", "username": ""}
    html = _templates().get_template("invite.html").render(**{**base, **values})
    return HTMLResponse(html, status, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store",
                                               "Referrer-Policy": "no-referrer"})


async def _invited(request: Request, token: str) -> dict[str, str]:
    store = served_hub(request).store
    invite = await store.schools.invite(token)
    person = (await store.users.people({invite.username})).get(invite.username)
    return {"username": invite.username, "name": person[0] if person else "",
            "classroom": await store.schools.classroom_name(invite.classroom_id)}


@pages.get("/invite/{token}", response_class=HTMLResponse)
async def invite_page(token: str, request: Request) -> HTMLResponse:
    try:
        return _page(request, dict(await _invited(request, token)))
    except Gone:
        return _page(request, {"gone": True}, 410)


@pages.post("/invite/{token}", response_class=HTMLResponse)
async def invite_form(token: str, request: Request) -> HTMLResponse:
    form = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=10)
    password, confirm = (form.get(k, [""])[0] for k in ("password", "confirm"))
    try:
        who = await _invited(request, token)
    except Gone:
        return _page(request, {"gone": True}, 410)
    if password != confirm:
        return _page(request, {**who, "problem": {"id": "Kedua kata sandi tidak sama.",
                                                  "en": "The two passwords differ."}}, 400)
    try:
        username = await parents.accept(served_hub(request).store, token, password)
    except Gone:
        return _page(request, {"gone": True}, 410)
    except InvalidInput:
        return _page(request, {**who, "problem": {
            "id": f"Kata sandi paling sedikit {MIN_PASSWORD} karakter.",
            "en": f"A password needs at least {MIN_PASSWORD} characters."}}, 400)
    return _page(request, {"username_done": username})


class InviteAnswer(BaseModel):
    password: str = Field(min_length=1, max_length=1024, description="The password the parent chose.")


class Accepted(BaseModel):
    username: str = Field(description="The account the parent signs in with.")


@router.post("/invites/{token}", response_model=Accepted, responses=problems.responses(400, 410))
async def accept_invite(token: str, body: InviteAnswer, request: Request) -> Accepted:
    """Set the invited parent's password (the invitation works once; 410 after)."""
    return Accepted(username=await parents.accept(served_hub(request).store, token, body.password))


class ParentInvite(BaseModel):
    classroom: str = Field(min_length=1, max_length=40, description="The classroom, e.g. '7A'.")
    name: str = Field(min_length=1, max_length=200, description="The parent's name.")
    until: date = Field(description="The last day of access, in the hub's zone.")
    username: str | None = Field(default=None, max_length=64, description="The account's name (default: "
                                                                          "made from the name).")


class ParentInvited(BaseModel):
    username: str
    grant_id: str
    link: str = Field(description="The single-use link to send the parent (shown once).")
    link_expires_at: datetime


async def _manage(request: Request, who: Principal, site: str) -> None:
    await served_hub(request).authorize(who, Action.MANAGE_PARENTS, None,
                                        {"resource": Resource("site", site)})


class ClassroomSetting(HubModel):
    """A classroom as its school records it."""

    hours: str = Field(max_length=300, description="School hours, e.g. 'mon-fri 07:00-14:00,sat 07:00-11:00'.")
    time_zone: str | None = Field(default=None, max_length=60, description="Zone of the hours (default hub.time_zone).")
    consent: str | None = Field(default=None, max_length=300, description=(
        "Reference of the consent basis (a decree, the parents' signed forms); none: no parent may be invited."))


@router.put("/sites/{site}/classrooms/{name}", response_model=Classroom, responses=problems.responses(400))
async def set_classroom(site: str, name: str, body: ClassroomSetting, request: Request,
                        who: CurrentPrincipal) -> Classroom:
    """Record a classroom of the school, or change its hours or consent basis.  New hours apply to
    the parents already invited too; a consent basis taken away (withdrawn) ends every parent's
    access to the classroom at once (their grant of it; their other classrooms stay) (audited)."""
    await _manage(request, who, site)
    hub = served_hub(request)
    known = {s.id for s in hub.config.sites}
    if known and site not in known:
        raise NotFound(f"no site {site[:60]!r} in hub.yaml")
    room = await hub.store.schools.set_classroom(site, name, body.hours, body.time_zone or hub.config.hub.time_zone,
                                                 (body.consent or "").strip() or None)
    invited = await hub.store.schools.parents(site, room.name)
    if room.consent is None:  # no basis (any more): no parent may watch this classroom (their others stay)
        for parent in invited:
            if parent.get("grant_id"):
                await hub.store.grants.revoke(str(parent["grant_id"]), who.id)
        followed = 0
    else:
        followed = await hub.store.grants.set_hours([str(p["grant_id"]) for p in invited if p.get("grant_id")],
                                                    room.hours, room.time_zone)
    await hub.store.audit.record(who, "set_classroom", None, True,
                                 f"{site}/{room.name}: {room.hours}, consent {room.consent or 'none'}; "
                                 f"{followed} parents' hours followed" if room.consent else
                                 f"{site}/{room.name}: consent none; {len(invited)} parents' access ended")
    return room  # type: ignore[no-any-return]


@router.get("/sites/{site}/parents")
async def site_parents(site: str, request: Request, who: CurrentPrincipal,
                       classroom: Annotated[str | None, Query(max_length=40)] = None) -> list[dict[str, Any]]:
    """The parents invited to the school's classrooms, with their invitation's state."""
    await _manage(request, who, site)
    return await served_hub(request).store.schools.parents(site, classroom)


@router.post("/sites/{site}/parents", status_code=201, response_model=ParentInvited,
             responses=problems.responses(400, 404))
async def invite_parent(site: str, body: ParentInvite, request: Request, who: CurrentPrincipal) -> ParentInvited:
    """Invite a parent to a classroom of the school, live in school hours until ``until``."""
    await _manage(request, who, site)
    hub = served_hub(request)
    last = datetime.combine(body.until + timedelta(days=1), time(), tzinfo=ZoneInfo(hub.config.hub.time_zone))
    made = await parents.invite(hub.store, who, site, body.classroom, body.name, last.astimezone(UTC),
                                body.username)
    return ParentInvited(username=made.username, grant_id=made.grant_id, link=made.link(hub.config.http.base_url()),
                         link_expires_at=made.expires_at)


@router.delete("/parents/{username}", status_code=204, response_class=Response)
async def revoke_parent(username: str, request: Request, who: CurrentPrincipal) -> Response:
    """End a parent's access at once (grant, account, open invitations)."""
    hub = served_hub(request)
    found = next(iter(await hub.store.schools.parents(username=username)), None)
    if found is None:
        raise NotFound(f"no parent {username[:64]!r}")
    await _manage(request, who, str(found["site"]))
    await parents.revoke(hub.store, who, username)
    return Response(status_code=204)


class Viewing(BaseModel):
    """Someone who watched the camera (or was refused), when."""

    at: datetime
    who: str = Field(description="The viewer's name, or 'parent' for another parent.")
    role: str | None = Field(description="The viewer's role, when known.")
    action: str
    allowed: bool


@router.get("/cameras/{camera_id}/viewers", response_model=list[Viewing])
async def viewers(camera_id: str, request: Request, who: CurrentPrincipal,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[Viewing]:
    """Who watched this camera live or played it back, newest first (from the audit log)."""
    hub = served_hub(request)
    camera = hub.inventory.camera(camera_id)
    if not await hub.may(who, Action.VIEW_INVENTORY, camera):
        raise NotFound(f"no camera {camera_id!r}")
    return await recent_viewers(hub, who, camera_id, limit)


async def recent_viewers(hub: Any, who: Principal, camera_id: str, limit: int) -> list[Viewing]:
    """Who watched the camera, newest first, as ``who`` may see it (other parents unnamed)."""
    return (await viewers_of(hub, who, [camera_id], limit)).get(camera_id, [])


#: What counts as watching a camera, in the audit log.


async def viewers_of(hub: Any, who: Principal, camera_ids: list[str], limit: int) -> dict[str, list[Viewing]]:
    """Who watched each of these cameras, newest first, ``limit`` each at most, as ``who`` may see
    it (other parents unnamed); one query for all of them (a page of 200 cameras asks once)."""
    if not camera_ids:
        return {}
    rows = await hub.store.audit.entries(limit * len(camera_ids) * 2, cameras=camera_ids, actions=WATCHING)
    people = await hub.store.users.people({r["principal"].removeprefix("user:") for r in rows
                                           if r["principal"].startswith("user:")})
    out: dict[str, list[Viewing]] = {}
    for row in rows:
        seen = out.setdefault(row["camera_id"], [])
        if len(seen) >= limit:
            continue
        person = people.get(row["principal"].removeprefix("user:")) if row["principal"].startswith("user:") else None
        role = person[1] if person else None
        shown = "parent" if role == Role.PARENT.value and row["principal"] != who.id else (
            person[0] if person else row["principal"])
        seen.append(Viewing(at=row["at"], who=shown, role=role, action=row["action"], allowed=row["allowed"]))
    return out
