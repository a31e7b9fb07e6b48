"""The operator console's pages beyond the health board (``/konsol`` is in ``hub.web.pages``).

- ``/konsol/kejadian``: the events of the last day, counted per area in a
  chart and listed newest first (a filter by kind), and the citizen reports
  with their deadlines, overdue first (read from ``/api/v1/reports`` in the
  page, where a plugin serves it);
- ``/konsol/audit``: the audit log with filters (who, camera, action,
  outcome, days) and older pages, all in the address: no script needed;
- ``/konsol/bukti``: evidence requests waiting for a second person, to
  approve or refuse in place, and the latest decided;
- ``/konsol/pengguna``: the accounts, and a CSV of many at once (admins).

Every one is for the console's people: admins and operators without scopes.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from hub.core.errors import NotFound
from hub.core.models import Action, EventKind, Principal
from hub.http.services import ServedHub, served_hub
from hub.store.evidence import EvidenceState
from hub.store.users import Session
from hub.web import i18n
from hub.web.pages import _lang, console_session, render

router = APIRouter(include_in_schema=False)

#: Rows an audit page shows.
AUDIT_PAGE = 100


async def _console(request: Request) -> tuple[ServedHub, Session, Principal]:
    session = await console_session(request)
    return served_hub(request), session, session.principal


def _kinds(lang: str) -> dict[str, str]:
    _ = i18n.translations(lang).gettext
    return {"motion": _("motion"), "line_crossing": _("line crossing"), "intrusion": _("intrusion"),
            "tamper": _("tampering"), "video_loss": _("video lost"), "io": _("alarm input"),
            "offline": _("offline"), "online": _("back online"), "degraded": _("degraded"),
            "storage_fault": _("storage fault"), "stream_stall": _("stream stalled"),
            "stream_frozen": _("picture frozen"), "stream_black": _("picture black"),
            "stream_low_fps": _("too few frames"), "stream_low_bitrate": _("bit rate too low"),
            "auth_failed": _("password refused"), "other": _("other")}


@router.get("/konsol/kejadian", response_class=HTMLResponse)
async def events(request: Request, kind: str | None = None) -> Response:
    hub, session, who = await _console(request)
    lang = _lang(request, session)
    zone = hub.config.hub.time_zone
    kinds = _kinds(lang)
    since = hub.policy.clock() - timedelta(days=1)
    latest = await hub.store.events.events(None, 5000, since=since)
    names = {a.path: a.name for a in hub.config.areas}
    cameras = hub.inventory.cameras
    per_area = Counter((cameras[e.camera_id].area or "") if e.camera_id in cameras else "" for e in latest)
    _ = i18n.translations(lang).gettext
    top = max(per_area.values(), default=0)
    chart = [{"area": names.get(a, a) or _("no area"), "count": n, "share": round(100 * n / top) if top else 0}
             for a, n in per_area.most_common(20)]
    shown = [e for e in latest if kind in (None, "", e.kind.value)][:300]
    rows = [{"at": i18n.when(e.at, lang, zone), "camera": cameras[e.camera_id].name if e.camera_id in cameras
             else (e.camera_id or e.device_id or ""), "kind": kinds.get(e.kind.value, e.kind.value),
             "state": e.state.value, "source": e.source, "detail": e.detail or ""} for e in shown]
    known = sorted({e.kind.value for e in latest} | set(kinds), key=lambda k: kinds.get(k, k))
    return await render(request, "console_events.html", session, chart=chart, events=rows, total=len(latest),
                        kinds=[(k, kinds.get(k, k)) for k in known if EventKind(k)], kind=kind or "",
                        camera_names={c.id: c.name for c in cameras.values()})


def _day(text: str | None, zone: ZoneInfo) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=zone) if text else None
    except ValueError:
        return None


@router.get("/konsol/audit", response_class=HTMLResponse)
async def audit(request: Request, who_is: str | None = None, camera: str | None = None, action: str | None = None,
                outcome: str | None = None, day_from: str | None = None, day_until: str | None = None,
                before: int | None = None) -> Response:
    hub, session, _who = await _console(request)
    lang = _lang(request, session)
    zone = hub.config.hub.time_zone
    tz = ZoneInfo(zone)
    start, until = _day(day_from, tz), _day(day_until, tz)
    rows = await hub.store.audit.entries(
        AUDIT_PAGE + 1, principal=(who_is or "").strip()[:200] or None, camera_id=camera or None,
        action=(action or "").strip()[:40] or None, allowed={"allowed": True, "refused": False}.get(outcome or ""),
        start=start, end=until + timedelta(days=1) if until else None, before=before)
    more = len(rows) > AUDIT_PAGE
    rows = rows[:AUDIT_PAGE]
    cameras = hub.inventory.cameras
    shown = [{**r, "when": i18n.when(r["at"], lang, zone),
              "camera": cameras[r["camera_id"]].name if r["camera_id"] in cameras else (r["camera_id"] or "")}
             for r in rows]
    filters = {"who_is": who_is or "", "camera": camera or "", "action": action or "", "outcome": outcome or "",
               "day_from": day_from or "", "day_until": day_until or ""}
    older = None
    if more and rows:
        following = request.url.include_query_params(before=rows[-1]["id"])
        older = f"{following.path}?{following.query}"
    actions = sorted({a.value for a in Action} | {"sign_in", "live_ended", "http_401", "http_403", "lift_mask",
                                                  "request_camera", "answer_camera_request", "import_users"})
    return await render(request, "console_audit.html", session, rows=shown, filters=filters, older=older,
                        actions=actions, cameras=sorted(((c.id, c.name) for c in cameras.values()),
                                                        key=lambda c: c[1])[:2000])


@router.get("/konsol/bukti", response_class=HTMLResponse)
async def evidence(request: Request) -> Response:
    hub, session, who = await _console(request)
    lang = _lang(request, session)
    zone = hub.config.hub.time_zone
    _ = i18n.translations(lang).gettext
    states = {"requested": _("waiting for approval"), "approved": _("approved"), "refused": _("refused"),
              "exported": _("exported"), "delivered": _("delivered"), "expired": _("expired")}
    may_decide = await hub.may(who, Action.APPROVE_EVIDENCE)
    cameras = hub.inventory.cameras

    def view(r: Any) -> dict[str, Any]:
        return {**r.model_dump(), "state": r.state.value, "state_text": states.get(r.state.value, r.state.value),
                "range": f"{i18n.when(r.start, lang, zone)} – {i18n.when(r.end, lang, zone)}",
                "asked": i18n.when(r.requested_at, lang, zone), "own": r.requested_by == who.id,
                "camera_names": ", ".join(cameras[c].name if c in cameras else c for c in r.camera_ids)}

    waiting = [view(r) for r in await hub.store.evidence.requests(EvidenceState.REQUESTED, None)]
    decided = [view(r) for r in (await hub.store.evidence.requests(None, None))
               if r.state != EvidenceState.REQUESTED][:50]
    return await render(request, "console_evidence.html", session, waiting=waiting, decided=decided,
                        may_decide=may_decide)


@router.get("/konsol/pengguna", response_class=HTMLResponse)
async def users(request: Request) -> Response:
    hub, session, who = await _console(request)
    if not await hub.may(who, Action.MANAGE):
        raise NotFound("the accounts are for admins")
    listed = await hub.store.users.list_users()
    return await render(request, "console_users.html", session, users=listed[:5000], total=len(listed))


@router.get("/konsol/akses", response_class=HTMLResponse)
async def grants(request: Request, who_is: str | None = None) -> Response:
    """The grants in force (a person's, when named), each revocable; giving one."""
    hub, session, who = await _console(request)
    if not await hub.may(who, Action.MANAGE):
        raise NotFound("grants are for admins")
    lang = _lang(request, session)
    zone = hub.config.hub.time_zone
    name = (who_is or "").strip()[:200] or None
    principal = name if name is None or name.startswith(("user:", "token:")) else f"user:{name}"
    rows = [{**g.model_dump(), "until_text": i18n.when(g.valid_until, lang, zone)}
            for g in (await hub.store.grants.list(principal))[:2000]]
    return await render(request, "console_grants.html", session, grants=rows, who_is=name or "",
                        actions=[a.value for a in (Action.VIEW_LIVE, Action.PLAY_BACK, Action.EXPORT,
                                                   Action.VIEW_INVENTORY, Action.CONTROL_PTZ)],
                        sites=hub.config.sites, areas=hub.config.areas)
