"""Privately owned cameras connected to the city under partnership agreements (``tower_partner``).

Semarang's Perwal 5/2019 invites telecom-tower owners, shops and businesses
to connect the cameras they own; Jakarta's Pergub 238/2015 asks building
owners to point cameras at public space.  This plugin keeps the partners,
their agreements (the permitted uses, the controller and processor, the
signed document) and each step an agreement takes, in tables of its own
(``store.py``, made by its migrations), and the address rules a partner's
device must pass before the hub connects to it (``guard.py``: no loopback,
no cloud metadata, no private range but the partner's own, the address
pinned once resolved).  ``pantau partner ...`` drives it.

A partner's device is submitted (``onboarding.py``: the address rules, then
the hub's probe over the pinned address, the password sealed by
``vault.py``) and, approved under an agreement in force, joins the running
hub's inventory as a source of this plugin's, tagged ``partner:<id>``.

Written as a third party would write it: it imports only ``hub``'s public
surface.  ``policy.py`` enforces the agreement on every access decision;
``recording_retention`` caps how long the partner's recordings are kept.
A site whose cameras the city cannot reach runs ``pantau edge`` (``edge.py``),
which dials the city and carries them over one WebSocket (``tunnel.py``); the
city sees them as a source of type ``edge`` (``edge_city.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import click

from hub import (
    Camera,
    HubContext,
    RegisterAccessPolicy,
    RegisterMigrations,
    RegisterRoutes,
    RegisterSourceType,
    hookimpl,
)
from plugins.tower_partner import onboarding
from plugins.tower_partner.commands import partner
from plugins.tower_partner.store import PartnerStore

_tasks: set[asyncio.Task[None]] = set()


@hookimpl
def register_access_policies(register: RegisterAccessPolicy) -> None:
    from plugins.tower_partner.policy import POLICY

    register(POLICY)


@hookimpl
def register_source_types(register: RegisterSourceType) -> None:
    from plugins.tower_partner.edge_city import EdgeConfig, EdgeSource

    register(EdgeConfig, EdgeSource)


@hookimpl
def register_routes(register: RegisterRoutes) -> None:
    from plugins.tower_partner.pages import PAGES
    from plugins.tower_partner.routes import router

    register(router, api_root=True)
    register(PAGES.router, pages=True)


@hookimpl
async def hub_startup(context: HubContext) -> None:
    """The approved devices of the agreements in force join the hub, and stay in step with them."""
    sharing = onboarding.running = onboarding.Sharing(context, PartnerStore(context.database))
    await sharing.sync()
    task = asyncio.create_task(sharing.run())
    _tasks.add(task)


@hookimpl
async def hub_shutdown(context: HubContext) -> None:
    for task in list(_tasks):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    _tasks.clear()
    onboarding.running = None


@hookimpl
def recording_retention(context: HubContext, camera_id: str, camera: Camera | None) -> float | None:
    """A partner camera's recordings are kept as long as its agreement says, and go once a
    terminated agreement's grace period is over."""
    return onboarding.running.retention(camera_id) if onboarding.running is not None else None


@hookimpl
async def registered_camera(context: HubContext, camera_id: str) -> dict[str, object] | None:
    """A camera a partner registered without video: whom an investigator asks for its footage."""
    if not camera_id.startswith("partner:"):
        return None
    store = PartnerStore(context.database)
    found = next((r for r in await store.registered(camera_id.split(":")[1]) if r.id == camera_id), None)
    if found is None:
        return None
    partner = await store.partner(found.partner_id)
    contact = found.contact or (partner.contacts[0] if partner.contacts else None)
    return {"name": found.name, "owner": partner.name, "partner": partner.id,
            "contact": contact.model_dump() if contact else None, "location": found.location.model_dump(),
            "direction": found.direction, "note": found.note}


@hookimpl
def register_migrations(register: RegisterMigrations) -> None:
    register(Path(__file__).parent / "migrations" / "versions")


@hookimpl
def register_commands(cli: click.Group) -> None:
    from plugins.tower_partner.edge import edge

    cli.add_command(partner)
    cli.add_command(edge)
