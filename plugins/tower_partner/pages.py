"""The partner's own pages: ``/mitra`` (Bahasa Indonesia and English, as every page of the hub).

A partner's account (``partner_owner`` scoped ``tag:partner:<id>``) finds there
its agreement and each step it took, its edge's link, its cameras (status,
uptime over 24 hours, the latest picture, a "stop sharing now" switch each),
who watched them and when (from the hub's audit log), its devices and why a
refused one was refused (in the reader's language), a form to submit another,
and the cameras it registered without video.  The city's operators who
onboard see the list of partners at ``/mitra`` and each partner's page.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub import Action, NotFound, PluginPages, Role, request_context
from plugins.tower_partner import edge_city
from plugins.tower_partner.models import DeviceType
from plugins.tower_partner.policy import POLICY, TAG
from plugins.tower_partner.store import PartnerStore

PAGES = PluginPages("tower_partner", Path(__file__).parent, menu=[("/mitra", "My partnership", {Role.PARTNER_OWNER})])


def _texts(_: Any) -> dict[str, dict[str, str]]:
    """What the page says for the states and refusal codes, in its language."""
    return {
        "states": {"draft": _("draft"), "submitted": _("submitted"), "validating": _("being validated"),
                   "pending_approval": _("waiting for the city's approval"), "active": _("in force"),
                   "suspended": _("suspended"), "expired": _("expired"), "terminated": _("terminated"),
                   "refused": _("refused"), "approved": _("approved"), "withdrawn": _("withdrawn")},
        "status": {"online": _("online"), "offline": _("offline"), "degraded": _("degraded"),
                   "unknown": _("unknown")},
        "reasons": {
            "address": _("The hub does not connect to that address (see the detail)."),
            "credentials": _("The device refused the username or password."),
            "unreachable": _("The device could not be reached or did not answer as expected."),
            "elsewhere": _("The device names another host for its video; the hub only connects to the address "
                           "it checked."),
            "no_cameras": _("The device answered but has no cameras."),
            "stream_cap": _("No stream of a camera is within the agreement's cap (substream only, bit rate)."),
            "clock": _("The device's clock is too far off; set its time or NTP."),
            "area": _("That area is not one of the city's."),
            "location": _("The location lies outside the city's area."),
        },
        "actions": {"view_live": _("watched live"), "play_back": _("played back"), "export": _("exported")},
    }


@PAGES.router.get("/mitra", response_class=HTMLResponse)
async def partners(request: Request) -> Response:
    """A partner's account goes on to its own page; the city's onboarding operators get the list."""
    session = await PAGES.session(request)
    who = session.principal
    own = [s.removeprefix(f"tag:{TAG}") for s in who.scopes if s.startswith(f"tag:{TAG}")]
    if who.role == Role.PARTNER_OWNER and own:
        return RedirectResponse(f"/mitra/{own[0]}" + (f"?{request.url.query}" if request.url.query else ""), 303)
    context = request_context(request)
    if not await context.may(who, Action.ONBOARD):
        raise NotFound("no partners for this account")
    store = PartnerStore(context.database)
    listed = []
    for partner in await store.partners():
        agreements = await store.agreements(partner.id)
        listed.append({"id": partner.id, "name": partner.name, "kind": partner.kind.value,
                       "state": agreements[-1].state.value if agreements else None,
                       "cameras": sum(1 for c in context.cameras.values() if f"{TAG}{partner.id}" in c.tags)})
    texts = _texts(PAGES.gettext(request, session))
    return await PAGES.render(request, "partners.html", session, partners=listed, states=texts["states"])


@PAGES.router.get("/mitra/{partner_id}", response_class=HTMLResponse)
async def partner_page(partner_id: str, request: Request) -> Response:
    session = await PAGES.session(request)
    who = session.principal
    context = request_context(request)
    if not POLICY.owns(who, partner_id) and not await context.may(who, Action.ONBOARD):
        raise NotFound(f"no partner {partner_id[:64]!r} for this account")
    store = PartnerStore(context.database)
    partner = await store.partner(partner_id)
    _ = PAGES.gettext(request, session)
    texts = _texts(_)

    def when(moment: datetime | None) -> str:
        return PAGES.when(request, session, moment)

    agreements = await store.agreements(partner_id)
    agreement = agreements[-1] if agreements else None
    history = [{**h.model_dump(), "when": when(h.at)} for h in await store.history(agreement.id)] if agreement else []
    mine = sorted((c for c in context.cameras.values() if f"{TAG}{partner_id}" in c.tags), key=lambda c: c.name)
    paused = await store.paused(partner_id)
    stopped = {c: when(at) if isinstance(at := p.get("at"), datetime) else "" for c, p in paused.items()}
    uptime = await context.uptime([c.id for c in mine])
    names = {c.id: c.name for c in mine}
    watched = [{**w, "when": when(w["at"]), "camera": names.get(w["camera_id"], w["camera_id"]),
                "what": texts["actions"].get(w["action"], w["action"])}
               for w in await context.watched(list(names), 100)]
    link = edge_city.link_state(partner_id)
    devices = [{**s.model_dump(), "when": when(s.submitted_at),
                "explained": texts["reasons"].get(s.reason_code or "", "") if s.state.value == "refused" else ""}
               for s in reversed(await store.submissions(partner_id))]
    return await PAGES.render(
        request, "partner.html", session, partner=partner, agreement=agreement, history=history,
        states=texts["states"], status=texts["status"], reasons=texts["reasons"], watched=watched,
        cameras=[{"id": c.id, "name": c.name, "status": c.status.value, "uptime": uptime.get(c.id),
                  "sharing": c.id not in paused, "stopped": stopped.get(c.id, ""),
                  "stopped_by": paused.get(c.id, {}).get("by", "")} for c in mine],
        edge={**dataclasses.asdict(link), "when": when(datetime.fromtimestamp(link.since, UTC)) if link.since
              else ""} if link else None,
        devices=devices, registered=await store.registered(partner_id),
        kinds=[t.value for t in DeviceType if t != DeviceType.EDGE], owner=POLICY.owns(who, partner_id))
