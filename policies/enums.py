"""The domain's vocabulary as enums, shared by rules, models and the schema.

These are plain value types with no behaviour, so ``models`` imports them too: one
definition of "what states a hold can be in" keeps the database, the rules and the API in
step.
"""

from __future__ import annotations

from enum import StrEnum


class LibraryKind(StrEnum):
    """What sort of service point a library is."""

    CENTRAL = "CENTRAL"
    BRANCH = "BRANCH"
    BRANCH_ROOM = "BRANCH_ROOM"  # 分室
    BOOKMOBILE = "BOOKMOBILE"  # 移動図書館


class CardKind(StrEnum):
    """Who the card was issued to."""

    CITY = "CITY"
    WIDE_AREA = "WIDE_AREA"  # 広域利用カード


class PasswordState(StrEnum):
    """Where a patron's web password stands (AUTH-1, AUTH-5, AUTH-9)."""

    NONE = "NONE"
    TEMPORARY = "TEMPORARY"
    ACTIVE = "ACTIVE"
    INVALIDATED = "INVALIDATED"


class ContactMethod(StrEnum):
    """How the library tells a patron that a hold is ready (PREF-1)."""

    PHONE = "PHONE"
    EMAIL = "EMAIL"
    NONE = "NONE"


class MaterialType(StrEnum):
    """The kind of material a bibliographic record describes."""

    BOOK = "BOOK"
    MAGAZINE = "MAGAZINE"
    CD = "CD"
    CASSETTE = "CASSETTE"
    VIDEO = "VIDEO"
    ART_REPRODUCTION = "ART_REPRODUCTION"  # 複製画
    EBOOK = "EBOOK"


class CopyStatus(StrEnum):
    """Where a physical copy is."""

    AVAILABLE = "AVAILABLE"  # on the shelf
    ON_LOAN = "ON_LOAN"
    IN_TRANSIT = "IN_TRANSIT"
    ON_HOLD_SHELF = "ON_HOLD_SHELF"  # trapped for a ready hold
    MISSING = "MISSING"
    WITHDRAWN = "WITHDRAWN"


class HoldState(StrEnum):
    """The life of a hold (HOLD-6)."""

    WAITING = "WAITING"  # 確保待ち
    IN_TRANSIT = "IN_TRANSIT"  # 回送中
    READY = "READY"  # 貸出可能
    COLLECTED = "COLLECTED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class StaffRole(StrEnum):
    """What a staff account may do (STAFF-1)."""

    COUNTER = "COUNTER"  # check out/in, pull list, transit, hand over holds
    PATRONS = "PATRONS"  # register patrons, passwords, cards, applications
    CALENDAR = "CALENDAR"  # keep the library calendar
    MAIL = "MAIL"  # read the mail log
    CATALOGUE = "CATALOGUE"  # edit and delete titles
    OVERRIDE = "OVERRIDE"  # lend or renew past a warning, with a reason (STAFF-2, STAFF-4)
    ADMIN = "ADMIN"  # everything


class OutboxState(StrEnum):
    """Delivery state of one queued mail (MAIL-8)."""

    PENDING = "PENDING"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"  # delivery refused for good, or retried to the limit
    SKIPPED = "SKIPPED"  # nothing left to send at send time (collected, returned, no address)


class ApplicationKind(StrEnum):
    """What the public can apply for on the web (APP-1), and the password application that
    becomes a staff application (AUTH-3), which the public cannot file directly."""

    NEW_REGISTRATION = "NEW_REGISTRATION"  # 新規登録
    CARD_REISSUE = "CARD_REISSUE"  # 再発行
    DETAILS_CHANGE = "DETAILS_CHANGE"  # 記載事項変更
    CARD_RENEWAL = "CARD_RENEWAL"  # 有効期限の更新
    CARD_NUMBER_NOTICE = "CARD_NUMBER_NOTICE"  # 利用者番号の通知
    # パスワード新規発行: a web application (AUTH-3) with no address on file; handed over
    # at the counter.
    PASSWORD_ISSUE = "PASSWORD_ISSUE"


class ApplicationState(StrEnum):
    """Where a web application stands in the staff queue."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class EbookHoldState(StrEnum):
    """An e-book hold: waiting for a licence, secured (READY, kept a week), or closed."""

    WAITING = "WAITING"
    READY = "READY"
    COLLECTED = "COLLECTED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class SearchSort(StrEnum):
    """The order of search results."""

    RELEVANCE = "RELEVANCE"  # titles holding every word in the title first, newest added first
    NEWEST = "NEWEST"  # publication year, latest first
    TITLE = "TITLE"  # by title; Japanese titles by their reading
