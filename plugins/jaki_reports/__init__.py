"""Camera alerts as citizen reports (``type: open311``): JAKI or any Open311 GeoReport v2 endpoint.

Rules in hub.yaml turn events (tamper, a flood-gate camera's intrusion, ...)
and conditions (a camera offline for 2 hours) into reports with a service
category, the camera's location, a description and a snapshot link; the
reports are filed, followed until the agency closes them, and announced
through the other notifiers as their deadline nears and passes.  The
webhook ``POST /api/v1/plugins/open311/<notifier>/callback`` with a
``service_request_id`` makes the hub fetch that report's status at once.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request

from hub import NotifyError, RegisterNotifier, RegisterRoutes, hookimpl, request_context
from plugins.jaki_reports.config import Open311Config, ReportRule
from plugins.jaki_reports.notifier import Open311Notifier

__all__ = ["Open311Config", "Open311Notifier", "ReportRule"]

router = APIRouter(prefix="/open311", tags=["open311"])


@router.post("/{notifier}/callback", status_code=202)
async def callback(notifier: str, request: Request) -> dict[str, Any]:
    """The report app says a request changed; the hub fetches its status from the endpoint.

    Body: JSON ``{"service_request_id": "..."}`` or the same as a form.  The
    body is only a hint: the state comes from the endpoint, never from it.
    """
    target = request_context(request).notifier(notifier)
    if not isinstance(target, Open311Notifier):
        raise HTTPException(404, f"no open311 notifier named {notifier!r}")
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(raw)
        except ValueError:
            raise HTTPException(400, "the body is not JSON") from None
    else:  # application/x-www-form-urlencoded, as Open311 posts
        body = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    external_id = body.get("service_request_id") if isinstance(body, dict) else None
    if not isinstance(external_id, str | int) or isinstance(external_id, bool) or not str(external_id).strip():
        raise HTTPException(400, "service_request_id is required")
    try:
        report = await target.refresh(str(external_id).strip())
    except NotifyError as err:
        target.log.warning("a call-back came but the endpoint did not answer; the next poll will tell",
                           extra={"service_request_id": str(external_id)[:100], "error": str(err)})
        return {"state": "unknown", "detail": "the endpoint did not answer; its status is fetched at the next poll"}
    if report is None:
        raise HTTPException(404, f"no report with service_request_id {str(external_id)[:100]!r}")
    return {"report_id": report.id, "state": report.state.value}


@hookimpl
def register_notifiers(register: RegisterNotifier) -> None:
    register(Open311Config, Open311Notifier)


@hookimpl
def register_routes(register: RegisterRoutes) -> None:
    register(router)
