"""The plugin's own table: made by its migrations, the same on SQLite and PostgreSQL,
and the reports of a database made by the previous release kept."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.core.models import Role, utcnow
from hub.core.plugins import Plugins
from hub.store import Store, database_url
from plugins.jaki_reports.models import Report, ReportState
from plugins.jaki_reports.store import ReportsBase, ReportStore
from tests.conftest import ROOT


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request, tmp_path: Path):
    url = database_url(None if request.param == "sqlite" else request.getfixturevalue("pg_url"), tmp_path)
    s = Store(url)
    await s.migrate(Plugins().load().migrations)
    yield s
    await s.close()


def report(rule: str = "tamper", camera_id: str = "demo:A:1") -> Report:
    now = utcnow()
    return Report(id=uuid.uuid4().hex, notifier="jaki", rule=rule, camera_id=camera_id, state=ReportState.PENDING,
                  service_code="X", description="d", trigger_at=now, last_seen_at=now, created_at=now)


async def plugin_schema_diff(store: Store) -> list[object]:
    async with store.db.engine.connect() as conn:
        return await conn.run_sync(lambda c: compare_metadata(  # type: ignore[no-any-return]
            MigrationContext.configure(c, opts={
                # the plugin's tables only: the hub's are its own migrations' business
                "include_name": lambda name, kind, _: kind != "table" or name.startswith("jaki_reports")}),
            ReportsBase.metadata))


async def test_the_plugins_migrations_make_its_table_as_its_model_says(store: Store) -> None:
    assert await plugin_schema_diff(store) == []
    await store.migrate(Plugins().load().migrations)  # twice is harmless


async def test_one_open_report_per_camera_and_rule(store: Store) -> None:
    reports = ReportStore(store.db)
    first, new = await reports.raise_report(report())
    again, repeat = await reports.raise_report(report())
    other, _ = await reports.raise_report(report(rule="offline"))
    assert new and not repeat and again.id == first.id and again.occurrences == 2
    assert other.id != first.id
    await reports.update(first.id, state=ReportState.OPEN, external_id="638001")
    assert (await reports.raise_report(report()))[0].id == first.id, "an open report still stands"
    await reports.update(first.id, state=ReportState.CLOSED)
    fresh, new = await reports.raise_report(report())
    assert new and fresh.id != first.id
    assert [r.id for r in await reports.reports("jaki", external_id="638001")] == [first.id]
    assert {r.state for r in await reports.reports("jaki")} == {ReportState.PENDING, ReportState.CLOSED}


#: The token tests/data/release-0.1.sql holds (made by that release with ``pantau token create``).
OLD_TOKEN = "pt_fd23f1969f672783_8oAfTnb26-2T_1LlNVMXPhyKD7GsB4QFyxZ166lxe8g"


async def test_a_database_of_the_previous_release_keeps_its_reports_recordings_and_tokens(tmp_path: Path) -> None:
    """0.1 kept citizen reports in the hub's own ``reports`` table; they move to the plugin's."""
    con = sqlite3.connect(tmp_path / "pantau.db")
    con.executescript((ROOT / "tests" / "data" / "release-0.1.sql").read_text())
    con.executescript(  # audit rows as 0.1 wrote them: no chain yet
        "INSERT INTO audit_log (at, principal_id, action, camera_id, allowed, reason) VALUES "
        "('2026-11-20 08:00:00.123456', 'token:fd23f1969f672783', 'view_live', 'demo:D1:1', 1, 'role viewer'), "
        "('2026-11-20 08:05:00.000000', 'token:fd23f1969f672783', 'export', 'demo:D1:1', 0, 'not allowed');")
    con.close()
    store = Store(database_url(None, tmp_path))
    try:
        await store.migrate(Plugins().load().migrations)
        [moved] = await ReportStore(store.db).reports()
        assert (moved.external_id, moved.state, moved.rule, moved.camera_id) == (
            "JAKI-77", ReportState.OPEN, "tamper", "demo:D1:1")
        assert moved.deadline is not None and moved.description == "Kamera ditutup"
        again, new = await ReportStore(store.db).raise_report(report(camera_id="demo:D1:1"))
        assert not new and again.id == moved.id, "the moved report still holds its camera and rule"
        [segment] = await store.recordings.segments("demo:D1:1")
        assert segment.locked and segment.sha256 == "ab" * 32
        who = await store.tokens.principal_for_token(OLD_TOKEN)
        assert who is not None and who.role == Role.VIEWER and who.name == "rt-05"
        assert [c.name for c, _, _ in await store.cameras.known_cameras()] == ["Gerbang"]
        assert await plugin_schema_diff(store) == [], "the moved table is the one a new database gets"
        chain = await store.audit.verify()  # its audit rows were chained by the migration
        assert (chain.problem, chain.rows) == (None, 2)
        await store.audit.record(who, "view_live", "demo:D1:1", True, "after the upgrade")
        assert (await store.audit.verify()).rows == 3, "new rows hang on the chain the migration made"
        assert who.scopes == [], "a token of 0.1 had no scopes: it sees what its role may"
    finally:
        await store.close()
    tables = {r[0] for r in sqlite3.connect(tmp_path / "pantau.db").execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "reports" not in tables and "jaki_reports" in tables
