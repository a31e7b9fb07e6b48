"""hub.yaml for citizen reports: the Open311 endpoint, the rules, the deadline."""

from __future__ import annotations

import string
from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from hub import AreaPath, Duration, EventKind, HubModel, NotifierConfig
from plugins.jaki_reports.models import REPORT_KINDS

#: What a rule's ``description`` may mention, each as ``{name}``.
PLACEHOLDERS = {
    "camera": "the camera's name",
    "camera_id": "the camera's id",
    "kind": "what happened (motion, tamper, offline, ...)",
    "detail": "the device's own name for the event",
    "at": "when it happened (UTC)",
    "since": "when the condition began (UTC); same as 'at' for events",
    "duration": "how long the condition has lasted, e.g. 2h15m",
    "site": "the site's name",
    "area": "the camera's area path",
    "hub": "the hub's name",
}

DEFAULT_DESCRIPTION = "{kind} on camera {camera} ({camera_id}) at {site}, since {since}."


class ReportRule(HubModel):
    """When to file a report, and in which service category."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Unique name of the rule.")
    service_code: str = Field(min_length=1, description="The endpoint's service category (see its services.json).")
    kinds: list[EventKind] | None = Field(
        default=None, description="Events that raise a report (e.g. [tamper]); give this or offline_for.")
    offline_for: Duration | None = Field(
        default=None, description="Raise a report when a camera has been offline this long (e.g. 2h).")
    cameras: list[str] | None = Field(default=None, description="Only these camera ids.")
    tags: list[str] | None = Field(default=None, description="Only cameras with one of these tags.")
    areas: list[AreaPath] | None = Field(default=None, description="Only cameras in (or under) these areas.")
    description: str = Field(
        default=DEFAULT_DESCRIPTION, max_length=3800,
        description="Text of the report; may use " + ", ".join("{" + k + "}" for k in PLACEHOLDERS) + ".",
    )
    attributes: dict[str, str] = Field(
        default_factory=dict, description="Service attributes the endpoint asks for, sent as attribute[CODE].")

    @model_validator(mode="after")
    def _one_trigger(self) -> ReportRule:
        if (self.kinds is None) == (self.offline_for is None):
            raise ValueError("give either 'kinds' (events) or 'offline_for' (a duration), not both or neither")
        if self.offline_for is not None and self.offline_for <= timedelta(0):
            raise ValueError("offline_for must be longer than 0s")
        if self.kinds is not None and any(k in REPORT_KINDS for k in self.kinds):
            raise ValueError("report_* events cannot raise reports themselves")
        return self

    @field_validator("description")
    @classmethod
    def _known_placeholders(cls, text: str) -> str:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        except ValueError as err:
            raise ValueError(f"description is not a valid template ({err}); write {{{{ and }}}} for braces") from None
        unknown = sorted(n for n in names if n not in PLACEHOLDERS)
        if unknown:
            raise ValueError(f"description uses unknown placeholder(s) {', '.join(unknown)}; "
                             f"known: {', '.join(PLACEHOLDERS)}")
        return text


class Open311Config(NotifierConfig):
    """File camera alerts as citizen reports to an Open311 GeoReport v2 endpoint (JAKI and others)."""

    type: Literal["jaki_reports"] = "jaki_reports"
    type_aliases = ("open311",)
    endpoint: str = Field(pattern=r"^https?://[^\s?#]+$",
                          description="Base URL of the GeoReport v2 API, e.g. 'https://open311.example.go.id/v2'.")
    api_key: SecretStr = Field(description="The API key the endpoint issued; write ${ENV_VAR}.")
    jurisdiction_id: str | None = Field(default=None, description="Sent with every call when the endpoint wants one.")
    rules: list[ReportRule] = Field(min_length=1, description="Which events and conditions become reports.")
    deadline: Duration = Field(
        default=timedelta(days=6), description="How long the agency has to handle a report (JAKI: 6 days).")
    escalate: list[Duration] = Field(
        default_factory=lambda: [timedelta(days=-1), timedelta(0), timedelta(days=1)],
        description="When to announce an open report, relative to its deadline (-1d: a day before; 0s: at it; "
        "1d: a day late); each announcement is a report_escalation event for the other notifiers.",
    )
    poll_interval: Duration = Field(
        default=timedelta(minutes=10), description="How often open reports' status is fetched.")
    timeout: float = Field(default=20.0, gt=0, description="Seconds to wait for the endpoint.")
    snapshot: bool = Field(
        default=True, description="Attach a snapshot link (media_url); needs http.public_url.")
    link_days: float = Field(default=30, gt=0, description="How long a report's snapshot link works.")

    @property
    def tick_seconds(self) -> float:
        """How often outages, deadlines and polls are looked at: fine enough for every period set."""
        periods = [self.poll_interval, self.deadline / 8]
        periods += [r.offline_for / 4 for r in self.rules if r.offline_for is not None]
        return min(30.0, max(0.5, min(p.total_seconds() for p in periods)))

    @model_validator(mode="after")
    def _unique_rules(self) -> Open311Config:
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rule names must be unique; repeated: {', '.join(dupes)}")
        if self.deadline <= timedelta(0):
            raise ValueError("deadline must be longer than 0s")
        if self.poll_interval < timedelta(seconds=1):
            raise ValueError("poll_interval must be at least 1s")
        return self
