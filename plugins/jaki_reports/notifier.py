"""The Open311 notifier: rules raise reports, reports are filed, followed and escalated.

Three steps, each restart-safe because everything lives in the plugin's
``jaki_reports`` table in the hub's database:

1. **Raise.**  An event that matches a rule (through the outbox, so none is
   lost), or a camera offline for longer than a rule's ``offline_for`` (read
   from the status history every tick), raises a report: pending, with its
   text, location and snapshot link.  The store keeps one pending or open
   report per camera and rule; a repeat only counts an occurrence.
2. **File.**  Pending reports are POSTed in order.  A refusal for good (an
   unknown service, a missing field) marks the report rejected and logs why;
   anything else retries with backoff.  When a POST may have been stored but
   the answer was lost, the next attempt first looks for the report's
   reference (``Ref: pantau-<id>``) among the endpoint's recent requests, so
   the report is filed once.
3. **Follow.**  Open reports' status is fetched every ``poll_interval`` (and
   at once when the app calls the webhook); tokens are turned into ids;
   closed reports free their camera and rule.  Each open report counts down
   to its deadline, and each ``escalate`` point it reaches is announced as a
   ``report_escalation`` event, which the other notifiers carry.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from hub import (
    Camera,
    Event,
    EventKind,
    EventState,
    HubContext,
    Notifier,
    NotifyError,
    backoff_delay,
    format_duration,
    utcnow,
)
from plugins.jaki_reports.client import Open311Client, Open311Error, ServiceRequest
from plugins.jaki_reports.config import Open311Config, ReportRule
from plugins.jaki_reports.models import (
    REPORT_CLOSED,
    REPORT_ESCALATION,
    REPORT_FILED,
    REPORT_KINDS,
    Report,
    ReportState,
)
from plugins.jaki_reports.payload import (
    announcement,
    describe,
    escalations_reached,
    form,
    matches,
    place,
    ref,
)
from plugins.jaki_reports.store import ReportStore

if TYPE_CHECKING:
    import logging

BATCH = 50


class Open311Notifier(Notifier):
    config: Open311Config

    def __init__(self, config: Open311Config, log: logging.Logger) -> None:
        super().__init__(config, log)
        self.client = Open311Client(config.endpoint, config.api_key.get_secret_value(), config.jurisdiction_id,
                                    config.timeout)
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._outages: dict[str, datetime] = {}  # rule|camera -> start of the outage already handled
        self._failing = False
        self._reports: ReportStore | None = None

    @property
    def hub(self) -> HubContext:
        """The running hub's context (set before ``start``)."""
        if self.context is None:
            raise NotifyError(f"notifier {self.config.name}: not attached to a running hub")
        return self.context

    @property
    def reports(self) -> ReportStore:
        """The plugin's table of reports, in the hub's database."""
        if self._reports is None:
            self._reports = ReportStore(self.hub.database)
        return self._reports

    async def start(self) -> None:
        self.hub  # noqa: B018 - fail early without a hub
        self._tasks = [asyncio.create_task(self._filing()), asyncio.create_task(self._following())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.close()

    # -- 1. raise -------------------------------------------------------------------

    async def deliver(self, event: Event) -> None:
        if event.kind in REPORT_KINDS or event.state == EventState.STOP or event.camera_id is None:
            return
        camera = self.hub.cameras.get(event.camera_id)
        if camera is None:
            return
        for rule in self.config.rules:
            if rule.kinds and event.kind in rule.kinds and matches(rule, camera):
                await self.raise_report(rule, camera, event.at, event)

    async def raise_report(self, rule: ReportRule, camera: Camera, since: datetime, event: Event | None) -> Report:
        hub = self.hub
        now = utcnow()
        report_id = uuid.uuid4().hex
        media_key = await self._keep_snapshot(report_id, camera) if event is not None else None
        report = Report(
            id=report_id, notifier=self.config.name, rule=rule.name, camera_id=camera.id,
            state=ReportState.PENDING, service_code=rule.service_code,
            description=describe(rule, camera, since, event, report_id, now, hub.sites, hub.hub_name),
            media_url=hub.links.url(media_key, self.config.link_days * 86400) if media_key else None,
            trigger_at=since, event_id=event.id if event else None, last_seen_at=now, created_at=now,
            data=place(camera, hub.sites, hub.areas),
        )
        stored, new = await self.reports.raise_report(report)
        if new:
            self.log.info("report raised", extra={"report": stored.id, "rule": rule.name, "camera": camera.id})
            self._wake.set()
        elif media_key:
            with contextlib.suppress(Exception):
                await hub.storage.delete(media_key)
        return stored

    async def _keep_snapshot(self, report_id: str, camera: Camera) -> str | None:
        hub = self.hub
        if not self.config.snapshot or hub.links.public_url is None:
            return None
        key = f"shared/reports/{report_id}.jpg"
        try:
            await hub.storage.put_bytes(key, await hub.snapshot(camera.id, limit=5.0), replace=True)
        except Exception as err:
            self.log.warning("no snapshot for the report", extra={"camera": camera.id, "error": str(err)})
            return None
        return key

    # -- 2. file --------------------------------------------------------------------

    async def _filing(self) -> None:
        store = self.reports
        while True:
            self._wake.clear()
            wait = 5.0
            try:
                due = await store.due(self.config.name, utcnow(), BATCH)
                for report in due:
                    await self.file(report)
                if len(due) == BATCH:
                    continue
                upcoming = await store.next_attempt(self.config.name)
                if upcoming is not None:
                    wait = min(5.0, max(0.05, (upcoming - utcnow()).total_seconds()))
            except Exception:
                self.log.exception("filing reports failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def file(self, report: Report) -> None:
        store = self.reports
        try:
            fields = form(report, self.config.rules)
            external_id, token = await self._already_filed(report), None
            if external_id is None:
                created = await self.client.create(fields)
                external_id, token = created.service_request_id, created.token
        except Open311Error as err:
            await self._failed(report, err)
            return
        except Exception as err:
            self.log.exception("filing a report failed", extra={"report": report.id})
            await self._failed(report, Open311Error(f"{type(err).__name__}: {err}", uncertain=True))
            return
        now = utcnow()
        data = {k: v for k, v in report.data.items() if k != "uncertain_since"}
        if token:
            data["token"] = token
        values = {"state": ReportState.OPEN, "external_id": external_id, "filed_at": now,
                  "deadline": now + self.config.deadline, "last_error": None, "data": data}
        await store.update(report.id, **values)
        if self._failing:
            self.log.info("reports are filed again", extra={"endpoint": self.client.where})
            self._failing = False
        self.log.info("report filed", extra={"report": report.id, "service_request_id": external_id,
                                             "rule": report.rule, "camera": report.camera_id})
        self.announce(REPORT_FILED, report.model_copy(update=values))

    async def _already_filed(self, report: Report) -> str | None:
        """After a POST whose answer was lost: the id the endpoint gave it, if it stored it."""
        since = report.data.get("uncertain_since")
        if since is None:
            return None
        try:
            recent = await self.client.search(report.service_code, datetime.fromisoformat(since))
        except Open311Error as err:
            if err.status is not None and 400 <= err.status < 500:
                self.log.warning("the endpoint cannot list recent requests; filing again may duplicate one",
                                 extra={"report": report.id, "error": str(err)})
                return None
            raise
        mark = ref(report.id)
        return next((r.service_request_id for r in recent if mark in (r.description or "")), None)

    async def _failed(self, report: Report, err: Open311Error) -> None:
        now = utcnow()
        attempts = report.attempts + 1
        context = {"report": report.id, "rule": report.rule, "camera": report.camera_id, "error": str(err)}
        if err.refused:
            await self.reports.update(report.id, state=ReportState.REJECTED, attempts=attempts,
                                                       last_error=str(err))
            self.log.error("the endpoint refused a report for good", extra=context)
            return
        data = dict(report.data)
        if err.uncertain and "uncertain_since" not in data:
            data["uncertain_since"] = (now - timedelta(minutes=5)).isoformat()
        retry = now + timedelta(seconds=backoff_delay(attempts - 1, self.config.retry_max_seconds))
        await self.reports.update(report.id, attempts=attempts, next_attempt_at=retry,
                                                   last_error=str(err), data=data)
        if not self._failing:
            self.log.warning("cannot file reports; retrying with backoff", extra=context)
            self._failing = True

    # -- 3. follow ------------------------------------------------------------------

    async def _following(self) -> None:
        await self._check_services()
        next_poll = 0.0
        while True:
            try:
                await self.check_outages()
                if time.monotonic() >= next_poll:
                    next_poll = time.monotonic() + self.config.poll_interval.total_seconds()
                    await self.poll()
                await self.check_deadlines()
            except Exception:
                self.log.exception("following reports failed")
            await asyncio.sleep(self.config.tick_seconds)

    async def _check_services(self) -> None:
        try:
            offered = {s.service_code for s in await self.client.services()}
        except Open311Error as err:
            self.log.warning("cannot list the endpoint's services", extra={"error": str(err)})
            return
        for rule in self.config.rules:
            if rule.service_code not in offered:
                self.log.error("the endpoint does not offer this rule's service_code",
                               extra={"rule": rule.name, "service_code": rule.service_code,
                                      "offered": sorted(offered)[:50]})

    async def check_outages(self) -> None:
        """Raise a report for each camera offline longer than an ``offline_for`` rule allows."""
        rules = [r for r in self.config.rules if r.offline_for is not None]
        if not rules:
            return
        hub = self.hub
        now = utcnow()
        for camera_id, (status, since) in (await hub.camera_statuses(since_for={"offline"})).items():
            camera = hub.cameras.get(camera_id)
            if status != "offline" or camera is None:
                continue
            for rule in rules:
                assert rule.offline_for is not None
                key = f"{rule.name}|{camera_id}"
                if now - since < rule.offline_for or self._outages.get(key) == since or not matches(rule, camera):
                    continue
                latest = await self.reports.reports(self.config.name, camera_id=camera_id, rule=rule.name,
                                                           limit=1)
                if not latest or abs((latest[0].trigger_at - since).total_seconds()) >= 1:
                    await self.raise_report(rule, camera, since, None)
                self._outages[key] = since

    async def poll(self) -> None:
        """Fetch the status of every open report."""
        store = self.reports
        open_reports = await store.reports(self.config.name, state=ReportState.OPEN, limit=100_000)
        for report in open_reports:
            if report.external_id is None and report.data.get("token"):
                try:
                    found = await self.client.token(report.data["token"])
                except Open311Error as err:
                    self.log.warning("cannot resolve a report token", extra={"report": report.id, "error": str(err)})
                    continue
                if found:
                    await store.update(report.id, external_id=found)
                    report.external_id = found
        by_id = {r.external_id: r for r in open_reports if r.external_id}
        ids = list(by_id)
        for i in range(0, len(ids), BATCH):
            try:
                answers = await self.client.requests(ids[i:i + BATCH])
            except Open311Error as err:
                self.log.warning("cannot fetch report status", extra={"error": str(err)})
                return
            for answer in answers:
                if answer.service_request_id in by_id:
                    await self.follow(by_id[answer.service_request_id], answer)

    async def refresh(self, external_id: str) -> Report | None:
        """Fetch one report's status now (the webhook's answer to a call-back)."""
        found = await self.reports.reports(self.config.name, external_id=external_id, limit=1)
        if not found:
            return None
        report = found[0]
        if report.state == ReportState.OPEN:
            answers = await self.client.requests([external_id])
            for answer in answers:
                if answer.service_request_id == external_id:
                    report = await self.follow(report, answer)
        return report

    async def follow(self, report: Report, answer: ServiceRequest) -> Report:
        values: dict[str, Any] = {}
        if answer.status_notes != report.status_notes:
            values["status_notes"] = answer.status_notes
        if answer.agency_responsible and answer.agency_responsible != report.agency_responsible:
            values["agency_responsible"] = answer.agency_responsible
        if answer.status.strip().lower() == "closed":
            values |= {"state": ReportState.CLOSED, "closed_at": answer.updated_datetime or utcnow()}
        if not values:
            return report
        await self.reports.update(report.id, **values)
        report = report.model_copy(update=values)
        if report.state == ReportState.CLOSED:
            self.log.info("report closed by the agency", extra={"report": report.id,
                                                                "service_request_id": report.external_id})
            self.announce(REPORT_CLOSED, report)
        return report

    async def check_deadlines(self) -> None:
        """Announce each escalation point an open report has reached (the latest, when several)."""
        store = self.reports
        now = utcnow()
        points = sorted(self.config.escalate)
        for report in await store.reports(self.config.name, state=ReportState.OPEN, limit=100_000):
            if report.deadline is None:
                continue
            if not (reached := escalations_reached(report, points, now)):
                continue
            escalations = report.escalations + [format_duration(p) for p in reached]
            await store.update(report.id, escalations=escalations)
            point = reached[-1]
            overdue = now - report.deadline
            self.log.warning("open report reached an escalation point",
                             extra={"report": report.id, "service_request_id": report.external_id,
                                    "point": format_duration(point), "deadline": report.deadline.isoformat()})
            self.announce(REPORT_ESCALATION, report, point=format_duration(point),
                          overdue=overdue.total_seconds() >= 0,
                          overdue_seconds=max(0, int(overdue.total_seconds())))

    def announce(self, kind: EventKind, report: Report, **extra: Any) -> None:
        self.hub.publish(announcement(kind, report, self.hub.cameras.get(report.camera_id or ""), **extra))
