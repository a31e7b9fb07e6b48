"""The plugin's own table: how many events of each kind each eventlog notifier wrote.

Made by the plugin's migration (``migrations/versions/0001_kinds.py``),
which the hub runs because ``register_migrations`` names the folder.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub import Event, SqlDatabase, UTCDateTime


class EventLogBase(DeclarativeBase):
    pass


class KindCount(EventLogBase):
    __tablename__ = "eventlog_kinds"
    notifier: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    events: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)


async def count(database: SqlDatabase, notifier: str, event: Event) -> None:
    """One more event of its kind for ``notifier``."""
    async with database.session.begin() as s:
        row = await s.get(KindCount, (notifier, event.kind.value))
        if row is None:
            s.add(KindCount(notifier=notifier, kind=event.kind.value, events=1, last_at=event.at))
        else:
            row.events += 1
            row.last_at = max(row.last_at, event.at)


async def counts(database: SqlDatabase) -> list[tuple[str, str, int]]:
    """(notifier, kind, events), by notifier and kind."""
    async with database.session() as s:
        rows = await s.execute(select(KindCount.notifier, KindCount.kind, KindCount.events)
                               .order_by(KindCount.notifier, KindCount.kind))
        return [(n, k, e) for n, k, e in rows.all()]
