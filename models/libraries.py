"""Libraries (service points) and their calendar of opening days (SVC-2)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, enum_column
from policies.enums import LibraryKind


class Library(Base):
    """A service point: the central library, a branch, a branch room or the bookmobile.

    The calendar is a weekly pattern (``closed_weekdays``, ISO numbers 1=Mon..7=Sun) plus
    dated exceptions in :class:`CalendarDay`, as Koha and Evergreen keep it.
    """

    __tablename__ = "libraries"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    kind: Mapped[LibraryKind] = mapped_column(enum_column(LibraryKind))
    takes_holds: Mapped[bool] = mapped_column(Boolean, default=True)
    closed_weekdays: Mapped[str] = mapped_column(String(13), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class CalendarDay(Base):
    """An exception to a library's weekly pattern: a holiday, or an extra opening day."""

    __tablename__ = "calendar_days"
    __table_args__ = (UniqueConstraint("library_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    is_open: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(100))
