"""``pantau public approve|withdraw|list``: the public portal's gate, from the command line.

``approve`` asks the running hub to take the camera's current picture as the
scene the portal may show (the operator looks at it first, in the console
or with ``GET /api/v1/cameras/<id>/snapshot``); when the picture later
departs from that scene the camera leaves the portal at once and comes back
only on a new approval.  ``list`` reads each camera's gate from the database.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click
from rich.console import Console
from rich.table import Table

from hub.commands import call_hub, config_option, data_dir_option, fail_on_errors, load, with_store
from hub.core.models import Role

_url = click.option("--url", default=None,
                    help="Address of the running hub (default: http://127.0.0.1:<http.port from hub.yaml>).")
_insecure = click.option("--insecure", is_flag=True, help="Allow plain http to an address that is not this machine.")


@click.group()
def public() -> None:
    """Approve the scenes of the public portal's cameras, take cameras off it, list the gates."""


def _gate(method: str, camera_id: str, url: str | None, insecure: bool, config_file: Path,
          data_dir: Path | None) -> Any:
    """Ask the running hub to approve (POST) or withdraw (DELETE) a camera's scene."""
    return call_hub(load(config_file, data_dir), url, insecure, method,
                    f"/api/v1/public/cameras/{quote(camera_id, safe=':')}/approve", Role.ADMIN,
                    f"pantau public {'approve' if method == 'POST' else 'withdraw'}")


@public.command("approve")
@click.argument("camera_id")
@_url
@_insecure
@config_option
@data_dir_option
@fail_on_errors
def public_approve(camera_id: str, url: str | None, insecure: bool, config_file: Path, data_dir: Path | None) -> None:
    """Approve CAMERA_ID's scene as it is now for the public portal (the running hub takes the picture)."""
    answer = _gate("POST", camera_id, url, insecure, config_file, data_dir)
    click.echo(f"Camera {answer['camera_id']} is on the public portal while its picture keeps this scene.", err=True)


@public.command("withdraw")
@click.argument("camera_id")
@_url
@_insecure
@config_option
@data_dir_option
@fail_on_errors
def public_withdraw(camera_id: str, url: str | None, insecure: bool, config_file: Path,
                    data_dir: Path | None) -> None:
    """Take CAMERA_ID off the public portal (a new approval brings it back)."""
    _gate("DELETE", camera_id, url, insecure, config_file, data_dir)
    click.echo(f"Camera {camera_id} is off the public portal.", err=True)


@public.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@config_option
@data_dir_option
@fail_on_errors
def public_list(as_json: bool, config_file: Path, data_dir: Path | None) -> None:
    """Each camera's gate: approved, departed (its picture left the scene) or withdrawn."""
    rows = with_store(config_file, data_dir, lambda store: store.scenes.states())
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=lambda v: v.isoformat() if isinstance(v, datetime) else v))
        return
    table = Table("camera", "state", "approved", "last check", "likeness")
    for r in rows:
        table.add_row(r["camera_id"], r["state"], f"{r['approved_at']:%Y-%m-%d %H:%M} by {r['approved_by']}",
                      f"{r['checked_at']:%Y-%m-%d %H:%M:%S}" if r["checked_at"] else "",
                      f"{r['likeness']:.2f}" if r["likeness"] is not None else "")
    Console().print(table)
