"""The address rules a partner's device must pass before the hub connects to it."""

from __future__ import annotations

import pytest

from plugins.tower_partner.guard import AddressRefused, pin

VPN = ["10.20.0.0/16"]


class Resolver:
    """A name server that answers each name with the next of its answers, and counts the questions."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.asked = 0

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked += 1
        return self.answers.pop(0)


@pytest.mark.parametrize(("host", "why"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("224.0.0.251", "multicast"),
    ("0.0.0.0", "unspecified"), ("192.168.1.20", "private address outside"), ("10.30.0.5", "private address outside"),
    ("100.64.3.3", "private address outside"), ("fd00::5", "private address outside"), ("198.51.100.7", "private"),
    ("8.8.4.4", "hub's own"),
])
async def test_addresses_the_hub_must_never_reach_are_refused_with_the_reason(host: str, why: str) -> None:
    with pytest.raises(AddressRefused) as refused:
        await pin("http", host, 80, VPN, own={"8.8.4.4"})
    assert why in str(refused.value) and f"{host}:80" in str(refused.value)
    assert refused.value.code == "partner_address_refused"


async def test_the_partners_own_network_and_public_addresses_are_reached_at_the_pinned_address() -> None:
    inside = await pin("rtsp", "10.20.4.9", None, VPN, own=set())
    assert (inside.address, inside.port, inside.netloc) == ("10.20.4.9", 554, "10.20.4.9:554")
    public = await pin("https", "2606:4700:4700::1111", 8443, [], own=set())
    assert public.netloc == "[2606:4700:4700::1111]:8443"


async def test_a_name_is_resolved_once_and_every_address_it_gives_must_pass() -> None:
    stable = Resolver(["10.20.0.7"], ["10.20.0.7"])
    pinned = await pin("http", "nvr.toko-sinar.example", 8000, VPN, own=set(), resolver=stable)
    assert pinned.address == "10.20.0.7", "later connections go to the pinned address, never to the name"
    rebinding = Resolver(["10.20.0.7"], ["127.0.0.1"])  # allowed now, the hub itself the next time
    with pytest.raises(AddressRefused) as rebound:
        await pin("http", "nvr.toko-sinar.example", 8000, VPN, own=set(), resolver=rebinding)
    assert "resolves to 10.20.0.7, then to 127.0.0.1: a loopback address" in str(rebound.value)
    mixed = Resolver(["10.20.0.7", "169.254.169.254"])
    with pytest.raises(AddressRefused) as refused:
        await pin("http", "nvr.toko-sinar.example", 8000, VPN, own=set(), resolver=mixed)
    assert "resolves to 169.254.169.254" in str(refused.value)


@pytest.mark.parametrize(("scheme", "host", "port", "why"), [
    ("ftp", "8.8.8.8", 21, "reached over"), ("http", "8.8.8.8", 22, "port 22"), ("rtsp", "8.8.8.8", 80, "port 80"),
    ("http", "admin:rahasia@8.8.8.8", 80, "not a host name"), ("http", "8.8.8.8/x", 80, "not a host name"),
])
async def test_schemes_ports_and_hosts_outside_the_rules_are_refused(scheme: str, host: str, port: int,
                                                                     why: str) -> None:
    with pytest.raises(AddressRefused) as refused:
        await pin(scheme, host, port, [], own=set())
    assert why in str(refused.value)
    assert "rahasia" not in str(refused.value), "no credential in an error"
