"""``pantau grant add|list|revoke``: who may do what on which cameras, when.

``pantau grant add rt03.krapyak --actions view_live,play_back --area
jawa-tengah/semarang/krapyak/rw04/rt03`` gives a user those actions on the
cameras of that RT; ``--hours 'mon-fri 07:00-14:00,sat 07:00-11:00' --tz
Asia/Makassar`` only in those hours; ``--from``/``--until`` (a date: the
start of that day, the end of that day, in the zone) bound it in time, and
``--history-from`` keeps playback off footage recorded before a date.  The
grant's id is printed last.  A running hub takes a change within a second.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from hub.access.schedule import ScheduleError, zone
from hub.commands import cli_principal, config_option, data_dir_option, fail_on_errors, load, with_store
from hub.core.errors import NotFound
from hub.core.models import Action
from hub.store import Store
from hub.store.grants import Grant, GrantError


def principal_of(name: str) -> str:
    """``user:<name>`` for a username; ``token:<id>`` and ``user:<name>`` as they are."""
    return name if name.startswith(("user:", "token:")) else f"user:{name}"


def moment(text: str | None, zone_name: str, end_of_day: bool = False) -> datetime | None:
    """A date (the start of that day in the zone, or with ``end_of_day`` the start of the next)
    or a date and time (in the zone unless it names its own)."""
    if text is None:
        return None
    tz = zone(zone_name)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1 if end_of_day else 0), time(), tzinfo=tz)
        when = datetime.fromisoformat(text)
    except ValueError:
        raise GrantError(f"{text[:40]!r} is not a date (2026-07-13) or a date and time "
                         "(2026-07-13T07:00+08:00)") from None
    return when if when.tzinfo else when.replace(tzinfo=tz)


def _days(text: str | None) -> list[date]:
    if not text:
        return []
    try:
        return [date.fromisoformat(d.strip()) for d in text.split(",") if d.strip()]
    except ValueError:
        raise GrantError(f"--closed {text[:60]!r}: dates like 2026-12-25, separated by commas") from None


async def _exists(store: Store, principal: str) -> None:
    if principal.startswith("user:"):
        if principal.removeprefix("user:") not in {u["username"] for u in await store.users.list_users()}:
            raise NotFound(f"no user {principal.removeprefix('user:')[:70]!r} (pantau user list)")
    elif principal.removeprefix("token:") not in {t["id"] for t in await store.tokens.list_tokens()}:
        raise NotFound(f"no live token {principal.removeprefix('token:')[:40]!r} (pantau token list)")


def grant_view(grant: Grant) -> dict[str, Any]:
    return grant.model_dump(mode="json")


@click.group()
def grant() -> None:
    """Give users and tokens actions on cameras, in hours, for a time."""


@grant.command("add")
@click.argument("name")
@click.option("--actions", required=True, metavar="A[,B...]",
              help=f"What they may do: {', '.join(a.value for a in Action)}.")
@click.option("--camera", "cameras", multiple=True, metavar="ID", help="A camera (repeat for more).")
@click.option("--area", "areas", multiple=True, metavar="PATH", help="An area and everything under it.")
@click.option("--site", "sites", multiple=True, metavar="ID", help="Every camera of a site.")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Every camera with a tag (classroom:7A).")
@click.option("--match", "selectors", multiple=True, metavar="SEL&SEL",
              help="Cameras every term names: 'site:smpn-4&tag:classroom:7A'.")
@click.option("--hours", default=None, metavar="'mon-fri 07:00-14:00,sat 07:00-11:00'",
              help="Only in these weekly hours (default: always).")
@click.option("--tz", "time_zone", default=None, metavar="ZONE",
              help="Zone of the hours and dates (default: hub.time_zone, Asia/Jakarta).")
@click.option("--closed", default=None, metavar="DATE[,DATE...]", help="Days shut whatever the hours (holidays).")
@click.option("--from", "valid_from", default=None, metavar="DATE", help="Not before this day.")
@click.option("--until", "valid_until", default=None, metavar="DATE", help="Not after this day (it included).")
@click.option("--history-from", default=None, metavar="DATE",
              help="Playback and export never of footage from before this day.")
@click.option("--note", default=None, help="Why: a letter, a classroom, an agreement.")
@click.option("--json", "as_json", is_flag=True, help="Print the grant as JSON.")
@config_option
@data_dir_option
@fail_on_errors
def grant_add(name: str, actions: str, cameras: tuple[str, ...], areas: tuple[str, ...], sites: tuple[str, ...],
              tags: tuple[str, ...], selectors: tuple[str, ...], hours: str | None, time_zone: str | None,
              closed: str | None, valid_from: str | None, valid_until: str | None, history_from: str | None,
              note: str | None, as_json: bool, config_file: Path, data_dir: Path | None) -> None:
    """Give NAME (a username, or token:ID) actions on cameras; prints the grant's id last."""
    if time_zone is None:
        time_zone = load(config_file, data_dir).model.hub.time_zone if config_file.exists() else "Asia/Jakarta"
    try:
        zone(time_zone)
    except ScheduleError as err:
        raise GrantError(str(err)) from None
    chosen = [*(f"camera:{c}" for c in cameras), *(f"area:{a}" for a in areas), *(f"site:{s}" for s in sites),
              *(f"tag:{t}" for t in tags), *selectors]
    principal = principal_of(name)

    async def work(store: Store) -> Grant:
        await _exists(store, principal)
        return await store.grants.add(
            principal, [a.strip() for a in actions.split(",") if a.strip()],  # type: ignore[misc]
            chosen, created_by=cli_principal().id, hours=hours, time_zone=time_zone, closed_on=_days(closed),
            valid_from=moment(valid_from, time_zone), valid_until=moment(valid_until, time_zone, end_of_day=True),
            history_from=moment(history_from, time_zone), note=note)

    made = with_store(config_file, data_dir, work)
    if as_json:
        click.echo(json.dumps(grant_view(made), indent=2))
        return
    click.echo(f"Granted {', '.join(made.actions)} on {', '.join(made.cameras)} to {principal}"
               f"{' in ' + made.hours + ' (' + made.time_zone + ')' if made.hours else ''}.", err=True)
    click.echo(made.id)


