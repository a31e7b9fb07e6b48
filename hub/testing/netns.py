"""Two network namespaces joined by a veth pair: test hosts on a private link.

For tests of what crosses a real network (multicast discovery above all),
without touching the machine's own networks: each side gets an address on
``10.213.N.0/24`` and a multicast route.  Needs root and iproute2;
``NetnsUnavailable`` says why when they are missing.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Sequence


class NetnsUnavailable(RuntimeError):
    pass


class VethPair:
    """``a`` and ``b`` namespaces; ``a_addr``/``b_addr`` their addresses."""

    def __init__(self) -> None:
        tag = secrets.token_hex(3)
        self.a, self.b = f"pantau-a-{tag}", f"pantau-b-{tag}"
        subnet = 1 + secrets.randbelow(250)
        self.a_addr, self.b_addr = f"10.213.{subnet}.1", f"10.213.{subnet}.2"
        self._made: list[str] = []

    def _ip(self, *args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True, text=True)

    def __enter__(self) -> VethPair:
        if os.geteuid() != 0 or shutil.which("ip") is None:
            raise NetnsUnavailable("network namespaces need root and iproute2")
        try:
            for ns in (self.a, self.b):
                self._ip("netns", "add", ns)
                self._made.append(ns)
            va, vb = f"va{self.a[-6:]}", f"vb{self.a[-6:]}"
            self._ip("link", "add", va, "type", "veth", "peer", "name", vb)
            for ns, dev, addr in ((self.a, va, self.a_addr), (self.b, vb, self.b_addr)):
                self._ip("link", "set", dev, "netns", ns)
                self._ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
                self._ip("-n", ns, "link", "set", dev, "up")
                self._ip("-n", ns, "link", "set", "lo", "up")
                self._ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", dev)
        except subprocess.CalledProcessError as err:
            self.__exit__()
            raise NetnsUnavailable(f"cannot make network namespaces: {err.stderr.strip()}") from None
        return self

    def command(self, ns: str, args: Sequence[str]) -> list[str]:
        """``args`` run inside namespace ``ns``."""
        return ["ip", "netns", "exec", ns, *args]

    def __exit__(self, *exc: object) -> None:
        for ns in self._made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self._made.clear()
