"""Bibliographic records and the physical copies that carry them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, enum_column
from policies.enums import CopyStatus, MaterialType


class Record(Base):
    """A title (bibliographic record), keyed for re-import by its MARC control number.

    ``title`` is the display form (Japanese script when the record has it); the
    ``*_reading`` columns keep the romanisation or kana reading so that either finds it.
    """

    __tablename__ = "records"

    id: Mapped[int] = mapped_column(primary_key=True)
    control_number: Mapped[str] = mapped_column(String(50), unique=True)
    title: Mapped[str] = mapped_column(Text)
    title_reading: Mapped[str | None] = mapped_column(Text)
    responsibility: Mapped[str | None] = mapped_column(Text)
    responsibility_reading: Mapped[str | None] = mapped_column(Text)
    publisher: Mapped[str | None] = mapped_column(Text)
    publisher_reading: Mapped[str | None] = mapped_column(Text)
    # Katakana readings (ヨミ), worked out on import and edit (policies.reading).
    title_kana: Mapped[str | None] = mapped_column(Text)
    responsibility_kana: Mapped[str | None] = mapped_column(Text)
    publisher_kana: Mapped[str | None] = mapped_column(Text)
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    isbn: Mapped[str | None] = mapped_column(String(13), index=True)
    subject_class: Mapped[str | None] = mapped_column(String(50))
    subjects: Mapped[str | None] = mapped_column(Text)  # " | "-joined headings
    material_type: Mapped[MaterialType] = mapped_column(enum_column(MaterialType))
    series: Mapped[str | None] = mapped_column(Text)
    volume: Mapped[str | None] = mapped_column(String(50))
    is_comic: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class Copy(Base):
    """One physical item of a record, owned by a library."""

    __tablename__ = "copies"
    __table_args__ = (Index("ix_copies_record_library", "record_id", "library_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    barcode: Mapped[str] = mapped_column(String(32), unique=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    # Where the copy is now; differs from ``library_id`` while it travels (IN_TRANSIT).
    current_library_id: Mapped[int | None] = mapped_column(ForeignKey("libraries.id"))
    status: Mapped[CopyStatus] = mapped_column(
        enum_column(CopyStatus), default=CopyStatus.AVAILABLE, index=True
    )
    reference_only: Mapped[bool] = mapped_column(Boolean, default=False)  # 禁帯出
    from_other_city: Mapped[bool] = mapped_column(Boolean, default=False)  # HOLD-11, LOAN-3
    shelf_mark: Mapped[str | None] = mapped_column(String(50))  # the call number (請求記号)
    shelf_location: Mapped[str | None] = mapped_column(String(50))  # 配架場所 (STAFF-5)
    created_at: Mapped[datetime]
