"""Citizen reports: a case filed with an outside agency about a camera, and its state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field, computed_field

from hub import EventKind, HubModel, utcnow

#: The events this plugin raises about its reports, for the other notifiers (MQTT, ...) to carry.
REPORT_FILED = EventKind.define("report_filed", "A citizen report was filed for a camera.")
REPORT_ESCALATION = EventKind.define(
    "report_escalation", "An open citizen report reached an escalation point of its deadline.")
REPORT_CLOSED = EventKind.define("report_closed", "The agency closed a citizen report.")
#: Kinds about reports: never themselves reported.
REPORT_KINDS = frozenset({REPORT_FILED, REPORT_ESCALATION, REPORT_CLOSED})


class ReportState(StrEnum):
    PENDING = "pending"    # waiting to be filed (the target may be down)
    OPEN = "open"          # filed; the agency has not closed it
    CLOSED = "closed"      # the agency closed it
    REJECTED = "rejected"  # the target refused it for good (unknown service, missing field)


class Report(HubModel):
    """A case filed with an outside agency (a citizen-report app) about a camera.

    A notifier such as the Open311 one keeps one per camera and rule while it
    is open, follows its status and counts down to its deadline.
    """

    id: str = Field(description="The hub's id of the report.")
    notifier: str = Field(description="The notifier that files it.")
    rule: str = Field(description="The notifier rule that raised it.")
    camera_id: str | None = Field(default=None, description="Camera the report is about.")
    state: ReportState = Field(description="pending, open, closed or rejected.")
    service_code: str = Field(description="The agency's service category.")
    external_id: str | None = Field(default=None, description="The agency's id (Open311 service_request_id).")
    description: str = Field(description="Text filed with the report.")
    media_url: str | None = Field(default=None, description="Link to the snapshot filed with the report.")
    trigger_at: datetime = Field(description="When the condition began (the event, or the start of the outage).")
    event_id: str | None = Field(default=None, description="The event that raised it, if any.")
    occurrences: int = Field(default=1, description="Matching events seen while it was open.")
    last_seen_at: datetime = Field(description="When the condition was last seen.")
    created_at: datetime
    filed_at: datetime | None = Field(default=None, description="When the agency accepted it.")
    deadline: datetime | None = Field(default=None, description="When the agency must have handled it.")
    closed_at: datetime | None = None
    status_notes: str | None = Field(default=None, description="The agency's notes.")
    agency_responsible: str | None = Field(default=None, description="Who handles it at the agency.")
    escalations: list[str] = Field(default_factory=list, description="Escalation points already announced.")
    attempts: int = Field(default=0, description="Failed filing attempts.")
    last_error: str | None = Field(default=None, description="Why the last attempt failed.")
    data: dict[str, Any] = Field(default_factory=dict, description="Notifier-specific details.")

    @computed_field(description="Open past its deadline.")  # type: ignore[prop-decorator]
    @property
    def overdue(self) -> bool:
        return self.state == ReportState.OPEN and self.deadline is not None and self.deadline <= utcnow()
