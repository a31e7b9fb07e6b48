"""``pantau audit verify``: whether the audit log is as it was written."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from hub.commands import config_option, data_dir_option, fail_on_errors, with_store


@click.group()
def audit() -> None:
    """The audit log: who watched, played back, exported or signed in, allowed or refused."""


@audit.command("verify")
@click.option("--expect", metavar="ID:HASH", default=None,
              help="A head printed earlier and copied off the hub: the chain must still run through it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@config_option
@data_dir_option
@fail_on_errors
def audit_verify(expect: str | None, as_json: bool, config_file: Path, data_dir: Path | None) -> None:
    """Walk the hash chain; exit 1 naming the first row changed, deleted or reordered.  The last
    line is the head (``ID:HASH``): keep it elsewhere and give it back with ``--expect``."""
    found = with_store(config_file, data_dir, lambda store: store.audit.verify())
    problem = found.problem
    broken_at = found.broken_at
    if problem is None and expect:
        want_id, _, want_hash = expect.partition(":")
        if not (want_id.isascii() and want_id.isdigit() and len(want_hash) == 64):
            raise click.BadParameter("give the head as it was printed, ID:HASH", param_hint="--expect")
        checked = with_store(config_file, data_dir, lambda store: store.audit.hash_of(int(want_id)))
        if checked != want_hash:
            problem, broken_at = "the checkpoint given is not in the chain (rows were cut or rewritten)", None
    head = f"{found.head_id or 0}:{found.head_hash}"
    if as_json:
        click.echo(json.dumps({"rows": found.rows, "head": head, "intact": problem is None,
                               "broken_at": broken_at, "problem": problem}))
    elif problem is None:
        click.echo(f"audit log intact: {found.rows} rows", err=True)
        click.echo(head)
    else:
        where = f"row {broken_at}" if broken_at is not None else "the chain"
        click.echo(f"audit log broken at {where}: {problem} ({found.rows} rows before it hold)", err=True)
    if problem is not None:
        sys.exit(1)
