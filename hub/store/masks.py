"""The privacy masks set over the API, per camera (hub.yaml's are in hub.yaml; ``hub.masks`` uses both)."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.database import Base


class MaskRow(Base):
    __tablename__ = "privacy_masks"
    camera_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    masks: Mapped[str] = mapped_column(Text)  # JSON list of PrivacyMask
