"""SQLAlchemy 2 typed models, one module per domain, and the engine/session factory.

Importing this package registers every table on :data:`Base.metadata` (Alembic and the
tests rely on that).
"""

from models.accounts import (
    LoginThrottleRow,
    Patron,
    Session,
    StaffAudit,
    StaffUser,
    UsedCardCode,
)
from models.applications import Application
from models.base import Base
from models.catalogue import Copy, Record
from models.circulation import BasketEntry, Hold, Loan
from models.devclock import DevClockRow
from models.ebooks import EbookHold, EbookLoan, EbookTitle
from models.libraries import CalendarDay, Library
from models.mail import OutboxMessage, SweepRun
from models.search import RecordSearch, SearchPosting
from models.shelves import Bookshelf, BookshelfEntry

__all__ = [
    "Application",
    "Base",
    "BasketEntry",
    "Bookshelf",
    "BookshelfEntry",
    "CalendarDay",
    "Copy",
    "DevClockRow",
    "EbookHold",
    "EbookLoan",
    "EbookTitle",
    "Hold",
    "Library",
    "Loan",
    "LoginThrottleRow",
    "OutboxMessage",
    "Patron",
    "Record",
    "RecordSearch",
    "SearchPosting",
    "Session",
    "StaffAudit",
    "StaffUser",
    "SweepRun",
    "UsedCardCode",
]
