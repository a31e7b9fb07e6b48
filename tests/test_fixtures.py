"""The test peers' start-up rule: skipped where a machine cannot run one, a failure where it must."""

from __future__ import annotations

import pytest

from hub.testing.fixtures import REQUIRE_PEERS, running


class Missing(RuntimeError):
    pass


class Peer:
    def __init__(self, works: bool) -> None:
        self.works, self.stopped = works, False

    def start(self) -> None:
        if not self.works:
            raise Missing("broker not found (Debian package x)")

    def close(self) -> None:
        self.stopped = True


def test_a_peer_this_machine_lacks_skips_with_its_reason_unless_every_peer_is_required(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.delenv(REQUIRE_PEERS, raising=False)
    with pytest.raises(pytest.skip.Exception, match="broker not found"):
        next(running(lambda: Peer(False), Missing))
    monkeypatch.setenv(REQUIRE_PEERS, "1")  # as `make test` runs, after `make install`
    with pytest.raises(pytest.fail.Exception, match="broker not found.*must run here"):
        next(running(lambda: Peer(False), Missing))


def test_a_peer_that_starts_is_handed_over_and_ended_after() -> None:
    peers = running(lambda: Peer(True), Missing, end="close")
    peer = next(peers)
    assert not peer.stopped
    with pytest.raises(StopIteration):
        next(peers)
    assert peer.stopped
