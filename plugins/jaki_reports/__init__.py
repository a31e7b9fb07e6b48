"""Camera alerts as citizen reports (``type: open311``): JAKI or any Open311 GeoReport v2 endpoint.

Rules in hub.yaml turn events (tamper, a flood-gate camera's intrusion, ...)
and conditions (a camera offline for 2 hours) into reports with a service
category, the camera's location, a description and a snapshot link; the
reports are filed, followed until the agency closes them, and announced
through the other notifiers as their deadline nears and passes.  The
webhook ``POST /api/v1/plugins/open311/<notifier>/callback`` with a
``service_request_id`` makes the hub fetch that report's status at once.
The reports live in the plugin's own table (``store.py``, made by its
migrations); ``GET /api/v1/reports`` and ``pantau reports`` list them.
"""

from __future__ import annotations

from pathlib import Path

import click

from hub import RegisterMigrations, RegisterNotifier, RegisterRoutes, hookimpl
from plugins.jaki_reports.commands import reports_command
from plugins.jaki_reports.config import Open311Config, ReportRule
from plugins.jaki_reports.notifier import Open311Notifier
from plugins.jaki_reports.routes import reports_router, router

__all__ = ["Open311Config", "Open311Notifier", "ReportRule"]


@hookimpl
def register_notifiers(register: RegisterNotifier) -> None:
    register(Open311Config, Open311Notifier)


@hookimpl
def register_routes(register: RegisterRoutes) -> None:
    register(router)
    register(reports_router, api_root=True)


@hookimpl
def register_migrations(register: RegisterMigrations) -> None:
    register(Path(__file__).parent / "migrations" / "versions")


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(reports_command)
