"""The plugin's HTTP routes: the report app's call-back, and the list of reports.

``POST /api/v1/plugins/open311/<notifier>/callback`` (the report app says a
request changed) and ``GET /api/v1/reports`` (where the hub served the list
before the reports moved into this plugin; clients keep using it).
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Query, Request

from hub import Action, NotifyError, problem_responses, request_context, request_principal
from plugins.jaki_reports.models import Report, ReportState
from plugins.jaki_reports.notifier import Open311Notifier
from plugins.jaki_reports.store import ReportStore

router = APIRouter(prefix="/open311", tags=["open311"])


@router.post("/{notifier}/callback", status_code=202, responses=problem_responses(413, 502))
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


reports_router = APIRouter(tags=["reports"])


@reports_router.get("/reports", response_model=list[Report])
async def reports(
    request: Request,
    state: Annotated[ReportState | None, Query(description="Only reports in this state.")] = None,
    camera: Annotated[str | None, Query(description="Only reports about this camera.")] = None,
    notifier: Annotated[str | None, Query(description="Only reports of this notifier.")] = None,
    overdue: Annotated[bool, Query(description="Only open reports past their deadline.")] = False,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> list[Report]:
    """Citizen reports the notifiers filed, newest first, with their state and deadline.

    Each report about a camera the caller may see; reports about cameras no
    longer in the inventory only for those who may manage the hub.
    """
    context, who = request_context(request), request_principal(request)
    found = await ReportStore(context.database).reports(notifier, ReportState.OPEN if overdue else state, camera,
                                                        limit=limit)
    manager = await context.may(who, Action.MANAGE)
    visible = set() if manager else set(await context.visible_cameras(who, Action.VIEW_INVENTORY))
    return [report for report in found if not (overdue and not report.overdue)
            and (manager or (report.camera_id or "") in visible)]
