"""The FastAPI application: health, the v1 API, plugin routes and the page.

Served by uvicorn inside the hub's event loop.  OpenAPI is generated from
the same pydantic models as hub.yaml and lives at ``/api/openapi.json``.
Errors answer as ``application/problem+json`` with a stable code (``hub.http.problems``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute

import hub as hub_pkg
from hub.core.errors import PluginError
from hub.core.plugins import current_plugin
from hub.http import (
    api,
    camera_requests,
    evidence,
    grants,
    live,
    metrics,
    problems,
    public,
    schools,
    sessions,
    shared,
    users,
)
from hub.http.auth import FailureLimiter, principal
from hub.http.guard import Guard, allowed_hosts
from hub.http.services import ServedHub
from hub.web import camera_requests as camera_requests_page
from hub.web import console as console_pages
from hub.web import pages


def create_app(hub: ServedHub) -> FastAPI:
    app = FastAPI(
        title="Pantau Hub",
        version=hub_pkg.__version__,
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI would load scripts from a CDN
        redoc_url=None,
    )
    app.state.hub = hub
    app.state.context = hub.context
    app.state.auth_failures = FailureLimiter(hub.config.http.auth_failures_per_minute)
    app.state.login_failures = FailureLimiter(hub.config.http.auth_failures_per_minute)
    app.state.public_requests = FailureLimiter(hub.config.public.requests_per_minute)
    app.state.public_viewers = {}  # camera id -> the public's one live view of it

    problems.install(app, page_error=pages.error_page)
    app.add_exception_handler(pages.SignInFirst, pages.to_sign_in)

    async def refused(scope: Any, status: int) -> None:
        known = scope.get("state", {}).get("principal")
        who = known.id if known is not None else "anonymous"
        await hub.store.audit.record(who, f"http_{status}", None, False,
                                     f"{scope['method']} {scope['path'][:200]}", coalesce=True)

    if hub.cluster is not None:  # a camera's live view and snapshot come from its owner (inside the guard)
        from hub.cluster.routing import OwnerRouting

        app.add_middleware(OwnerRouting, cluster=hub.cluster)
    app.add_middleware(Guard, hosts=allowed_hosts(hub.config.http), max_body=hub.config.http.max_body_kb * 1024,
                       refused=refused, bulk={"/api/v1/users/import": max(4 << 20, hub.config.http.max_body_kb * 1024)})

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, object]:
        return {"status": "ok", "version": hub_pkg.__version__, "cameras": len(hub.inventory.cameras)}

    app.include_router(metrics.router)
    app.include_router(api.router, prefix="/api/v1")
    app.include_router(live.router, prefix="/api/v1")
    app.include_router(sessions.router, prefix="/api/v1")
    app.include_router(schools.router, prefix="/api/v1")
    app.include_router(public.router, prefix="/api/v1")
    app.include_router(evidence.router, prefix="/api/v1")
    app.include_router(camera_requests.router, prefix="/api/v1")
    app.include_router(users.router, prefix="/api/v1")
    app.include_router(grants.router, prefix="/api/v1")
    _mount_plugin_routes(app, hub)
    app.include_router(shared.router)
    app.include_router(schools.pages)
    app.include_router(pages.router)
    app.include_router(camera_requests_page.router)
    app.include_router(console_pages.router)
    return app


def _mount_plugin_routes(app: FastAPI, hub: ServedHub) -> None:
    """Plugins' routers under ``/api/v1/plugins``, or (``api_root``) under ``/api/v1`` where no
    route of the hub's has the same path; every one behind the bearer token.  A WebSocket route
    asks who calls it itself (``hub.websocket_principal``: a refusal there is a close code, not an
    HTTP answer), so it is mounted without the token dependency."""
    taken = {(route.path, method) for route in app.routes if isinstance(route, APIRoute)
             for method in route.methods or ()}
    nested = APIRouter(prefix="/api/v1/plugins", dependencies=[Depends(principal)], responses=problems.COMMON)
    root = APIRouter(prefix="/api/v1", dependencies=[Depends(principal)], responses=problems.COMMON)
    sockets = {False: APIRouter(prefix="/api/v1/plugins"), True: APIRouter(prefix="/api/v1")}
    page_routers: list[APIRouter] = []

    def register(router: APIRouter, *, api_root: bool = False, pages: bool = False) -> None:
        if pages:  # signed-in people's pages: the session cookie, not a bearer token
            taken_pages = {r.path for r in app.routes if isinstance(r, APIRoute)}
            for route in router.routes:
                if isinstance(route, APIRoute) and route.path in taken_pages:
                    raise PluginError(f"plugin {current_plugin()}: page {route.path} is the hub's own")
            page_routers.append(router)
            return
        if api_root:
            for route in router.routes:
                if isinstance(route, APIRoute) and any(
                        (f"/api/v1{route.path}", m) in taken for m in route.methods or ()):
                    raise PluginError(f"plugin {current_plugin()}: /api/v1{route.path} is the hub's own route")
        for route in [r for r in router.routes if isinstance(r, APIWebSocketRoute)]:
            router.routes.remove(route)  # no token dependency for it: it answers for itself
            sockets[api_root].add_api_websocket_route(route.path, route.endpoint, name=route.name)
        (root if api_root else nested).include_router(router)

    hub.plugins.call_register("register_routes", register)
    for router in page_routers:
        app.include_router(router)
    app.include_router(nested)
    app.include_router(root)
    app.include_router(sockets[False])
    app.include_router(sockets[True])
