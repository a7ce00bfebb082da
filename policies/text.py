"""Text from requests that meets the database.

PostgreSQL ``text`` cannot hold NUL (U+0000): a NUL bound to a query fails inside the driver.
No stored key (card number, barcode, staff username, classification) can contain one, so a
lookup by a key with a NUL is a miss, answered as any unknown key is, on every database;
text that would be stored refuses control characters with ``INVALID_INPUT``. Search is the
exception: its folding treats control characters as word breaks (SEARCH-6).
"""

from __future__ import annotations

import unicodedata

NUL = "\x00"


def has_nul(*texts: str | None) -> bool:
    """Whether any of ``texts`` holds a NUL, which no stored key does."""
    return any(NUL in text for text in texts if text)


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character (Unicode category Cc: NUL, tab, newline,
    escape, C1 controls), which one-line catalogue text never needs."""
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def throttle_safe(key: str) -> str:
    """``key`` with each NUL replaced by U+FFFD, so a login id with a NUL still has its
    failures counted (AUTH-11) under a key the database can store."""
    return key.replace(NUL, "\ufffd")
