"""Test helpers for Pantau Hub and for plugin authors.

Real peers, started on 127.0.0.1 on free ports and torn down afterwards:
``PostgresServer`` (a private cluster made with initdb) and ``HubProcess``
(``pantau run`` as a subprocess with its own data directory).  The pytest
fixtures in ``hub.testing.fixtures`` wrap them; a plugin's ``conftest.py``
can load them with ``pytest_plugins = ["hub.testing.fixtures"]``.
``hub.testing.waiting`` waits on an in-process hub: ``until`` a condition
holds, and ``collect_events`` from its bus.
"""

from hub.testing.hubproc import HubProcess
from hub.testing.net import free_port, wait_for_port
from hub.testing.postgres import PostgresServer, PostgresUnavailable

__all__ = ["HubProcess", "PostgresServer", "PostgresUnavailable", "free_port", "wait_for_port"]
