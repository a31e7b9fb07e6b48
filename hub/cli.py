"""The ``pantau`` command line.

Human output uses rich; every listing takes ``--json`` for machines.  Errors
from the hub's exception tree are printed without a traceback: configuration
problems as ``FILE:LINE: key.path: message`` with exit code 2, other hub
errors as ``error: message`` with exit code 1.  Plugins add commands through
the ``register_commands`` hook.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

import hub
from hub.commands import (
    call_hub,
    config_option,
    data_dir_option,
    fail_on_errors,
    load,
    opened_store,
    plugins,
    with_store,
)
from hub.core.config import json_schema
from hub.core.errors import HubError
from hub.core.models import Role, utcnow

out = Console()
err = Console(stderr=True)
T = TypeVar("T")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(hub.__version__, prog_name="pantau", message="%(prog)s %(version)s")
def cli() -> None:
    """Pantau Hub: one inventory, stream graph and set of access rules for a city's CCTV."""


@cli.command()
@config_option
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="HTTP port; overrides http.port.")
@data_dir_option
@fail_on_errors
def run(config_file: Path, port: int | None, data_dir: Path | None) -> None:
    """Run the hub until SIGTERM or Ctrl-C."""
    from hub.app import Hub
    from hub.core.config import secret_values
    from hub.logs import configure, redactor

    loaded = load(config_file, data_dir)
    configure(loaded.model.logging.level, loaded.model.logging.format)
    redactor.add(*secret_values(loaded.model))
    asyncio.run(Hub(loaded, plugins(), port=port).run())


@cli.command("check-config")
@config_option
@fail_on_errors
def check_config(config_file: Path) -> None:
    """Validate a hub.yaml without connecting to anything."""
    loaded = load(config_file)
    m = loaded.model
    click.echo(f"{config_file}: OK ({len(m.sources)} sources, {len(m.notifiers)} notifiers, "
               f"storage {m.storage.type})")


@cli.group()
def config() -> None:
    """Work with the hub.yaml format."""


