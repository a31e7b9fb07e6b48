"""``pantau partner ...``: partners and their agreements, for the city's operators at a terminal.

``add`` records a partner (its kind, contacts and the private networks its
devices may sit in); ``agreement`` writes one in draft with its permitted
uses; ``submit`` has the running hub validate a device (the agreement goes
``submitted``, ``validating``, then ``pending_approval``, or back to
``draft`` with the reason) and prints the submission id last, exit 2 when
refused; ``approve SUBMISSION`` adds its cameras to the running hub (and puts
an agreement pending approval in force); ``suspend|resume|terminate`` act on
the partner's agreement; ``show`` prints it with every step; ``check`` says
whether the hub would connect to a device address for that partner.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.table import Table

from hub import (
    Role,
    SqlDatabase,
    ask_hub,
    cli_principal,
    config_option,
    data_dir_option,
    fail_on_errors,
    open_database,
)
from plugins.tower_partner.guard import PORTS, AddressRefused, own_addresses, pin
from plugins.tower_partner.models import (
    Agreement,
    AgreementState,
    AreaHeads,
    Contact,
    DeviceType,
    Partner,
    PartnerKind,
    PermittedUses,
)
from plugins.tower_partner.store import PartnerStore

_T = TypeVar("_T")


def _run(config_file: Path, data_dir: Path | None, work: Callable[[PartnerStore], Awaitable[_T]]) -> _T:
    async def go() -> _T:
        database: SqlDatabase
        async with open_database(config_file, data_dir) as database:
            return await work(PartnerStore(database))

    return asyncio.run(go())


def _contact(text: str) -> Contact:
    """``Name <phone or email>``, or just a name."""
    name, _, rest = text.partition("<")
    reach = rest.rstrip(">").strip() or None
    return Contact(name=name.strip() or text.strip(), email=reach if reach and "@" in reach else None,
                   phone=reach if reach and "@" not in reach else None)


@click.group("partner")
def partner() -> None:
    """Privately owned cameras connected under partnership agreements."""


@partner.command("add")
@click.argument("partner_id")
@click.option("--name", required=True, help="The organisation's name.")
@click.option("--kind", type=click.Choice([k.value for k in PartnerKind]), required=True)
@click.option("--network", "networks", multiple=True, metavar="CIDR",
              help="A private network its devices sit in (a city VPN range); repeat for more.")
@click.option("--contact", "contacts", multiple=True, metavar="'NAME <PHONE|EMAIL>'", help="Repeat for more.")
@config_option
@data_dir_option
@fail_on_errors
def partner_add(partner_id: str, name: str, kind: str, networks: tuple[str, ...], contacts: tuple[str, ...],
                config_file: Path, data_dir: Path | None) -> None:
    """Record partner PARTNER_ID."""
    made = _run(config_file, data_dir, lambda store: store.add_partner(
        partner_id, name, PartnerKind(kind), cli_principal().id, list(networks), [_contact(c) for c in contacts]))
    click.echo(f"Recorded partner {made.id} ({made.name}, {made.kind.value})"
               + (f", networks {', '.join(made.networks)}" if made.networks else ""), err=True)
    click.echo(made.id)


@partner.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@config_option
@data_dir_option
@fail_on_errors
def partner_list(as_json: bool, config_file: Path, data_dir: Path | None) -> None:
    """The partners and the state of their latest agreement."""

    async def read(store: PartnerStore) -> list[tuple[Partner, Agreement | None]]:
        out = []
        for p in await store.partners():
            agreements = await store.agreements(p.id)
            out.append((p, agreements[-1] if agreements else None))
        return out

    found = _run(config_file, data_dir, read)
    if as_json:
        click.echo(json.dumps([{**p.model_dump(mode="json"), "agreement": a.model_dump(mode="json") if a else None}
                               for p, a in found], indent=2))
        return
    table = Table("partner", "name", "kind", "networks", "agreement", "state")
    for p, a in found:
        table.add_row(p.id, p.name, p.kind.value, ", ".join(p.networks) or "-", a.document if a else "-",
                      a.state.value if a else "-")
    Console().print(table)


def _day(text: str | None, zone: str, end: bool = False) -> datetime | None:
    if text is None:
        return None
    day = date.fromisoformat(text) + timedelta(days=1 if end else 0)
    return datetime.combine(day, time(), tzinfo=ZoneInfo(zone))


@partner.command("agreement")
@click.argument("partner_id")
@click.option("--document", required=True, help="Reference of the signed agreement (number and date).")
@click.option("--controller", required=True, help="The personal-data controller (UU PDP art. 51).")
@click.option("--processor", required=True, help="The processor.")
@click.option("--from", "valid_from", default=None, metavar="DATE")
@click.option("--until", "valid_until", default=None, metavar="DATE", help="Its last day (included).")
@click.option("--public/--no-public", default=False, help="Its cameras may be on the public portal.")
@click.option("--city-live/--no-city-live", default=True, help="The city's operators may watch live.")
@click.option("--area-heads", type=click.Choice([a.value for a in AreaHeads]), default="none")
@click.option("--evidence-only/--playback", default=True, show_default=True,
              help="Recordings leave only on an approved evidence request, or the city may play them back.")
@click.option("--hours", default=None, metavar="'mon-sun 18:00-23:59'", help="Sharing hours (default: always).")
@click.option("--tz", "time_zone", default="Asia/Jakarta", show_default=True)
@click.option("--retention-days", type=click.IntRange(1, 3650), default=None)
@click.option("--max-sessions", type=click.IntRange(1, 64), default=None)
@click.option("--max-kbps", type=click.IntRange(64, 100_000), default=None)
@click.option("--masks-required", is_flag=True, help="Privacy masks must be set before any picture leaves the hub.")
@click.option("--grace-days", type=click.IntRange(0, 3650), default=30, show_default=True,
              help="After termination, its recordings are kept this long.")
@config_option
@data_dir_option
@fail_on_errors
def partner_agreement(partner_id: str, document: str, controller: str, processor: str, valid_from: str | None,
                      valid_until: str | None, public: bool, city_live: bool, area_heads: str, evidence_only: bool,
                      hours: str | None,
                      time_zone: str, retention_days: int | None, max_sessions: int | None, max_kbps: int | None,
                      masks_required: bool, grace_days: int, config_file: Path, data_dir: Path | None) -> None:
    """Write PARTNER_ID's agreement, in draft; prints its id last."""
    uses = PermittedUses(public_portal=public, city_live=city_live, area_heads=AreaHeads(area_heads),
                         evidence_on_request=evidence_only,
                         sharing_hours=hours, time_zone=time_zone, retention_days=retention_days,
                         max_sessions=max_sessions, max_kbps=max_kbps, masks_required=masks_required)
    made = _run(config_file, data_dir, lambda store: store.add_agreement(
        partner_id, cli_principal().id, document, controller, processor, uses, _day(valid_from, time_zone),
        _day(valid_until, time_zone, end=True), grace_days))
    click.echo(f"Agreement {made.document} of {partner_id}: draft", err=True)
    click.echo(made.id)


