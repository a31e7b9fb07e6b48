"""``pantau classroom add|list`` and ``pantau parent invite|list|revoke``: parents' access to classrooms.

A school admin (or an operator) records a classroom with its school hours
and consent basis, then invites each parent; the invitation's link (single
use, 7 days) is printed last, for the school to send.  Revoking a parent
ends their grant and account at once (a running hub stops a live view
within seconds).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from hub.access import parents
from hub.cli_grants import moment
from hub.commands import cli_principal, config_option, data_dir_option, fail_on_errors, load, with_store
from hub.store import Store


def _zone(config_file: Path, data_dir: Path | None, given: str | None) -> str:
    if given:
        return given
    return str(load(config_file, data_dir).model.hub.time_zone) if config_file.exists() else "Asia/Jakarta"


@click.group()
def classroom() -> None:
    """Record a school's classrooms: their cameras' tag, school hours and consent basis."""


@classroom.command("add")
@click.argument("site")
@click.argument("name")
@click.option("--hours", required=True, metavar="'mon-fri 07:00-14:00'", help="School hours.")
@click.option("--tz", "time_zone", default=None, metavar="ZONE", help="Zone of the hours (default: hub.time_zone).")
@click.option("--consent", default=None, metavar="REF",
              help="Reference of the consent basis (forms, decree); without it no parent may watch.")
@click.option("--tag", default=None, help="Tag of the classroom's cameras (default: classroom:NAME).")
@config_option
@data_dir_option
@fail_on_errors
def classroom_add(site: str, name: str, hours: str, time_zone: str | None, consent: str | None, tag: str | None,
                  config_file: Path, data_dir: Path | None) -> None:
    """Record (or change) classroom NAME of school SITE."""
    zone = _zone(config_file, data_dir, time_zone)
    room = with_store(config_file, data_dir, lambda store: store.schools.set_classroom(
        site, name, hours, zone, consent, tag))
    click.echo(f"Classroom {room.name} at {room.site}: cameras tagged {room.tag}, {room.hours} ({room.time_zone}); "
               + (f"consent basis {room.consent}." if room.consent else "no consent basis: no parent may watch."),
               err=True)


@classroom.command("list")
@click.option("--site", default=None, help="Only this school.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@config_option
@data_dir_option
@fail_on_errors
def classroom_list(site: str | None, as_json: bool, config_file: Path, data_dir: Path | None) -> None:
    """The classrooms."""
    rooms = with_store(config_file, data_dir, lambda store: store.schools.classrooms(site))
    if as_json:
        click.echo(json.dumps([r.model_dump() for r in rooms], indent=2))
        return
    table = Table("site", "classroom", "tag", "hours", "consent")
    for r in rooms:
        table.add_row(r.site, r.name, r.tag, f"{r.hours} ({r.time_zone})", r.consent or "none: closed to parents")
    Console().print(table)


@click.group()
def parent() -> None:
    """Invite parents to their child's classroom, list them, revoke them."""


@parent.command("invite")
@click.option("--site", required=True, help="The school's site id.")
@click.option("--classroom", "room", required=True, help="The classroom (7A).")
@click.option("--name", required=True, help="The parent's name.")
@click.option("--until", required=True, metavar="DATE", help="The last day of access (the school year's end).")
@click.option("--username", default=None, help="The account's name (default: made from the name).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@config_option
@data_dir_option
@fail_on_errors
def parent_invite(site: str, room: str, name: str, until: str, username: str | None, as_json: bool,
                  config_file: Path, data_dir: Path | None) -> None:
    """Invite a parent; prints the single-use link (valid 7 days) last."""
    loaded = load(config_file, data_dir) if config_file.exists() else None
    zone = str(loaded.model.hub.time_zone) if loaded else "Asia/Jakarta"
    last_day = moment(until, zone, end_of_day=True)
    assert last_day is not None

    async def work(store: Store) -> parents.Invitation:
        return await parents.invite(store, cli_principal(), site, room, name, last_day, username)

    made = with_store(config_file, data_dir, work)
    link = made.link(loaded.model.http.base_url() if loaded else "http://127.0.0.1:8080")
    if as_json:
        click.echo(json.dumps({"username": made.username, "grant_id": made.grant_id, "link": link,
                               "link_expires_at": made.expires_at.isoformat(), "until": made.until.isoformat()}))
        return
    click.echo(f"Invited {name} as {made.username} to classroom {room} at {site}, school hours only, until "
               f"{until}. Send the link (single use, until {made.expires_at:%Y-%m-%d %H:%M} UTC):", err=True)
    click.echo(link)


@parent.command("list")
@click.option("--site", default=None, help="Only this school.")
@click.option("--classroom", "room", default=None, help="Only this classroom.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@config_option
@data_dir_option
@fail_on_errors
def parent_list(site: str | None, room: str | None, as_json: bool, config_file: Path, data_dir: Path | None) -> None:
    """The parents invited, with their invitation's state."""
    found = with_store(config_file, data_dir, lambda store: store.schools.parents(site, room))
    if as_json:
        click.echo(json.dumps(found, indent=2, default=lambda v: v.isoformat() if isinstance(v, datetime) else v))
        return
    table = Table("username", "site", "classroom", "invitation", "invited")
    for p in found:
        table.add_row(str(p["username"]), str(p["site"]), str(p["classroom"]), str(p["invitation"]),
                      f"{p['invited_at']:%Y-%m-%d} by {p['invited_by']}")
    Console().print(table)


@parent.command("revoke")
@click.argument("username")
@config_option
@data_dir_option
@fail_on_errors
def parent_revoke(username: str, config_file: Path, data_dir: Path | None) -> None:
    """End a parent's access: their grant, their account, any open invitation."""
    ended = with_store(config_file, data_dir, lambda store: parents.revoke(store, cli_principal(), username))
    click.echo(f"Revoked {username}: {ended} grant(s) ended, the account disabled.", err=True)
