"""Notifiers: where normalised events go (MQTT, citizen-report apps, ...).

A plugin registers a notifier type as a config model (a ``NotifierConfig``
subclass with ``type: Literal["<name>"]``) and a ``Notifier`` subclass.  The
hub builds one notifier per ``notifiers:`` entry in hub.yaml and hands it
every event that passes the entry's filter.  A notifier raises
``NotifyError`` when its target cannot take the event.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from pydantic import Field

from hub.core.models import Event, EventKind, HubModel


class NotifierConfig(HubModel):
    """Fields every notifier entry in hub.yaml has; plugins add their own."""

    type: str = Field(description="Notifier type, as registered by a plugin.")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Unique name of this notifier.")
    kinds: list[EventKind] | None = Field(
        default=None, description="Only these event kinds are delivered; all kinds when unset."
    )

    def wants(self, event: Event) -> bool:
        return self.kinds is None or event.kind in self.kinds


class Notifier(ABC):
    """Delivers events to one target."""

    def __init__(self, config: Any, log: logging.Logger) -> None:
        self.config = config
        self.log = log

    async def start(self) -> None:
        """Connect to the target; called once when the hub starts."""

    @abstractmethod
    async def deliver(self, event: Event) -> None:
        """Deliver one event; raise ``NotifyError`` when the target refuses it."""

    async def close(self) -> None:
        """Disconnect; called once when the hub stops."""
