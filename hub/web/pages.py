"""The pages: the public portal at ``/``, signing in at ``/masuk``, one's own cameras at ``/saya``.

Server-rendered with Jinja2 and the Babel catalogs of ``hub.web.i18n``; the
pages' scripts are ES modules of the hub's own (``hub/web/static``) and the
libraries ``make install`` fetches from npm (``/vendor/...``: hls.js,
Leaflet and its marker clustering), none kept in the tree.  Every page is
sent with a Content-Security-Policy that allows scripts from the hub only
(no inline script), ``frame-ancestors 'none'`` and a same-origin referrer.
Signing in uses the session cookie; nothing is kept in the page's storage.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from hub.core.errors import NotFound
from hub.core.models import Action, Role
from hub.core.policy import Resource
from hub.http.auth import session_cookie
from hub.http.camera_requests import asking_areas
from hub.http.schools import viewers_of
from hub.http.services import ServedHub, served_hub
from hub.store.status import uptime_percent
from hub.store.users import Session
from hub.web import i18n

router = APIRouter(include_in_schema=False)

HERE = Path(__file__).parent
NODE = HERE.parent / "http" / "web" / "node_modules"
#: The libraries the pages load, by the name they ask for: from npm, at install time.
VENDOR = {
    "hls.min.js": NODE / "hls.js/dist/hls.min.js",
    "leaflet.js": NODE / "leaflet/dist/leaflet.js",
    "leaflet.css": NODE / "leaflet/dist/leaflet.css",
    "leaflet.markercluster.js": NODE / "leaflet.markercluster/dist/leaflet.markercluster.js",
    "MarkerCluster.css": NODE / "leaflet.markercluster/dist/MarkerCluster.css",
    "MarkerCluster.Default.css": NODE / "leaflet.markercluster/dist/MarkerCluster.Default.css",
    "images/marker-icon.png": NODE / "leaflet/dist/images/marker-icon.png",
    "images/marker-icon-2x.png": NODE / "leaflet/dist/images/marker-icon-2x.png",
    "images/marker-shadow.png": NODE / "leaflet/dist/images/marker-shadow.png",
}
STATIC = {p.name: p for p in (HERE / "static").iterdir() if p.suffix in (".js", ".css")}
TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


@functools.cache
def environment(lang: str) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


def _policy(hub: ServedHub) -> str:
    tiles = urlsplit(hub.config.web.map_tiles)
    tile_origin = f"{tiles.scheme}://{tiles.netloc}" if tiles.netloc else ""
    return ("default-src 'self'; script-src 'self'; style-src 'self'; "
            f"img-src 'self' data: {tile_origin}; media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")


def _lang(request: Request, session: Session | None) -> str:
    """The language of the page: ``?lang=``, the ``lang`` cookie, the user's own, the browser's."""
    return i18n.negotiate(request.query_params.get("lang") or request.cookies.get("lang"),
                          session.locale if session else None, request.headers.get("accept-language"))


async def _session(request: Request) -> Session | None:
    session_id = session_cookie(request.headers.get("cookie"))
    return await served_hub(request).store.users.session(session_id) if session_id else None


class SignInFirst(Exception):
    """A page for signed-in people asked without a session: answered with the way to ``/masuk``."""


async def to_sign_in(request: Request, exc: Exception) -> Response:
    return RedirectResponse("/masuk", 303)


async def signed_in(request: Request) -> Session:
    """The session of a page for signed-in people (``SignInFirst`` without one)."""
    session = await _session(request)
    if session is None:
        raise SignInFirst
    return session


async def console_session(request: Request) -> Session:
    """The session of a console page: admins and operators without scopes (else the page is not there)."""
    session = await signed_in(request)
    who = session.principal
    if who.scopes or not await served_hub(request).may(who, Action.READ_AUDIT):
        raise NotFound("no console for this account")
    return session


@dataclass(frozen=True)
class MenuItem:
    """A link a plugin's pages add to the menu, for accounts of these roles."""

    href: str
    label: str  # English, translated with the plugin's catalog
    roles: frozenset[Role]
    locale: Path | None = None