def _step(name: str, to: AgreementState, doc: str) -> click.Command:
    @click.argument("partner_id")
    @click.option("--note", default=None, help="Why (kept with the step).")
    @config_option
    @data_dir_option
    @fail_on_errors
    def step(partner_id: str, note: str | None, config_file: Path, data_dir: Path | None) -> None:
        async def move(store: PartnerStore) -> tuple[str, str]:
            current = await store.current(partner_id)
            moved = await store.move(current.id, to, cli_principal().id, note)
            return current.state.value, moved.state.value

        before, after = _run(config_file, data_dir, move)
        click.echo(f"{partner_id}: agreement {before} -> {after}", err=True)

    step.__doc__ = doc
    return partner.command(name)(step)


_step("suspend", AgreementState.SUSPENDED, "Suspend PARTNER_ID's agreement (sharing stops).")
_step("resume", AgreementState.ACTIVE, "Resume PARTNER_ID's suspended agreement.")
_step("terminate", AgreementState.TERMINATED, "End PARTNER_ID's agreement for good.")


@partner.command("show")
@click.argument("partner_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@config_option
@data_dir_option
@fail_on_errors
def partner_show(partner_id: str, as_json: bool, config_file: Path, data_dir: Path | None) -> None:
    """PARTNER_ID, its agreements and every step each took (who, when, why)."""

    async def read(store: PartnerStore) -> dict[str, object]:
        found = await store.partner(partner_id)
        agreements = [{**a.model_dump(mode="json"),
                       "history": [h.model_dump(mode="json") for h in await store.history(a.id)]}
                      for a in await store.agreements(partner_id)]
        return {**found.model_dump(mode="json"), "agreements": agreements}

    shown = _run(config_file, data_dir, read)
    if as_json:
        click.echo(json.dumps(shown, indent=2))
        return
    console = Console()
    console.print(f"[bold]{shown['name']}[/bold] ({shown['id']}, {shown['kind']})")
    for a in shown["agreements"]:  # type: ignore[attr-defined]
        console.print(f"agreement {a['document']} ({a['id']}): [bold]{a['state']}[/bold]")
        for h in a["history"]:
            console.print(f"  {h['at'][:19]}  {h['from_state'] or '-'} -> {h['to_state']}  by {h['by']}"
                          + (f"  ({h['note']})" if h["note"] else ""))


@partner.command("check")
@click.argument("partner_id")
@click.option("--scheme", type=click.Choice(sorted(PORTS)), default="http", show_default=True)
@click.option("--host", required=True, help="The device's host name or address.")
@click.option("--port", type=int, default=None, help="Default: the scheme's usual port.")
@config_option
@data_dir_option
@fail_on_errors
def partner_check(partner_id: str, scheme: str, host: str, port: int | None, config_file: Path,
                  data_dir: Path | None) -> None:
    """Whether the hub would connect to HOST for PARTNER_ID: the address it pins (exit 0), or why not (exit 2)."""

    async def check(store: PartnerStore) -> str:
        found = await store.partner(partner_id)
        pinned = await pin(scheme, host, port, found.networks, own_addresses())
        return pinned.netloc

    try:
        netloc = _run(config_file, data_dir, check)
    except AddressRefused as refused:
        click.echo(f"refused: {refused}", err=True)
        sys.exit(2)
    click.echo(f"{host} may be reached for {partner_id} at {netloc} (pinned: later connections go there)", err=True)
    click.echo(netloc)


@partner.command("submit")
@click.argument("partner_id")
@click.option("--type", "kind", type=click.Choice([t.value for t in DeviceType]), required=True)
@click.option("--host", required=True, help="The device's host name or address.")
@click.option("--port", type=int, default=None, help="Its API port (default 80).")
@click.option("--username", default="admin", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the device's password from standard input.")
@click.option("--site", default=None, help="The site its cameras belong to.")
@click.option("--rtsp-port", type=int, default=None, help="Its RTSP port when not 554.")
@click.option("--path", default=None, help="--type rtsp: the stream's path, e.g. /stream1.")
@click.option("--sub-path", default=None, help="--type rtsp: the substream's path, e.g. /stream2.")
@click.option("--at", "at", default=None, metavar="LAT,LON", help="Where its cameras stand, e.g. -6.9932,110.4203.")
@click.option("--area", default=None, help="The area (path in hub.yaml) its cameras watch.")
@click.option("--url", default=None, help="The running hub (default: hub.yaml's http address).")
@click.option("--insecure", is_flag=True, help="Allow plain http to an address that is not this machine.")
@config_option
@data_dir_option
@fail_on_errors
def partner_submit(partner_id: str, kind: str, host: str, port: int | None, username: str, password_stdin: bool,
                   site: str | None, rtsp_port: int | None, path: str | None, sub_path: str | None, at: str | None,
                   area: str | None, url: str | None, insecure: bool, config_file: Path,
                   data_dir: Path | None) -> None:
    """Have the running hub validate a device of PARTNER_ID; prints the submission id last (exit 2: refused)."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else click.prompt(
        "device password", hide_input=True)
    made = ask_hub(config_file, data_dir, "POST", f"/api/v1/partners/{partner_id}/submissions", role=Role.ADMIN,
                   purpose="pantau partner submit", url=url, insecure=insecure,
                   body={"type": kind, "host": host, "port": port, "username": username, "password": password,
                         "site": site, "rtsp_port": rtsp_port, "path": path, "sub_path": sub_path,
                         "location": _location(at), "area": area})
    for check in made.get("checks", []):
        click.echo(f"  ok: {check}", err=True)
    if made["state"] == "refused":
        click.echo(f"refused: {made['reason']}", err=True)
        click.echo(made["id"])
        sys.exit(2)
    click.echo(f"valid: {len(made['found'])} cameras ({', '.join(made['found'][:8])}); waiting for approval "
               f"(pantau partner approve {made['id']})", err=True)
    click.echo(made["id"])


def _location(text: str | None) -> dict[str, float] | None:
    if text is None:
        return None
    try:
        lat, lon = (float(v) for v in text.split(","))
    except ValueError:
        raise click.BadParameter(f"{text[:40]!r}: LAT,LON such as -6.9932,110.4203", param_hint="--at") from None
    return {"lat": lat, "lon": lon}


@partner.command("register")
@click.argument("partner_id")
@click.option("--name", required=True, help="What the camera is, e.g. 'Toko Sinar, facing Jl. Pemuda'.")
@click.option("--at", "at", required=True, metavar="LAT,LON", help="Where it stands.")
@click.option("--direction", type=click.FloatRange(0, 360, max_open=True), default=None, help="Degrees from north.")
@click.option("--area", default=None, help="The area (path) it watches.")
@click.option("--contact", default=None, metavar="'NAME <PHONE|EMAIL>'", help="Whom to ask for its footage.")
@click.option("--note", default=None, help="E.g. how long the owner keeps footage.")
@click.option("--url", default=None, help="The running hub (default: hub.yaml's http address).")
@click.option("--insecure", is_flag=True, help="Allow plain http to an address that is not this machine.")
@config_option
@data_dir_option
@fail_on_errors
def partner_register(partner_id: str, name: str, at: str, direction: float | None, area: str | None,
                     contact: str | None, note: str | None, url: str | None, insecure: bool, config_file: Path,
                     data_dir: Path | None) -> None:
    """Register a camera of PARTNER_ID without sharing its video (investigators learn whom to ask); prints its
    id last."""
    made = ask_hub(config_file, data_dir, "POST", f"/api/v1/partners/{partner_id}/registered", role=Role.ADMIN,
                   purpose="pantau partner register", url=url, insecure=insecure,
                   body={"name": name, "location": _location(at), "direction": direction, "area": area,
                         "contact": _contact(contact).model_dump() if contact else None, "note": note})
    click.echo(f"registered {made['name']} (no video: ask {partner_id})", err=True)
    click.echo(made["id"])


@partner.command("approve")
@click.argument("submission_id")
@click.option("--url", default=None, help="The running hub (default: hub.yaml's http address).")
@click.option("--insecure", is_flag=True, help="Allow plain http to an address that is not this machine.")
@config_option
@data_dir_option
@fail_on_errors
def partner_approve(submission_id: str, url: str | None, insecure: bool, config_file: Path,
                    data_dir: Path | None) -> None:
    """Approve SUBMISSION: its cameras join the running hub's inventory now."""
    made = ask_hub(config_file, data_dir, "POST", f"/api/v1/partners/submissions/{submission_id}/approve",
                   role=Role.ADMIN, purpose="pantau partner approve", url=url, insecure=insecure, body={})
    click.echo(f"approved: {len(made['found'])} cameras of {made['partner_id']} join the hub as source "
               f"{made['source']}", err=True)
