"""The metadata store behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.core.models import Camera, Device, Role, Stream, StreamRole, utcnow
from hub.store import Base, Store, database_url


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request, tmp_path: Path):
    if request.param == "sqlite":
        url = database_url(None, tmp_path)
    else:
        url = database_url(request.getfixturevalue("pg_url"), tmp_path)
    s = Store(url)
    await s.migrate()
    yield s
    await s.close()


def camera(serial: str, ch: int, name: str) -> Camera:
    return Camera(id=f"demo:{serial}:{ch}", device_id=f"demo:{serial}", channel=ch, name=name,
                  streams=[Stream(role=StreamRole.MAIN, codec="h264", url="rtsp://admin:pw@10.0.0.1/1")])


def device(serial: str) -> Device:
    return Device(id=f"demo:{serial}", source="src", vendor="Demo", serial=serial)


async def test_migrations_match_the_models(store: Store) -> None:
    async with store.db.engine.connect() as conn:
        diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    assert diff == []


async def test_migrate_twice_is_harmless(store: Store) -> None:
    token = await store.tokens.create_token(Role.VIEWER)
    await store.migrate()
    from sqlalchemy import text

    async with store.db.engine.connect() as conn:
        versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
        diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    assert versions == ["0018"] and diff == []
    assert await store.tokens.principal_for_token(token) is not None, "what was kept stays"


async def test_token_round_trip_and_revocation(store: Store) -> None:
    token = await store.tokens.create_token(Role.OPERATOR, name="pos ronda")
    who = await store.tokens.principal_for_token(token)
    assert who is not None and who.role == Role.OPERATOR and who.name == "pos ronda"
    assert await store.tokens.principal_for_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert await store.tokens.principal_for_token("garbage") is None
    assert await store.tokens.revoke_token(token.split("_")[1])
    assert await store.tokens.principal_for_token(token) is None


async def test_a_token_revoked_elsewhere_stops_working_within_the_cache_time(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from hub.store import tokens as store_module

    monkeypatch.setattr(store_module, "TOKEN_CACHE_SECONDS", 0.5)
    token = await store.tokens.create_token(Role.VIEWER, expires_at=utcnow() + timedelta(seconds=1.5))
    assert await store.tokens.principal_for_token(token) is not None
    other = Store(store.url)  # `pantau token revoke`, or another node on the same database
    try:
        assert await other.tokens.revoke_token(token.split("_")[1])
    finally:
        await other.close()
    assert await store.tokens.principal_for_token(token) is not None, "trusted for the cache time"
    await asyncio.sleep(0.6)
    assert await store.tokens.principal_for_token(token) is None, "then the database says no"
    monkeypatch.setattr(store_module, "TOKEN_CACHE_SECONDS", 60)
    fresh = await store.tokens.create_token(Role.VIEWER, expires_at=utcnow() + timedelta(seconds=0.8))
    assert await store.tokens.principal_for_token(fresh) is not None
    await asyncio.sleep(0.9)
    assert await store.tokens.principal_for_token(fresh) is None, "an expiry is kept to the second, cache or not"


async def test_token_is_stored_hashed_and_expires(store: Store) -> None:
    from sqlalchemy import select

    from hub.store.tokens import TokenRow

    token = await store.tokens.create_token(Role.VIEWER, expires_at=utcnow() - timedelta(seconds=1))
    async with store.db.session() as s:
        rows = (await s.scalars(select(TokenRow))).all()
    assert all(token.split("_", 2)[2] not in (r.secret_hash, r.name or "") for r in rows)
    assert await store.tokens.principal_for_token(token) is None


async def test_inventory_removal_keeps_history_and_secrets_stay_out(store: Store) -> None:
    await store.cameras.save_inventory([device("A")], [camera("A", 1, "Gate"), camera("A", 2, "Yard")], {"src"})
    await store.cameras.save_inventory([device("A")], [camera("A", 1, "Gate (renamed)")], {"src"})
    current = await store.cameras.known_cameras()
    assert [(c.id, c.name) for c, _, _ in current] == [("demo:A:1", "Gate (renamed)")]
    everything = {c.id: removed for c, _, removed in await store.cameras.known_cameras(include_removed=True)}
    assert everything["demo:A:2"] is not None and everything["demo:A:1"] is None
    async with store.db.engine.connect() as conn:
        from sqlalchemy import text

        dump = str((await conn.execute(text("SELECT data FROM cameras"))).all())
    assert "pw@" not in dump and "rtsp://" not in dump
    # The camera comes back: same id, history kept, no longer removed.
    await store.cameras.save_inventory([device("A")], [camera("A", 1, "Gate"), camera("A", 2, "Yard")], {"src"})
    assert len(await store.cameras.known_cameras()) == 2


async def test_segments_by_time_range_and_locking(store: Store) -> None:
    t0 = utcnow().replace(microsecond=0)
    ids = []
    for i in range(5):
        start = t0 + timedelta(seconds=10 * i)
        ids.append(await store.recordings.add_segment("demo:A:1", "main", start, start + timedelta(seconds=10),
                                                      10.0, 1000 + i, "ab" * 32, f"recordings/a/{i}.mp4"))
    again = await store.recordings.add_segment("demo:A:1", "main", t0, t0 + timedelta(seconds=10), 10.0, 1000,
                                               "ab" * 32, "recordings/a/0.mp4")
    assert again is None, "a segment is indexed once, however often its storing is retried"
    window = await store.recordings.segments("demo:A:1", t0 + timedelta(seconds=15), t0 + timedelta(seconds=35))
    assert [s.id for s in window] == ids[1:4]
    assert window[0].start.tzinfo is not None
    await store.recordings.set_locked(ids[0], True)
    expired = await store.recordings.expired_segments("demo:A:1", t0 + timedelta(seconds=100))
    assert [i for i, _ in expired] == ids[1:]
    await store.recordings.delete_segments([i for i, _ in expired] + [ids[0]])
    remaining = await store.recordings.segments("demo:A:1")
    assert [s.id for s in remaining] == [ids[0]] and remaining[0].locked


async def test_current_status_knows_when_an_outage_began(store: Store) -> None:
    now = utcnow()
    for status, ago in (("online", 300), ("offline", 180), ("offline", 1)):
        await store.status.record_status("demo:A:1", status, now - timedelta(minutes=ago))
    await store.status.record_status("demo:A:2", "online", now - timedelta(minutes=5))
    status = await store.status.current_status(since_for={"offline"})
    assert status["demo:A:1"][0] == "offline"
    assert abs((status["demo:A:1"][1] - (now - timedelta(minutes=180))).total_seconds()) < 1
    assert status["demo:A:2"][0] == "online"
    latest = (await store.status.current_status())["demo:A:1"][1]
    assert latest > now - timedelta(minutes=2), "no look-back unless asked"


async def test_a_days_status_spans_begin_with_the_status_it_had_and_join_repeats(store: Store) -> None:
    day = datetime(2026, 12, 1, tzinfo=UTC)
    for status, hour in (("online", -3), ("offline", 9), ("offline", 10), ("online", 11.5), ("degraded", 30)):
        await store.status.record_status("demo:A:1", status, day + timedelta(hours=hour), reason=f"at {hour}")
    spans = await store.status.spans("demo:A:1", day, day + timedelta(days=1))
    assert [(s, (a - day).total_seconds() / 3600, (b - day).total_seconds() / 3600) for s, a, b, _ in spans] == [
        ("online", 0, 9), ("offline", 9, 11.5), ("online", 11.5, 24)]
    assert spans[1][3] == "at 9", "the reason the outage began with"
    assert await store.status.spans("demo:B:1", day, day + timedelta(days=1)) == []


def test_database_url_forms(tmp_path: Path) -> None:
    from hub.core.errors import ConfigError

    assert database_url(None, tmp_path) == f"sqlite+aiosqlite:///{tmp_path}/pantau.db"
    assert database_url("postgresql://u:p@h/db", tmp_path).startswith("postgresql+asyncpg://u:p@h/db")
    with pytest.raises(ConfigError) as info:
        database_url("mysql://root:hunter2@h/db", tmp_path)
    assert "hunter2" not in str(info.value)


async def test_events_are_kept_and_queued_once_and_read_back_the_same(store: Store) -> None:
    from datetime import UTC, datetime, timezone

    from sqlalchemy import select

    from hub.core.models import Event, EventKind, EventState
    from hub.store.events import EventRow

    wib = timezone(timedelta(hours=7))  # a device clock in WIB: kept as the same instant in UTC
    events = [Event(camera_id=f"demo:x:{i % 2}", kind=EventKind.MOTION, state=EventState.START,
                    at=datetime(2026, 11, 22, 18, 0, 0, 250_000, tzinfo=wib) + timedelta(seconds=i),
                    data={"seq": i, "name": "gerbang"})
              for i in range(700)]
    made = await store.events.record_events(events, {"mqtt": events, "jaki": events[:3], "idle": []})
    assert [e.id for _, e in made["mqtt"]] == [e.id for e in events], "one row each, in order"
    assert [e.id for _, e in made["jaki"]] == [e.id for e in events[:3]] and "idle" not in made
    ids = [row_id for row_id, _ in made["mqtt"]]
    assert ids == sorted(ids) and len(set(ids)) == 700
    assert await store.events.record_events(events[:5], {"mqtt": events[:5]}) == {}, "a repeat is ignored"
    kept = await store.events.events("demo:x:1", limit=1000)
    assert sorted(kept, key=lambda e: e.data["seq"]) == [e for e in events if e.camera_id == "demo:x:1"]
    async with store.db.session() as s:
        at = (await s.scalars(select(EventRow.at).where(EventRow.id == events[3].id))).one()
    assert at == datetime(2026, 11, 22, 11, 0, 3, 250_000, tzinfo=UTC)
    head = await store.events.outbox_head("jaki", 10)
    assert [r.event_id for r in head] == [e.id for e in events[:3]] and head[0].attempts == 0
    assert Event.model_validate(head[0].payload) == events[0]
    assert abs((head[0].created_at - utcnow()).total_seconds()) < 60
    assert await store.events.outbox_summary() == {"mqtt": {"pending": 700, "delivered": 0, "dead": 0},
                                           "jaki": {"pending": 3, "delivered": 0, "dead": 0}}
    # The next transaction takes the deliveries of earlier rows along (the outbox's steady state).
    later = [Event(camera_id="demo:x:0", kind=EventKind.TAMPER) for _ in range(2)]
    jaki_rows = [row_id for row_id, _ in made["jaki"]]
    again = await store.events.record_events(later, {"jaki": later}, delivered=jaki_rows[:2])
    assert [e.id for _, e in again["jaki"]] == [e.id for e in later]
    assert (await store.events.outbox_summary())["jaki"] == {"pending": 3, "delivered": 2, "dead": 0}
    assert [r.event_id for r in await store.events.outbox_head("jaki", 10)] == [events[2].id, *(e.id for e in later)]
    # Deliveries with gaps (another notifier's rows between, rows still out): only those rows change.
    gappy = ids[20:25] + ids[:10] + [ids[699], ids[3], jaki_rows[2]]
    await store.events.record_events([Event(kind=EventKind.OTHER)], {}, delivered=gappy)
    assert (await store.events.outbox_summary())["mqtt"] == {"pending": 684, "delivered": 16, "dead": 0}
    head = await store.events.outbox_head("mqtt", 11)
    assert [r.event_id for r in head] == [e.id for e in events[10:20] + events[25:26]]
    assert (await store.events.outbox_summary())["jaki"] == {"pending": 2, "delivered": 3, "dead": 0}
