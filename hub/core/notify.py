"""Notifiers: where normalised events go (MQTT, citizen-report apps, ...).

A plugin registers a notifier type as a config model (a ``NotifierConfig``
subclass with ``type: Literal["<name>"]``) and a ``Notifier`` subclass.  The
hub builds one notifier per ``notifiers:`` entry in hub.yaml.  Every event
that passes the entry's filter is first written to the persistent outbox
(``hub.outbox``), then handed to ``deliver`` (or, many at a time, to
``deliver_many``) in order; a notifier raises ``NotifyError`` when its
target cannot take the event, and the outbox retries.  Delivery is at least once: the event's ``id`` is the idempotency
key a target can use to drop a repeat.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from hub.core.errors import NotifyError
from hub.core.models import Camera, Event, EventKind, HubModel

if TYPE_CHECKING:
    from hub.core.context import HubContext


class NotifierConfig(HubModel):
    """Fields every notifier entry in hub.yaml has; plugins add their own."""

    type: str = Field(description="Notifier type, as registered by a plugin.")
    #: Older names of this type that hub.yaml may still use; the hub reads them as ``type``.
    type_aliases: ClassVar[tuple[str, ...]] = ()
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Unique name of this notifier.")
    kinds: list[EventKind] | None = Field(
        default=None, description="Only these event kinds are delivered; all kinds when unset."
    )
    retry_max_seconds: float = Field(
        default=300, gt=0, description="Longest wait between delivery attempts (the backoff's cap).")
    dead_after_hours: float = Field(
        default=24, gt=0, description="An event not delivered after this long is dead-lettered, and kept.")

    def wants(self, event: Event) -> bool:
        return self.kinds is None or event.kind in self.kinds


class PartlyDelivered(NotifyError):
    """``deliver_many`` got its first ``delivered`` events out, then failed with ``cause``."""

    def __init__(self, delivered: int, cause: BaseException) -> None:
        super().__init__(str(cause) if isinstance(cause, NotifyError) else f"{type(cause).__name__}: {cause}")
        self.delivered = delivered
        self.cause = cause


class Notifier(ABC):
    """Delivers events to one target."""

    #: Batches the outbox may hand to ``deliver_many`` before the earlier ones have
    #: returned.  Above 1 only for a target that takes them in the order they were
    #: given and takes none after one that failed (MQTT on one connection: when it
    #: breaks, what follows breaks too); the round trip then no longer bounds the
    #: rate.  A failed batch and every batch after it are retried.
    batches_in_flight: ClassVar[int] = 1

    def __init__(self, config: Any, log: logging.Logger) -> None:
        self.config = config
        self.log = log
        #: Set by the hub before ``start``: what the notifier may use of the running hub
        #: (cameras, snapshots, storage, shared links, ``publish`` for events it raises).
        self.context: HubContext | None = None

    async def start(self) -> None:
        """Connect to the target; called once when the hub starts."""

    async def cameras_changed(self, cameras: list[Camera]) -> None:
        """The inventory now holds ``cameras``: at start and after each change (for
        targets that announce cameras, like Home Assistant discovery)."""

    @abstractmethod
    async def deliver(self, event: Event) -> None:
        """Deliver one event; raise ``NotifyError`` when the target refuses it."""

    async def deliver_many(self, events: list[Event]) -> None:
        """Deliver ``events`` (up to 200 at a time, oldest first) in order.

        The outbox calls this; the default hands each event to ``deliver`` and
        waits for it.  A target that can take many at once (pipelined
        publishes, a bulk API) overrides it.  On failure raise
        ``PartlyDelivered(n, cause)``: the first ``n`` events count as
        delivered and the rest are retried.
        """
        for i, event in enumerate(events):
            try:
                await self.deliver(event)
            except Exception as err:
                raise PartlyDelivered(i, err) from err

    async def close(self) -> None:
        """Disconnect; called once when the hub stops."""
