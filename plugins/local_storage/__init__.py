"""Local-filesystem storage backend (``storage: {type: local_storage}``), the default.

Objects live under ``<data_dir>/storage`` (or ``path``) at their key, laid
out by camera and date.  Every write goes to a temporary file in the target
folder, is fsynced, then linked to the final name (renamed over it only when
the caller asks to replace), so a reader or a power cut sees the whole
object or none of it, and an object is never replaced by accident.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

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
from plugins.local_storage.config import LocalStorageConfig

__all__ = ["LocalStorageConfig", "LocalStorage"]


class LocalStorage(StorageBackend):
    def __init__(self, config: LocalStorageConfig, data_dir: Path) -> None:
        super().__init__(config, data_dir)
        root = config.path or data_dir / "storage"
        self.root = (root if root.is_absolute() else data_dir / root).resolve()

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _store(self, key: str, replace: bool, fill: Callable[[Path], object]) -> Path:
        """``fill`` a temporary file beside the object's place, fsync it, then give it the
        object's name: a hard link, which fails when the name is taken (a rename would
        replace it), or a rename where the caller asked to replace.  Returns the path."""
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.parent / f".{dest.name}.{uuid.uuid4().hex}.tmp"
        try:
            fill(tmp)
            if self.config.fsync:
                with tmp.open("rb") as f:
                    os.fsync(f.fileno())
            if replace:
                os.replace(tmp, dest)
            else:
                try:
                    os.link(tmp, dest)
                except FileExistsError:
                    raise StorageKeyTaken(f"local storage: an object is stored under {key} already") from None
            if self.config.fsync:
                fd = os.open(dest.parent, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except OSError as err:
            raise StorageError(f"local storage: cannot store {key}: {err.strerror}") from err
        finally:
            tmp.unlink(missing_ok=True)
        return dest

    def _put_file(self, key: str, path: Path, replace: bool) -> int:
        # A hard link, not a move: the spool file stays until the object is in place, so a
        # refused or failed write loses nothing (same filesystem: no copy either).
        dest = self._store(key, replace, lambda tmp: _link_or_copy(path, tmp))
        path.unlink()
        return dest.stat().st_size

    async def put_file(self, key: str, path: Path, *, replace: bool = False) -> int:
        return await asyncio.to_thread(self._put_file, key, path, replace)

    async def put_bytes(self, key: str, data: bytes, *, replace: bool = False) -> None:
        await asyncio.to_thread(self._store, key, replace, lambda tmp: tmp.write_bytes(data))

    async def read(self, key: str, chunk_size: int = 256 * 1024) -> AsyncIterator[bytes]:
        try:
            f = await asyncio.to_thread(self._path(key).open, "rb")
        except FileNotFoundError:
            raise NotFound(f"no stored object {key}") from None
        try:
            while chunk := await asyncio.to_thread(f.read, chunk_size):
                yield chunk
        finally:
            f.close()

    def _delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        parent = path.parent
        while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, key)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    def _usage(self) -> StorageUsage:
        used = sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file()) if self.root.exists() else 0
        self.root.mkdir(parents=True, exist_ok=True)
        disk = shutil.disk_usage(self.root)
        return StorageUsage(used_bytes=used, free_bytes=disk.free, total_bytes=disk.total)

    async def usage(self) -> StorageUsage:
        return await asyncio.to_thread(self._usage)

    def _free_space(self) -> tuple[int, int]:
        self.root.mkdir(parents=True, exist_ok=True)
        disk = shutil.disk_usage(self.root)
        return disk.free, disk.total

    async def free_space(self) -> tuple[int, int] | None:
        return await asyncio.to_thread(self._free_space)

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another filesystem
        shutil.copyfile(source, target)


@hookimpl
def register_storage_backends(register: RegisterStorageBackend) -> None:
    register(LocalStorageConfig, LocalStorage)
