"""Error codes (the contract every front end codes against) and the rule violation type."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Every error code the API can answer with. Front ends branch on these, never on messages."""

    # Request and transport
    BAD_REQUEST = "BAD_REQUEST"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    CSRF_REQUIRED = "CSRF_REQUIRED"
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_QUERY = "INVALID_QUERY"
    TRUSTED_DOCUMENT_REQUIRED = "TRUSTED_DOCUMENT_REQUIRED"
    UNKNOWN_DOCUMENT = "UNKNOWN_DOCUMENT"
    INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
    ONE_CREDENTIAL_ATTEMPT = "ONE_CREDENTIAL_ATTEMPT"
    BATCHING_DISABLED = "BATCHING_DISABLED"
    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
    TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    PAGE_SIZE_OUT_OF_RANGE = "PAGE_SIZE_OUT_OF_RANGE"
    EXECUTION_TIMEOUT = "EXECUTION_TIMEOUT"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    NOT_FOUND = "NOT_FOUND"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    MAINTENANCE = "MAINTENANCE"
    # Accounts and sessions
    UNAUTHENTICATED = "UNAUTHENTICATED"
    SESSION_EXPIRED = "SESSION_EXPIRED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    TEMPORARY_PASSWORD = "TEMPORARY_PASSWORD"
    INVALID_PASSWORD = "INVALID_PASSWORD"
    WRONG_CURRENT_PASSWORD = "WRONG_CURRENT_PASSWORD"
    FORBIDDEN = "FORBIDDEN"
    TOO_YOUNG = "TOO_YOUNG"
    GUARDIAN_CONSENT_REQUIRED = "GUARDIAN_CONSENT_REQUIRED"
    COUNTER_ONLY = "COUNTER_ONLY"
    CARD_CODE_INVALID = "CARD_CODE_INVALID"
    CARD_CODE_EXPIRED = "CARD_CODE_EXPIRED"
    CARD_CODE_USED = "CARD_CODE_USED"
    ALREADY_DECIDED = "ALREADY_DECIDED"
    EBOOK_LOAN_LIMIT = "EBOOK_LOAN_LIMIT"
    EBOOK_HOLD_LIMIT = "EBOOK_HOLD_LIMIT"
    EBOOK_UNAVAILABLE = "EBOOK_UNAVAILABLE"
    EBOOK_AVAILABLE = "EBOOK_AVAILABLE"
    RATE_LIMITED = "RATE_LIMITED"
    # Card state
    CARD_EXPIRED = "CARD_EXPIRED"
    OVERDUE_BLOCK = "OVERDUE_BLOCK"
    # Preferences and bookshelves
    EMAIL_REQUIRED = "EMAIL_REQUIRED"
    INVALID_EMAIL = "INVALID_EMAIL"
    SHELF_LIMIT = "SHELF_LIMIT"
    SHELF_FULL = "SHELF_FULL"
    NAME_TAKEN = "NAME_TAKEN"
    # Basket and holds
    BASKET_FULL = "BASKET_FULL"
    EBOOK_NOT_ALLOWED = "EBOOK_NOT_ALLOWED"
    NOT_HOLDABLE = "NOT_HOLDABLE"
    HOLD_LIMIT = "HOLD_LIMIT"
    ALREADY_HELD = "ALREADY_HELD"
    ALREADY_ON_LOAN = "ALREADY_ON_LOAN"
    HOLD_NOT_MODIFIABLE = "HOLD_NOT_MODIFIABLE"
    INVALID_PICKUP_LIBRARY = "INVALID_PICKUP_LIBRARY"
    DUPLICATE_ID = "DUPLICATE_ID"
    TOO_MANY_ITEMS = "TOO_MANY_ITEMS"
    # Counter (staff)
    LOAN_LIMIT = "LOAN_LIMIT"
    NOT_LOANABLE = "NOT_LOANABLE"
    COPY_UNAVAILABLE = "COPY_UNAVAILABLE"
    HELD_FOR_ANOTHER = "HELD_FOR_ANOTHER"
    NOT_ON_LOAN = "NOT_ON_LOAN"
    NOT_IN_TRANSIT = "NOT_IN_TRANSIT"
    NO_WAITING_HOLD = "NO_WAITING_HOLD"
    # Renewals
    HELD_BY_OTHERS = "HELD_BY_OTHERS"
    OVERDUE = "OVERDUE"
    RENEWAL_LIMIT = "RENEWAL_LIMIT"
    BOOKMOBILE = "BOOKMOBILE"
    ART_REPRODUCTION = "ART_REPRODUCTION"
    INTER_LIBRARY = "INTER_LIBRARY"
    # Cataloguing (staff)
    RECORD_IN_USE = "RECORD_IN_USE"


class RuleViolation(Exception):
    """A rule said no.

    ``code`` is the API error code, ``rule`` the RULES.md id that said no (``None`` for
    generic input checks) and ``params`` whatever the message needs (a reason, a date).
    """

    def __init__(
        self, code: ErrorCode, rule: str | None = None, field: str | None = None, **params: Any
    ) -> None:
        super().__init__(code.value)
        self.code = code
        self.rule = rule
        self.field = field
        self.params = params

    def __repr__(self) -> str:
        return f"RuleViolation({self.code.value!r}, rule={self.rule!r}, params={self.params!r})"
