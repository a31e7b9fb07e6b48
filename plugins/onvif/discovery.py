"""WS-Discovery of ONVIF devices, with the ``wsdiscovery`` library.

A multicast Probe for ``dn:NetworkVideoTransmitter`` on every interface
but loopback; each ProbeMatch gives the device service address and the
scopes the device announces (``onvif://www.onvif.org/name/...``,
``.../hardware/...``).  Blocking: run it in a thread.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from wsdiscovery import QName
from wsdiscovery.discovery import ThreadedWSDiscovery

from hub import DiscoveredDevice

NVT = QName("http://www.onvif.org/ver10/network/wsdl", "NetworkVideoTransmitter", "dn")


def from_match(xaddrs: list[str], scopes: list[str]) -> DiscoveredDevice | None:
    """One ProbeMatch into a discovered device (pure)."""
    for xaddr in xaddrs:
        parts = urlsplit(xaddr)
        if parts.hostname:
            break
    else:
        return None
    found: dict[str, str] = {}
    for scope in scopes:
        for key in ("name", "hardware"):
            prefix = f"onvif://www.onvif.org/{key}/"
            if scope.startswith(prefix):
                found[key] = unquote(scope[len(prefix):])
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return DiscoveredDevice(source_type="onvif", host=parts.hostname, port=port,
                            probe_url=f"onvif://USER:PASSWORD@{parts.hostname}:{port}",
                            name=found.get("name"), hardware=found.get("hardware"), scopes=sorted(scopes))


def search(limit: float) -> list[DiscoveredDevice]:
    wsd = ThreadedWSDiscovery()
    wsd.start()
    try:
        services = wsd.searchServices(types=[NVT], timeout=limit)
    finally:
        wsd.stop()
    devices = {}
    for service in services:
        found = from_match(list(service.getXAddrs()), [str(s) for s in service.getScopes()])
        if found is not None:
            devices[(found.host, found.port)] = found
    return [devices[k] for k in sorted(devices)]
