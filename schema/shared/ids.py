"""Opaque global ids (``base64url("Record:42")``), so an id names its type and can't be
mistaken for another kind of object's id."""

from __future__ import annotations

import base64
import binascii

import strawberry

MAX_ID_LENGTH = 100
# Primary keys are INTEGER columns: PostgreSQL refuses a larger number as a query argument
# (SQLite would just find nothing), so an id naming one names no row on either database.
MAX_PK = 2**31 - 1


def encode(type_name: str, pk: int) -> strawberry.ID:
    """The global id of ``type_name`` row ``pk``."""
    raw = f"{type_name}:{pk}".encode()
    return strawberry.ID(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def pk(type_name: str, global_id: str) -> int:
    """The primary key ``global_id`` names, or 0 (never a row) when it names no
    ``type_name``: the caller's own lookup then answers exactly as for a missing row, so a
    malformed id, an id of another kind and a deleted row get one answer (the convention in
    docs/architecture.md)."""
    return decode(type_name, global_id) or 0


def decode(type_name: str, global_id: str) -> int | None:
    """The primary key inside ``global_id`` if it names a ``type_name``, else ``None``.

    Callers answer ``None`` with ``NOT_FOUND``: a malformed id, a number beyond any primary
    key and a missing row look alike.
    """
    if not global_id or len(global_id) > MAX_ID_LENGTH:
        return None
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    prefix, _, number = raw.partition(":")
    if prefix != type_name or not number.isascii() or not number.isdigit() or len(number) > 18:
        return None
    pk = int(number)
    return pk if pk <= MAX_PK else None
