"""Device simulators on 127.0.0.1, for the hub's tests and plugin authors'.

Each simulator is an aiohttp server with digest auth that answers in the
real shapes of a vendor's API, quirks included, and can misbehave on demand
(``Faults``).  ``SimulatorThread`` runs one in a thread of its own, for tests
that drive a hub or the CLI as a subprocess.  ``ReplaySimulator`` serves a
folder of recorded responses, one file per endpoint.  ``Open311Simulator`` is
a citizen-report endpoint (Open311 GeoReport v2) rather than a device.
"""

from hub.testing.sim.base import DeviceSimulator, Faults, SimAuth, SimulatorThread, picture
from hub.testing.sim.dahua import DahuaSimulator
from hub.testing.sim.hikvision import HikvisionSimulator
from hub.testing.sim.onvif import OnvifSimulator
from hub.testing.sim.open311 import Open311Simulator
from hub.testing.sim.replay import ReplaySimulator

__all__ = [
    "DahuaSimulator",
    "DeviceSimulator",
    "Faults",
    "HikvisionSimulator",
    "OnvifSimulator",
    "Open311Simulator",
    "ReplaySimulator",
    "SimAuth",
    "SimulatorThread",
    "picture",
]
