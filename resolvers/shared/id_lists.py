"""``column IN (a list of ids)`` sent as one value on PostgreSQL (an array). A search's
reads name hundreds or thousands of ids at once; as an ``IN`` list each id is its own
bound parameter, rendered and cast one by one in Python on every execution (at a million
titles, most of a common word's search time went there). SQLite binds them in C, cheaply:
there it stays an ``IN`` list (tried as a JSON array and as literals, both slower)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

SQLITE_MAX_VALUES = 30_000


def among(db: AsyncSession, column: Any, ids: Iterable[int]) -> ColumnElement[bool]:
    """``column`` is one of ``ids``, for the database ``db`` is bound to."""
    values = [int(i) for i in ids]
    if db.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(BigInteger)))  # type: ignore[no-any-return]
    # SQLite: an IN list, whose values the driver binds in C (no cast to render), and the
    # statement's text stays the same for SQLite's statement cache. At most
    # ``SQLITE_MAX_VALUES`` values: SQLite's own limit on bound values is 32,766.
    return column.in_(values)  # type: ignore[no-any-return]
