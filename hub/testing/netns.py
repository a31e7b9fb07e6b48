"""Network namespaces for tests: two joined by a veth pair (``VethPair``), or one joined to this
namespace (``PrivateHost``): test hosts on a private link.

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


class PrivateHost:
    """A network namespace joined to this one by a veth pair: a host on a private network.

    This side gets ``near`` and the namespace ``far`` on ``10.214.N.0/24``: what a city hub sees
    of a partner's device on a VPN range (a private address that is not this machine's).
    ``command(args)`` runs something inside it.
    """

    def __init__(self) -> None:
        tag = secrets.token_hex(3)
        self.ns = f"pantau-p-{tag}"
        self.subnet = 1 + secrets.randbelow(250)
        self.near, self.far = f"10.214.{self.subnet}.1", f"10.214.{self.subnet}.2"
        self.network = f"10.214.{self.subnet}.0/24"
        self._near_dev, self._far_dev = f"pn{tag}", f"pf{tag}"
        self._made = False

    def _ip(self, *args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True, text=True)

    def __enter__(self) -> PrivateHost:
        if os.geteuid() != 0 or shutil.which("ip") is None:
            raise NetnsUnavailable("network namespaces need root and iproute2")
        try:
            self._ip("netns", "add", self.ns)
            self._made = True
            self._ip("link", "add", self._near_dev, "type", "veth", "peer", "name", self._far_dev)
            self._ip("link", "set", self._far_dev, "netns", self.ns)
            self._ip("addr", "add", f"{self.near}/24", "dev", self._near_dev)
            self._ip("link", "set", self._near_dev, "up")
            self._ip("-n", self.ns, "addr", "add", f"{self.far}/24", "dev", self._far_dev)
            self._ip("-n", self.ns, "link", "set", self._far_dev, "up")
            self._ip("-n", self.ns, "link", "set", "lo", "up")
        except subprocess.CalledProcessError as err:
            self.__exit__()
            raise NetnsUnavailable(f"cannot make a network namespace: {err.stderr.strip()}") from None
        return self

    def command(self, args: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns, *args]

    def __exit__(self, *exc: object) -> None:
        subprocess.run(["ip", "link", "del", self._near_dev], capture_output=True)
        if self._made:
            subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)
            self._made = False
