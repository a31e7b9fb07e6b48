"""The plugin's own table of citizen reports (``jaki_reports``), and its repository.

Created by the plugin's migrations (``migrations/versions``, registered with
``register_migrations``); read and written through the hub's database
(``HubContext.database``, or ``open_database`` in a command).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, func, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub import SqlDatabase, UTCDateTime
from plugins.jaki_reports.models import Report, ReportState


class ReportsBase(DeclarativeBase):
    """The plugin's tables (not the hub's)."""


class ReportRow(ReportsBase):
    """A citizen report (``Report``) and where its filing stands.

    ``open_key`` is ``notifier|rule|camera`` while the report is pending or
    open and NULL after; its unique index is what keeps one open report per
    camera and rule, across hub nodes too.
    """

    __tablename__ = "jaki_reports"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    notifier: Mapped[str] = mapped_column(String(100))
    rule: Mapped[str] = mapped_column(String(100))
    camera_id: Mapped[str | None] = mapped_column(String(250), index=True, nullable=True)
    state: Mapped[str] = mapped_column(String(12), index=True)
    open_key: Mapped[str | None] = mapped_column(String(500), index=True, unique=True, nullable=True)
    service_code: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    description: Mapped[str] = mapped_column(Text)
    media_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    trigger_at: Mapped[datetime] = mapped_column(UTCDateTime)
    event_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status_notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    agency_responsible: Mapped[str | None] = mapped_column(String(200), nullable=True)
    escalations: Mapped[list[str]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


_FIELDS = [name for name in Report.model_fields]


def _report(r: ReportRow) -> Report:
    return Report.model_validate({name: getattr(r, name) for name in _FIELDS})


def _open_key(notifier: str, rule: str, camera_id: str | None) -> str:
    return f"{notifier}|{rule}|{camera_id or ''}"


class ReportStore:
    """The reports of every Open311 notifier of the hub."""

    def __init__(self, database: SqlDatabase) -> None:
        self.db = database

    async def raise_report(self, report: Report) -> tuple[Report, bool]:
        """Add ``report`` as pending, unless its notifier already has one pending or
        open for the same rule and camera: then count one more occurrence on that
        one.  Returns the report that stands and whether it is new."""
        key = _open_key(report.notifier, report.rule, report.camera_id)
        values = report.model_dump(exclude={"overdue"}) | {"state": ReportState.PENDING.value, "open_key": key,
                                                             "next_attempt_at": report.created_at}
        async with self.db.session.begin() as s:
            added = await s.execute(self.db.insert_ignoring(ReportRow.__table__, ["open_key"]).values(values))
            if added.rowcount:  # type: ignore[attr-defined]
                row = await s.get(ReportRow, report.id)
                assert row is not None
                return _report(row), True
            await s.execute(update(ReportRow).where(ReportRow.open_key == key).values(
                occurrences=ReportRow.occurrences + 1, last_seen_at=report.last_seen_at))
            row = (await s.scalars(select(ReportRow).where(ReportRow.open_key == key))).one()
            return _report(row), False

    async def get(self, report_id: str) -> Report | None:
        async with self.db.session() as s:
            row = await s.get(ReportRow, report_id)
        return _report(row) if row else None

    async def reports(self, notifier: str | None = None, state: ReportState | str | None = None,
                      camera_id: str | None = None, rule: str | None = None, external_id: str | None = None,
                      limit: int = 500) -> list[Report]:
        """Reports, newest first."""
        q = select(ReportRow)
        if external_id:
            q = q.where(ReportRow.external_id == external_id)
        if notifier:
            q = q.where(ReportRow.notifier == notifier)
        if state:
            q = q.where(ReportRow.state == str(state))
        if camera_id:
            q = q.where(ReportRow.camera_id == camera_id)
        if rule:
            q = q.where(ReportRow.rule == rule)
        async with self.db.session() as s:
            rows = (await s.scalars(q.order_by(ReportRow.created_at.desc(), ReportRow.id).limit(limit))).all()
        return [_report(r) for r in rows]

    async def due(self, notifier: str, now: datetime, limit: int = 50) -> list[Report]:
        """Pending reports of a notifier whose next filing attempt is due, oldest first."""
        q = (select(ReportRow).where(ReportRow.notifier == notifier, ReportRow.state == ReportState.PENDING.value,
                                     ReportRow.next_attempt_at <= now)
             .order_by(ReportRow.created_at, ReportRow.id).limit(limit))
        async with self.db.session() as s:
            return [_report(r) for r in (await s.scalars(q)).all()]

    async def next_attempt(self, notifier: str) -> datetime | None:
        q = select(func.min(ReportRow.next_attempt_at)).where(ReportRow.notifier == notifier,
                                                              ReportRow.state == ReportState.PENDING.value)
        async with self.db.session() as s:
            return (await s.execute(q)).scalar()  # type: ignore[no-any-return]

    async def update(self, report_id: str, **values: Any) -> None:
        """Change fields of a report; a report that is closed or rejected frees its
        camera and rule for the next one."""
        if "state" in values:
            values["state"] = str(values["state"])
            if values["state"] in (ReportState.CLOSED, ReportState.REJECTED):
                values["open_key"] = None
        async with self.db.session.begin() as s:
            await s.execute(update(ReportRow).where(ReportRow.id == report_id).values(**values))
