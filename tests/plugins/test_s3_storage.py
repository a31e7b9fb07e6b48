"""S3 storage against a real SeaweedFS: the storage contract, bad credentials,
and a hub whose recordings land in the bucket and play back through the API."""

from __future__ import annotations

import asyncio
import hashlib
import io
import time
from datetime import UTC, datetime
from pathlib import Path

import av
import pytest

from hub.core.errors import NotFound, StorageError, StorageKeyTaken
from hub.core.storage import segment_key
from plugins.s3_storage import S3Config, S3Storage
from tests.conftest import demo_hub_yaml


def backend(server, tmp_path: Path, **kw) -> S3Storage:  # noqa: ANN001, ANN003
    fields = {"endpoint": server.url, "bucket": server.bucket, "access_key": server.access_key,
              "secret_key": server.secret_key, "prefix": "city/"} | kw
    return S3Storage(S3Config(**fields), tmp_path)


async def read_all(storage: S3Storage, key: str) -> bytes:
    return b"".join([chunk async for chunk in storage.read(key, chunk_size=1000)])


async def test_the_storage_contract_on_a_real_s3_server(seaweedfs, tmp_path: Path) -> None:
    storage = backend(seaweedfs, tmp_path)
    try:
        key = segment_key("dahua:7M0ABC:3", "main", datetime(2026, 11, 22, 10, 15, tzinfo=UTC))
        spool = tmp_path / "seg.mp4"
        payload = bytes(range(256)) * 4000  # 1 MB
        spool.write_bytes(payload)
        assert await storage.put_file(key, spool) == len(payload)
        assert not spool.exists(), "the spool file is handed over"
        assert await storage.exists(key)
        assert hashlib.sha256(await read_all(storage, key)).digest() == hashlib.sha256(payload).digest()
        spool.write_bytes(b"another segment with the same start")
        with pytest.raises(StorageKeyTaken):
            await storage.put_file(key, spool)
        assert spool.exists(), "a refused write loses nothing"
        assert hashlib.sha256(await read_all(storage, key)).digest() == hashlib.sha256(payload).digest()
        await storage.put_bytes("shared/reports/a.jpg", b"old")
        with pytest.raises(StorageKeyTaken):
            await storage.put_bytes("shared/reports/a.jpg", b"new")
        await storage.put_bytes("shared/reports/a.jpg", b"new", replace=True)
        assert await read_all(storage, "shared/reports/a.jpg") == b"new"
        assert (await storage.usage()).used_bytes == len(payload) + 3
        await storage.delete(key)
        await storage.delete(key)  # missing: not an error
        assert not await storage.exists(key)
        with pytest.raises(NotFound):
            await read_all(storage, key)
        with pytest.raises(StorageError):
            await storage.put_bytes("../escape", b"x")
        other = backend(seaweedfs, tmp_path, prefix="")
        assert await other.exists("city/shared/reports/a.jpg"), "objects live under the prefix"
        await other.close()
    finally:
        await storage.close()


async def test_a_wrong_secret_is_refused_without_showing_it(seaweedfs, tmp_path: Path) -> None:
    storage = backend(seaweedfs, tmp_path, secret_key="not-the-secret-key")
    try:
        with pytest.raises(StorageError) as err:
            await storage.put_bytes("a/b.jpg", b"x")
    finally:
        await storage.close()
    message = str(err.value)
    assert "SignatureDoesNotMatch" in message or "AccessDenied" in message or "InvalidAccessKeyId" in message
    assert seaweedfs.url in message and "not-the-secret-key" not in message


async def test_a_missing_bucket_is_created_when_asked(seaweedfs, tmp_path: Path) -> None:
    storage = backend(seaweedfs, tmp_path, bucket="rekaman-baru", create_bucket=True)
    try:
        await storage.put_bytes("a/b.txt", b"ok")
        assert await read_all(storage, "a/b.txt") == b"ok"
    finally:
        await storage.close()


def test_a_hub_records_into_s3_and_plays_back_through_the_api(seaweedfs, hub_factory, tmp_path: Path) -> None:  # noqa: ANN001
    extra = (f"storage:\n  type: s3\n  endpoint: {seaweedfs.url}\n  bucket: {seaweedfs.bucket}\n"
             f"  access_key: {seaweedfs.access_key}\n  secret_key: ${{S3_SECRET}}\n  prefix: semarang/\n")
    hub = hub_factory(demo_hub_yaml(extra=extra), env={"S3_SECRET": seaweedfs.secret_key})
    with hub.client() as client:
        cam = client.get("/api/v1/cameras").json()[0]["id"]
        deadline = time.monotonic() + 60
        segments: list = []
        while time.monotonic() < deadline and len(segments) < 2:
            segments = client.get(f"/api/v1/cameras/{cam}/recordings").json()
            time.sleep(0.5)
        assert len(segments) >= 2
        first = segments[0]
        body = client.get(first["download_url"]).content
    hub.stop()
    assert hashlib.sha256(body).hexdigest() == first["sha256"] and len(body) == first["size"]
    with av.open(io.BytesIO(body)) as container:
        assert sum(1 for _ in container.decode(video=0)) > 5
    assert not list((hub.data_dir / "storage").rglob("*.mp4")), "no segment is kept on the local disk"

    async def in_bucket() -> int:
        storage = backend(seaweedfs, tmp_path, prefix="semarang/")
        try:
            return (await storage.usage()).used_bytes
        finally:
            await storage.close()

    assert asyncio.run(in_bucket()) >= sum(s["size"] for s in segments)
    assert seaweedfs.secret_key not in hub.log()
