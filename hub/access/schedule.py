"""Weekly opening hours in a time zone, with dated exceptions (holidays).

``Schedule.parse("mon-fri 07:00-14:00,sat 07:00-11:00", "Asia/Makassar")``:
one or more windows separated by commas, each a day (``mon``) or a range of
days (``mon-fri``) and a time range in the zone's local time.  A window ends
before it starts on no day: a night shift is two windows
(``mon 22:00-23:59,tue 00:00-06:00``); ``23:59`` as an end means the end of
the day.  ``closed`` days (holidays) are shut whatever the windows say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?)\s+(?P<start>\d{2}:\d{2})-(?P<end>\d{2}:\d{2})$")
#: How far ahead ``next_opening`` looks (a schedule shut for longer opens "never").
_HORIZON_DAYS = 400


class ScheduleError(ValueError):
    """Hours that cannot be read; the message says which part and what is expected."""


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``Asia/Jakarta``), or ``ScheduleError``."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {name[:60]!r} (e.g. Asia/Jakarta, Asia/Makassar, "
                            "Asia/Jayapura)") from None


def _clock(text: str, part: str) -> time:
    hours, minutes = int(text[:2]), int(text[3:])
    if hours > 23 or minutes > 59:
        raise ScheduleError(f"{part!r}: {text} is not a time of day (00:00 to 23:59)")
    return time(hours, minutes)


@dataclass(frozen=True)
class Window:
    """Some days of the week (0 is Monday), open from ``start`` until ``end`` (exclusive;
    ``None``: the end of the day)."""

    days: frozenset[int]
    start: time
    end: time | None

    def __str__(self) -> str:
        ordered = sorted(self.days)
        span = DAYS[ordered[0]] if len(ordered) == 1 else f"{DAYS[ordered[0]]}-{DAYS[ordered[-1]]}"
        return f"{span} {self.start:%H:%M}-{'23:59' if self.end is None else format(self.end, '%H:%M')}"

    def contains(self, local: datetime) -> bool:
        moment = local.time()
        return (local.weekday() in self.days and self.start <= moment
                and (self.end is None or moment < self.end))


@dataclass(frozen=True)
class Schedule:
    windows: tuple[Window, ...]
    zone: ZoneInfo
    closed: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, text: str, zone_name: str = "Asia/Jakarta", closed: frozenset[date] = frozenset()) -> Schedule:
        """The schedule ``text`` describes, or ``ScheduleError`` naming the window that is wrong."""
        tz = zone(zone_name)
        windows = []
        for part in (p.strip().lower() for p in text.split(",")):
            match = _WINDOW.fullmatch(part)
            if not match:
                raise ScheduleError(f"{part[:60]!r}: write a window as a day or days and a time range, "
                                    "e.g. 'mon-fri 07:00-14:00' or 'sat 07:00-11:00'")
            first, _, last = match["days"].partition("-")
            if first not in DAYS or (last and last not in DAYS):
                raise ScheduleError(f"{part!r}: days are {', '.join(DAYS)}")
            a, b = DAYS.index(first), DAYS.index(last or first)
            if b < a:
                raise ScheduleError(f"{part!r}: a range of days runs forward in the week (e.g. mon-fri)")
            start, end = _clock(match["start"], part), _clock(match["end"], part)
            if end <= start:
                raise ScheduleError(f"{part!r}: a window ends after it starts; split a night into two "
                                    "windows (mon 22:00-23:59,tue 00:00-06:00)")
            windows.append(Window(frozenset(range(a, b + 1)), start, None if end == time(23, 59) else end))
        return cls(tuple(windows), tz, frozenset(closed))

    def __str__(self) -> str:
        return ",".join(str(w) for w in self.windows)

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.zone)
        return local.date() not in self.closed and any(w.contains(local) for w in self.windows)

    def next_opening(self, at: datetime) -> datetime | None:
        """The first moment after ``at`` when the schedule opens (UTC), or None within a year;
        ``at`` itself when it is open now."""
        if self.is_open(at):
            return at
        local = at.astimezone(self.zone)
        for offset in range(_HORIZON_DAYS):
            day = local.date() + timedelta(days=offset)
            if day in self.closed:
                continue
            starts = sorted(w.start for w in self.windows if day.weekday() in w.days)
            for start in starts:
                moment = datetime.combine(day, start, tzinfo=self.zone)
                if moment > local:
                    return moment.astimezone(UTC)
        return None
