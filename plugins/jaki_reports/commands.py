"""``pantau reports``: the citizen reports in the hub's database, for a person at a terminal."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from hub import config_option, data_dir_option, fail_on_errors, open_database, utcnow
from plugins.jaki_reports.models import Report
from plugins.jaki_reports.store import ReportStore


@click.command("reports")
@click.option("--state", type=click.Choice(["pending", "open", "closed", "rejected"]), default=None,
              help="Only reports in this state.")
@click.option("--overdue", is_flag=True, help="Only open reports past their deadline.")
@click.option("--camera", default=None, help="Only reports about this camera id.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@config_option
@data_dir_option
@fail_on_errors
def reports_command(state: str | None, overdue: bool, camera: str | None, limit: int, as_json: bool,
                    config_file: Path, data_dir: Path | None) -> None:
    """Citizen reports filed by the notifiers (JAKI, Open311): state, agency and deadline."""

    async def read() -> list[Report]:
        async with open_database(config_file, data_dir) as database:
            return await ReportStore(database).reports(state="open" if overdue else state, camera_id=camera,
                                                       limit=limit)

    found = [r for r in asyncio.run(read()) if r.overdue or not overdue]
    if as_json:
        click.echo(json.dumps([r.model_dump(mode="json") for r in found], indent=2))
        return
    now = utcnow()
    table = Table("report", "camera", "rule", "state", "request id", "filed", "deadline", "agency / error")
    for r in found:
        if r.deadline is None:
            due = "-"
        else:
            left = r.deadline - now
            days = abs(left.total_seconds()) / 86400
            due = f"{r.deadline:%Y-%m-%d %H:%M}" + (
                f" ({days:.1f} d late)" if r.overdue else f" (in {days:.1f} d)" if r.state == "open" else "")
        table.add_row(r.id[:8], r.camera_id or "-", r.rule, r.state.value, r.external_id or "-",
                      f"{r.filed_at:%Y-%m-%d %H:%M}" if r.filed_at else "-", due,
                      (r.agency_responsible or "") if r.state != "pending" else (r.last_error or "waiting")[:60])
    Console().print(table)
    if not found:
        Console(stderr=True).print("no reports" + (" match" if state or overdue or camera else " yet"))
