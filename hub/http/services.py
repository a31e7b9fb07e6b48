"""What the HTTP layer needs of the running hub (``ServedHub``), and how a route gets it.

The hub (``hub.app.Hub``) is one implementation; the HTTP package never
imports it, so the app and its API do not depend on each other in a circle.
Plugin routes do not get this: they get the ``HubContext``
(``hub.core.context.request_context``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from fastapi import Request

if TYPE_CHECKING:
    from hub.access.grants import GrantPolicy
    from hub.access.public import PublicGate
    from hub.cluster import Cluster
    from hub.core.context import HubContext
    from hub.core.models import Action, Camera, Principal
    from hub.core.notify import Notifier
    from hub.core.plugins import Plugins
    from hub.core.policy import PolicyEngine, Verdict
    from hub.core.storage import StorageBackend
    from hub.event_workers import EventWorkers
    from hub.evidence.custody import Custody
    from hub.graph import StreamGraph
    from hub.inventory import Inventory
    from hub.links import LinkSigner
    from hub.live import LiveViews
    from hub.masks import PrivacyMasks
    from hub.recording import Recording
    from hub.store import Store


class ServedHub(Protocol):
    """The running hub as its own HTTP API sees it."""

    config: Any  # hub.yaml's model (its class is built from the installed plugins)
    data_dir: Path
    inventory: Inventory
    policy: PolicyEngine
    store: Store
    storage: StorageBackend
    links: LinkSigner
    graph: StreamGraph
    live: LiveViews
    event_workers: EventWorkers
    plugins: Plugins
    notifiers: dict[str, Notifier]
    cluster: Cluster | None  # several nodes: this node's part
    recording: Recording
    published: int  # events passed on since the start

    @property
    def context(self) -> HubContext: ...

    async def authorize(self, principal: Principal, action: Action, camera: Camera | None = None,
                        context: dict[str, Any] | None = None, repeated: bool = False) -> Verdict: ...

    grants: GrantPolicy
    public: PublicGate
    custody: Custody
    masks: PrivacyMasks

    async def may(self, principal: Principal, action: Action, camera: Camera | None = None,
                  context: dict[str, Any] | None = None) -> bool: ...

    async def visible(self, principal: Principal, action: Action = ...) -> list[str]: ...

    async def snapshot(self, camera_id: str, limit: float = 10.0) -> bytes: ...


def hub_of(app: Any) -> ServedHub:
    """The hub an app serves (``create_app`` put it there)."""
    return app.state.hub  # type: ignore[no-any-return]


def served_hub(request: Request) -> ServedHub:
    """The hub serving ``request``."""
    return hub_of(request.app)
