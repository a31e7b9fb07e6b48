"""Which cameras a selector names, answered from indexes rather than by looking at every camera.

A *selector* names cameras: ``camera:<id>``, ``area:<path>`` (that area and
everything under it), ``site:<id>`` or ``tag:<tag>``; terms joined with
``&`` name the cameras every term names (``site:smpn-4&tag:classroom:7A``:
classroom 7A of that school, not of every school).  Scopes and grants are
lists of selectors.  ``CameraIndex`` keeps camera ids by tag, site and area
(areas sorted, so everything under a path is one range), rebuilt when the
inventory changes.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hub.core.models import Camera

_TERM = re.compile(r"^(camera:[A-Za-z0-9._:-]{1,250}|area:[a-z0-9][a-z0-9_/-]{0,250}"
                   r"|site:[a-z0-9][a-z0-9_-]{0,99}|tag:[^\s&]{1,100})$")


def check_selector(selector: str) -> str:
    """``selector`` as given, or ``ValueError`` saying what a selector is."""
    terms = selector.split("&")
    if len(terms) > 4 or not all(_TERM.fullmatch(t) for t in terms):
        raise ValueError(f"{selector[:80]!r} names no cameras: use camera:ID, area:PATH, site:ID or tag:TAG, "
                         "or up to four of them joined with & (site:smpn-4&tag:classroom:7A)")
    return selector


def term_matches(term: str, camera: Camera) -> bool:
    kind, _, value = term.partition(":")
    if kind == "camera":
        return camera.id == value
    if kind == "tag":
        return value in camera.tags
    if kind == "site":
        return camera.site == value
    if kind == "area":
        return camera.area is not None and (camera.area == value or camera.area.startswith(value + "/"))
    return False


def selects(selector: str, camera: Camera) -> bool:
    """Whether ``selector`` names ``camera``."""
    return all(term_matches(t, camera) for t in selector.split("&"))


def selects_any(selectors: Iterable[str], camera: Camera) -> bool:
    return any(selects(s, camera) for s in selectors)


@dataclass
class CameraIndex:
    """Camera ids by tag, site and area, and in the inventory's order."""

    order: list[str] = field(default_factory=list)
    _known: set[str] = field(default_factory=set)
    _tags: dict[str, set[str]] = field(default_factory=dict)
    _sites: dict[str, set[str]] = field(default_factory=dict)
    _areas: dict[str, set[str]] = field(default_factory=dict)
    _area_keys: list[str] = field(default_factory=list)
    _positions: dict[str, int] | None = None

    @classmethod
    def of(cls, cameras: Mapping[str, Camera]) -> CameraIndex:
        index = cls(order=list(cameras), _known=set(cameras))
        for cam in cameras.values():
            for tag in cam.tags:
                index._tags.setdefault(tag, set()).add(cam.id)
            if cam.site:
                index._sites.setdefault(cam.site, set()).add(cam.id)
            if cam.area:
                index._areas.setdefault(cam.area, set()).add(cam.id)
        index._area_keys = sorted(index._areas)
        return index

    def tags(self) -> set[str]:
        """Every tag some camera has."""
        return set(self._tags)

    @property
    def every(self) -> set[str]:
        return self._known

    def _term(self, term: str) -> set[str]:
        kind, _, value = term.partition(":")
        if kind == "camera":
            return {value} if value in self._known else set()
        if kind == "tag":
            return self._tags.get(value, set())
        if kind == "site":
            return self._sites.get(value, set())
        if kind == "area":
            found = set(self._areas.get(value, ()))
            below = value + "/"
            i = bisect.bisect_left(self._area_keys, below)
            while i < len(self._area_keys) and self._area_keys[i].startswith(below):
                found |= self._areas[self._area_keys[i]]
                i += 1
            return found
        return set()

    def select(self, selector: str) -> set[str]:
        """The ids of the cameras ``selector`` names."""
        terms = sorted((self._term(t) for t in selector.split("&")), key=len)
        found = set(terms[0])
        for other in terms[1:]:
            found &= other
        return found

    def select_any(self, selectors: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for selector in selectors:
            found |= self.select(selector)
        return found

    def in_order(self, ids: set[str]) -> list[str]:
        """``ids`` in the inventory's order."""
        if len(ids) * 8 < len(self.order):  # few: sort them by position rather than walk the city
            position = self._position()
            return sorted((i for i in ids if i in position), key=position.__getitem__)
        return [i for i in self.order if i in ids]

    def _position(self) -> dict[str, int]:
        if self._positions is None:
            self._positions = {cam_id: n for n, cam_id in enumerate(self.order)}
        return self._positions
