"""The audit log is hash-chained: changing, deleting or reordering a row is found and named."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from hub.core.models import Principal, Role
from hub.store import Store, database_url
from tests.conftest import demo_hub_yaml

OPERATOR = Principal(id="user:operator-1", role=Role.OPERATOR)


async def test_a_changed_deleted_or_reordered_row_breaks_the_chain_there(tmp_path: Path) -> None:
    store = Store(database_url(None, tmp_path))
    await store.migrate()
    try:
        for i in range(6):
            await store.audit.record(OPERATOR, "view_live", f"demo:A:{i}", True, f"view {i}")
        intact = await store.audit.verify(batch=4)  # across batches
        assert (intact.rows, intact.head_id, intact.problem) == (6, 6, None)
        db = sqlite3.connect(tmp_path / "pantau.db")
        db.execute("UPDATE audit_log SET reason = 'view 3!' WHERE id = 4")
        db.commit()
        changed = await store.audit.verify()
        assert (changed.broken_at, changed.problem, changed.rows) == (4, "the row was changed", 3)
        db.execute("UPDATE audit_log SET reason = 'view 3' WHERE id = 4")
        db.execute("DELETE FROM audit_log WHERE id = 2")
        db.commit()
        deleted = await store.audit.verify()
        assert deleted.broken_at == 3 and "deleted" in (deleted.problem or "")
        db.close()
    finally:
        await store.close()


def test_pantau_audit_verify_names_the_row_and_checks_a_head_kept_elsewhere(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml())
    with hub.client("operator") as operator:
        cams = [c["id"] for c in operator.get("/api/v1/cameras").json()]
        for cam in cams:  # audited: playback, one row each
            assert operator.get(f"/api/v1/cameras/{cam}/recordings").status_code == 200
        assert operator.get(f"/api/v1/cameras/{cams[0]}/snapshot").status_code == 200  # and a live picture
    hub.stop()

    def verify(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hub", "audit", "verify", *extra, "-c", str(hub.config),
                               "--data-dir", str(hub.data_dir)], capture_output=True, text=True, timeout=60)

    ok = verify()
    assert ok.returncode == 0, ok.stderr
    head = ok.stdout.strip().splitlines()[-1]
    rows = int(head.split(":")[0])
    assert rows >= 3 and "intact" in ok.stderr
    db = sqlite3.connect(hub.data_dir / "pantau.db")
    db.execute(f"DELETE FROM audit_log WHERE id = {rows}")  # the last row: no link after it to break
    db.commit()
    assert verify().returncode == 0, "without a checkpoint a cut at the end cannot be seen"
    cut = verify("--expect", head)
    assert cut.returncode == 1 and "checkpoint" in cut.stderr
    db.execute("UPDATE audit_log SET principal_id = 'user:someone-else' WHERE id = 2")  # one field of one row
    db.commit()
    db.close()
    broken = verify()
    assert broken.returncode == 1 and "audit log broken at row 2: the row was changed" in broken.stderr


async def test_rows_appended_at_once_on_postgresql_make_one_chain(pg_url: str, tmp_path: Path) -> None:
    import asyncio

    url = database_url(pg_url, tmp_path)
    stores = [Store(url), Store(url)]  # two nodes' stores on one database
    await stores[0].migrate()
    try:
        await asyncio.gather(*(stores[i % 2].audit.record(OPERATOR, "play_back", f"demo:A:{i}", True, f"node {i % 2}")
                               for i in range(20)))
        chain = await stores[0].audit.verify()
        assert (chain.rows, chain.problem) == (20, None), chain
    finally:
        for store in stores:
            await store.close()


def test_the_audit_api_filters_by_principal_camera_action_outcome_and_time(hub_factory) -> None:  # noqa: ANN001
    from datetime import UTC, datetime, timedelta

    hub = hub_factory(demo_hub_yaml())
    with hub.client() as admin, hub.client("operator") as operator, hub.client("viewer") as viewer:
        cams = [c["id"] for c in admin.get("/api/v1/cameras").json()]
        assert operator.get(f"/api/v1/cameras/{cams[0]}/recordings").status_code == 200
        assert viewer.get(f"/api/v1/cameras/{cams[1]}/recordings").status_code == 403  # refused: audited too
        everything = admin.get("/api/v1/audit").json()
        refused = admin.get("/api/v1/audit", params={"allowed": "false", "action": "play_back"}).json()
        of_camera = admin.get("/api/v1/audit", params={"camera_id": cams[0]}).json()
        later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        none_later = admin.get("/api/v1/audit", params={"start": later}).json()
        naive = admin.get("/api/v1/audit", params={"start": "2026-12-01T10:00:00"})
        by_viewer = admin.get("/api/v1/audit", params={"principal": refused[0]["principal"]}).json()
        assert viewer.get("/api/v1/audit").status_code == 403
    assert len(everything) >= 2
    assert [(r["camera_id"], r["allowed"]) for r in refused] == [(cams[1], False)]
    assert {r["camera_id"] for r in of_camera} == {cams[0]} and all(r["allowed"] for r in of_camera)
    assert none_later == [] and naive.status_code == 400
    assert {r["principal"] for r in by_viewer} == {refused[0]["principal"]}


def test_refusals_are_kept_with_the_address_and_repeats_are_counted_not_written(hub_factory) -> None:  # noqa: ANN001
    import httpx

    hub = hub_factory(demo_hub_yaml())
    with hub.client("viewer") as viewer, hub.client() as admin:
        cam = viewer.get("/api/v1/cameras").json()[0]["id"]
        for _ in range(10):  # a page refreshing the snapshot
            assert viewer.get(f"/api/v1/cameras/{cam}/snapshot").status_code == 200
        for _ in range(5):
            assert httpx.get(hub.url + "/api/v1/cameras").status_code == 401
        for _ in range(3):
            assert httpx.get(hub.url + "/api/v1/cameras", headers={"Authorization": "Bearer pt_abc_guess"}
                             ).status_code == 401
        assert viewer.get("/api/v1/sources").status_code == 403  # refused by a role: written by the guard
        rows = admin.get("/api/v1/audit", params={"limit": 1000}).json()
    snapshots = [r for r in rows if r["action"] == "view_live" and r["camera_id"] == cam]
    assert len(snapshots) == 1 and snapshots[0]["address"] == "127.0.0.1" and snapshots[0]["count"] == 1
    unauthenticated = [r for r in rows if r["action"] == "http_401"]
    assert len(unauthenticated) == 1 and unauthenticated[0]["address"] == "127.0.0.1"
    assert unauthenticated[0]["reason"] == "GET /api/v1/cameras" and "guess" not in str(rows)
    assert [r["reason"] for r in rows if r["action"] == "manage"] == ["no policy allows it"]
    assert not [r for r in rows if r["action"] == "http_403"], "a refusal the policy wrote is not written twice"
    hub.stop()  # the repeats counted so far are written when the hub stops

    db = sqlite3.connect(hub.data_dir / "pantau.db")
    counted = dict(db.execute("SELECT action, SUM(count) FROM audit_log GROUP BY action").fetchall())
    rows_of = dict(db.execute("SELECT action, COUNT(*) FROM audit_log GROUP BY action").fetchall())
    db.close()
    assert counted["view_live"] == 10 and rows_of["view_live"] == 2
    assert counted["http_401"] == 8 and rows_of["http_401"] == 2
    verified = subprocess.run([sys.executable, "-m", "hub", "audit", "verify", "-c", str(hub.config),
                               "--data-dir", str(hub.data_dir)], capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0, verified.stderr


async def test_the_hub_writes_a_checkpoint_of_the_chain_to_keep_off_it(tmp_path: Path) -> None:
    from hub.app import Hub
    from hub.core.config import load_config
    from hub.core.plugins import Plugins

    cfg = tmp_path / "hub.yaml"
    cfg.write_text(demo_hub_yaml(extra="http: {port: 0}"))
    plugins = Plugins()
    plugins.load()
    hub = Hub(load_config(cfg, plugins), plugins)
    await hub.start()
    try:
        await hub.store.audit.record(OPERATOR, "view_live", "demo:A:1", True, "watched")
        head = await hub.access_watch.audit_checkpoint()
        kept = (hub.data_dir / "audit-checkpoints").read_text().split()
        assert head is not None and kept[-1] == f"{head[0]}:{head[1]}"
        assert await hub.store.audit.hash_of(head[0]) == head[1]
        assert (await hub.store.audit.verify()).head_hash == head[1]
    finally:
        await hub.stop()
