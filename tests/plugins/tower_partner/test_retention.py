"""The agreement's terms on what the hub keeps and shows: a partner camera's recordings kept at most
the agreement's days (evidence locks excepted, and said so), all of them gone once a terminated
agreement's grace period is over; no picture of a camera whose agreement requires privacy masks
before they are set.  Through the real plugin manager, store and local storage."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from hub import Action, Camera, Decision, Principal, PrivacyMask, Role, utcnow
from hub.core.config import RecordingConfig, RecordingRule
from hub.core.plugins import Plugins
from hub.graph import StreamGraph
from hub.inventory import Inventory
from hub.recording import Recording
from hub.store import Store, database_url
from hub.testing.context import TestContext
from plugins.local_storage import LocalStorage, LocalStorageConfig
from plugins.tower_partner import onboarding
from plugins.tower_partner.models import AgreementState, PermittedUses
from plugins.tower_partner.policy import POLICY
from plugins.tower_partner.store import PartnerStore

SHOP = "hikvision:DS7608-X:1"
CITY = "demo:kota:1"
OPERATOR = Principal(id="user:operator", role=Role.OPERATOR)


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Plugins:
    monkeypatch.setenv("PANTAU_PLUGINS", "tower_partner")
    for attribute in ("agreements", "paused", "unmasked"):  # the plugin's one policy, left as found
        monkeypatch.setattr(POLICY, attribute, type(getattr(POLICY, attribute))())
    monkeypatch.setattr(onboarding, "running", None)
    return Plugins().load()


async def test_recordings_are_kept_as_the_agreement_says_and_go_after_termination(
        plugins: Plugins, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = Store(database_url(None, tmp_path))
    await store.migrate(plugins.migrations)
    context = TestContext(tmp_path, database=store.db)
    partners = PartnerStore(store.db)
    await partners.add_partner("toko-sinar", "Toko Sinar", "shop", "cli:test")  # type: ignore[arg-type]
    agreement = await partners.add_agreement("toko-sinar", "cli:test", "PKS 7/2026", "Pemkot", "Toko Sinar",
                                             PermittedUses(retention_days=2, masks_required=True), grace_days=0)
    for state in (AgreementState.SUBMITTED, AgreementState.VALIDATING, AgreementState.PENDING_APPROVAL,
                  AgreementState.ACTIVE):
        await partners.move(agreement.id, state, "cli:test")
    await partners.remember_cameras("toko-sinar", "partner-1", [SHOP])
    sharing = onboarding.running = onboarding.Sharing(context, partners)
    await sharing.sync()

    camera = Camera(id=SHOP, device_id="hikvision:DS7608-X", channel=1, name="Toko 1", tags=["partner:toko-sinar"])
    assert POLICY.decide(OPERATOR, Action.VIEW_LIVE, camera, {"now": utcnow()}) == Decision.DENY, \
        "masks required and none set: no picture"
    context.masks[SHOP] = [PrivacyMask(name="rumah-sebelah", polygon=[(0, 0), (0.3, 0), (0.3, 0.4)])]
    await sharing.sync()
    assert POLICY.decide(OPERATOR, Action.VIEW_LIVE, camera, {"now": utcnow()}) == Decision.ABSTAIN

    storage = LocalStorage(LocalStorageConfig(), tmp_path)
    inventory = Inventory({})
    recording = Recording(RecordingConfig(default=RecordingRule(retain_days=7)), inventory, StreamGraph(inventory),
                          storage, store, tmp_path / "spool")
    recording.retention_caps = lambda camera_id, cam: plugins.acall(
        "recording_retention", context=context, camera_id=camera_id, camera=cam)
    now = utcnow()
    ids = {}
    for name, camera_id, age_days in (("old", SHOP, 3), ("held", SHOP, 3.5), ("recent", SHOP, 1), ("city", CITY, 3)):
        key = f"recordings/{name}.mp4"
        await storage.put_bytes(key, b"x" * 100)
        start = now - timedelta(days=age_days)
        ids[name] = await store.recordings.add_segment(camera_id, "sub", start, start + timedelta(seconds=10), 10,
                                                       100, "0" * 64, key)
    await store.recordings.set_locked(ids["held"], True)

    with caplog.at_level(logging.INFO, logger="hub.recording"):
        assert await recording.apply_retention() == 1
    left = {s.id for c in (SHOP, CITY) for s in await store.recordings.segments(c)}
    assert left == {ids["held"], ids["recent"], ids["city"]}, "the partner's 3-day-old segment went; the city's 7"
    assert not (storage.root / "recordings/old.mp4").exists()
    kept = next(r for r in caplog.records if r.getMessage().startswith("evidence locks keep"))
    assert kept.camera == SHOP and kept.segments == 1  # type: ignore[attr-defined]

    await partners.move(agreement.id, AgreementState.TERMINATED, "user:operator", "kontrak berakhir")
    await sharing.sync()
    assert await recording.apply_retention() == 1, "the grace period (0 days) is over: the rest goes"
    left = {s.id for c in (SHOP, CITY) for s in await store.recordings.segments(c)}
    assert left == {ids["held"], ids["city"]}, "evidence stays, the city's camera is not the agreement's"
    await store.close()