@config.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of hub.yaml for the installed plugins."""
    click.echo(json.dumps(json_schema(plugins()), indent=2))


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_plugins(as_json: bool) -> None:
    """List loaded plugins, the hooks each implements and what it adds."""
    infos = list(plugins().info.values())
    if as_json:
        click.echo(json.dumps([vars(i) for i in infos], indent=2))
        return
    table = Table("plugin", "version", "hooks", "adds", "status")
    for i in infos:
        adds = [f"source:{t}" for t in i.source_types] + [f"storage:{t}" for t in i.storage_types] + \
               [f"notifier:{t}" for t in i.notifier_types] + [f"policy:{t}" for t in i.access_policies]
        table.add_row(i.name, i.version or "", "\n".join(i.hooks), "\n".join(adds),
                      f"[red]failed: {i.error}[/red]" if i.error else "[green]loaded[/green]")
    out.print(table)


@cli.command("cameras")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@fail_on_errors
def cameras(config_file: Path, as_json: bool) -> None:
    """Probe the configured sources and list their cameras."""
    from hub.inventory import Inventory, build_sources

    loaded = load(config_file)

    async def probe() -> Inventory:
        inv = Inventory(build_sources(loaded.model, plugins(), loaded.data_dir))
        try:
            await inv.probe()
        finally:
            for s in inv.sources.values():
                await s.close()
        return inv

    inv = asyncio.run(probe())
    if as_json:
        click.echo(json.dumps({
            "cameras": [c.model_dump(mode="json") for c in inv.cameras.values()],
            "devices": [d.model_dump(mode="json") for d in inv.devices.values()],
            "errors": inv.errors,
        }, indent=2))
        return
    table = Table("name", "id", "status", "streams", "tags")
    table.columns[1].no_wrap = True
    for c in inv.cameras.values():
        streams = ", ".join(f"{s.role.value} {s.codec or '?'} {s.width or '?'}x{s.height or '?'}" for s in c.streams)
        table.add_row(c.name, c.id, c.status.value, streams, ", ".join(c.tags))
    out.print(table)
    for name, message in inv.errors.items():
        err.print(f"[red]source {name}: {message}[/red]")


def _probe_shape(inv: Any) -> dict[str, Any]:
    """The documented ``pantau probe --json`` shape of one device."""
    d = inv.device
    return {
        "device": {"id": d.id, "vendor": d.vendor, "model": d.model, "serial": d.serial, "firmware": d.firmware,
                   "kind": d.kind.value, "host": d.host},
        "cameras": [{"id": c.id, "name": c.name, "channel": c.channel, "status": c.status.value,
                     "streams": [s.model_dump(mode="json") for s in c.streams]} for c in inv.cameras],
    }


@cli.command()
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--timeout", type=click.FloatRange(min=1), default=30.0, show_default=True,
              help="Seconds to wait for the device.")
@fail_on_errors
def probe(url: str, as_json: bool, timeout: float) -> None:
    """Ask one device what it is and which cameras it carries.

    URL is TYPE://USER:PASSWORD@HOST:PORT, e.g. hikvision://admin:secret@10.0.0.5:80,
    with TYPE a source type from `pantau plugins`.  Nothing is saved; no
    password or credential-bearing URL is printed.
    """
    import logging
    import tempfile
    from urllib.parse import urlsplit

    from pydantic import ValidationError

    from hub.core.sources import CameraSource, SourceContext

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise click.UsageError("the URL does not parse; use TYPE://USER:PASSWORD@HOST:PORT") from None
    reg = plugins().source_types.get(parts.scheme)
    if reg is None:
        known = ", ".join(f"{t}://" for t in sorted(plugins().source_types))
        raise click.UsageError(f"no plugin handles {parts.scheme + '://' if parts.scheme else 'that URL'}; "
                               f"installed: {known}")
    source_cls: type[CameraSource] = reg.implementation
    fields = source_cls.config_from_url(parts)
    try:
        config = reg.config_model.model_validate({"type": reg.name, "name": "probe", **fields})
    except ValidationError as exc:
        # Only where and what: the input values may hold the password.
        raise click.UsageError("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None

    async def run() -> list[Any]:
        with tempfile.TemporaryDirectory() as tmp:
            source = source_cls(config, SourceContext(Path(tmp), logging.getLogger("pantau.probe")))
            try:
                async with asyncio.timeout(timeout):
                    return list(await source.probe())
            except TimeoutError:
                from hub.core.errors import DeviceNotReady

                raise DeviceNotReady(f"{parts.hostname}:{parts.port or ''}: no answer within {timeout:g} s") from None
            finally:
                await source.close()

    found = [_probe_shape(inv) for inv in asyncio.run(run())]
    if as_json:
        click.echo(json.dumps(found[0] if len(found) == 1 else found, indent=2))
        return
    for dev in found:
        d = dev["device"]
        out.print(f"[bold]{d['vendor']} {d['model']}[/bold] ({d['kind']}) serial {d['serial']}, "
                  f"firmware {d['firmware']}, {len(dev['cameras'])} cameras")
        table = Table("ch", "name", "id", "status", "streams")
        table.columns[2].no_wrap = True
        for c in dev["cameras"]:
            streams = ", ".join(f"{s['role']} {s['codec'] or '?'} {s['width'] or '?'}x{s['height'] or '?'}"
                                f"@{s['fps'] or '?'}" for s in c["streams"])
            table.add_row(str(c["channel"]), c["name"], c["id"], c["status"], streams)
        out.print(table)


@cli.command()
@click.option("--timeout", type=click.FloatRange(min=0.5, max=60), default=3.0, show_default=True,
              help="Seconds to listen for answers.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@fail_on_errors
def discover(timeout: float, as_json: bool) -> None:
    """Search the local network for cameras (ONVIF WS-Discovery and any plugin that can).

    Sends multicast probes on this machine's networks: run it only on a
    network you are responsible for.
    """
    from hub.core.sources import CameraSource

    kinds = [r for r in plugins().source_types.values()
             if issubclass(r.implementation, CameraSource) and r.implementation.supports_discovery]

    async def run() -> list[Any]:
        sources: list[type[CameraSource]] = [r.implementation for r in kinds]
        results = await asyncio.gather(*(s.discover(timeout) for s in sources))
        return [d for found in results for d in found]

    found = asyncio.run(run()) if kinds else []
    if as_json:
        click.echo(json.dumps([d.model_dump(mode="json") for d in found], indent=2))
        return
    if not found:
        err.print(f"No devices answered within {timeout:g} s ({', '.join(r.name for r in kinds) or 'no discovery'}).")
        return
    table = Table("type", "address", "name", "hardware", "probe with")
    for d in found:
        table.add_row(d.source_type, f"{d.host}:{d.port}", d.name or "", d.hardware or "", d.probe_url)
    out.print(table)


@cli.command("outbox")
@click.option("--state", type=click.Choice(["pending", "delivered", "dead"]), default=None,
              help="Only entries in this state.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@config_option
@data_dir_option
@fail_on_errors
def outbox_command(state: str | None, as_json: bool, config_file: Path, data_dir: Path | None) -> None:
    """What the notifiers still owe: pending, delivered and dead-lettered events."""
    loaded = load(config_file, data_dir)

    async def read() -> tuple[dict[str, dict[str, int]], list[dict[str, Any]]]:
        async with opened_store(loaded.model, loaded.data_dir) as store:
            return await store.events.outbox_summary(), await store.events.outbox_items(state, 50)

    summary, items = asyncio.run(read())
    if as_json:
        click.echo(json.dumps({"notifiers": summary, "items": items}, indent=2, default=str))
        return
    table = Table("notifier", "pending", "delivered", "dead")
    for name in sorted({c.name for c in loaded.model.notifiers} | set(summary)):
        counts = summary.get(name, {})
        table.add_row(name, str(counts.get("pending", 0)), str(counts.get("delivered", 0)),
                      str(counts.get("dead", 0)))
    out.print(table)
    failing = [i for i in items if i["last_error"] and i["state"] != "delivered"]
    for item in failing[:10]:
        err.print(f"{item['notifier']}: {item['kind']} {item['camera_id'] or ''} "
                  f"({item['state']}, {item['attempts']} attempts): {item['last_error']}")




@cli.command("streams")
@click.option("--url", default=None,
              help="Address of the running hub (default: http://127.0.0.1:<http.port from hub.yaml>).")
@click.option("--insecure", is_flag=True, help="Allow plain http to an address that is not this machine.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@config_option
@data_dir_option
@fail_on_errors
def streams_command(url: str | None, insecure: bool, as_json: bool, config_file: Path,
                    data_dir: Path | None) -> None:
    """The running hub's stream graph: relays, recorders, live outputs, snapshotters.

    Asks the hub's API with the token in PANTAU_TOKEN, or else with a viewer
    token made for this call (seeing the graph needs no more; it expires in two
    minutes and is revoked after).  The token goes to that address only: never
    across a redirect, and over plain http only to this machine unless
    ``--insecure``.
    """
    loaded = load(config_file, data_dir)
    nodes = call_hub(loaded, url, insecure, "GET", "/api/v1/streams", Role.VIEWER, "pantau streams")
    if as_json:
        click.echo(json.dumps(nodes, indent=2))
        return
    if not nodes:
        err.print("No streams: nothing is recorded or watched live right now.")
        return
    now = utcnow()
    several = any(node.get("hub_node") for node in nodes)  # several hub nodes: which one holds each stream
    table = Table("camera", "node", "stream", *(["hub node"] if several else []), "fps", "kbit/s", "last packet",
                  "reconnects", "errors", "problem or last error")
    for node in sorted(nodes, key=lambda n: (n["camera_id"], n["stream_role"], n["kind"] != "relay", n["kind"])):
        stats = node["stats"]
        last = stats["last_packet_at"]
        age = f"{(now - datetime.fromisoformat(last)).total_seconds():.1f} s ago" if last else "never"
        table.add_row(node["camera_id"], node["kind"], node["stream_role"],
                      *([node.get("hub_node") or ""] if several else []), f"{stats['fps']:g}",
                      f"{stats['bitrate'] / 1000:.0f}", age, str(stats["reconnects"]), str(stats["errors"]),
                      "; ".join(node.get("problems", [])) or stats["last_error"] or "")
    out.print(table)


@cli.group()
def report() -> None:
    """Reports from the hub's records."""


