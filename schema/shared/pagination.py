"""Relay-style connections: ``edges { cursor node }``, ``pageInfo`` and ``totalCount``."""

from __future__ import annotations

import base64
import binascii
from typing import Generic, TypeVar

import strawberry

from policies.errors import ErrorCode
from resolvers.shared.context import Locale
from schema.shared.errors import HondanaError

T = TypeVar("T")
MAX_PAGE = 100
MAX_KEY = 2**31 - 1  # keys are INTEGER primary keys


@strawberry.type(description="Where a page stands in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether a page follows `endCursor`.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


@strawberry.type(description="One item of a page and the cursor that points at it.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Pass as `after` to continue after this item.")
    node: T = strawberry.field(description="The item.")


def encode_cursor(key: int) -> str:
    """An opaque cursor for a keyset position."""
    return base64.urlsafe_b64encode(f"k:{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, locale: Locale) -> int | None:
    """The keyset position in ``cursor``; a malformed cursor is ``INVALID_INPUT``."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    prefix, _, number = raw.partition(":")
    # ASCII digits only: str.isdigit() takes "²" and "١٢", which int() refuses or reads.
    valid = number.isascii() and number.isdigit() and len(number) <= 10
    if len(cursor) > 64 or prefix != "k" or not valid or int(number) > MAX_KEY:
        raise HondanaError(ErrorCode.INVALID_INPUT, locale, field="after")
    return int(number)


def check_first(first: int, locale: Locale) -> None:
    """``first`` must be 1..100 on every connection (``PAGE_SIZE_OUT_OF_RANGE``)."""
    if not 1 <= first <= MAX_PAGE:
        raise HondanaError(ErrorCode.PAGE_SIZE_OUT_OF_RANGE, locale, field="first", max=MAX_PAGE)
