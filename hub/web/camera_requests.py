"""The camera requests' page at ``/usulan``: asking for a camera at a spot, and answering.

An RT head or a community watch chooses a spot on the map of their area (or
types its coordinates), says why, and sees each of their requests with its
answer; those who answer requests (``plan_cameras``) see everyone's on the
map, coloured by state, and answer each in place.  The API is
``hub.http.camera_requests``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from hub.core.errors import NotFound
from hub.core.models import Action
from hub.http.camera_requests import asking_areas
from hub.http.services import served_hub
from hub.web import i18n
from hub.web.pages import _lang, render, signed_in

router = APIRouter(include_in_schema=False)


@router.get("/usulan", response_class=HTMLResponse)
async def camera_requests(request: Request) -> Response:
    hub = served_hub(request)
    session = await signed_in(request)
    who = session.principal
    areas = await asking_areas(hub, who)
    plans = await hub.may(who, Action.PLAN_CAMERAS)
    if not areas and not plans:
        raise NotFound("no camera requests for this account")
    if plans and not areas:  # an operator may file on a neighbourhood's behalf, in any configured area
        areas = [a.path for a in hub.config.areas]
    lang = _lang(request, session)
    _ = i18n.translations(lang).gettext
    states = {"submitted": _("waiting for an answer"), "planned": _("planned"), "declined": _("declined"),
              "installed": _("installed")}
    names = {a.path: a.name for a in hub.config.areas}
    zone = hub.config.hub.time_zone
    found = await hub.store.camera_requests.list(asked_by=None if plans else who.id)
    rows = [{**r.model_dump(), "state": r.state.value, "area_name": names.get(r.area, r.area),
             "asked_at_text": i18n.when(r.asked_at, lang, zone),
             "answered_at_text": i18n.when(r.answered_at, lang, zone),
             "camera_name": hub.inventory.cameras[r.camera_id].name if r.camera_id in hub.inventory.cameras else None}
            for r in found]
    cameras = hub.inventory.cameras
    located = [loc for c in (await hub.visible(who))[:500] if (loc := cameras[c].location) is not None]
    web = hub.config.web
    return await render(request, "requests.html", session, requests=rows, states=states, plans=plans,
                        areas=[(a, names.get(a, a)) for a in areas], tiles=web.map_tiles,
                        attribution=web.map_attribution, known=[[loc.lat, loc.lon] for loc in located],
                        cameras=sorted(((c.id, c.name) for c in hub.inventory.cameras.values()),
                                       key=lambda c: c[1])[:2000] if plans else [])
