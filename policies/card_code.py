"""The digital card (スマホde貸出): a signed code for the app to show as a barcode.

A code names the card, the minute it was made for and a random nonce, signed with the
server's key (HMAC-SHA256). It is good for the minute it was made in and the next one (so
a code shown at 10:00:59 still scans at 10:01:05), and only once: the resolver records
each code it accepts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from policies.errors import ErrorCode, RuleViolation

ROTATE_SECONDS = 60
PREFIX = "HD1"


def _window(now: datetime) -> int:
    return int(now.timestamp()) // ROTATE_SECONDS


def _sign(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()[:12]
    return base64.b32encode(digest).decode().rstrip("=")


def make_code(card_number: str, now: datetime, key: bytes) -> str:
    """A fresh code for ``card_number``: ``HD1.<card>.<minute>.<nonce>.<signature>``."""
    body = f"{PREFIX}.{card_number}.{_window(now)}.{secrets.token_hex(4)}"
    return f"{body}.{_sign(key, body)}"


def expires_at(now: datetime) -> datetime:
    """When a code made now stops scanning."""
    end = (_window(now) + 2) * ROTATE_SECONDS
    return datetime.fromtimestamp(end, tz=now.tzinfo)


def read_code(code: str, now: datetime, key: bytes) -> str:
    """The card number in a genuine, current code; ``CARD_CODE_INVALID`` for anything forged
    or malformed, ``CARD_CODE_EXPIRED`` for a genuine code past its time."""
    parts = code.strip().split(".")
    if len(code) > 120 or len(parts) != 5 or parts[0] != PREFIX or not parts[2].isdigit():
        raise RuleViolation(ErrorCode.CARD_CODE_INVALID, field="cardCode")
    body = ".".join(parts[:4])
    if not hmac.compare_digest(_sign(key, body), parts[4]):
        raise RuleViolation(ErrorCode.CARD_CODE_INVALID, field="cardCode")
    age = _window(now) - int(parts[2])
    if not 0 <= age <= 1:
        raise RuleViolation(ErrorCode.CARD_CODE_EXPIRED, field="cardCode")
    return parts[1]
