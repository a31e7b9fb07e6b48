"""Announce one ONVIF device by WS-Discovery until killed (for tests).

``python -m hub.testing.wsd_publisher XADDR NAME HARDWARE``; prints
``published`` once it answers probes.  Run it inside a test namespace.
"""

import sys
import time

from wsdiscovery import QName, Scope
from wsdiscovery.publishing import ThreadedWSPublishing

NVT = QName("http://www.onvif.org/ver10/network/wsdl", "NetworkVideoTransmitter", "dn")


def main() -> None:
    xaddr, name, hardware = sys.argv[1:4]
    publisher = ThreadedWSPublishing()
    publisher.start()
    publisher.publishService(types=[NVT], xAddrs=[xaddr], scopes=[
        Scope(f"onvif://www.onvif.org/name/{name}"), Scope(f"onvif://www.onvif.org/hardware/{hardware}"),
        Scope("onvif://www.onvif.org/Profile/Streaming")])
    print("published", flush=True)
    while True:
        time.sleep(60)


if __name__ == "__main__":
    main()
