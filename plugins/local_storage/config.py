"""hub.yaml options of local-disk storage (``storage: {type: local_storage}``, the default)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from hub import StorageConfig


class LocalStorageConfig(StorageConfig):
    """Keep recordings on a local disk."""

    type: Literal["local_storage"] = "local_storage"
    type_aliases = ("local",)
    path: Path | None = Field(default=None, description="Folder for stored objects; default '<data_dir>/storage'.")
    fsync: bool = Field(default=True, description="fsync each object before it becomes visible (power-cut safe).")
