"""S3-compatible object storage (``storage: {type: s3_storage}``) with aiobotocore.

For MinIO, SeaweedFS, Ceph RGW, Wasabi or AWS S3.  Objects are stored under
``prefix`` + key in one bucket.  A ``PUT`` is atomic in S3 (a reader sees
the whole object or none), which is what the storage contract asks for, and
conditional (``If-None-Match: *``) unless the caller asks to replace, so an
object is never replaced by accident (AWS S3 since 2024-08, MinIO,
SeaweedFS and Ceph RGW honour it).
Errors name the endpoint, bucket and key, never the secret key.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from hub import (
    NotFound,
    RegisterStorageBackend,
    StorageBackend,
    StorageError,
    StorageKeyTaken,
    StorageUsage,
    check_key,
    hookimpl,
)
from plugins.s3_storage.config import S3Config

__all__ = ["S3Config", "S3Storage"]

_MISSING = {"404", "NoSuchKey", "NotFound"}
_TAKEN = {"412", "PreconditionFailed"}


class S3Storage(StorageBackend):
    config: S3Config

    def __init__(self, config: S3Config, data_dir: Path) -> None:
        super().__init__(config, data_dir)
        self.where = f"{config.endpoint.rstrip('/')}/{config.bucket}"
        self._client: Any = None
        self._stack: Any = None
        self._lock = asyncio.Lock()

    async def _s3(self) -> Any:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                import contextlib

                from aiobotocore.session import get_session
                from botocore.config import Config

                cfg = self.config
                stack = contextlib.AsyncExitStack()
                client = await stack.enter_async_context(get_session().create_client(
                    "s3", endpoint_url=cfg.endpoint, region_name=cfg.region, aws_access_key_id=cfg.access_key,
                    aws_secret_access_key=cfg.secret_key.get_secret_value(),
                    config=Config(s3={"addressing_style": "path" if cfg.path_style else "virtual"},
                                  connect_timeout=cfg.timeout, read_timeout=cfg.timeout,
                                  retries={"max_attempts": 3, "mode": "standard"}),
                ))
                self._stack, self._client = stack, client
                if cfg.create_bucket:
                    await self._ensure_bucket(client)
        return self._client

    async def _ensure_bucket(self, client: Any) -> None:
        try:
            await client.head_bucket(Bucket=self.config.bucket)
        except Exception as err:
            if _code(err) not in _MISSING:
                raise self._error("checking the bucket", None, err) from None
            try:
                await client.create_bucket(Bucket=self.config.bucket)
            except Exception as err2:
                raise self._error("creating the bucket", None, err2) from None

    def _key(self, key: str) -> str:
        return self.config.prefix + check_key(key)

    def _error(self, doing: str, key: str | None, err: BaseException) -> StorageError:
        code = _code(err) or type(err).__name__
        return StorageError(f"s3 {self.where}: {doing}{' ' + key if key else ''} failed ({code})")

    async def put_file(self, key: str, path: Path, *, replace: bool = False) -> int:
        data = await asyncio.to_thread(path.read_bytes)
        await self.put_bytes(key, data, replace=replace)
        await asyncio.to_thread(path.unlink, missing_ok=True)
        return len(data)

    async def put_bytes(self, key: str, data: bytes, *, replace: bool = False) -> None:
        client = await self._s3()
        # A conditional write (If-None-Match: *) is refused by the server when the key
        # exists, so two writers cannot both think they stored the object.
        condition = {} if replace else {"IfNoneMatch": "*"}
        try:
            await client.put_object(Bucket=self.config.bucket, Key=self._key(key), Body=data, **condition)
        except Exception as err:
            if _code(err) in _TAKEN:
                raise StorageKeyTaken(f"s3 {self.where}: an object is stored under {key} already") from None
            raise self._error("storing", key, err) from None

    async def read(self, key: str, chunk_size: int = 256 * 1024) -> AsyncIterator[bytes]:
        client = await self._s3()
        try:
            answer = await client.get_object(Bucket=self.config.bucket, Key=self._key(key))
        except Exception as err:
            if _code(err) in _MISSING:
                raise NotFound(f"storage: no object {key}") from None
            raise self._error("reading", key, err) from None
        async with answer["Body"] as body:
            while chunk := await body.read(chunk_size):
                yield chunk

    async def delete(self, key: str) -> None:
        client = await self._s3()
        try:
            await client.delete_object(Bucket=self.config.bucket, Key=self._key(key))
        except Exception as err:
            if _code(err) not in _MISSING:
                raise self._error("deleting", key, err) from None

    async def exists(self, key: str) -> bool:
        client = await self._s3()
        try:
            await client.head_object(Bucket=self.config.bucket, Key=self._key(key))
        except Exception as err:
            if _code(err) in _MISSING:
                return False
            raise self._error("looking up", key, err) from None
        return True

    async def usage(self) -> StorageUsage:
        """Bytes under the prefix (a listing: fine for a dashboard, not for every second)."""
        client = await self._s3()
        used = 0
        try:
            paginator = client.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=self.config.bucket, Prefix=self.config.prefix):
                used += sum(item.get("Size", 0) for item in page.get("Contents", []))
        except Exception as err:
            raise self._error("listing", None, err) from None
        return StorageUsage(used_bytes=used)

    async def close(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = self._client = None


def _code(err: BaseException) -> str:
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


@hookimpl
def register_storage_backends(register: RegisterStorageBackend) -> None:
    register(S3Config, S3Storage)
