"""Hardened XML parsing for device payloads, matched on local names.

Devices answer with many namespaces for the same document (Hikvision alone
uses ``hikvision.com/ver10``, ``ver20``, ``isapi.org/ver20``, ``psialliance``
and ``std-cgi.com``), so lookups here ignore namespaces.  Parsing goes
through defusedxml: entity expansion (billion laughs), external entities and
DTDs are refused, and a body that does not parse is a ``DeviceError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from hub.core.errors import DeviceError

MAX_XML_BYTES = 8 * 1024 * 1024


def parse(body: bytes | str, what: str) -> Element:
    """Parse ``body``; ``what`` names the document in errors (host and endpoint)."""
    if len(body) > MAX_XML_BYTES:
        raise DeviceError(f"{what}: XML body of {len(body)} bytes is too large")
    try:
        return SafeET.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as err:
        raise DeviceError(f"{what}: refused unsafe XML ({type(err).__name__})") from None
    except SafeET.ParseError as err:
        raise DeviceError(f"{what}: invalid XML ({err})") from None


def local(tag: str) -> str:
    """``{namespace}name`` -> ``name``."""
    return tag.rsplit("}", 1)[-1]


def children(elem: Element, name: str) -> Iterator[Element]:
    """Direct children called ``name``, whatever their namespace."""
    return (c for c in elem if local(c.tag) == name)


def child(elem: Element | None, *path: str) -> Element | None:
    """The first element along ``path`` of local names, or None."""
    for name in path:
        if elem is None:
            return None
        elem = next(children(elem, name), None)
    return elem


def text(elem: Element | None, *path: str) -> str | None:
    """Stripped text at ``path``; None when missing or empty."""
    found = child(elem, *path) if path else elem
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return value or None


def integer(elem: Element | None, *path: str) -> int | None:
    value = text(elem, *path)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def boolean(elem: Element | None, *path: str) -> bool | None:
    value = text(elem, *path)
    return None if value is None else value.lower() == "true"


def find_all(elem: Element, name: str) -> Iterator[Element]:
    """Every descendant called ``name``, whatever its namespace."""
    return (e for e in elem.iter() if local(e.tag) == name)