#: The menu links of plugins' pages (``PluginPages``).
PLUGIN_MENU: list[MenuItem] = []


async def render(request: Request, template: str, session: Session | None, *,
                 templates: Callable[[str], jinja2.Environment] = environment, **values: Any) -> HTMLResponse:
    """A page: its template in the request's language, with what every page shows (the menu for
    this account, the CSRF token, the translated texts of the API's error codes)."""
    hub = served_hub(request)
    asked = request.query_params.get("lang")
    lang = _lang(request, session)
    who = session.principal if session is not None else None
    asks = who is not None and bool(await asking_areas(hub, who))
    links = [(m.href, i18n.translations(lang, m.locale).gettext(m.label)) for m in PLUGIN_MENU
             if who is not None and who.role in m.roles]
    html = templates(lang).get_template(template).render(plugin_links=links,
        lang=lang, hub_name=hub.config.hub.name, signed_in=session is not None,
        console=who is not None and not who.scopes and await hub.may(who, Action.READ_AUDIT),
        camera_requests=who is not None and (asks or await hub.may(who, Action.PLAN_CAMERAS)),
        school=next((scope.removeprefix("site:") for scope in who.scopes if scope.startswith("site:")),
                    None) if who is not None and who.role.value == "school_admin" else None,
        csrf=session.csrf_token if session else "", problem_texts=problem_texts(lang),
        zone=hub.config.hub.time_zone, **values)
    response = HTMLResponse(html, headers={"Content-Security-Policy": _policy(hub), "Referrer-Policy": "same-origin",
                                           "Cache-Control": "no-store", "Content-Language": lang})
    if asked in i18n.LOCALES:
        response.set_cookie("lang", asked, max_age=31_536_000, samesite="lax")
    return response


async def error_page(request: Request, status: int, code: str) -> Response:
    """An error on a page, as a page in the reader's language (``hub.http.problems`` calls it)."""
    try:
        session = await _session(request)
    except Exception:  # the store is what failed: a page without the account's menu
        session = None
    texts = problem_texts(_lang(request, session))
    answer = await render(request, "error.html", session, status=status,
                          message=texts.get(code) or texts["not_found" if status == 404 else "hub_error"])
    answer.status_code = status
    return answer


@functools.cache
def problem_texts(lang: str) -> dict[str, str]:
    """What the pages say for each stable error code of the API (``hub.http.problems``), by code."""
    _ = i18n.translations(lang).gettext
    return {
        "access_denied": _("You may not do that here."),
        "not_found": _("It is not there (any more)."),
        "invalid_input": _("Something in the form cannot be accepted; check it and try again."),
        "camera_request_invalid": _(
            "This cannot be saved so: a request needs a spot and a reason, and a refusal says why."),
        "grant_invalid": _("The access cannot be given so; check the cameras and the hours."),
        "user_invalid": _("The account cannot be made so; check the username and the password."),
        "school_invalid": _("The school's data cannot be saved so; check the classroom and the consent basis."),
        "evidence_invalid": _("The evidence request cannot be made so; check the range and the reason."),
        "limit_reached": _("The limit is reached; close something first or try later."),
        "invite_gone": _("This invitation has been used or has expired; ask the school for a new one."),
        "gone": _("This is no longer available."),
        "import_invalid": _("The file has problems; nothing was imported. Each is listed below with its line."),
        "invalid_request": _("Something in the form cannot be accepted; check it and try again."),
        "unauthorized": _("Your session has ended; sign in again."),
        "forbidden": _("You may not do that here."),
        "too_many_requests": _("Too many attempts; wait a minute and try again."),
        "unavailable": _("It is not ready yet; try again in a moment."),
        "device_not_ready": _("The camera does not answer now; try again later."),
        "hub_error": _("Something went wrong on the hub; try again later."),
    }