def _when(value: str) -> Any:
    from datetime import UTC, datetime

    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD) or ISO 8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@report.command("availability")
@click.option("--from", "start", required=True, help="Start: YYYY-MM-DD or an ISO 8601 time (UTC if no zone).")
@click.option("--to", "end", required=True, help="End (exclusive), same forms.")
@click.option("--by", type=click.Choice(["camera", "area", "owner"]), default="camera", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "html", "png"]), default="csv", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (needed for png); standard output otherwise.")
@config_option
@data_dir_option
@fail_on_errors
def availability_report(start: str, end: str, by: str, fmt: str, output: Path | None, config_file: Path,
                        data_dir: Path | None) -> None:
    """How much of a period each camera, area or owner was online, degraded or offline."""
    from hub import reports
    since, until = _when(start), _when(end)
    if until <= since:
        raise click.BadParameter("--to must be after --from")
    if until > (now := utcnow()):  # what has not happened yet is not "unknown"
        if since >= now:
            raise click.BadParameter("--from is in the future: nothing has been recorded yet")
        err.print(f"the period has not ended: counted up to now, {now.astimezone():%Y-%m-%d %H:%M %Z}")
        until = now
    if fmt == "png" and output is None:
        raise click.UsageError("--format png needs --output FILE")
    loaded = load(config_file, data_dir)

    async def read() -> tuple[list[Any], dict[str, dict[str, float]]]:
        async with opened_store(loaded.model, loaded.data_dir) as store:
            cams = [c for c, first, removed in await store.cameras.known_cameras(include_removed=True)
                    if first < until and (removed is None or removed > since)]
            return cams, await store.status.availability(since, until)

    cameras, spans = asyncio.run(read())
    table = reports.rows(cameras, spans, since, until, by)  # type: ignore[arg-type]
    title = f"{loaded.model.hub.name}: availability"
    if fmt == "csv":
        data: bytes = reports.to_csv(table, by).encode()  # type: ignore[arg-type]
    elif fmt == "html":
        data = reports.to_html(table, by, since, until, title).encode()  # type: ignore[arg-type]
    else:
        data = reports.to_png(table, by, since, until, title)  # type: ignore[arg-type]
    if output is None:
        click.echo(data.decode(), nl=False)
    else:
        output.write_bytes(data)
        err.print(f"wrote {output} ({len(table)} rows)")


