"""Local storage: atomic writes, layout by camera and date, usage, delete."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.core.errors import NotFound, StorageError, StorageKeyTaken
from hub.core.storage import segment_key
from plugins.local_storage import LocalStorage, LocalStorageConfig


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(LocalStorageConfig(), tmp_path)


async def read_all(storage: LocalStorage, key: str) -> bytes:
    return b"".join([chunk async for chunk in storage.read(key, chunk_size=3)])


async def test_put_file_moves_into_a_camera_and_date_layout(storage: LocalStorage, tmp_path: Path) -> None:
    key = segment_key("hikvision:DS123:2", "main", datetime(2026, 11, 22, 10, 15, 0, tzinfo=UTC))
    assert key == "recordings/hikvision_DS123_2/2026-11-22/101500.000000-main.mp4"
    spool = tmp_path / "spool.mp4"
    spool.write_bytes(b"segment-bytes")
    assert await storage.put_file(key, spool) == 13
    assert not spool.exists()
    assert (tmp_path / "storage" / key).read_bytes() == b"segment-bytes"
    assert await read_all(storage, key) == b"segment-bytes"
    assert not [p for p in (tmp_path / "storage").rglob("*.tmp")]


async def test_put_bytes_replaces_atomically_only_when_told(storage: LocalStorage) -> None:
    await storage.put_bytes("snapshots/a.jpg", b"old")
    with pytest.raises(StorageKeyTaken):
        await storage.put_bytes("snapshots/a.jpg", b"new")
    assert await read_all(storage, "snapshots/a.jpg") == b"old"
    await storage.put_bytes("snapshots/a.jpg", b"new", replace=True)
    assert await read_all(storage, "snapshots/a.jpg") == b"new"
    assert not [p for p in storage.root.rglob("*.tmp")]


async def test_a_segment_never_replaces_a_stored_one_and_its_spool_file_stays(storage: LocalStorage,
                                                                             tmp_path: Path) -> None:
    key = segment_key("hikvision:DS123:2", "main", datetime(2026, 11, 22, 10, 15, 0, tzinfo=UTC))
    first, second = tmp_path / "first.mp4", tmp_path / "second.mp4"
    first.write_bytes(b"first segment")
    second.write_bytes(b"second segment")
    await storage.put_file(key, first)
    with pytest.raises(StorageKeyTaken):
        await storage.put_file(key, second)
    assert await read_all(storage, key) == b"first segment"
    assert second.read_bytes() == b"second segment", "a refused write loses nothing"
    assert not [p for p in storage.root.rglob("*.tmp")]


async def test_usage_and_delete_tidy_empty_folders(storage: LocalStorage) -> None:
    await storage.put_bytes("recordings/c/2026-11-22/x.mp4", b"x" * 1000)
    usage = await storage.usage()
    assert usage.used_bytes == 1000 and usage.free_bytes and usage.total_bytes
    await storage.delete("recordings/c/2026-11-22/x.mp4")
    await storage.delete("recordings/c/2026-11-22/x.mp4")  # missing: not an error
    assert not (storage.root / "recordings").exists()
    assert (await storage.usage()).used_bytes == 0


async def test_keys_cannot_escape_the_store(storage: LocalStorage) -> None:
    for bad in ("../etc/passwd", "/abs", "a/../../b", "a//b", ""):
        with pytest.raises(StorageError):
            await storage.put_bytes(bad, b"x")


async def test_missing_object(storage: LocalStorage) -> None:
    with pytest.raises(NotFound):
        await read_all(storage, "recordings/none.mp4")
    assert storage.local_path("recordings/none.mp4") is None