class PluginPages:
    """A plugin's own pages, made as the hub's are: Jinja2 templates in ``folder/templates`` that
    extend the hub's ``base.html`` (its menu, language switch, CSRF token and error texts), read in
    the reader's language from the hub's catalog with the plugin's own on top
    (``folder/locale/<lang>/LC_MESSAGES/messages.po``; ``_()`` in a template), scripts and styles
    from ``folder/static`` at ``/static/plugins/<name>/<file>`` (the page's policy allows the hub's
    own origin only).  ``router`` carries them; register it with ``register(pages.router,
    pages=True)`` in ``register_routes`` and add the page routes to it::

        pages = PluginPages("tower_partner", Path(__file__).parent, menu=[("/mitra", "My partnership",
                            {Role.PARTNER_OWNER})])

        @pages.router.get("/mitra")
        async def mine(request: Request) -> Response:
            session = await pages.session(request)  # or on to /masuk
            return await pages.render(request, "mine.html", session, cameras=...)
    """

    def __init__(self, name: str, folder: Path, menu: list[tuple[str, str, set[Role]]] | None = None) -> None:
        self.name = name
        self.folder = folder
        self.locale = folder / "locale"
        self.router = APIRouter(include_in_schema=False)
        static = folder / "static"
        self._static = {p.name: p for p in static.iterdir() if p.suffix in TYPES} if static.is_dir() else {}
        self.router.add_api_route(f"/static/plugins/{name}/{{file}}", self._serve, methods=["GET"])
        for href, label, roles in menu or []:
            PLUGIN_MENU.append(MenuItem(href, label, frozenset(roles), self.locale))

    @functools.cache  # noqa: B019 - a plugin's pages live as long as the process
    def environment(self, lang: str) -> jinja2.Environment:
        env = jinja2.Environment(loader=jinja2.ChoiceLoader([
            jinja2.FileSystemLoader(self.folder / "templates"), jinja2.FileSystemLoader(HERE / "templates")]),
            autoescape=True, undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.i18n"])
        env.install_gettext_translations(i18n.translations(lang, self.locale), newstyle=True)  # type: ignore[attr-defined]
        return env

    def gettext(self, request: Request, session: Session | None) -> Callable[[str], str]:
        """The page's language's ``gettext``, for texts made in the route."""
        return i18n.translations(_lang(request, session), self.locale).gettext

    def when(self, request: Request, session: Session | None, moment: datetime | None) -> str:
        """A time as the reader reads it, in the hub's zone."""
        return i18n.when(moment, _lang(request, session), served_hub(request).config.hub.time_zone)

    async def session(self, request: Request) -> Session:
        """The signed-in session (else the reader is sent to ``/masuk``)."""
        return await signed_in(request)

    async def render(self, request: Request, template: str, session: Session | None, **values: Any) -> HTMLResponse:
        return await render(request, template, session, templates=self.environment, **values)

    async def _serve(self, file: str) -> FileResponse:
        path = self._static.get(file)
        if path is None:
            raise NotFound(f"no file {file[:80]!r}")
        return FileResponse(path, media_type=TYPES[path.suffix], headers={"Cache-Control": "max-age=300"})


@router.get("/", response_class=HTMLResponse)
async def portal(request: Request) -> HTMLResponse:
    """The public portal: the map and list of the public cameras, and who runs them."""
    hub = served_hub(request)
    session = await _session(request)
    lang = _lang(request, session)
    names = {a.path: a.name for a in hub.config.areas}
    cameras = []
    for camera in hub.public.cameras():
        taken = hub.public.last_picture_at(camera.id)
        at = datetime.fromtimestamp(taken, UTC) if taken else None
        base = f"/api/v1/public/cameras/{camera.id}"
        cameras.append({"id": camera.id, "name": camera.name, "area": camera.area,
                        "area_name": names.get(camera.area or ""), "location": camera.location,
                        "picture_at": at, "picture_text": i18n.when(at, lang, hub.config.hub.time_zone),
                        "snapshot": f"{base}/snapshot", "live": f"{base}/live/index.m3u8"})
    areas = sorted({(c["area"], c["area_name"] or c["area"]) for c in cameras if c["area"]})
    web = hub.config.web
    return await render(request, "portal.html", session, cameras=cameras, areas=areas, tiles=web.map_tiles,
                   attribution=web.map_attribution, controller=web.controller or hub.config.hub.name,
                   contact=web.contact)


@router.get("/masuk", response_class=HTMLResponse)
async def sign_in_page(request: Request) -> Response:
    session = await _session(request)
    if session is not None:  # signed in already: on to one's cameras, in the language asked for
        asked = request.query_params.get("lang")
        return RedirectResponse("/saya" + (f"?lang={asked}" if asked in i18n.LOCALES else ""), 303)
    return await render(request, "login.html", None)


@router.get("/saya", response_class=HTMLResponse)
async def mine(request: Request, wilayah: str | None = None, grup: str | None = None) -> Response:
    """The cameras open to the signed-in user, in a grid (by area and group, when there are several);
    outside their hours, when they open."""
    hub = served_hub(request)
    session = await signed_in(request)
    who = session.principal
    lang = _lang(request, session)
    now = hub.policy.clock()
    names = {a.path: a.name for a in hub.config.areas}
    inventory = hub.inventory.cameras
    visible = await hub.visible(who)
    areas = sorted({area for c in visible if (area := inventory[c].area)}, key=lambda a: names.get(a, a))
    groups = sorted({t for c in visible for t in inventory[c].tags})
    if wilayah:
        visible = [c for c in visible if (inventory[c].area or "") == wilayah
                   or (inventory[c].area or "").startswith(wilayah + "/")]
    if grup:
        visible = [c for c in visible if grup in inventory[c].tags]
    cameras = []
    watchers = await viewers_of(hub, who, visible[:200], 10)
    for camera_id in visible[:200]:
        camera = hub.inventory.cameras[camera_id]
        open_now = await hub.may(who, Action.VIEW_LIVE, camera)
        opens = None if open_now else hub.grants.opens_at(who, Action.VIEW_LIVE, camera, now)
        same_day = opens is not None and opens.date() == now.date()
        _ = i18n.translations(lang).gettext
        watched = [{"who": _("A parent") if v.who == "parent" else v.who,
                    "at": i18n.when(v.at, lang, hub.config.hub.time_zone)}
                   for v in watchers.get(camera.id, []) if v.allowed and v.action == "view_live"][:5]
        cameras.append({"id": camera.id, "name": camera.name, "where": names.get(camera.area or "", camera.area or ""),
                        "open": open_now, "watched": watched,
                        "recordings": await hub.may(who, Action.PLAY_BACK, camera, {"recorded_from": now}),
                        "opens_at": i18n.when(opens, lang, hub.config.hub.time_zone, time_only=same_day)})
    return await render(request, "mine.html", session, cameras=cameras, user_name=who.name or who.id,
                        areas=[(a, names.get(a, a)) for a in areas], groups=groups, area=wilayah or "",
                        group=grup or "", shown=len(visible),
                        together=min(9, hub.config.live.max_views_per_principal))


@router.get("/saya/kamera/{camera_id}", response_class=HTMLResponse)
async def camera_day(camera_id: str, request: Request, hari: str | None = None) -> Response:
    """A day's recordings of one camera on a timeline (for those who may play it back)."""
    hub = served_hub(request)
    session = await signed_in(request)
    who = session.principal
    camera = hub.inventory.cameras.get(camera_id)
    if camera is None or not await hub.may(who, Action.PLAY_BACK, camera, {"recorded_from": hub.policy.clock()}):
        raise NotFound(f"no camera {camera_id[:100]!r} to play back")
    zone = ZoneInfo(hub.config.hub.time_zone)
    today = hub.policy.clock().astimezone(zone).date()
    try:
        day = date.fromisoformat(hari) if hari else today
    except ValueError:
        day = today
    start = datetime.combine(day, time(), tzinfo=zone)
    names = {a.path: a.name for a in hub.config.areas}
    return await render(request, "camera.html", session, camera_id=camera.id, camera_name=camera.name,
                   where=names.get(camera.area or "", camera.area or ""), day=day.isoformat(), today=today.isoformat(),
                   start=start.isoformat(), end=(start + timedelta(days=1)).isoformat(),
                   may_export=await hub.may(who, Action.EXPORT, camera))


@router.get("/konsol", response_class=HTMLResponse)
async def console(request: Request) -> Response:
    """The operator console: the cameras' health, inviting parents, the latest access decisions."""
    hub = served_hub(request)
    session = await console_session(request)
    lang = _lang(request, session)
    _ = i18n.translations(lang).gettext
    statuses = {"online": _("online"), "offline": _("offline"), "degraded": _("degraded"), "unknown": _("unknown")}
    zone = hub.config.hub.time_zone
    everything = hub.inventory.cameras.values()
    cameras = sorted(everything, key=lambda c: (c.area or "", c.name))[:2000]
    counts = {k: sum(1 for c in everything if c.status == k) for k in ("online", "offline", "degraded")}
    now = hub.policy.clock()
    spans = await hub.store.status.availability(now - timedelta(days=1), now)
    pictures: dict[str, datetime] = {}
    for node in hub.graph.nodes():  # the latest packet of each stream the hub receives now
        at = node.stats.last_packet_at
        if node.kind.value == "relay" and node.camera_id and at is not None \
                and (node.camera_id not in pictures or at > pictures[node.camera_id]):
            pictures[node.camera_id] = at

    names = {a.path: a.name for a in hub.config.areas}
    areas: dict[str, dict[str, Any]] = {}
    for c in everything:
        area = areas.setdefault(c.area or "", {"name": names.get(c.area or "", c.area or "") or _("no area"),
                                               "online": 0, "offline": 0, "degraded": 0, "other": 0,
                                               "seconds": {}})
        area[c.status.value if c.status.value in area else "other"] += 1
        for state, seconds in spans.get(c.id, {}).items():
            area["seconds"][state] = area["seconds"].get(state, 0.0) + seconds
    board = []
    for area in sorted(areas.values(), key=lambda a: (-(a["offline"] + a["degraded"]), a["name"]))[:200]:
        total = area["online"] + area["offline"] + area["degraded"] + area["other"]
        board.append({**area, "total": total, "uptime": uptime_percent(area["seconds"]),
                      "shares": {k: round(100 * area[k] / total, 1) for k in ("online", "degraded", "offline")}})
    rows = await hub.store.audit.entries(20)
    audit = [{**r, "when": i18n.when(r["at"], lang, zone)} for r in rows]
    return await render(request, "console.html", session, cameras=[
        {"id": c.id, "name": c.name, "area": c.area or "", "status": c.status.value,
         "uptime": uptime_percent(spans.get(c.id, {})),
         "picture": i18n.when(pictures.get(c.id), lang, zone, time_only=True)} for c in cameras],
        statuses=statuses, counts=counts, sites=hub.config.sites, audit=audit, areas=board)


@router.get("/sekolah/{site}", response_class=HTMLResponse)
async def school(site: str, request: Request) -> Response:
    """A school's page for its admin: classrooms and their consent basis, parents, invitations."""
    hub = served_hub(request)
    session = await signed_in(request)
    if not await hub.may(session.principal, Action.MANAGE_PARENTS, None, {"resource": Resource("site", site)}):
        raise NotFound(f"no school {site[:60]!r} for this account")
    lang = _lang(request, session)
    _ = i18n.translations(lang).gettext
    states = {"invited": _("invited"), "accepted": _("accepted"), "expired": _("expired")}
    name = next((s.name for s in hub.config.sites if s.id == site), site)
    return await render(request, "school.html", session, site=site, site_name=name,
                   rooms=await hub.store.schools.classrooms(site), parents=await hub.store.schools.parents(site),
                   states=states)


@router.get("/static/{name}")
async def static(name: str) -> FileResponse:
    path = STATIC.get(name)
    if path is None:
        raise NotFound(f"no file {name[:80]!r}")
    return FileResponse(path, media_type=TYPES[path.suffix], headers={"Cache-Control": "max-age=300"})


@router.get("/vendor/{name:path}")
async def vendor(name: str) -> FileResponse:
    path = VENDOR.get(name)
    if path is None or not path.is_file():
        raise NotFound(f"no library file {name[:80]!r} (`make install` fetches them from npm)")
    return FileResponse(path, media_type=TYPES[path.suffix], headers={"Cache-Control": "max-age=86400"})