@grant.command("list")
@click.argument("name", required=False)
@click.option("--all", "include_revoked", is_flag=True, help="Revoked grants too.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@config_option
@data_dir_option
@fail_on_errors
def grant_list(name: str | None, include_revoked: bool, as_json: bool, config_file: Path,
               data_dir: Path | None) -> None:
    """The grants (of NAME, when given), oldest first."""
    found = with_store(config_file, data_dir, lambda store: store.grants.list(
        principal_of(name) if name else None, include_revoked))
    if as_json:
        click.echo(json.dumps([grant_view(g) for g in found], indent=2))
        return
    table = Table("id", "who", "actions", "cameras", "hours", "from", "until", "revoked")
    for g in found:
        table.add_row(g.id, g.principal, ",".join(g.actions), " ".join(g.cameras),
                      f"{g.hours} ({g.time_zone})" if g.hours else "always",
                      *(when.isoformat() if when else "" for when in (g.valid_from, g.valid_until, g.revoked_at)))
    Console().print(table)


@grant.command("revoke")
@click.argument("grant_id")
@config_option
@data_dir_option
@fail_on_errors
def grant_revoke(grant_id: str, config_file: Path, data_dir: Path | None) -> None:
    """Revoke a grant (kept, marked revoked); a running hub ends the live views it allowed within seconds."""
    revoked = with_store(config_file, data_dir, lambda store: store.grants.revoke(grant_id, cli_principal().id))
    click.echo(f"Revoked grant {revoked.id} of {revoked.principal}.", err=True)
