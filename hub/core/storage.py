"""Storage backends: where recordings, snapshots and exports are kept.

A backend stores opaque objects under string keys such as
``recordings/demo_ab12_1/2026-11-22/101500-main.mp4``.  Writes are atomic:
a reader sees either the whole object or none of it.  The local filesystem
backend is the default; S3-compatible storage is another plugin.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from hub.core.models import HubModel


class StorageConfig(HubModel):
    """Fields every storage backend's config has; plugins add their own."""

    type: str = Field(description="Storage backend type, as registered by a plugin.")
    #: Older names of this type that hub.yaml may still use; the hub reads them as ``type``.
    type_aliases: ClassVar[tuple[str, ...]] = ()


@dataclass(frozen=True)
class StorageUsage:
    used_bytes: int
    free_bytes: int | None = None
    total_bytes: int | None = None


_KEY = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


def check_key(key: str) -> str:
    """Refuse keys that could escape the store (``..``, absolute, odd characters)."""
    from hub.core.errors import StorageError

    if not _KEY.match(key) or any(part in (".", "..") for part in key.split("/")):
        raise StorageError(f"invalid storage key {key!r}")
    return key


def segment_key(camera_id: str, role: str, start: datetime, taken: int = 0, epoch: int | None = None) -> str:
    """Key of a recording segment: laid out by camera, then UTC date.  ``taken``
    counts the keys of that start already stored (another recorder of the camera,
    a clock that went back): each one more adds a suffix instead of replacing.
    ``epoch`` (several nodes: the camera's owner's epoch) is in the key too, so two
    nodes that both believe they own a camera never write the same key."""
    cam = camera_id.replace(":", "_")
    suffix = (f"-e{epoch}" if epoch is not None else "") + (f"-{taken}" if taken else "")
    return f"recordings/{cam}/{start:%Y-%m-%d}/{start:%H%M%S.%f}-{role}{suffix}.mp4"


class StorageBackend(ABC):
    """Interface every storage backend implements.  All methods are async."""

    def __init__(self, config: Any, data_dir: Path) -> None:
        self.config = config
        self.data_dir = data_dir

    @abstractmethod
    async def put_file(self, key: str, path: Path, *, replace: bool = False) -> int:
        """Store the local file ``path`` under ``key`` atomically and remove
        ``path``; return the stored size in bytes.  An object already under
        ``key`` raises ``StorageKeyTaken`` (and ``path`` stays) unless
        ``replace``: recordings are written once, and a check then a write
        would race, so the refusal must be the write's own."""

    @abstractmethod
    async def put_bytes(self, key: str, data: bytes, *, replace: bool = False) -> None:
        """Store ``data`` under ``key`` atomically; ``StorageKeyTaken`` as ``put_file``."""

    @abstractmethod
    def read(self, key: str, chunk_size: int = 256 * 1024) -> AsyncIterator[bytes]:
        """Yield the object's bytes; raise ``NotFound`` when it is missing."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the object; missing objects are not an error."""

    @abstractmethod
    async def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""

    @abstractmethod
    async def usage(self) -> StorageUsage:
        """Bytes used by the hub's objects, and free space where known."""

    def local_path(self, key: str) -> Path | None:
        """A local file holding the object, when the backend has one."""
        return None

    async def free_space(self) -> tuple[int, int] | None:
        """Free and total bytes of the volume the objects live on, when the backend has
        one (cheap: called every minute for disk-pressure retention); None otherwise."""
        return None

    async def close(self) -> None:
        """Release clients; called once when the hub stops."""
