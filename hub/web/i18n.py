"""Languages of the pages: Bahasa Indonesia by default, English as well.

Every string shown to people goes through the gettext catalogs in
``hub/web/locale/<lang>/LC_MESSAGES/messages.po`` (message ids in English;
the Indonesian catalog must translate every one: a test checks it).  The
catalogs are read with Babel when the hub starts (no compiled files to keep).
The language is the ``lang`` cookie (set by the switch on every page), else
the user's own setting, else the browser's ``Accept-Language``, else ``id``.
Times are shown in ``hub.time_zone`` with Babel's formatting.
"""

from __future__ import annotations

import functools
import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = ("id", "en")
DEFAULT = "id"
CATALOGS = Path(__file__).parent / "locale"


def catalog_path(locale: str) -> Path:
    return CATALOGS / locale / "LC_MESSAGES" / "messages.po"


@functools.cache
def translations(locale: str, extra: Path | None = None) -> Translations:
    """The catalog of ``locale`` (``id`` or ``en``), read once; with ``extra`` (a plugin's
    ``locale`` folder) its messages on top of the hub's."""
    with catalog_path(locale).open("rb") as po:
        catalog = read_po(po, locale=locale)
    own = extra / locale / "LC_MESSAGES" / "messages.po" if extra is not None else None
    if own is not None and own.exists():
        with own.open("rb") as po:
            for message in read_po(po, locale=locale):
                if message.id:
                    catalog[message.id] = message
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def negotiate(cookie: str | None, own: str | None, accept_language: str | None) -> str:
    """The language of a request: the ``lang`` cookie, the user's setting, ``Accept-Language``, ``id``."""
    for choice in (cookie, own):
        if choice in LOCALES:
            return choice
    if accept_language:
        asked = []
        for part in accept_language.split(",")[:20]:
            tag, _, quality = part.strip().partition(";q=")
            try:
                weight = float(quality) if quality else 1.0
            except ValueError:
                continue
            asked.append((weight, tag.strip().lower()[:2]))
        for _, tag in sorted(asked, key=lambda a: -a[0]):
            if tag in LOCALES:
                return tag
    return DEFAULT


def when(moment: datetime | None, locale: str, zone: str, time_only: bool = False) -> str:
    """A time as people read it, in the hub's zone: '1 Des 2026 07.00' / 'Dec 1, 2026, 7:00 AM'."""
    if moment is None:
        return ""
    tz = ZoneInfo(zone)
    if time_only:
        return format_time(moment, "short", tzinfo=tz, locale=Locale.parse(locale))
    return format_datetime(moment, "medium", tzinfo=tz, locale=Locale.parse(locale))
