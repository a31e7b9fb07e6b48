"""``pantau evidence request|list|approve|refuse|export|verify|key``: evidence for the police.

On the command line the actor is the account that holds the hub's files
(``cli:<name>`` in the audit log), so the two-person rule holds between it
and whoever filed the request over the API (an investigator), and a request
filed here is approved over the API by an operator, or here by someone else.
``verify`` needs no hub: it checks a bundle as its own ``verify.py`` does,
and decodes every segment with PyAV.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

import hub
from hub.commands import cli_principal, config_option, data_dir_option, fail_on_errors, load, opened_store, plugins
from hub.evidence import verify_bundle
from hub.evidence.custody import Custody
from hub.evidence.keys import Signer
from hub.masks import PrivacyMasks
from hub.store.evidence import EvidenceState

_T = TypeVar("_T")


def _with_custody(config_file: Path, data_dir: Path | None, work: Callable[[Custody], Awaitable[_T]]) -> _T:
    from hub.app import build_storage

    loaded = load(config_file, data_dir)

    async def run() -> _T:
        async with opened_store(loaded.model, loaded.data_dir) as store:
            storage = build_storage(loaded.model, plugins(), loaded.data_dir)
            try:
                masks = PrivacyMasks(store.db, loaded.model.privacy_masks)
                await masks.load()
                custody = Custody(store, storage, Signer.of(loaded.data_dir), loaded.model.hub.name, hub.__version__,
                                  loaded.data_dir / "evidence", masks.of)
                return await work(custody)
            finally:
                await storage.close()

    return asyncio.run(run())


def _when(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a time like 2026-11-30T21:00:00+08:00") from None
    if when.tzinfo is None:
        raise click.BadParameter(f"{text!r} needs its zone, e.g. 2026-11-30T21:00:00+08:00")
    return when


@click.group()
def evidence() -> None:
    """Evidence requests: file, decide (a second person), export signed bundles, verify them."""


@evidence.command("request")
@click.option("--camera", "cameras", multiple=True, required=True, help="A camera id (repeat for more).")
@click.option("--start", required=True, help="Start of the range with its zone (2026-11-30T21:00:00+08:00).")
@click.option("--end", required=True, help="End of the range with its zone.")
@click.option("--institution", required=True, help="The asking institution (Polres Kutai Timur).")
@click.option("--officer", required=True, help="The officer: name, rank, number.")
@click.option("--letter-number", required=True, help="Number of the request letter.")
@click.option("--letter-date", required=True, help="Date of the letter (YYYY-MM-DD).")
@click.option("--case", "case_reference", required=True, help="Report or case number.")
@click.option("--legal-basis", required=True, help="The legal basis the letter names.")
@click.option("--reason", required=True, help="Why the recording is needed.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@config_option
@data_dir_option
@fail_on_errors
def evidence_request(cameras: tuple[str, ...], start: str, end: str, institution: str, officer: str,
                     letter_number: str, letter_date: str, case_reference: str, legal_basis: str, reason: str,
                     as_json: bool, config_file: Path, data_dir: Path | None) -> None:
    """File a request (its range is locked from retention at once); prints its id last."""
    made = _with_custody(config_file, data_dir, lambda custody: custody.request(
        cli_principal(), list(cameras), _when(start), _when(end), institution=institution, officer=officer,
        letter_number=letter_number, letter_date=letter_date, case_reference=case_reference,
        legal_basis=legal_basis, reason=reason))
    if as_json:
        click.echo(made.model_dump_json(indent=2))
        return
    click.echo(f"Filed request {made.id}; its range is locked. A second person approves it.", err=True)
    click.echo(made.id)


@evidence.command("list")
@click.option("--state", type=click.Choice([s.value for s in EvidenceState]), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@config_option
@data_dir_option
@fail_on_errors
def evidence_list(state: str | None, as_json: bool, config_file: Path, data_dir: Path | None) -> None:
    """The requests, newest change first."""
    found = _with_custody(config_file, data_dir, lambda custody: custody.store.evidence.requests(
        EvidenceState(state) if state else None))
    if as_json:
        click.echo(json.dumps([r.model_dump(mode="json") for r in found], indent=2))
        return
    table = Table("id", "state", "institution", "letter", "cameras", "range (UTC)", "requested by", "decided by")
    for r in found:
        table.add_row(r.id, r.state, r.institution, r.letter_number, str(len(r.camera_ids)),
                      f"{r.start:%Y-%m-%d %H:%M} to {r.end:%H:%M}", r.requested_by, r.decided_by or "")
    Console().print(table)


@evidence.command("approve")
@click.argument("request_id")
@click.option("--note", default=None, help="A note with the approval.")
@config_option
@data_dir_option
@fail_on_errors
def evidence_approve(request_id: str, note: str | None, config_file: Path, data_dir: Path | None) -> None:
    """Approve a request (never one filed by the same account)."""
    made = _with_custody(config_file, data_dir, lambda custody: custody.approve(cli_principal(), request_id, note))
    click.echo(f"Approved request {made.id}.", err=True)


@evidence.command("refuse")
@click.argument("request_id")
@click.option("--note", required=True, help="Why it is refused.")
@config_option
@data_dir_option
@fail_on_errors
def evidence_refuse(request_id: str, note: str, config_file: Path, data_dir: Path | None) -> None:
    """Refuse a request, saying why; what it held goes back to retention."""
    made = _with_custody(config_file, data_dir, lambda custody: custody.refuse(cli_principal(), request_id, note))
    click.echo(f"Refused request {made.id}.", err=True)


@evidence.command("export")
@click.argument("request_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the bundle (default: evidence-<id>-<time>.zip here).")
@config_option
@data_dir_option
@fail_on_errors
def evidence_export(request_id: str, output: Path | None, config_file: Path, data_dir: Path | None) -> None:
    """Export an approved request's signed bundle; prints its path and SHA-256 last."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("checking and gathering the recordings", total=None)

        async def work(custody: Custody) -> Any:
            custody.progress = lambda line: progress.update(task, description=line)
            return await custody.bundle(cli_principal(), request_id)

        made = _with_custody(config_file, data_dir, work)
    target = output or Path.cwd() / made.path.name
    shutil.move(made.path, target)
    click.echo(f"Bundle written; check it with: pantau evidence verify {target}", err=True)
    click.echo(f"{target} {made.sha256}")


@evidence.command("verify")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", default=None, help="The hub's public key (base64, as `pantau evidence key` prints it) "
                                          "or a file holding it; default: the key the bundle carries.")
def evidence_verify(bundle: Path, key: str | None) -> None:
    """Check a bundle without the hub: signature, every file's hash, the chain, every segment decodes."""
    args = [str(bundle)] + (["--key", key] if key else [])
    sys.exit(verify_bundle.main(args))


@evidence.command("key")
@data_dir_option
@config_option
@fail_on_errors
def evidence_key(data_dir: Path | None, config_file: Path) -> None:
    """The hub's public signing key (base64) last; give it to the police and courts separately."""
    target = load(config_file, data_dir).data_dir if config_file.exists() else (data_dir or Path("data")).resolve()
    signer = Signer.of(target)
    click.echo(f"Ed25519 public key of this hub (fingerprint {signer.fingerprint}):", err=True)
    click.echo(signer.public_key)
