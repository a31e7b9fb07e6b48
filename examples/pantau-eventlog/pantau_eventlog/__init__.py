"""pantau-eventlog: append the hub's events to a JSON-lines file.

An example of a third-party Pantau plugin, found by the hub through the
``pantau`` entry point in pyproject.toml: one notifier type, a table of its
own in the hub's database (``tables.py``, made by its migration in
``migrations/versions``) where it counts what it wrote, and two commands.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Literal

import click
from pydantic import Field

from hub import (
    Event,
    Notifier,
    NotifierConfig,
    NotifyError,
    RegisterMigrations,
    RegisterNotifier,
    config_option,
    data_dir_option,
    fail_on_errors,
    hookimpl,
    open_database,
)
from pantau_eventlog.tables import count, counts


class EventLogConfig(NotifierConfig):
    """Append events to a JSON-lines file."""

    type: Literal["eventlog"] = "eventlog"
    path: Path = Field(description="File to append events to; created when missing.")


class EventLogNotifier(Notifier):
    config: EventLogConfig

    async def start(self) -> None:
        self.config.path.parent.mkdir(parents=True, exist_ok=True)

    def _append(self, line: str) -> None:
        with self.config.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")

    async def deliver(self, event: Event) -> None:
        # Counted first, then written: a line in the file is always counted already, even when
        # the hub stops between the two.  Delivery is at least once: a repeat may count twice.
        if self.context is not None:
            await count(self.context.database, self.config.name, event)
        try:
            await asyncio.to_thread(self._append, event.model_dump_json())
        except OSError as err:
            raise NotifyError(f"eventlog {self.config.name}: cannot write {self.config.path}: {err.strerror}") from err


@hookimpl
def register_notifiers(register: RegisterNotifier) -> None:
    register(EventLogConfig, EventLogNotifier)


@hookimpl
def register_migrations(register: RegisterMigrations) -> None:
    register(Path(__file__).parent / "migrations" / "versions")


@hookimpl
def register_commands(cli: click.Group) -> None:
    @cli.command("eventlog-summary")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def summary(path: Path) -> None:
        """Count the events in an eventlog file by kind."""
        counted = Counter(json.loads(line)["kind"] for line in path.read_text().splitlines() if line.strip())
        for kind, n in sorted(counted.items()):
            click.echo(f"{kind}\t{n}")

    @cli.command("eventlog-counts")
    @config_option
    @data_dir_option
    @fail_on_errors
    def kinds(config_file: Path, data_dir: Path | None) -> None:
        """What each eventlog notifier wrote, by kind (from the plugin's table)."""

        async def read() -> list[tuple[str, str, int]]:
            async with open_database(config_file, data_dir) as database:
                return await counts(database)

        for notifier, kind, n in asyncio.run(read()):
            click.echo(f"{notifier}\t{kind}\t{n}")
