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

Written as a third party would write it: it imports only ``hub``'s public
surface.  Still to come (docs/partners.md): device submissions and their
probe, the cameras joining the inventory on approval, the access policy
that enforces the agreement, the partner's own pages, and ``pantau edge``.
"""

from __future__ import annotations

from pathlib import Path

import click

from hub import RegisterMigrations, hookimpl
from plugins.tower_partner.commands import partner


@hookimpl
def register_migrations(register: RegisterMigrations) -> None:
    register(Path(__file__).parent / "migrations" / "versions")


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(partner)
