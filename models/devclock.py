"""The development clock's shift, shared by the API and the workers (never in production)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class DevClockRow(Base):
    """One row: how far the development clock runs ahead of (or behind) the real one.

    In the database, not in a process, so every API process and every worker sees the same
    "now" and a hold expires in the scan exactly when the API says it will.
    """

    __tablename__ = "dev_clock"

    id: Mapped[int] = mapped_column(primary_key=True)
    offset_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    set_at: Mapped[datetime]
