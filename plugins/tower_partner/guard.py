"""Where the hub may connect on a partner's word: the address rules of onboarding.

A partner names its device by scheme, host and port; the hub then connects
there from inside the city's network, so a careless or hostile entry must
not reach what the partner could not reach itself (server-side request
forgery).  ``pin`` decides before anything is stored or opened:

- the scheme and the port are on the allow-list (``PORTS``);
- the host is resolved once, and *every* address it gives must pass; the
  first is pinned, and every later connection goes to that address, never
  to the name again (a name that answers elsewhere the next time, DNS
  rebinding, changes nothing);
- refused: loopback, link-local (169.254.0.0/16 with the cloud metadata
  address 169.254.169.254, fe80::/10), multicast, unspecified, broadcast and
  reserved addresses, the hub's own addresses, and private ranges (RFC 1918,
  100.64.0.0/10, fc00::/7) unless inside a network registered for that
  partner (a city VPN range, say).  An IPv4 address written as IPv6
  (``::ffff:127.0.0.1``) is judged as the IPv4 address it is.

Every refusal says why, naming the host and port and never a credential.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from hub import InvalidInput

#: The ports a partner's device may be reached on, by scheme.
PORTS: dict[str, frozenset[int]] = {
    "http": frozenset({80, 8000, 8080, 8899, 37777}),  # 37777: Dahua's own protocol port, for its HTTP API too
    "https": frozenset({443, 8443}),
    "rtsp": frozenset({554, 8554}),
}
#: Shared address space a city may route to a partner's site (carrier-grade NAT, RFC 6598).
SHARED = ipaddress.ip_network("100.64.0.0/10")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolve = Callable[[str, int], Awaitable[list[str]]]


class AddressRefused(InvalidInput):
    """A partner's device address the hub will not connect to."""

    code = "partner_address_refused"
    title = "The hub will not connect to that address"


@dataclass(frozen=True)
class PinnedAddress:
    """Where every connection for a device goes: the address the host resolved to when it was checked."""

    scheme: str
    host: str
    address: str
    port: int

    @property
    def netloc(self) -> str:
        return f"[{self.address}]:{self.port}" if ":" in self.address else f"{self.address}:{self.port}"


async def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (the system's resolver, once)."""
    loop = asyncio.get_running_loop()
    found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def own_addresses(extra: Iterable[str] = ()) -> set[str]:
    """The hub machine's addresses: every interface's (Linux: ``/proc/net/fib_trie`` and
    ``/proc/net/if_inet6``), its host name's, and ``extra`` (the public URL's host)."""
    mine = {e for e in extra if e}
    try:
        mine |= {str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None)}
    except OSError:
        pass
    with contextlib.suppress(OSError):
        lines = Path("/proc/net/fib_trie").read_text().splitlines()
        mine |= {lines[i - 1].split()[-1] for i, line in enumerate(lines) if i and line.strip() == "/32 host LOCAL"}
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            mine.add(str(ipaddress.IPv6Address(int(line.split()[0], 16))))
    return mine


def _plain(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def refusal(address: Address, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network],
            own: set[str]) -> str | None:
    """Why the hub must not connect to ``address``, or None when it may."""
    address = _plain(address)
    if address.is_loopback:
        return "a loopback address (the hub itself)"
    if address.is_link_local:
        return "a link-local address (cloud metadata, 169.254.169.254, lives there)"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if isinstance(address, ipaddress.IPv4Address) and address == ipaddress.IPv4Address("255.255.255.255"):
        return "the broadcast address"
    if str(address) in own:
        return "one of the hub's own addresses"
    private = address.is_private or (isinstance(address, ipaddress.IPv4Address) and address in SHARED)
    if private:
        if any(address.version == n.version and address in n for n in networks):
            return None
        return "a private address outside the networks registered for this partner"
    if address.is_reserved:
        return "a reserved address"
    return None


async def pin(scheme: str, host: str, port: int | None, networks: list[str], own: set[str],
              resolver: Resolve = resolve) -> PinnedAddress:
    """The address to connect to for ``scheme://host:port``; ``AddressRefused`` with the reason."""
    scheme = scheme.lower()
    if scheme not in PORTS:
        raise AddressRefused(f"{scheme[:20]!r}: a partner's device is reached over {', '.join(sorted(PORTS))}")
    if "@" in host:  # user:password@host: say so without repeating what came before the @
        raise AddressRefused(f"{host.rsplit('@', 1)[-1][:100]!r} is not a host name or address as written: "
                             "credentials go in the username and password, never in the host")
    if not host or len(host) > 253 or any(c in host for c in "/?#\\ "):
        raise AddressRefused(f"{host[:100]!r} is not a host name or address")
    chosen = port if port is not None else min(PORTS[scheme])
    where = f"{host}:{chosen}"
    if chosen not in PORTS[scheme]:
        raise AddressRefused(f"{where}: port {chosen} is not one a {scheme} device is reached on "
                             f"({', '.join(str(p) for p in sorted(PORTS[scheme]))})")
    allowed = [ipaddress.ip_network(cidr, strict=False) for cidr in networks]
    try:
        found = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        try:
            found = [ipaddress.ip_address(a.split("%", 1)[0]) for a in await resolver(host, chosen)]
        except OSError as err:
            raise AddressRefused(f"{where}: the name does not resolve ({type(err).__name__})") from None
    if not found:
        raise AddressRefused(f"{where}: the name resolves to no address")
    for address in found:
        why = refusal(address, allowed, own)
        if why is not None:
            raise AddressRefused(f"{where} is {why}" if str(address) == host.strip("[]") else
                                 f"{where} resolves to {address}: {why}")
    if str(found[0]) != host.strip("[]"):  # a name: asked again, a rebinding name shows what it would become
        try:
            again = [ipaddress.ip_address(a.split("%", 1)[0]) for a in await resolver(host, chosen)]
        except OSError:
            again = []
        for address in again:
            why = refusal(address, allowed, own)
            if why is not None:
                raise AddressRefused(f"{where} resolves to {found[0]}, then to {address}: {why} (a name that "
                                     "changes where it points is refused; give the address)")
    return PinnedAddress(scheme, host, str(_plain(found[0])), chosen)
