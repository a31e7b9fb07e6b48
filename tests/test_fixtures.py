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


async def test_the_leak_watch_sees_a_configured_secret_in_a_log_line_of_an_in_process_hub(
        leak_watch, tmp_path) -> None:  # noqa: ANN001
    import logging

    from hub.app import Hub
    from hub.core.config import load_config
    from hub.core.plugins import Plugins
    from tests.conftest import demo_hub_yaml

    cfg = tmp_path / "hub.yaml"
    cfg.write_text(demo_hub_yaml(extra="database: {url: 'postgresql://pantau:Rahasia-Basis-Data@127.0.0.1:9/x'}\n"))
    plugins = Plugins().load()
    Hub(load_config(cfg, plugins), plugins)  # configured, never started
    token = "pt_0123456789abcdef_" + "s" * 24
    leak_watch.secret(token)
    logging.getLogger("pantau.test").warning("connecting with Rahasia-Basis-Data")
    leak_watch.saw("mqtt pantau/x/event", f'{{"token": "{token[-24:]}"}}')
    found = leak_watch.leaks()
    leak_watch.seen.clear()  # what this test leaked on purpose
    assert any(f.startswith("log pantau.test: Rah...ta") for f in found), found
    assert not any(f.startswith("mqtt") for f in found), "only the whole token counts, not a part of it"