@cli.group()
def token() -> None:
    """Manage API bearer tokens."""


@token.command("create")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=None,
              help="Role of a service's token.")
@click.option("--name", default=None, help="A label to recognise the token by.")
@click.option("--expires-days", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Expire after this many days (default: never).")
@click.option("--scope", "scopes", multiple=True, metavar="camera:ID|area:PATH|site:ID|tag:TAG",
              help="Only these cameras (repeat for more): one camera, an area and all under it, or a tag.")
@click.option("--owner", default=None, metavar="USERNAME",
              help="A user's own token: it acts as the user (their role and grants) and ends when they are "
                   "disabled; --role is then the user's.")
@config_option
@data_dir_option
@fail_on_errors
def token_create(role: str | None, name: str | None, expires_days: float | None, scopes: tuple[str, ...],
                 owner: str | None, config_file: Path, data_dir: Path | None) -> None:
    """Create a bearer token; it is printed once, as the last line, and stored hashed."""
    from hub.store.tokens import check_scopes

    if role is None and owner is None:
        raise click.UsageError("give --role (a service's token) or --owner (a user's)")
    try:
        limited = check_scopes(list(scopes))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scope") from None
    expires = utcnow() + timedelta(days=expires_days) if expires_days else None

    async def make(store: Any) -> str:
        try:
            return await store.tokens.create_token(Role(role or "viewer"), name, expires, limited, owner)  # type: ignore[no-any-return]
        except LookupError as err:
            raise HubError(f"{err} (pantau user list)") from None
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--scope") from None

    secret = with_store(config_file, data_dir, make)
    within = f", limited to {', '.join(limited)}" if limited else ""
    whose = f" for {owner}" if owner else f" {role}"
    err.print(f"Created a{whose} token{within} (shown once; store it safely):")
    click.echo(secret)


@token.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--all", "show_all", is_flag=True, help="Include revoked and expired tokens.")
@config_option
@data_dir_option
@fail_on_errors
def token_list(as_json: bool, show_all: bool, config_file: Path, data_dir: Path | None) -> None:
    """The tokens: id, name, role, created, expires, revoked (never the secret)."""
    rows = with_store(config_file, data_dir, lambda store: store.tokens.list_tokens(include_ended=show_all))
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    scoped = any(r["scopes"] for r in rows)  # the column only when some token is limited
    table = Table("id", "name", "role", *(["scopes"] if scoped else []), "created", "expires", "revoked")
    table.columns[0].no_wrap = True
    for r in rows:
        limits = [", ".join(r["scopes"]) or "all"] if scoped else []
        table.add_row(r["id"], r["name"] or "", r["role"], *limits,
                      _local_time(r["created_at"]), _local_time(r["expires_at"]), _local_time(r["revoked_at"]))
    out.print(table)


@token.command("revoke")
@click.argument("token_id")
@config_option
@data_dir_option
@fail_on_errors
def token_revoke(token_id: str, config_file: Path, data_dir: Path | None) -> None:
    """Revoke a token by its id (``pantau token list``) or the whole token.  The hub that
    serves it refuses it within 10 s (it trusts a checked token that long)."""
    parts = token_id.split("_", 2)
    wanted = parts[1] if len(parts) == 3 else token_id  # pt_<id>_<secret>: only the id is used
    if not with_store(config_file, data_dir, lambda store: store.tokens.revoke_token(wanted)):
        raise click.ClickException(f"no live token with id {wanted!r} (see pantau token list --all)")
    err.print(f"Revoked token {wanted}.")


def _local_time(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else ""


from hub.cli_audit import audit  # noqa: E402 - the groups are defined there, registered here
from hub.cli_cluster import cluster  # noqa: E402
from hub.cli_evidence import evidence  # noqa: E402
from hub.cli_grants import grant  # noqa: E402
from hub.cli_public import public  # noqa: E402
from hub.cli_schools import classroom, parent  # noqa: E402
from hub.cli_users import user, users_group  # noqa: E402

cli.add_command(user)
cli.add_command(users_group)
cli.add_command(audit)
cli.add_command(grant)
cli.add_command(classroom)
cli.add_command(parent)
cli.add_command(public)
cli.add_command(evidence)
cli.add_command(cluster)


def main() -> None:
    try:
        plugins().call_register("register_commands", cli)
    except HubError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    cli(prog_name="pantau")
