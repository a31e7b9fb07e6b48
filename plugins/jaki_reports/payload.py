"""What the plugin files: a report's text, its place and the Open311 form, in pure functions.

Nothing here talks to the endpoint or the hub: each function takes what it
needs and returns the text or fields, so tests feed it cameras and rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from hub import Area, Camera, Event, EventKind, Site, format_duration
from plugins.jaki_reports.client import Open311Error
from plugins.jaki_reports.config import ReportRule
from plugins.jaki_reports.models import Report

SOURCE = "jaki_reports"  # the ``source`` of the events the plugin raises


def utc(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC")


def ref(report_id: str) -> str:
    return f"Ref: pantau-{report_id}"



def matches(rule: ReportRule, camera: Camera) -> bool:
    """Whether ``rule`` is about ``camera`` (its cameras, tags and areas)."""
    if rule.cameras is not None and camera.id not in rule.cameras:
        return False
    if rule.tags is not None and not set(rule.tags) & set(camera.tags):
        return False
    if rule.areas is not None:
        area = camera.area or ""
        if not any(area == a or area.startswith(a + "/") for a in rule.areas):
            return False
    return True



def describe(rule: ReportRule, camera: Camera, since: datetime, event: Event | None, report_id: str, now: datetime,
             sites: Mapping[str, Site], hub_name: str) -> str:
    """The report's text: the rule's template filled in, and the hub's reference."""
    site = sites.get(camera.site or "")
    values = {
        "camera": camera.name, "camera_id": camera.id,
        "kind": event.kind.value if event else "offline", "detail": (event.detail or "") if event else "",
        "at": utc(event.at if event else now), "since": utc(since),
        "duration": format_duration(now - since), "site": site.name if site else (camera.site or "-"),
        "area": camera.area or "-", "hub": hub_name,
    }
    text = rule.description.format_map(values)
    return f"{text[:3800]}\n\n{ref(report_id)}"


def place(camera: Camera, sites: Mapping[str, Site], areas: Mapping[str, Area]) -> dict[str, Any]:
    """Where the camera is, as Open311 wants it: lat/long, else an address."""
    site = sites.get(camera.site or "")
    location = camera.location or (site.location if site else None)
    out: dict[str, Any] = {}
    if location is not None:
        out |= {"lat": location.lat, "long": location.lon}
    if site is not None:
        area = areas.get(site.area or "")
        out["address_string"] = ", ".join(x for x in (site.name, area.name if area else None) if x)
    return out


def form(report: Report, rules: Sequence[ReportRule]) -> dict[str, str]:
    """The fields of the Open311 POST for ``report``; ``Open311Error`` (refused) without a place."""
    where = report.data
    fields = {"service_code": report.service_code, "description": report.description}
    if "lat" in where and "long" in where:
        fields |= {"lat": f"{where['lat']:.7f}", "long": f"{where['long']:.7f}"}
    elif where.get("address_string"):
        fields["address_string"] = where["address_string"]
    else:
        raise Open311Error(f"camera {report.camera_id} has no location: give the camera or its site a "
                           "location in hub.yaml", refused=True)
    if report.media_url:
        fields["media_url"] = report.media_url
    rule = next((r for r in rules if r.name == report.rule), None)
    for code, value in (rule.attributes if rule else {}).items():
        fields[f"attribute[{code}]"] = value
    return fields


def escalations_reached(report: Report, points: Sequence[timedelta], now: datetime) -> list[timedelta]:
    """The escalation points (after the deadline; negative ones before it) an open report has
    passed and not yet announced, in order."""
    if report.deadline is None:
        return []
    deadline = report.deadline
    return [p for p in sorted(points) if now >= deadline + p and format_duration(p) not in report.escalations]


def announcement(kind: EventKind, report: Report, camera: Camera | None, **extra: Any) -> Event:
    """The event that tells the other notifiers what became of a report."""
    data = {"report_id": report.id, "notifier": report.notifier, "rule": report.rule,
            "service_code": report.service_code, "service_request_id": report.external_id,
            "deadline": report.deadline.isoformat() if report.deadline else None,
            "status_notes": report.status_notes, "agency_responsible": report.agency_responsible, **extra}
    return Event(camera_id=report.camera_id, device_id=camera.device_id if camera else None, kind=kind,
                 source=SOURCE, detail=report.rule, data=data)
