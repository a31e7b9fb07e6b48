"""pantau-eventlog: append the hub's events to a JSON-lines file.

An example of a third-party Pantau plugin: one notifier type and one CLI
command, found by the hub through the ``pantau`` entry point in
pyproject.toml.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Literal

import click
from pydantic import Field

from hub import Event, Notifier, NotifierConfig, NotifyError, RegisterNotifier, hookimpl


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
        try:
            await asyncio.to_thread(self._append, event.model_dump_json())
        except OSError as err:
            raise NotifyError(f"eventlog {self.config.name}: cannot write {self.config.path}: {err.strerror}") from err


@hookimpl
def register_notifiers(register: RegisterNotifier) -> None:
    register(EventLogConfig, EventLogNotifier)


@hookimpl
def register_commands(cli: click.Group) -> None:
    @cli.command("eventlog-summary")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def summary(path: Path) -> None:
        """Count the events in an eventlog file by kind."""
        counts = Counter(json.loads(line)["kind"] for line in path.read_text().splitlines() if line.strip())
        for kind, n in sorted(counts.items()):
            click.echo(f"{kind}\t{n}")
